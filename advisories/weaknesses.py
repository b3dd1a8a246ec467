"""CWE names by id (MITRE's Common Weakness Enumeration), for the `cwe` of CSAF documents: CSAF's mandatory test
6.1.11 requires the name to be exactly the catalogue's. `weaknesses.json` is the catalogue shipped with the
reference validator (`@secvisogram/csaf-validator-lib`, `cwe.js`), one `"CWE-n": "name"` per line."""

import json
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent / "weaknesses.json"


@cache
def weakness_names() -> dict[str, str]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def weakness_name(cwe_id: str) -> str | None:
    """The catalogue name of `cwe_id` (e.g. "CWE-787"), or None when the catalogue does not know it."""
    return weakness_names().get(cwe_id)
