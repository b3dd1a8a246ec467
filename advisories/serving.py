"""Serving released content to a partner: one code path for the portal and the API, so that every copy carries
the same personalisation and leaves the same DownloadEvent whichever door it left by."""

import copy
import json
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse

from advisories import csaf, selectors, services
from advisories.fingerprinting.personalisation import fingerprinted_markdown, issued_to_banner, personalised_chunks
from advisories.models import AccessKind, Advisory, AdvisoryDocument, DownloadEvent
from compliance.entitlements import PartnerAccess
from core.http import client_ip, user_agent


@dataclass(frozen=True)
class ServedAdvisory:
    advisory: Advisory
    event: DownloadEvent
    banner: str
    documents: list[AdvisoryDocument]  # the reader's copies: Markdown fingerprinted for this delivery and reader


def _record(request, access: PartnerAccess, advisory: Advisory, kind: str, artifact=None) -> DownloadEvent:
    return services.record_access(
        access=access,
        user=access.user,
        advisory=advisory,
        artifact=artifact,
        kind=kind,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )


def _banner(access: PartnerAccess, event: DownloadEvent, advisory: Advisory) -> str:
    return issued_to_banner(
        delivery=event.delivery, partner=access.partner, user=access.user, tlp_label=advisory.get_tlp_display()
    )


def _personal_copies(advisory: Advisory, event: DownloadEvent, access: PartnerAccess) -> list[AdvisoryDocument]:
    """Unsaved copies of the documents the organisation may see, each body fingerprinted for this delivery and
    reader (see docs/fingerprinting.md), so that any excerpt of what leaves here names its reader."""
    copies = []
    for document in advisory.documents.all():
        personal = copy.copy(document)
        personal.body_markdown = fingerprinted_markdown(
            document.body_markdown, delivery=event.delivery, user=access.user, advisory=advisory
        )
        copies.append(personal)
    return copies


def serve_advisory(*, request, access: PartnerAccess, identifier: str) -> ServedAdvisory:
    """The advisory with what the organisation may see of it (404 otherwise), its view recorded."""
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    event = _record(request, access, advisory, AccessKind.VIEW)
    documents = _personal_copies(advisory, event, access)
    return ServedAdvisory(advisory=advisory, event=event, banner=_banner(access, event, advisory), documents=documents)


def serve_artifact(*, request, access: PartnerAccess, identifier: str, artifact_id: int) -> StreamingHttpResponse:
    """Stream an artifact with its issued-to banner (404 unless the organisation may have it), download recorded."""
    artifact = selectors.artifact_for_partner(access=access, identifier=identifier, artifact_id=artifact_id)
    event = _record(request, access, artifact.advisory, AccessKind.DOWNLOAD, artifact=artifact)
    banner = _banner(access, event, artifact.advisory)
    response = StreamingHttpResponse(
        personalised_chunks(artifact, banner, delivery=event.delivery, user=access.user),
        content_type=artifact.content_type,
    )
    filename = artifact.file.name.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Forewarn-Delivery"] = str(event.delivery_id or "")
    return response


def csaf_document(*, request, access: PartnerAccess, identifier: str) -> dict:
    """The organisation's CSAF 2.0 copy of the advisory (404 unless released to it), export recorded."""
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    event = _record(request, access, advisory, AccessKind.CSAF)
    portal = settings.FOREWARN_PORTAL_URL.rstrip("/")
    return csaf.build_csaf_document(
        advisory=advisory,
        documents=_personal_copies(advisory, event, access),
        artifacts=advisory.artifacts.all(),
        partner_name=str(access.partner),
        level=access.level,
        banner=_banner(access, event, advisory),
        publisher_namespace=portal + "/",
        advisory_url=portal + reverse("advisories:detail", args=[advisory.identifier]),
        artifact_url=lambda artifact: portal + reverse("api:artifact", args=[advisory.identifier, artifact.pk]),
        initial_release_date=advisory.first_delivered_at or advisory.updated_at,
        current_release_date=advisory.changed_at or advisory.updated_at,
    )


def csaf_filename(identifier: str) -> str:
    return f"{identifier.lower()}.json"


def serve_csaf(*, request, access: PartnerAccess, identifier: str) -> HttpResponse:
    """The CSAF 2.0 document as a JSON file download."""
    document = csaf_document(request=request, access=access, identifier=identifier)
    response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{csaf_filename(identifier)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
