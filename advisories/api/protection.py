"""Protection status and indicators through the partner API: the same services, rules and audit as the portal
pages. Reading works with every token; writing needs a token created with the `report` scope (docs/api.md)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from advisories.api.serializers import InstantField
from advisories.api.views import ERROR_RESPONSES, IDENTIFIER_PARAMETER, PartnerApiView
from advisories.models import Confidence, FeedbackKind, IndicatorType, PartnerIndicator, ProtectionState
from advisories.protection import selectors, services
from core.http import client_ip
from partners.models import ApiTokenScope

BAD_REQUEST = OpenApiResponse(OpenApiTypes.OBJECT, description="Refused: the messages, by field.")
WRITE_ERRORS = {
    **ERROR_RESPONSES,
    403: OpenApiResponse(
        description="Your organisation has no access at the moment, or the token lacks the `report` scope."
    ),
}


class ProtectionStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ProtectionState.choices)
    products = serializers.CharField()
    signature_ids = serializers.CharField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    notes = serializers.CharField()
    next_states = serializers.ListField(
        child=serializers.ChoiceField(choices=ProtectionState.choices),
        help_text="The states the status may move to now.",
    )
    updated_at = serializers.DateTimeField(allow_null=True, help_text="Null until your organisation reports.")


def _status_data(status) -> dict:
    return ProtectionStatusSerializer(
        {
            "state": status.state,
            "products": status.products,
            "signature_ids": status.signature_ids,
            "shipped_at": status.shipped_at,
            "notes": status.notes,
            "next_states": selectors.next_protection_states(status),
            "updated_at": status.updated_at,
        }
    ).data


class FeedbackSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    text = serializers.CharField(max_length=services.FEEDBACK_MAX_CHARS)


class ProtectionReportSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=ProtectionState.choices,
        help_text="not_started -> in_progress -> shipped (or not_started -> shipped); not_started or in_progress -> "
        "not_applicable.",
    )
    products = serializers.CharField(required=False, allow_blank=True, max_length=services.PRODUCTS_MAX_CHARS)
    signature_ids = serializers.CharField(required=False, allow_blank=True, max_length=services.SIGNATURE_IDS_MAX_CHARS)
    shipped_at = InstantField(
        required=False, allow_null=True, help_text="When shipping: when it reached customers (default now)."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTES_MAX_CHARS)
    feedback = FeedbackSerializer(required=False, help_text="Optional feedback to the program.")


class IndicatorSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=IndicatorType.choices, source="indicator_type")
    value = serializers.CharField(max_length=2048, help_text="Validated for its type and stored normalised.")
    first_seen = InstantField(help_text="When you first observed it (not in the future).")
    confidence = serializers.ChoiceField(choices=Confidence.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=services.COMMENT_MAX_CHARS)

    class Meta:
        model = PartnerIndicator
        fields = ["id", "type", "value", "first_seen", "confidence", "comment", "created_at"]
        read_only_fields = ["id", "created_at"]


def _refusal(error: DjangoValidationError, renamed: dict[str, str] | None = None) -> ValidationError:
    """A service's refusal as a 400 with the messages by API field name."""
    renamed = renamed or {}
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                renamed.get(name, name): [m for e in errors for m in e.messages]
                for name, errors in error.error_dict.items()
            }
        )
    return ValidationError({"non_field_errors": error.messages})


class ProtectionStatusView(PartnerApiView):
    write_scope = ApiTokenScope.REPORT

    @extend_schema(
        summary="Your organisation's protection status for an advisory it received",
        parameters=[IDENTIFIER_PARAMETER],
        responses={200: ProtectionStatusSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, identifier):
        advisory = selectors.reportable_advisory_for_partner(access=request.auth, identifier=identifier)
        return Response(_status_data(selectors.protection_status_for_partner(access=request.auth, advisory=advisory)))

    @extend_schema(
        summary="Report your organisation's protection status (token with the `report` scope)",
        parameters=[IDENTIFIER_PARAMETER],
        request=ProtectionReportSerializer,
        responses={200: ProtectionStatusSerializer, 400: BAD_REQUEST, **WRITE_ERRORS},
    )
    def put(self, request, identifier):
        advisory = selectors.reportable_advisory_for_partner(access=request.auth, identifier=identifier)
        report = ProtectionReportSerializer(data=request.data)
        report.is_valid(raise_exception=True)
        data = report.validated_data
        try:
            status_ = services.report_protection_status(
                access=request.auth,
                advisory=advisory,
                state=data["state"],
                products=data.get("products", ""),
                signature_ids=data.get("signature_ids", ""),
                shipped_at=data.get("shipped_at"),
                notes=data.get("notes", ""),
                ip_address=client_ip(request),
            )
            if "feedback" in data:
                services.submit_protection_feedback(
                    access=request.auth,
                    advisory=advisory,
                    kind=data["feedback"]["kind"],
                    text=data["feedback"]["text"],
                    ip_address=client_ip(request),
                )
        except DjangoValidationError as error:
            raise _refusal(error, {"feedback_kind": "feedback", "feedback_text": "feedback"}) from error
        return Response(_status_data(status_))


class IndicatorListView(PartnerApiView):
    write_scope = ApiTokenScope.REPORT

    @extend_schema(
        summary="Indicators your organisation submitted for an advisory",
        parameters=[IDENTIFIER_PARAMETER],
        responses={200: IndicatorSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request, identifier):
        advisory = selectors.reportable_advisory_for_partner(access=request.auth, identifier=identifier)
        indicators = selectors.indicators_for_partner(access=request.auth, advisory=advisory)
        return Response(IndicatorSerializer(indicators, many=True).data)

    @extend_schema(
        summary="Submit an indicator observed in the wild (token with the `report` scope)",
        parameters=[IDENTIFIER_PARAMETER],
        request=IndicatorSerializer,
        responses={201: IndicatorSerializer, 400: BAD_REQUEST, **WRITE_ERRORS},
    )
    def post(self, request, identifier):
        advisory = selectors.reportable_advisory_for_partner(access=request.auth, identifier=identifier)
        submitted = IndicatorSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        try:
            indicator = services.submit_partner_indicator(
                access=request.auth,
                advisory=advisory,
                indicator_type=data["indicator_type"],
                value=data["value"],
                first_seen=data["first_seen"],
                confidence=data["confidence"],
                comment=data.get("comment", ""),
                ip_address=client_ip(request),
            )
        except DjangoValidationError as error:
            raise _refusal(error, {"indicator_type": "type"}) from error
        return Response(IndicatorSerializer(indicator).data, status=status.HTTP_201_CREATED)
