"""Serving released content to a partner: one code path for the portal, the API and the CSAF provider directory,
so that every copy carries the same personalisation and leaves the same DownloadEvent whichever door it left by."""

import copy
import json
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from advisories import csaf, selectors, services
from advisories.copy_history import (
    CopyRevision,
    RevisionKind,
    copy_revisions,
    public_copy_revisions,
    public_release_instants,
)
from advisories.fingerprinting.personalisation import fingerprinted_markdown, issued_to_banner, personalised_chunks
from advisories.models import AccessKind, Advisory, AdvisoryDocument, Artifact, Delivery, DownloadEvent
from advisories.stix import bundle as stix
from advisories.stix import selectors as stix_selectors
from compliance.entitlements import PartnerAccess
from core.http import client_ip, user_agent
from core.levels import AccessLevel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedAdvisory:
    advisory: Advisory
    event: DownloadEvent
    banner: str
    documents: list[AdvisoryDocument]  # the reader's copies: Markdown fingerprinted for this delivery and reader


def _record(request, access: PartnerAccess, advisory: Advisory, kind: str, artifact=None, **delivery) -> DownloadEvent:
    return services.record_access(
        access=access,
        user=access.user,
        advisory=advisory,
        artifact=artifact,
        kind=kind,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
        **delivery,
    )


def _banner(access: PartnerAccess, event: DownloadEvent, advisory: Advisory) -> str:
    return issued_to_banner(
        delivery=event.delivery, partner=access.partner, user=access.user, tlp_label=advisory.get_tlp_display()
    )


def _personal_copies(advisory: Advisory, delivery: Delivery | None, access: PartnerAccess) -> list[AdvisoryDocument]:
    """Unsaved copies of the documents the organisation may see, each body fingerprinted for this delivery and
    reader (see docs/fingerprinting.md), so that any excerpt of what leaves here names its reader."""
    copies = []
    for document in advisory.documents.all():
        personal = copy.copy(document)
        personal.body_markdown = fingerprinted_markdown(
            document.body_markdown, delivery=delivery, user=access.user, advisory=advisory
        )
        copies.append(personal)
    return copies


def serve_advisory(*, request, access: PartnerAccess, identifier: str) -> ServedAdvisory:
    """The advisory with what the organisation may see of it (404 otherwise), its view recorded."""
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    return serve_released_advisory(request=request, access=access, advisory=advisory)


def serve_released_advisory(*, request, access: PartnerAccess, advisory: Advisory) -> ServedAdvisory:
    """`serve_advisory` for an advisory already read through `selectors.advisory_for_partner` for this access."""
    event = _record(request, access, advisory, AccessKind.VIEW, delivery=advisory.access_delivery)
    documents = _personal_copies(advisory, event.delivery, access)
    return ServedAdvisory(advisory=advisory, event=event, banner=_banner(access, event, advisory), documents=documents)


class ArtifactUnavailable(Exception):
    """The artifact's stored file cannot be read (lost, or its storage unreachable): nothing is sent and no
    download is recorded."""


def serve_artifact(*, request, access: PartnerAccess, identifier: str, artifact_id: int) -> StreamingHttpResponse:
    """Stream an artifact with its issued-to banner (404 unless the organisation may have it), download recorded.
    The file is opened before anything is recorded or sent: a missing file raises ArtifactUnavailable."""
    artifact = selectors.artifact_for_partner(access=access, identifier=identifier, artifact_id=artifact_id)
    return serve_released_artifact(request=request, access=access, artifact=artifact)


def serve_released_artifact(*, request, access: PartnerAccess, artifact: Artifact) -> StreamingHttpResponse:
    """`serve_artifact` for an artifact already read through `selectors.artifact_for_partner` for this access:
    the row is not read again, and the copy is personalised once, as it streams."""
    try:
        # Kept open: the response streams from this handle (an open file stays readable even if removed).
        artifact.file.open("rb").read(1)
        artifact.file.seek(0)
    except OSError as error:
        logger.error("Artifact %s (%s) cannot be read: %s", artifact.pk, artifact.file.name, error)
        raise ArtifactUnavailable(artifact.pk) from error
    event = _record(
        request, access, artifact.advisory, AccessKind.DOWNLOAD, artifact=artifact, delivery=artifact.access_delivery
    )
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


# CSAF: one copy per reader, byte for byte the same on every fetch until the copy changes, so that the document, its
# hash files and its signature (fetched separately by a CSAF downloader) agree. -----------------------------------


@dataclass(frozen=True)
class CsafFile:
    """A reader's CSAF document, serialised, and where the provider directory keeps it."""

    advisory: Advisory
    label: str  # the TLP 1.0 label in lower case: the provider folder ("white", "green", "amber", "red")
    year: int  # the year folder: the year of the copy's initial release
    filename: str
    content: bytes


def _portal() -> str:
    return settings.FOREWARN_PORTAL_URL.rstrip("/")


def csaf_canonical_url(advisory: Advisory, year: int) -> str:
    """Where the CSAF provider directory serves the copy (CSAF requirement 11: a folder per year)."""
    return _portal() + reverse(
        "csaf_provider:document",
        kwargs={"label": csaf.csaf_label(advisory), "year": year, "filename": csaf.csaf_filename(advisory.identifier)},
    )


def _serialise(document: dict) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _revisions(access: PartnerAccess, advisory: Advisory):
    revisions = copy_revisions(partner_id=access.partner.pk, advisories=[advisory])[advisory.pk]
    if not revisions:  # released to the organisation by another path than a delivery: dated by the advisory
        revisions = [CopyRevision(1, advisory.updated_at, RevisionKind.DELIVERED, access.level, "Released.", "")]
    return revisions


def _partner_csaf(access: PartnerAccess, advisory: Advisory, revisions) -> CsafFile:
    """The organisation's copy: its documents fingerprinted for its latest delivery and the acting user, its files
    referenced, the issued-to line dated by the copy's last change (so that every fetch reads the same)."""
    delivery = selectors.latest_delivery(access=access, advisory=advisory)
    banner = issued_to_banner(
        delivery=delivery,
        partner=access.partner,
        user=access.user,
        tlp_label=advisory.get_tlp_display(),
        at=revisions[-1].at,
    )
    public_at = public_release_instants([advisory]).get(advisory.pk)
    year = csaf.copy_year(revisions)
    document = csaf.build_csaf_document(
        csaf.CsafCopy(
            advisory=advisory,
            documents=_personal_copies(advisory, delivery, access),
            artifacts=list(advisory.artifacts.all()),
            recipient=str(access.partner),
            level=access.level,
            banner=banner,
            revisions=revisions,
            public_at=public_at,
        ),
        publisher_namespace=_portal() + "/",
        canonical_url=csaf_canonical_url(advisory, year),
        advisory_url=_portal() + reverse("advisories:detail", args=[advisory.identifier]),
        artifact_url=lambda artifact: _portal() + reverse("api:artifact", args=[advisory.identifier, artifact.pk]),
    )
    return CsafFile(
        advisory, csaf.csaf_label(advisory), year, csaf.csaf_filename(advisory.identifier), _serialise(document)
    )


def csaf_document(*, request, access: PartnerAccess, identifier: str) -> dict:
    """The organisation's CSAF 2.0 copy of the advisory (404 unless released to it), export recorded."""
    return json.loads(partner_csaf_file(request=request, access=access, identifier=identifier).content)


def partner_csaf_file(
    *, request, access: PartnerAccess, identifier: str, label: str | None = None, year: int | None = None, record=True
) -> CsafFile:
    """The organisation's CSAF copy of the advisory, its export recorded unless `record` is False (a hash or a
    signature of it, which carries no content). 404 unless the advisory is released to the organisation, and, when
    `label` or `year` are given (a provider path), unless the copy lives in that folder."""
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    revisions = _revisions(access, advisory)
    if (label is not None and label != csaf.csaf_label(advisory)) or (
        year is not None and year != csaf.copy_year(revisions)
    ):
        raise Http404("No such document.")
    if record:
        _record(request, access, advisory, AccessKind.CSAF)
    return _partner_csaf(access, advisory, revisions)


def public_csaf_file(*, identifier: str, label: str | None = None, year: int | None = None) -> CsafFile:
    """The public copy of a public TLP:CLEAR advisory (its generic description, no files, nothing personal): what
    anybody may read without a token (CSAF requirement 4). 404 for every other advisory."""
    advisory = get_object_or_404(selectors.public_csaf_advisories(), identifier=identifier)
    public_at = public_release_instants([advisory])[advisory.pk]
    revisions = public_copy_revisions(advisory, public_at)
    year_of_copy = csaf.copy_year(revisions)
    if (label is not None and label != csaf.csaf_label(advisory)) or (year is not None and year != year_of_copy):
        raise Http404("No such document.")
    document = csaf.build_csaf_document(
        csaf.CsafCopy(
            advisory=advisory,
            documents=list(advisory.documents.filter(level=AccessLevel.GENERIC)),
            artifacts=[],
            recipient=None,
            level=AccessLevel.GENERIC,
            banner=f"{advisory.get_tlp_display()} - public copy: disclosure is not limited.",
            revisions=revisions,
            public_at=public_at,
        ),
        publisher_namespace=_portal() + "/",
        canonical_url=csaf_canonical_url(advisory, year_of_copy),
        advisory_url=None,
        artifact_url=str,
    )
    return CsafFile(
        advisory, csaf.csaf_label(advisory), year_of_copy, csaf.csaf_filename(advisory.identifier), _serialise(document)
    )


def csaf_filename(identifier: str) -> str:
    return csaf.csaf_filename(identifier)


def serve_csaf(*, request, access: PartnerAccess, identifier: str) -> HttpResponse:
    """The CSAF 2.0 document as a JSON file download (the same bytes the provider directory serves)."""
    document = partner_csaf_file(request=request, access=access, identifier=identifier)
    response = HttpResponse(document.content, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# STIX 2.1 ------------------------------------------------------------------------------------------------------


def stix_bundle(*, request, access: PartnerAccess, identifier: str) -> dict:
    """The organisation's STIX 2.1 bundle of the advisory's indicators (404 unless released to it), recorded: one
    export event, and one per detection rule file it embeds (that file's content leaves with it)."""
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    event = _record(request, access, advisory, AccessKind.STIX)
    banner = _banner(access, event, advisory)
    rule_files = []
    for artifact in advisory.artifacts.all():
        pattern_type = stix.RULE_PATTERN_TYPES.get(PurePosixPath(artifact.file.name).suffix.lower())
        if pattern_type is None:
            continue
        file_event = _record(request, access, advisory, AccessKind.STIX, artifact=artifact)
        chunks = personalised_chunks(
            artifact, _banner(access, file_event, advisory), delivery=file_event.delivery, user=access.user
        )
        text = b"".join(chunks).decode("utf-8", errors="replace")
        rule_files.append(stix.RuleFile(artifact=artifact, pattern_type=pattern_type, text=text))
    bundle = stix.build_bundle(
        stix.StixCopy(
            advisory=advisory,
            partner_id=access.partner.pk,
            partner_name=str(access.partner),
            banner=banner,
            issued_at=event.created_at,
            detection_indicators=list(
                stix_selectors.detection_indicators_for_partner(access=access, advisory=advisory)
            ),
            rule_files=rule_files,
            partner_indicators=list(stix_selectors.reported_indicators_for_partner(access=access, advisory=advisory)),
        )
    )
    return json.loads(bundle.serialize())


def serve_stix(*, request, access: PartnerAccess, identifier: str) -> HttpResponse:
    """The STIX 2.1 bundle as a JSON file download."""
    bundle = stix_bundle(request=request, access=access, identifier=identifier)
    response = HttpResponse(json.dumps(bundle, indent=2, ensure_ascii=False), content_type="application/stix+json")
    response["Content-Disposition"] = f'attachment; filename="{identifier.lower()}.stix.json"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
