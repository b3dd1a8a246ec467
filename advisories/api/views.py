from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, pagination
from rest_framework.exceptions import APIException, NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from advisories import selectors, serving
from advisories.api.serializers import (
    IDENTIFIER_REGEX,
    AdvisoryDetailSerializer,
    AdvisoryFilterSerializer,
    AdvisorySummarySerializer,
    ErrorSerializer,
)
from compliance.entitlements import PartnerAccess
from core.http import client_ip
from partners.services import record_api_token_use

ERROR_RESPONSES = {
    401: OpenApiResponse(ErrorSerializer, description="No token, or a token that is revoked, expired or invalid."),
    403: OpenApiResponse(ErrorSerializer, description="Your organisation has no access at the moment."),
    404: OpenApiResponse(ErrorSerializer, description="No such advisory or file, or not released to you."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests with this token; retry later."),
}


class FileUnavailable(APIException):
    status_code = 503
    default_detail = "This file cannot be served at the moment; nothing was recorded. Try again later."
    default_code = "file_unavailable"


IDENTIFIER_PARAMETER = OpenApiParameter(
    "identifier", str, OpenApiParameter.PATH, pattern=IDENTIFIER_REGEX, description="e.g. FWN-2026-0001"
)


class PartnerApiView(APIView):
    """Base of every partner endpoint: one audit event per request made with a token (throttled requests, which
    serve nothing, excepted), written after the response is decided so that it records the outcome."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        access = request.auth
        if isinstance(access, PartnerAccess) and access.api_token is not None and response.status_code != 429:
            record_api_token_use(
                token=access.api_token,
                method=request.method,
                path=request.get_full_path(),
                status_code=response.status_code,
                ip_address=client_ip(request),
            )
        response.setdefault("Cache-Control", "private, no-store")
        return response


class AdvisoryCursorPagination(pagination.CursorPagination):
    """Oldest change first, so that a client can walk the whole list once and then sync with `updated_since`."""

    page_size = 50
    ordering = ("changed_at", "id")


class AdvisoryListView(PartnerApiView, generics.ListAPIView):
    serializer_class = AdvisorySummarySerializer
    pagination_class = AdvisoryCursorPagination

    @extend_schema(
        summary="Advisories released to your organisation",
        parameters=[AdvisoryFilterSerializer],
        responses={
            200: AdvisorySummarySerializer(many=True),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid filter: the messages, by parameter."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        # A plain dict, so that an empty value is validated (and refused) rather than silently ignored.
        filters = AdvisoryFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return selectors.advisories_for_partner_sync(access=self.request.auth, **filters.validated_data)


class AdvisoryDetailView(PartnerApiView):
    @extend_schema(
        summary="One advisory with the documents and files up to your organisation's level (recorded as a view)",
        parameters=[IDENTIFIER_PARAMETER],
        responses={200: AdvisoryDetailSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, identifier):
        served = serving.serve_advisory(request=request, access=request.auth, identifier=identifier)
        serializer = AdvisoryDetailSerializer(
            served.advisory, context={"request": request, "banner": served.banner, "documents": served.documents}
        )
        return Response(serializer.data)


class IgnoreAcceptHeader(BaseContentNegotiation):
    """Files go out in their own type whatever the client accepts; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ArtifactDownloadView(PartnerApiView):
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(
        summary="Download a file (personalised with an issued-to banner and recorded, as in the portal)",
        parameters=[
            IDENTIFIER_PARAMETER,
            OpenApiParameter("artifact_id", int, OpenApiParameter.PATH, description="The file's id in the advisory."),
        ],
        responses={
            (200, "*/*"): OpenApiTypes.BINARY,
            **ERROR_RESPONSES,
            503: OpenApiResponse(ErrorSerializer, description="The file cannot be served at the moment."),
        },
    )
    def get(self, request, identifier, artifact_id):
        try:
            return serving.serve_artifact(
                request=request, access=request.auth, identifier=identifier, artifact_id=artifact_id
            )
        except serving.ArtifactUnavailable:
            raise FileUnavailable() from None


class CsafView(PartnerApiView):
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(
        summary="The advisory as a CSAF 2.0 document with your organisation's content (recorded)",
        parameters=[IDENTIFIER_PARAMETER],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request, identifier):
        return Response(serving.csaf_document(request=request, access=request.auth, identifier=identifier))


class StixView(PartnerApiView):
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(
        summary="The advisory's indicators as a STIX 2.1 bundle: the program's detection indicators and rule files "
        "up to your level, and the indicators your organisation reported (recorded)",
        parameters=[IDENTIFIER_PARAMETER],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request, identifier):
        return Response(serving.stix_bundle(request=request, access=request.auth, identifier=identifier))


class ApiNotFoundView(PartnerApiView):
    """Any other address under the API: a JSON 404 after the same authentication, never Django's HTML page."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        raise NotFound("No such endpoint.")
