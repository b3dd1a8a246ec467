"""The official CSAF 2.0 JSON schema (OASIS, csaf_2.0/json_schema/csaf_json_schema.json) and the FIRST CVSS
schemas it references, shipped in `schemas/` so that validation needs no network."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

# The CSAF schema refers to the CVSS schemas by these addresses; the files name their own dialect.
REFERENCED_SCHEMAS = {
    "https://www.first.org/cvss/cvss-v2.0.json": ("cvss-v2.0.json", DRAFT4),
    "https://www.first.org/cvss/cvss-v3.0.json": ("cvss-v3.0.json", DRAFT4),
    "https://www.first.org/cvss/cvss-v3.1.json": ("cvss-v3.1.json", DRAFT7),
}


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def csaf_validator() -> Draft202012Validator:
    resources = []
    for uri, (name, dialect) in REFERENCED_SCHEMAS.items():
        resource = Resource.from_contents(_load(name), default_specification=dialect)
        resources.append((uri, resource))
        # cvss-v3.1.json declares an $id with a query string; its inner references resolve against that.
        if resource.id() and resource.id() != uri:
            resources.append((resource.id(), resource))
    registry = Registry().with_resources(resources)
    return Draft202012Validator(_load("csaf_json_schema.json"), registry=registry, format_checker=FormatChecker())


def validate(document: dict) -> None:
    """Raise jsonschema.ValidationError (the most relevant error) unless `document` is valid CSAF 2.0."""
    csaf_validator().validate(document)


def cvss_v31_vector_pattern() -> str:
    return _load("cvss-v3.1.json")["properties"]["vectorString"]["pattern"]
