"""The text fingerprint: each served copy is traced from an excerpt after the transformations a leaker's tools
apply, the meaning-bearing parts of the text stay exact, and text from no copy accuses nobody."""

import re

import pytest

from advisories.fingerprinting import (
    copy_key,
    fingerprint_comments,
    fingerprint_markdown,
    rank,
    without_homoglyphs,
)
from advisories.sample_texts import HYPERVISOR, MAIL_SERVER, SAMPLE_DOCUMENTS, VPN_GATEWAY
from bench import text_transformations as tt

KEYS = {f"copy-{n}": copy_key(token=f"{n:064x}", user_id=n) for n in range(60)}
LEAKER = "copy-17"


def _prose_excerpt(text: str, length: int = 500) -> str:
    """500 characters from the first paragraph of technical details: prose only."""
    start = text.index("The flaw") if "The flaw" in text else 0
    return text[start : start + length]


def _leaked(transform) -> str:
    copy = fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER])
    if transform is tt.markdown_to_plain_text:
        return _prose_excerpt(tt.markdown_to_plain_text(copy))
    return transform(_prose_excerpt(copy))


@pytest.mark.parametrize(
    "transform",
    [
        lambda text: text,
        tt.collapse_and_rewrap,
        tt.remove_invisible,
        tt.nfkc,
        tt.upper_case,
        tt.lower_case,
        tt.smart_punctuation,
        tt.markdown_to_plain_text,
    ],
    ids=["excerpt", "whitespace", "invisible", "nfkc", "upper", "lower", "quotes-dashes", "markdown-to-text"],
)
def test_an_excerpt_is_traced_to_its_copy_when_transformed(transform):
    ranking = rank(_leaked(transform), KEYS)

    assert ranking.match is not None
    assert ranking.match.label == LEAKER


def test_an_excerpt_is_traced_to_its_copy_after_all_transformations_together():
    copy = fingerprint_markdown(HYPERVISOR, KEYS[LEAKER])
    sample = _prose_excerpt(tt.markdown_to_plain_text(copy))
    for transform in (tt.collapse_and_rewrap, tt.remove_invisible, tt.nfkc, tt.upper_case, tt.smart_punctuation):
        sample = transform(sample)

    assert rank(sample, KEYS).match.label == LEAKER


def test_two_copies_of_the_same_text_differ_and_each_traces_to_its_own_key():
    first = fingerprint_markdown(VPN_GATEWAY, KEYS["copy-1"])
    second = fingerprint_markdown(VPN_GATEWAY, KEYS["copy-2"])

    assert first != second
    assert rank(first[1000:1500], KEYS).match.label == "copy-1"
    assert rank(second[1000:1500], KEYS).match.label == "copy-2"


def test_the_same_key_always_produces_the_same_copy():
    assert fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER]) == fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER])


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_public_text_matches_no_copy(document):
    for start in range(0, len(document) - 1000, 400):
        assert rank(document[start : start + 1000], KEYS).match is None


def test_a_copy_of_another_text_matches_no_copy_of_this_one():
    other_keys = {f"other-{n}": copy_key(token=f"{n + 1000:064x}", user_id=n) for n in range(20)}
    leaked = fingerprint_markdown(HYPERVISOR, other_keys["other-3"])

    assert rank(leaked, KEYS).match is None


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_code_blocks_inline_code_and_urls_are_unchanged(document):
    document += (
        "\nSee https://example.test/advisories/FWN-2026-0001?ref=x_y and [the vendor](https://vendor.test/a-b).\n"
    )
    copy = fingerprint_markdown(document, KEYS[LEAKER])

    for block in re.findall(r"```.*?```", document, re.DOTALL):
        assert block in copy
    for span in re.findall(r"`[^`\n]+`", document):
        assert span in copy
    for url in ("https://example.test/advisories/FWN-2026-0001?ref=x_y", "(https://vendor.test/a-b)"):
        assert url in copy


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_cve_ids_numbers_and_identifiers_keep_their_exact_characters(document):
    document += "\nTracked as CVE-2026-31001; see sanitize_input() and /etc/serialize.conf, 4096 bytes.\n"
    copy = fingerprint_markdown(document, KEYS[LEAKER])

    for exact in ("CVE-2026-31001", "sanitize_input()", "/etc/serialize.conf", "4096"):
        assert exact in copy
    assert re.findall(r"\d+", copy) == re.findall(r"\d+", document)


def test_the_copy_reads_the_same_once_twins_are_folded_except_for_equivalent_phrasings():
    copy = fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER])
    words = re.findall(r"\w+", without_homoglyphs(copy).lower())
    original = re.findall(r"\w+", MAIL_SERVER.lower())

    # Only equivalent phrasings change words; they are few, and every letter twin reads as its Latin letter.
    changed = len(set(words) ^ set(original))
    assert 0 < changed < len(set(original)) // 10
    assert without_homoglyphs(copy) != copy


def test_comment_fingerprint_changes_only_comment_prose_and_stays_ascii():
    source = (
        "#!/usr/bin/env python3\n"
        "# This proof of concept does not need credentials; for example it can run from any host.\n"
        "# The attacker cannot recover if the server does not respond, which is normal behavior.\n"
        "payload = 'does not' + \"cannot\"  # does not matter\n"
        "print(payload)\n"
    )
    copies = {fingerprint_comments(source, "# ", key) for key in list(KEYS.values())[:16]}

    assert len(copies) > 1
    for copy in copies:
        assert copy.isascii()
        code_lines = [line for line in copy.splitlines() if not line.startswith("# ")]
        assert code_lines == [line for line in source.splitlines() if not line.startswith("# ")]


def test_markdown_structure_renders_the_same_links_and_entities_after_fingerprinting():
    from core.markdown import render_markdown

    document = (
        "The vendor does not publish a fix; see the [vendor advisory] and [the details][notes] for example.\n\n"
        "Administrators should apply the update &amp; restart the service, which is **strongly** recommended.\n\n"
        "| Component | Behavior |\n| --- | --- |\n| transport service | it does not sanitize the size |\n\n"
        "[vendor advisory]: https://vendor.test/advisory\n[notes]: https://vendor.test/notes\n"
    )
    links = re.compile(r'href="([^"]+)"')
    for key in list(KEYS.values())[:10]:
        html_copy = render_markdown(fingerprint_markdown(document, key))
        html_original = render_markdown(document)

        assert (
            links.findall(html_copy)
            == links.findall(html_original)
            == [
                "https://vendor.test/advisory",
                "https://vendor.test/notes",
            ]
        )
        assert "&amp;" in html_copy
        assert html_copy.count("<td>") == html_original.count("<td>")
        assert html_copy.count("<strong>") == 1
