"""One organisation's copy of an advisory as a CSAF 2.0 document (category `csaf_security_advisory`).

The builder is a pure function of what the caller already fetched through the entitlement rule: the documents and
artifacts passed in are those the organisation may see, nothing else is read here.
"""

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from advisories.csaf.schema import cvss_v31_vector_pattern
from advisories.models import TLP, Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, severity_for_score
from core.levels import AccessLevel

CSAF_VERSION = "2.0"

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


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def build_csaf_document(
    *,
    advisory: Advisory,
    documents: Iterable[AdvisoryDocument],
    artifacts: Iterable[Artifact],
    partner_name: str,
    level: AccessLevel,
    banner: str,
    publisher_namespace: str,
    advisory_url: str,
    artifact_url: Callable[[Artifact], str],
    initial_release_date: datetime,
    current_release_date: datetime,
) -> dict:
    """The CSAF 2.0 JSON document (a dict) of `advisory` with exactly the documents and artifacts given."""
    documents = list(documents)
    artifacts = list(artifacts)
    tlp_label = TLP(advisory.tlp)
    products = advisory.product_names or [f"Products affected by {advisory.identifier}"]
    product_ids = [f"{advisory.identifier}-P{number}" for number in range(1, len(products) + 1)]

    notes = [
        {
            "category": DOCUMENT_NOTE_CATEGORIES.get(AccessLevel(document.level), "details"),
            "title": document.title,
            "text": document.body_markdown,
        }
        for document in documents
        if document.body_markdown.strip()
    ]
    notes.append({"category": "legal_disclaimer", "title": "Issued to", "text": banner})

    references = [{"category": "self", "summary": f"{advisory.identifier} in the Forewarn portal", "url": advisory_url}]
    references += [
        {
            "category": "external",
            "summary": (
                f"{artifact.name} ({AccessLevel(artifact.level).label} level file, {artifact.size} bytes, "
                f"SHA-256 {artifact.sha256} before personalisation)"
            ),
            "url": artifact_url(artifact),
        }
        for artifact in artifacts
    ]

    summary = next((d.body_markdown for d in documents if d.level == AccessLevel.GENERIC and d.body_markdown), "")
    vulnerability_notes = [{"category": "description", "text": summary or advisory.title}]
    cvss = _cvss_v3(advisory)
    cves = [cve for cve in advisory.cve_ids or [] if isinstance(cve, str) and CVE_PATTERN.match(cve)]
    vulnerabilities = []
    for cve in cves or [None]:
        vulnerability = {
            "title": advisory.title,
            "ids": [{"system_name": "Forewarn", "text": advisory.identifier}],
            "notes": vulnerability_notes,
            "product_status": {"known_affected": product_ids},
        }
        if cve:
            vulnerability["cve"] = cve
        if cvss:
            vulnerability["scores"] = [{"products": product_ids, "cvss_v3": cvss}]
        vulnerabilities.append(vulnerability)

    document = {
        "category": "csaf_security_advisory",
        "csaf_version": CSAF_VERSION,
        "lang": "en",
        "title": advisory.title,
        "publisher": {
            "category": "coordinator",
            "name": "Forewarn partner program",
            "namespace": publisher_namespace,
        },
        "distribution": {
            "text": (
                f"{tlp_label.label} (FIRST TLP 2.0), shown as TLP:{TLP_2_TO_CSAF_TLP_1[tlp_label]} because CSAF 2.0 "
                f"uses TLP 1.0 labels. Issued to {partner_name} at the {level.label} level under the program "
                "agreement; do not redistribute."
            ),
            "tlp": {"label": TLP_2_TO_CSAF_TLP_1[tlp_label], "url": TLP_2_URL},
        },
        "notes": notes,
        "references": references,
        "tracking": {
            "id": advisory.identifier,
            "status": "final" if advisory.status == AdvisoryStatus.PUBLIC else "interim",
            "version": "1",
            "initial_release_date": _utc(initial_release_date),
            "current_release_date": _utc(max(current_release_date, initial_release_date)),
            "revision_history": [
                {"date": _utc(initial_release_date), "number": "1", "summary": f"Delivered to {partner_name}."}
            ],
            "generator": {"engine": {"name": "Forewarn"}},
        },
    }
    severity = severity_for_score(advisory.cvss_score)
    if severity is not None:
        document["aggregate_severity"] = {"namespace": "https://www.first.org/cvss/", "text": severity.label}

    return {
        "document": document,
        "product_tree": {
            "full_product_names": [
                {"name": name, "product_id": product_id} for name, product_id in zip(products, product_ids, strict=True)
            ]
        },
        "vulnerabilities": vulnerabilities,
    }
