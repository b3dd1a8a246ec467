"""Checks on what a program manager types or uploads: CVE ids, CVSS v3.1 vectors, artifact contents."""

import ipaddress
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from cvss import CVSS3
from cvss.exceptions import CVSSError
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from packageurl import PackageURL

from advisories.weaknesses import weakness_name

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
CVSS_31_PREFIX = "CVSS:3.1/"


def normalise_cve_ids(values) -> list[str]:
    """CVE ids from a list or from text separated by commas, spaces or lines: upper-cased, duplicates dropped,
    order kept. Refuses anything that is not CVE-YYYY-NNNN (four or more digits), naming each bad entry."""
    if isinstance(values, str):
        values = re.split(r"[\s,;]+", values)
    cleaned, bad = [], []
    for value in values:
        value = str(value).strip().upper()
        if not value:
            continue
        if not CVE_ID.match(value):
            bad.append(value)
        elif value not in cleaned:
            cleaned.append(value)
    if bad:
        raise ValidationError(
            "Not a CVE id (expected CVE-YYYY-NNNN, four or more digits): %(bad)s.",
            code="invalid_cve",
            params={"bad": ", ".join(bad)},
        )
    return cleaned


def score_cvss_vector(vector: str) -> tuple[str, Decimal | None]:
    """The cleaned CVSS v3.1 vector and its base score, computed by the `cvss` package; ("", None) for an empty
    vector. Refuses other CVSS versions and malformed vectors with the library's explanation."""
    vector = (vector or "").strip()
    if not vector:
        return "", None
    if not vector.startswith(CVSS_31_PREFIX):
        raise ValidationError("A CVSS v3.1 vector starts with CVSS:3.1/.", code="invalid_cvss")
    try:
        parsed = CVSS3(vector)
    except CVSSError as error:
        raise ValidationError(
            "Invalid CVSS v3.1 vector: %(error)s.", code="invalid_cvss", params={"error": error}
        ) from None
    return parsed.clean_vector(), Decimal(str(parsed.base_score))


# Affected products and their identification helpers (CSAF product_identification_helper) ---------------------

CSAF_SCHEMA = Path(__file__).resolve().parent / "csaf" / "schemas" / "csaf_json_schema.json"
PRODUCT_LINE_SEPARATOR = "|"
CWE_ID = re.compile(r"^CWE-[1-9][0-9]{0,5}$")


@cache
def _helper_patterns() -> dict[str, re.Pattern]:
    """The CSAF 2.0 schema's own patterns for CPE (2.2 and 2.3) and PURL, so that what is accepted here is what
    the schema accepts."""
    schema = json.loads(CSAF_SCHEMA.read_text(encoding="utf-8"))
    helper = schema["$defs"]["full_product_name_t"]["properties"]["product_identification_helper"]["properties"]
    return {kind: re.compile(helper[kind]["pattern"]) for kind in ("cpe", "purl")}


def validate_cpe(value: str) -> str:
    """A CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:...) or a CPE 2.2 URI (cpe:/a:vendor:...)."""
    if not _helper_patterns()["cpe"].match(value):
        raise ValidationError(
            "Not a CPE name: %(value)s (expected e.g. cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*).",
            code="invalid_cpe",
            params={"value": value},
        )
    return value


def validate_purl(value: str) -> str:
    """A package URL (https://github.com/package-url/purl-spec), e.g. pkg:pypi/django@5.2."""
    try:
        PackageURL.from_string(value)
    except ValueError as error:
        raise ValidationError(
            "Not a package URL: %(value)s (%(error)s).", code="invalid_purl", params={"value": value, "error": error}
        ) from None
    if not _helper_patterns()["purl"].match(value):
        raise ValidationError(
            "Not a package URL: %(value)s (expected pkg:type/namespace/name@version).",
            code="invalid_purl",
            params={"value": value},
        )
    return value


@dataclass(frozen=True)
class AffectedProduct:
    name: str
    identifiers: dict[str, str] = field(default_factory=dict)  # "cpe" and/or "purl"

    def as_line(self) -> str:
        return f" {PRODUCT_LINE_SEPARATOR} ".join([self.name, *self.identifiers.values()])


def parse_affected_products(text: str) -> list[AffectedProduct]:
    """One product per line: its name, then optionally its CPE and/or PURL, separated by "|", e.g.
    `Widget Server 4.2 | cpe:2.3:a:widgetco:widget_server:4.2:*:*:*:*:*:*:* | pkg:generic/widgetco/widget-server@4.2`.
    Refuses malformed identifiers, two of a kind on a line and a product named twice, naming the line."""
    products, errors, seen = [], [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        parts = [part.strip() for part in line.split(PRODUCT_LINE_SEPARATOR)]
        name, identifiers = parts[0], {}
        if not name and not any(parts):
            continue
        if not name:
            errors.append(f"line {number}: the product name comes first")
            continue
        if name in seen:
            errors.append(f"line {number}: {name} is listed twice")
            continue
        seen.add(name)
        for part in filter(None, parts[1:]):
            kind = "cpe" if part.lower().startswith("cpe:") else "purl" if part.startswith("pkg:") else None
            if kind is None:
                errors.append(f"line {number}: {part} is neither a CPE (cpe:...) nor a package URL (pkg:...)")
            elif kind in identifiers:
                errors.append(f"line {number}: give at most one {kind.upper()} per product")
            else:
                try:
                    identifiers[kind] = validate_cpe(part) if kind == "cpe" else validate_purl(part)
                except ValidationError as error:
                    errors.append(f"line {number}: {' '.join(error.messages)}")
        products.append(AffectedProduct(name=name, identifiers=identifiers))
    if errors:
        raise ValidationError("; ".join(errors), code="invalid_products")
    return products


def validate_product_identifiers(value) -> None:
    """The stored form: {product name: {"cpe": ..., "purl": ...}}, each identifier valid."""
    if not isinstance(value, dict):
        raise ValidationError("Product identifiers are a mapping of product name to identifiers.", code="invalid")
    for name, identifiers in value.items():
        if not isinstance(name, str) or not isinstance(identifiers, dict) or not set(identifiers) <= {"cpe", "purl"}:
            raise ValidationError("Each product has at most a CPE and a PURL.", code="invalid")
        if "cpe" in identifiers:
            validate_cpe(identifiers["cpe"])
        if "purl" in identifiers:
            validate_purl(identifiers["purl"])


def validate_cwe_id(value: str) -> None:
    """A CWE id known to the CWE catalogue (advisories/weaknesses.json), e.g. CWE-787."""
    if value and (not CWE_ID.match(value) or weakness_name(value) is None):
        raise ValidationError(
            "Unknown CWE id %(value)s (expected e.g. CWE-787, from the CWE catalogue).",
            code="invalid_cwe",
            params={"value": value},
        )


# Artifact contents are recognised from their first bytes, never from the file name or the browser's claim.
SNIFF_BYTES = 8192
BINARY_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"PK\x03\x04": "application/zip",
    b"PK\x05\x06": "application/zip",  # an empty archive
}
HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg", b"<?xml")


def sniff_artifact_content_type(head: bytes) -> str:
    """The content type of an artifact from its first bytes: PDF, ZIP or UTF-8 text (rules, IOCs, source code).
    Everything else is refused: executables and other binaries, and HTML/SVG/XML, which a browser would render."""
    for signature, content_type in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if not head:
        raise ValidationError("The file is empty.", code="empty_file")
    text = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in text or not _is_utf8_prefix(text):
        raise ValidationError(
            "Only text (UTF-8), ZIP and PDF files may be uploaded; this file is another binary format.",
            code="disallowed_type",
        )
    if text.lstrip().lower().startswith(HTML_MARKERS):
        raise ValidationError("HTML, SVG and XML documents may not be uploaded; wrap them in a ZIP.", code="html")
    return "text/plain"


def _is_utf8_prefix(data: bytes) -> bool:
    """True when `data` is UTF-8, allowing a multi-byte character cut at the end of the sniffed prefix."""
    for cut in range(4):
        try:
            data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


# Partner-submitted indicators -----------------------------------------------------------------------------------

# A fully qualified name of LDH labels (RFC 1123), at least two labels, a non-numeric top-level label.
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
YARA_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HEX_LENGTHS = {"sha256": 64, "md5": 32}
INDICATOR_MAX_LENGTH = 2048


def normalise_indicator(indicator_type: str, value: str) -> str:
    """The indicator value in its canonical form (lower-case hashes and domains, compressed IP addresses,
    upper-case CVE ids); refuses a value that is not a valid one of its type, saying what was expected."""
    value = (value or "").strip()
    if not value:
        raise ValidationError("Give the indicator's value.", code="required")
    if len(value) > INDICATOR_MAX_LENGTH:
        raise ValidationError(f"An indicator may be at most {INDICATOR_MAX_LENGTH} characters.", code="too_long")
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValidationError("The value contains control characters.", code="control_characters")
    if indicator_type == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError as error:
            raise ValidationError(
                "Not an IP address (expected IPv4 like 192.0.2.10 or IPv6 like 2001:db8::1).", code="invalid_ip"
            ) from error
    if indicator_type == "domain":
        domain = value.lower().removesuffix(".")
        if not DOMAIN_NAME.match(domain):
            raise ValidationError("Not a domain name (expected e.g. bad.example.com).", code="invalid_domain")
        return domain
    if indicator_type == "url":
        try:
            URLValidator(schemes=["http", "https", "ftp", "ftps"])(value)
        except ValidationError as error:
            raise ValidationError(
                "Not a URL (expected http(s) or ftp(s), e.g. https://bad.example.com/payload).", code="invalid_url"
            ) from error
        return value
    if indicator_type in HEX_LENGTHS:
        length = HEX_LENGTHS[indicator_type]
        if not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", value):
            raise ValidationError(
                f"Not a {indicator_type.upper()} hash (expected {length} hexadecimal characters, got "
                f"{len(value)} characters).",
                code="invalid_hash",
            )
        return value.lower()
    if indicator_type == "yara_rule":
        if not YARA_RULE_NAME.match(value):
            raise ValidationError(
                "Not a YARA rule name (letters, digits and underscores, not starting with a digit, at most 128).",
                code="invalid_yara_rule",
            )
        return value
    if indicator_type == "cve":
        if not CVE_ID.match(value.upper()):
            raise ValidationError("Not a CVE id (expected CVE-YYYY-NNNN, four or more digits).", code="invalid_cve")
        return value.upper()
    if indicator_type == "other":
        return value
    raise ValidationError("Unknown indicator type.", code="invalid_type")
