"""One organisation's STIX 2.1 bundle of an advisory, built with the `stix2` library (which validates every object
and every STIX pattern as it is made).

The bundle holds: the program's identity; a `vulnerability` per CVE id of the advisory (or one named by the
advisory's identifier); an `indicator` per detection indicator the program published up to the organisation's level,
per detection rule file (YARA or Snort) released to it, and per indicator the organisation itself reported; a
`related-to` relationship from each indicator to each vulnerability; and a `note` carrying the issued-to line. The
ids of the program's objects are derived from the database (UUID v5), so that a consumer that fetches the bundle
again updates its objects rather than duplicating them.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from advisories.models import TLP, Advisory, Artifact, DetectionIndicator, PartnerIndicator

NAMESPACE = uuid.UUID("5a0f6f3e-6f0b-4d8b-9a55-0e4a3c1d2b7f")  # Forewarn's STIX ids (UUID v5 namespace)
PROGRAM_NAME = "Forewarn partner program"

# STIX 2.1 defines TLP 1.0 markings; TLP 2.0 labels map as for CSAF (the note names the TLP 2.0 label).
TLP_MARKINGS = {
    TLP.CLEAR: "TLP_WHITE",
    TLP.GREEN: "TLP_GREEN",
    TLP.AMBER: "TLP_AMBER",
    TLP.AMBER_STRICT: "TLP_AMBER",
    TLP.RED: "TLP_RED",
}
CONFIDENCE = {"low": 15, "medium": 50, "high": 85}  # STIX 2.1 appendix A, "High, Medium, Low" scale
# Indicator types STIX 2.1 has an observable for (the others cannot be a STIX pattern).
STIX_INDICATOR_TYPES = ("ip", "domain", "url", "sha256", "md5")
# File suffixes of detection rules and their STIX pattern language.
RULE_PATTERN_TYPES = {".yar": "yara", ".yara": "yara", ".rules": "snort"}


def stix_id(kind: str, *key) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, ':'.join(str(part) for part in (kind, *key)))}"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_pattern(indicator_type: str, value: str) -> str | None:
    """The STIX pattern that matches the indicator, or None for types STIX has no observable for (YARA rule names,
    CVE ids, free text)."""
    if indicator_type == "ip":
        return f"[{'ipv6-addr' if ':' in value else 'ipv4-addr'}:value = {_literal(value)}]"
    if indicator_type == "domain":
        return f"[domain-name:value = {_literal(value)}]"
    if indicator_type == "url":
        return f"[url:value = {_literal(value)}]"
    if indicator_type == "sha256":
        return f"[file:hashes.'SHA-256' = {_literal(value)}]"
    if indicator_type == "md5":
        return f"[file:hashes.MD5 = {_literal(value)}]"
    return None


@dataclass(frozen=True)
class RuleFile:
    """A detection rule file released to the organisation, in its personalised form."""

    artifact: Artifact
    pattern_type: str
    text: str


@dataclass(frozen=True)
class StixCopy:
    advisory: Advisory
    partner_id: int
    partner_name: str
    banner: str
    issued_at: datetime
    detection_indicators: list[DetectionIndicator]
    rule_files: list[RuleFile]
    partner_indicators: list[PartnerIndicator]


# `stix2` is imported inside the functions that make STIX objects: it takes about a second to load, which the URL
# configuration, and so every worker's first request, should not pay.


def _vulnerabilities(advisory: Advisory, common: dict) -> list:
    """One vulnerability per CVE id of the advisory, or one named by its identifier when it has none."""
    from stix2 import v21

    return [
        v21.Vulnerability(
            id=stix_id("vulnerability", advisory.pk, cve),
            name=cve,
            description=advisory.title,
            external_references=[
                {"source_name": "cve", "external_id": cve},
                {"source_name": "Forewarn", "external_id": advisory.identifier},
            ],
            created=advisory.created_at,
            modified=advisory.created_at,
            **common,
        )
        for cve in advisory.cve_ids or []
    ] or [
        v21.Vulnerability(
            id=stix_id("vulnerability", advisory.pk),
            name=advisory.identifier,
            description=advisory.title,
            external_references=[{"source_name": "Forewarn", "external_id": advisory.identifier}],
            created=advisory.created_at,
            modified=advisory.created_at,
            **common,
        )
    ]


def _program_indicators(copy: StixCopy, common: dict) -> list:
    """The program's indicators: its detection indicators that STIX can pattern, then its detection rule files."""
    from stix2 import v21

    advisory = copy.advisory
    indicators = []
    for indicator in copy.detection_indicators:
        pattern = stix_pattern(indicator.indicator_type, indicator.value)
        if pattern is None:
            continue
        indicators.append(
            v21.Indicator(
                id=stix_id("indicator", "detection", indicator.pk),
                name=f"{advisory.identifier}: {indicator.get_indicator_type_display()} {indicator.value[:80]}",
                description=indicator.description or None,
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=indicator.created_at,
                created=indicator.created_at,
                modified=indicator.created_at,
                **common,
            )
        )
    for rule in copy.rule_files:
        indicators.append(
            v21.Indicator(
                id=stix_id("indicator", "rule", rule.artifact.pk),
                name=f"{advisory.identifier}: {rule.artifact.name}",
                description=rule.artifact.description or None,
                indicator_types=["malicious-activity"],
                pattern=rule.text,
                pattern_type=rule.pattern_type,
                valid_from=rule.artifact.created_at,
                created=rule.artifact.created_at,
                modified=rule.artifact.created_at,
                **common,
            )
        )
    return indicators


def _partner_indicators(copy: StixCopy, *, partner_ref: str, marking_ref: str) -> tuple[list, list]:
    """The organisation's own reported indicators (created by its identity): those STIX can pattern as indicators,
    and the others, which the caller lists in a note."""
    from stix2 import v21

    indicators, unpatterned = [], []
    for indicator in copy.partner_indicators:
        pattern = stix_pattern(indicator.indicator_type, indicator.value)
        if pattern is None:
            unpatterned.append(indicator)
            continue
        indicators.append(
            v21.Indicator(
                id=stix_id("indicator", "partner", indicator.pk),
                name=f"{copy.advisory.identifier}: {indicator.get_indicator_type_display()} {indicator.value[:80]}",
                description=indicator.comment or None,
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=indicator.first_seen,
                confidence=CONFIDENCE[indicator.confidence],
                created=indicator.created_at,
                modified=indicator.created_at,
                created_by_ref=partner_ref,
                object_marking_refs=[marking_ref],
            )
        )
    return indicators, unpatterned


def _relationships(indicators: list, vulnerabilities: list, common: dict) -> list:
    """A `related-to` relationship from each indicator to each vulnerability."""
    from stix2 import v21

    return [
        v21.Relationship(
            id=stix_id("relationship", indicator.id, vulnerability.id),
            relationship_type="related-to",
            source_ref=indicator.id,
            target_ref=vulnerability.id,
            description=f"Detects exploitation of {vulnerability.name}.",
            created=indicator.created,
            modified=indicator.created,
            **common,
        )
        for indicator in indicators
        for vulnerability in vulnerabilities
    ]


def _notes(
    copy: StixCopy, vulnerabilities: list, indicators: list, unpatterned: list, *, partner_ref: str, common: dict
) -> list:
    """The issued-to note, and a note of the organisation's observations STIX has no pattern for."""
    from stix2 import v21

    advisory = copy.advisory
    notes = [
        v21.Note(
            abstract="Issued to",
            content=f"{copy.banner} (TLP 2.0 label: {advisory.get_tlp_display()}.)",
            object_refs=[vulnerability.id for vulnerability in vulnerabilities] + [i.id for i in indicators],
            created=copy.issued_at,
            modified=copy.issued_at,
            **common,
        )
    ]
    if unpatterned:
        notes.append(
            v21.Note(
                id=stix_id("note", "reported", advisory.pk, copy.partner_id),
                abstract="Other observations your organisation reported",
                content="\n".join(
                    f"{i.get_indicator_type_display()}: {i.value} (first seen {i.first_seen:%Y-%m-%d %H:%M} UTC)"
                    for i in unpatterned
                ),
                object_refs=[vulnerability.id for vulnerability in vulnerabilities],
                created=min(i.created_at for i in unpatterned),
                modified=max(i.created_at for i in unpatterned),
                created_by_ref=partner_ref,
                object_marking_refs=common["object_marking_refs"],
            )
        )
    return notes


def build_bundle(copy: StixCopy):
    """The `stix2` Bundle of the copy."""
    from stix2 import v21

    advisory = copy.advisory
    marking = getattr(v21, TLP_MARKINGS[TLP(advisory.tlp)])
    program = v21.Identity(
        id=stix_id("identity", "program"),
        name=PROGRAM_NAME,
        identity_class="organization",
        created=advisory.created_at,
        modified=advisory.created_at,
    )
    partner = v21.Identity(
        id=stix_id("identity", "partner", copy.partner_id),
        name=copy.partner_name,
        identity_class="organization",
        created=advisory.created_at,
        modified=advisory.created_at,
    )
    common = {"created_by_ref": program.id, "object_marking_refs": [marking.id]}
    vulnerabilities = _vulnerabilities(advisory, common)
    reported, unpatterned = _partner_indicators(copy, partner_ref=partner.id, marking_ref=marking.id)
    indicators = _program_indicators(copy, common) + reported
    relationships = _relationships(indicators, vulnerabilities, common)
    notes = _notes(copy, vulnerabilities, indicators, unpatterned, partner_ref=partner.id, common=common)
    return v21.Bundle(
        objects=[marking, program, partner, *vulnerabilities, *indicators, *relationships, *notes],
        allow_custom=False,
    )
