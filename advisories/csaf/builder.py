"""One copy of an advisory as a CSAF 2.0 document (category `csaf_security_advisory`): an organisation's copy, or the
public copy of a public TLP:CLEAR advisory.

The builder is a pure function of what the caller already fetched through the entitlement rule: the documents and
artifacts passed in are those the reader may see, nothing else is read here. The output passes the CSAF 2.0 schema
and the standard's mandatory and optional tests (checked with the reference validator, tools/csaf-validator/) when
the advisory names its products with a CPE or PURL and carries a CVSS v3.1 score.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from advisories.copy_history import CopyRevision
from advisories.csaf.schema import cvss_v31_vector_pattern
from advisories.fingerprinting import without_homoglyphs
from advisories.models import TLP, Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, severity_for_score
from advisories.validators import AffectedProduct
from advisories.weaknesses import weakness_name
from core.levels import AccessLevel

CSAF_VERSION = "2.0"
PUBLISHER_NAME = "Forewarn partner program"

# CSAF 2.0's schema still carries TLP 1.0 labels. Each TLP 2.0 label maps to the TLP 1.0 label that allows no
# wider sharing; AMBER+STRICT has no TLP 1.0 equivalent, so it becomes AMBER and the restriction is kept in words.
TLP_2_TO_CSAF_TLP_1 = {
    TLP.CLEAR: "WHITE",
    TLP.GREEN: "GREEN",
    TLP.AMBER: "AMBER",
    TLP.AMBER_STRICT: "AMBER",
    TLP.RED: "RED",
}
TLP_2_URL = "https://www.first.org/tlp/"

DOCUMENT_NOTE_CATEGORIES = {AccessLevel.GENERIC: "summary", AccessLevel.STANDARD: "details"}
CVE_PATTERN = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
# A Markdown heading that opens the advisory's advice to customers, and the CSAF remediation category it becomes.
# Matched on the text with look-alike letters read back (a reader's copy is fingerprinted: "work-around" is one of its
# variants, and letters may be Cyrillic twins).
REMEDIATION_HEADING = re.compile(r"^(#{1,6})\s*(mitigations?|work-?arounds?)\b.*$", re.IGNORECASE | re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)


def csaf_filename(tracking_id: str) -> str:
    """The file name CSAF 2.0 section 5.1 prescribes: the id in lower case, runs of other characters than a-z, 0-9,
    + and - replaced by one underscore, then `.json`."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def csaf_label(advisory: Advisory) -> str:
    """The CSAF (TLP 1.0) label of the advisory in lower case: its folder in the provider directory."""
    return TLP_2_TO_CSAF_TLP_1[TLP(advisory.tlp)].lower()


def csaf_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _collation_key(key: str) -> tuple:
    """Sort keys as the reference validator's test 6.2.13 does (JavaScript's default Intl.Collator): punctuation,
    then digits, then letters regardless of case; lower case first when two keys differ only in case."""
    primary = tuple((0 if not c.isalnum() else 1 if c.isdigit() else 2, c.lower()) for c in key)
    return primary, tuple(c.isupper() for c in key)


def sorted_keys(value):
    """The JSON value with the keys of every object in collation order (CSAF optional test 6.2.13); arrays keep
    their order."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value, key=_collation_key)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def _cvss_v3(advisory: Advisory) -> dict | None:
    """The advisory's CVSS v3.1 score in FIRST's JSON form, or None when it has no valid v3.1 vector and score."""
    score = advisory.cvss_score
    if score is None or not re.match(cvss_v31_vector_pattern(), advisory.cvss_vector or ""):
        return None
    return {
        "version": "3.1",
        "vectorString": advisory.cvss_vector,
        "baseScore": float(Decimal(score)),
        "baseSeverity": severity_for_score(score).name,
    }


def advice_section(markdown: str) -> tuple[str, str] | None:
    """The first "Mitigation" or "Workaround" section of a Markdown text, as (CSAF remediation category, text up
    to the next heading of the same or a higher level); None when the text has none."""
    markdown = markdown or ""
    readable = without_homoglyphs(markdown)  # one character for one: the offsets hold in `markdown`
    match = REMEDIATION_HEADING.search(readable)
    if match is None:
        return None
    depth = len(match.group(1))
    rest = markdown[match.end() :]
    end = len(rest)
    for heading in HEADING.finditer(rest):
        if len(heading.group(1)) <= depth:
            end = heading.start()
            break
    text = rest[:end].strip()
    if not text:
        return None
    category = "workaround" if match.group(2).lower().startswith("work") else "mitigation"
    return category, text


@dataclass(frozen=True)
class CsafCopy:
    """What one reader's CSAF document is made of (all of it already filtered by the entitlement rule)."""

    advisory: Advisory
    documents: Sequence[AdvisoryDocument]  # the reader's (personalised) copies
    artifacts: Sequence[Artifact]
    recipient: str | None  # the organisation's name; None for the public copy
    level: AccessLevel
    banner: str
    revisions: Sequence[CopyRevision]
    public_at: datetime | None  # when the advisory became public; None while it is not


def _remediations(copy: CsafCopy, product_ids: list[str]) -> list[dict]:
    advisory = copy.advisory
    if copy.public_at is not None:
        fix = {
            "category": "vendor_fix",
            "date": csaf_timestamp(copy.public_at),
            "details": (
                f"Apply the vendor's fix, public since the public release of {advisory.identifier} on "
                f"{copy.public_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
            ),
            "product_ids": product_ids,
        }
    else:
        fix = {
            "category": "none_available",
            "details": (
                "No fix is public before the public release, planned for "
                f"{advisory.public_release_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; the vendor's fix is published "
                "then."
            ),
            "product_ids": product_ids,
        }
    remediations = [fix]
    # The customers' advice from the generic text first (every reader has it), else from the technical text.
    for document in sorted(copy.documents, key=lambda d: d.level):
        advice = advice_section(document.body_markdown)
        if advice is not None:
            category, text = advice
            remediations.append({"category": category, "details": text, "product_ids": product_ids})
            break
    return remediations


def _product(product: AffectedProduct, product_id: str) -> dict:
    entry = {"name": product.name, "product_id": product_id}
    if product.identifiers:
        entry["product_identification_helper"] = dict(product.identifiers)
    return entry


def _products(advisory: Advisory) -> tuple[list[AffectedProduct], list[str]]:
    """The advisory's products (one placeholder when it names none) and their CSAF product ids."""
    products = advisory.affected_product_list or [AffectedProduct(name=f"Products affected by {advisory.identifier}")]
    product_ids = [f"{advisory.identifier}-P{number}" for number in range(1, len(products) + 1)]
    return products, product_ids


def _notes(copy: CsafCopy) -> list[dict]:
    """The document notes: the reader's texts (a summary from the title when none is generic), then the banner."""
    advisory = copy.advisory
    notes = [
        {
            "category": DOCUMENT_NOTE_CATEGORIES.get(AccessLevel(document.level), "details"),
            "title": document.title,
            "text": document.body_markdown,
        }
        for document in copy.documents
        if document.body_markdown.strip()
    ]
    if not any(note["category"] == "summary" for note in notes):
        notes.insert(0, {"category": "summary", "title": "Summary", "text": advisory.title})
    notes.append(
        {
            "category": "legal_disclaimer",
            "title": "Issued to" if copy.recipient else "Distribution",
            "text": copy.banner,
        }
    )
    return notes


def _references(
    copy: CsafCopy, *, canonical_url: str, advisory_url: str | None, artifact_url: Callable[[Artifact], str]
) -> list[dict]:
    """This document, the advisory's portal page (not for the public copy) and the reader's files."""
    advisory = copy.advisory
    references = [
        {"category": "self", "summary": f"{advisory.identifier} (this CSAF document)", "url": canonical_url},
    ]
    if advisory_url:
        references.append(
            {"category": "external", "summary": f"{advisory.identifier} in the Forewarn portal", "url": advisory_url}
        )
    references += [
        {
            "category": "external",
            "summary": (
                f"{artifact.name} ({AccessLevel(artifact.level).label} level file, {artifact.size} bytes, "
                f"SHA-256 {artifact.sha256} before personalisation)"
            ),
            "url": artifact_url(artifact),
        }
        for artifact in copy.artifacts
    ]
    return references


def _vulnerabilities(copy: CsafCopy, product_ids: list[str]) -> list[dict]:
    """One vulnerability per valid CVE id of the advisory (one without a CVE when it has none)."""
    advisory = copy.advisory
    summary = next((d.body_markdown for d in copy.documents if d.level == AccessLevel.GENERIC and d.body_markdown), "")
    vulnerability_notes = [{"category": "description", "text": summary or advisory.title}]
    cvss = _cvss_v3(advisory)
    cwe_name = weakness_name(advisory.cwe_id) if advisory.cwe_id else None
    remediations = _remediations(copy, product_ids)
    cves = [cve for cve in advisory.cve_ids or [] if isinstance(cve, str) and CVE_PATTERN.match(cve)]
    vulnerabilities = []
    for cve in cves or [None]:
        vulnerability = {
            "title": advisory.title,
            "ids": [{"system_name": "Forewarn", "text": advisory.identifier}],
            "notes": vulnerability_notes,
            "product_status": {"known_affected": product_ids},
            "remediations": remediations,
        }
        if cve:
            vulnerability["cve"] = cve
        if cwe_name:
            vulnerability["cwe"] = {"id": advisory.cwe_id, "name": cwe_name}
        if cvss:
            vulnerability["scores"] = [{"products": product_ids, "cvss_v3": cvss}]
        vulnerabilities.append(vulnerability)
    return vulnerabilities


def _distribution(copy: CsafCopy) -> dict:
    """The TLP label (as TLP 1.0) and, in words, the TLP 2.0 label and who may read the copy."""
    tlp_label = TLP(copy.advisory.tlp)
    text = f"{tlp_label.label} (FIRST TLP 2.0), shown as TLP:{TLP_2_TO_CSAF_TLP_1[tlp_label]} because "
    if copy.recipient:
        text += (
            f"CSAF 2.0 uses TLP 1.0 labels. Issued to {copy.recipient} at the {copy.level.label} level under the "
            "program agreement; do not redistribute."
        )
    else:
        text += "CSAF 2.0 uses TLP 1.0 labels. Public copy: disclosure is not limited."
    return {"text": text, "tlp": {"label": TLP_2_TO_CSAF_TLP_1[tlp_label], "url": TLP_2_URL}}


def _tracking(advisory: Advisory, revisions: Sequence[CopyRevision]) -> dict:
    return {
        "id": advisory.identifier,
        "status": "final" if advisory.status == AdvisoryStatus.PUBLIC else "interim",
        "version": str(revisions[-1].number),
        "initial_release_date": csaf_timestamp(revisions[0].at),
        "current_release_date": csaf_timestamp(revisions[-1].at),
        "revision_history": [
            {"date": csaf_timestamp(r.at), "number": str(r.number), "summary": r.summary} for r in revisions
        ],
        "generator": {"engine": {"name": "Forewarn"}},
    }


def build_csaf_document(
    copy: CsafCopy,
    *,
    publisher_namespace: str,
    canonical_url: str,
    advisory_url: str | None,
    artifact_url: Callable[[Artifact], str],
) -> dict:
    """The CSAF 2.0 JSON document (a dict, keys sorted) of one copy. `canonical_url` is where the provider serves
    this copy (the `self` reference); `advisory_url` the advisory's page in the portal (None for the public)."""
    advisory = copy.advisory
    products, product_ids = _products(advisory)
    document = {
        "category": "csaf_security_advisory",
        "csaf_version": CSAF_VERSION,
        "lang": "en",
        "title": advisory.title,
        "publisher": {"category": "coordinator", "name": PUBLISHER_NAME, "namespace": publisher_namespace},
        "distribution": _distribution(copy),
        "notes": _notes(copy),
        "references": _references(
            copy, canonical_url=canonical_url, advisory_url=advisory_url, artifact_url=artifact_url
        ),
        "tracking": _tracking(advisory, list(copy.revisions)),
    }
    severity = severity_for_score(advisory.cvss_score)
    if severity is not None:
        document["aggregate_severity"] = {"namespace": "https://www.first.org/cvss/", "text": severity.label}

    return sorted_keys(
        {
            "document": document,
            "product_tree": {
                "full_product_names": [
                    _product(product, product_id) for product, product_id in zip(products, product_ids, strict=True)
                ]
            },
            "vulnerabilities": _vulnerabilities(copy, product_ids),
        }
    )


def copy_year(revisions: Iterable[CopyRevision]) -> int:
    """The year folder of a copy (CSAF requirement 11): the year of its initial release date."""
    return next(iter(revisions)).at.astimezone(UTC).year
