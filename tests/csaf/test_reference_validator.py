"""The reference CSAF validator (BSI's @secvisogram/csaf-validator-lib, run by tools/csaf-validator/validate.mjs
with Node.js) finds nothing in the demo program's documents, as each kind of reader receives them from the CSAF
provider directory: an early, a standard and a generic partner, and the public. Schema (strict), every mandatory
test (6.1) and every optional test (6.2).

Needs Node.js and `npm ci` in tools/csaf-validator/ (.ci/run does both): without them it skips locally and fails
under CI=true."""

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from advisories import services
from partners.models import Partner

REPO_ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = REPO_ROOT / "tools" / "csaf-validator"
LIBRARY = VALIDATOR / "node_modules" / "@secvisogram" / "csaf-validator-lib"
METADATA = "/.well-known/csaf/provider-metadata.json"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the reference validator must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def node():
    executable = shutil.which("node")
    if executable is None:
        _unavailable("needs Node.js (Debian's nodejs package) for the reference CSAF validator")
    if not LIBRARY.is_dir():
        _unavailable(f"needs the validator library: run `npm ci` in {VALIDATOR.relative_to(REPO_ROOT)}")
    return executable


def _mirror(client) -> list[dict]:
    """Every document the reader's feeds list, fetched from the provider."""
    metadata = client.get(METADATA).json()
    documents = []
    for feed in metadata["distributions"][0]["rolie"]["feeds"]:
        response = client.get(feed["url"])
        if response.status_code != 200:
            continue
        for entry in response.json()["feed"]["entry"]:
            document = client.get(entry["content"]["src"])
            assert document.status_code == 200, entry["content"]["src"]
            documents.append(json.loads(document.content))
    return documents


@pytest.mark.csaf_validator
@pytest.mark.django_db
def test_reference_validator_finds_nothing_in_any_demo_document_at_any_level(
    node, tmp_path, https_portal, token_for, capsys
):
    call_command("seed_demo")
    capsys.readouterr()
    # The live advisory's early wave releases too: an interim copy beside the final ones.
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        services.release_due_waves()
        readers = {"public": APIClient()}
        for slug in ("northwind", "kestrel", "harbor"):  # early, standard, generic
            partner = Partner.objects.get(legal_name__istartswith=slug)
            readers[slug] = APIClient()
            readers[slug].credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(partner)}")
        files = []
        for reader, client in readers.items():
            for document in _mirror(client):
                path = tmp_path / f"{reader}-{document['document']['tracking']['id']}.json"
                path.write_text(json.dumps(document), encoding="utf-8")
                files.append(path)

    statuses = {json.loads(path.read_text())["document"]["tracking"]["status"] for path in files}
    assert statuses == {"interim", "final"}
    assert {path.name.split("-")[0] for path in files} == set(readers)
    result = subprocess.run(
        [node, "validate.mjs", *map(str, files)], cwd=VALIDATOR, capture_output=True, text=True, timeout=300
    )
    report = json.loads(result.stdout)
    findings = [(d["file"].rsplit("/", 1)[-1], f) for d in report["documents"] for f in d["findings"]]
    assert findings == [], json.dumps(findings, indent=2)
    assert result.returncode == 0, result.stderr
    assert len(report["documents"]) == len(files) >= 10
    tests_run = report["documents"][0]["tests"]
    assert tests_run["schema"] == 1 and tests_run["mandatory"] >= 30 and tests_run["optional"] >= 20


@pytest.mark.csaf_validator
def test_reference_validator_reports_a_broken_document(node, tmp_path):
    """The check can fail: a document without a canonical URL, sorted keys or remediations is reported."""
    broken = {
        "document": {"title": "x", "category": "csaf_base", "csaf_version": "2.0", "lang": "en"},
    }
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))

    result = subprocess.run([node, "validate.mjs", str(path)], cwd=VALIDATOR, capture_output=True, text=True)

    report = json.loads(result.stdout)
    assert result.returncode == 1
    failed = {finding["test"] for finding in report["documents"][0]["findings"]}
    assert {"csaf_2_0_strict", "optionalTest_6_2_13"} <= failed
