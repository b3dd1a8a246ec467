"""The CSAF trusted provider directory (CSAF 2.0 section 7, docs/csaf-provider.md): what each reader sees of it.

A reader is an organisation acting with an API token (a `PartnerAccess`) or the public (`None`). An organisation
sees exactly the advisories the portal lists for it (selectors.advisories_for_partner), each as its own copy; the
public sees the public TLP:CLEAR advisories only. The provider metadata and the public key are the same for all.

Layout, under /.well-known/csaf/ (the layout of the reference provider, gocsaf's csaf_provider):
    provider-metadata.json                    requirement 7 and 9
    openpgp/<FINGERPRINT>.asc                 requirement 20
    service.json                              requirement 16 (ROLIE service document)
    csaf-feed-tlp-<label>.json                requirement 15 (one ROLIE feed per TLP label)
    <label>/index.txt, <label>/changes.csv    requirements 12 and 13
    <label>/<YYYY>/<file>.json(.sha256|.sha512|.asc)   requirements 11, 18 and 19
where <label> is white, green, amber or red (CSAF 2.0 carries TLP 1.0 labels; see builder.TLP_2_TO_CSAF_TLP_1).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from advisories import selectors
from advisories.copy_history import copy_revisions, public_copy_revisions, public_release_instants
from advisories.csaf import signing
from advisories.csaf.builder import PUBLISHER_NAME, copy_year, csaf_filename, csaf_label, csaf_timestamp
from advisories.models import Advisory, ReleaseWave, WaveStatus
from compliance.entitlements import PartnerAccess

LABELS = ("white", "green", "amber", "red")
# Readable without a token (CSAF requirement 4); every other folder needs an organisation's token.
PUBLIC_LABELS = ("white",)
CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
ROLIE_CSAF_CATEGORY = {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}


def _url(name: str, **kwargs) -> str:
    return settings.FOREWARN_PORTAL_URL.rstrip("/") + reverse(f"csaf_provider:{name}", kwargs=kwargs)


def feed_url(label: str) -> str:
    return _url("feed", label=label)


def document_url(label: str, year: int, filename: str, suffix: str = "") -> str:
    names = {"": "document", ".sha256": "document_sha256", ".sha512": "document_sha512", ".asc": "document_signature"}
    return _url(names[suffix], label=label, year=year, filename=filename)


@dataclass(frozen=True)
class Entry:
    """One document of the directory as one reader sees it."""

    advisory: Advisory
    label: str
    year: int
    filename: str
    initial_release: datetime
    current_release: datetime

    @property
    def path(self) -> str:
        """The document's path relative to its label folder (index.txt, changes.csv)."""
        return f"{self.year}/{self.filename}"


def entries(access: PartnerAccess | None, label: str) -> list[Entry]:
    """The reader's documents in one label folder, the most recently changed first (the order of changes.csv).
    An organisation's are the advisories the portal lists for it; the public's the public TLP:CLEAR ones."""
    if access is None:
        advisories = list(selectors.public_csaf_advisories()) if label in PUBLIC_LABELS else []
        public_at = public_release_instants(advisories)
        revisions = {a.pk: public_copy_revisions(a, public_at[a.pk]) for a in advisories}
    else:
        advisories = list(selectors.advisories_for_partner(access=access))
        revisions = copy_revisions(partner_id=access.partner.pk, advisories=advisories)
    found = [
        Entry(
            advisory=advisory,
            label=label,
            year=copy_year(revisions[advisory.pk]),
            filename=csaf_filename(advisory.identifier),
            initial_release=revisions[advisory.pk][0].at,
            current_release=revisions[advisory.pk][-1].at,
        )
        for advisory in advisories
        if csaf_label(advisory) == label and revisions[advisory.pk]
    ]
    return sorted(found, key=lambda entry: (entry.current_release, entry.advisory.identifier), reverse=True)


def _last_updated() -> datetime:
    """When the directory last changed for anybody: the latest wave release (public facts only: the time of an
    unreleased advisory's edits is nobody's business)."""
    latest = ReleaseWave.objects.filter(status=WaveStatus.RELEASED).aggregate(at=Max("released_at"))["at"]
    return latest or datetime(2026, 1, 1, tzinfo=UTC)


def provider_metadata() -> dict:
    """provider-metadata.json (requirement 7): the same for every reader. Not listed or mirrored by aggregators:
    each organisation's documents are its own."""
    metadata = {
        "canonical_url": _url("metadata"),
        "distributions": [
            {
                "rolie": {
                    "feeds": [
                        {
                            "summary": f"Advisories labelled TLP:{label.upper()} that your organisation holds"
                            + (" (without a token: the public ones)" if label in PUBLIC_LABELS else ""),
                            "tlp_label": label.upper(),
                            "url": feed_url(label),
                        }
                        for label in LABELS
                    ],
                    "services": [_url("service")],
                }
            },
            *({"directory_url": _url("folder", label=label)} for label in LABELS),
        ],
        "last_updated": csaf_timestamp(_last_updated()),
        "list_on_CSAF_aggregators": False,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": False,
        "publisher": {
            "category": "coordinator",
            "name": PUBLISHER_NAME,
            "namespace": settings.FOREWARN_PORTAL_URL.rstrip("/") + "/",
            "contact_details": "Your organisation's program manager, through the Forewarn portal.",
        },
        "role": "csaf_trusted_provider",
    }
    if signing.is_configured():
        fingerprint = signing.fingerprint()
        metadata["public_openpgp_keys"] = [
            {"fingerprint": fingerprint, "url": _url("public_key", fingerprint=fingerprint)}
        ]
    return metadata


def service_document() -> dict:
    """The ROLIE service document (requirement 16): the feeds, one per TLP label."""
    return {
        "service": {
            "workspace": [
                {
                    "title": f"{PUBLISHER_NAME}: CSAF advisories",
                    "collection": [
                        {
                            "title": f"{PUBLISHER_NAME} CSAF feed (TLP:{label.upper()})",
                            "href": feed_url(label),
                            "categories": {"category": [ROLIE_CSAF_CATEGORY]},
                        }
                        for label in LABELS
                    ],
                }
            ]
        }
    }


def rolie_feed(access: PartnerAccess | None, label: str) -> dict:
    """The reader's ROLIE feed of one TLP label (requirement 15), every entry linking its hashes and signature."""
    found = entries(access, label)
    updated = max((entry.current_release for entry in found), default=_last_updated())
    feed_entries = []
    for entry in found:
        links = [
            {"rel": "self", "href": document_url(label, entry.year, entry.filename)},
            {"rel": "hash", "href": document_url(label, entry.year, entry.filename, ".sha256")},
            {"rel": "hash", "href": document_url(label, entry.year, entry.filename, ".sha512")},
        ]
        if signing.is_configured():
            links.append({"rel": "signature", "href": document_url(label, entry.year, entry.filename, ".asc")})
        feed_entries.append(
            {
                "id": entry.advisory.identifier,
                "title": entry.advisory.title,
                "link": links,
                "published": csaf_timestamp(entry.initial_release),
                "updated": csaf_timestamp(entry.current_release),
                "summary": {"content": entry.advisory.title},
                "content": {"type": "application/json", "src": document_url(label, entry.year, entry.filename)},
                "format": {"schema": CSAF_SCHEMA_URL, "version": "2.0"},
            }
        )
    return {
        "feed": {
            "id": f"forewarn-csaf-feed-tlp-{label}",
            "title": f"{PUBLISHER_NAME} CSAF feed (TLP:{label.upper()})",
            "link": [{"rel": "self", "href": feed_url(label)}],
            "category": [ROLIE_CSAF_CATEGORY],
            "updated": csaf_timestamp(updated),
            "entry": feed_entries,
        }
    }


def index_txt(access: PartnerAccess | None, label: str) -> str:
    """index.txt (requirement 12): every document of the folder, relative to it, one per line."""
    return "".join(f"{entry.path}\n" for entry in sorted(entries(access, label), key=lambda e: e.path))


def changes_csv(access: PartnerAccess | None, label: str) -> str:
    """changes.csv (requirement 13): path and current release date, the latest first, no heading."""
    return "".join(f'"{entry.path}","{csaf_timestamp(entry.current_release)}"\n' for entry in entries(access, label))
