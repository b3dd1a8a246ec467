"""The checks behind the editor's fields and uploads, on their own."""

import pytest
from django.core.exceptions import ValidationError

from advisories.validators import SNIFF_BYTES, normalise_cve_ids, score_cvss_vector, sniff_artifact_content_type


def test_cve_ids_are_upper_cased_and_deduplicated_in_order():
    assert normalise_cve_ids("cve-2026-1234\nCVE-2025-99999, cve-2026-1234") == ["CVE-2026-1234", "CVE-2025-99999"]


def test_cvss_vector_is_scored_by_the_library():
    vector, score = score_cvss_vector("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")
    assert (vector, str(score)) == ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "1.8")


def test_utf8_text_cut_inside_a_character_at_the_sniff_limit_is_still_text():
    head = ("é" * SNIFF_BYTES).encode()[: SNIFF_BYTES - 1]
    assert sniff_artifact_content_type(head) == "text/plain"


@pytest.mark.parametrize("head", [b"\xff\xfe\x00\x00binary", b"\x89PNG\r\n\x1a\n", b"\xca\xfe\xba\xbe\x00"])
def test_other_binaries_are_refused(head):
    with pytest.raises(ValidationError, match="another binary format"):
        sniff_artifact_content_type(head)
