"""Served copies do not change when the fingerprinting code is made faster: for prose, Markdown, code, mixed and
Unicode texts, protected terms, author variant points and the letter layer, each copy (and the template tracing reads
it with, and the words the reader sees) is byte-identical to what the code made when the fixture was recorded.

The fixture holds SHA-256 digests. Record it again only when a change of output is intended (which also changes
every copy already served, so leaks of old copies are traced with the code of their time):

    .venv/bin/python -m tests.advisories.test_fingerprint_golden
"""

import hashlib
import json
from pathlib import Path

import pytest

from advisories.fingerprinting import copy_key, personalise, strip_variant_points
from advisories.fingerprinting.code import SourceText, _build_serving_template, _code_template
from advisories.fingerprinting.phrases import PHRASE_CLASSES, PROTECTED_TERMS
from advisories.fingerprinting.text import tokenize
from advisories.sample_texts import AUTHORED_DOCUMENTS, PROOF_OF_CONCEPT, SAMPLE_DOCUMENTS
from bench.fingerprint_size import text_of

FIXTURE = Path(__file__).with_name("fingerprint_golden.json")
KEYS = [copy_key(token=f"{n:064x}", user_id=n) for n in (1, 7, 4242)]
PRODUCT_TERMS = ("Acme Mail Server", "CVE-2026-0001", "EdgeGate")

_GENERIC_WORDS = [
    "the", "a", "an", "it", "this", "they", "we", "there", "server", "client", "buffer", "chunk", "request",
    "session", "value", "worker", "process", "heap", "data", "user", "attacker", "file", "bytes", "message",
    "header", "the", "service", "when", "if", "once", "because", "after", "before", "in", "on", "by", "for", "with",
    "during", "to", "from", "and", "or", "but", "so", "although", "whereas", "though", "which", "that", "then",
    "therefore", "today", "instead", "two", "42", "80", "3", "one", "hundred", "dozens", "of", "other", "each",
    "every", "all", "both",
]  # fmt: skip
_SEPARATORS = (
    [" "] * 12
    + [", "] * 3
    + [". ", ".\n", "\n\n", ": ", "; ", " - ", "-", "/", "_", " (", ") ", "\n- ", "\n1. ", "\n## ", "\n> ", "\t"]
    + [" \u2014 ", "\u2019", "'", "! ", "? ", "\r\n", " \u00a0", ",", ". \n\n", "\n* ", "\n    ", "*", "**", "%"]
)
_SPECIALS = [
    "`inline does not`",
    '"a quoted e-mail string"',
    "\u201ca curly quoted web server\u201d",
    "<em>",
    "</em>",
    "&amp;",
    "&#x41;",
    "[the link text](https://example.com/path?a=b)",
    "https://example.com/a/does/not",
    "www.example.org/for/example",
    "admin@example.com",
    "[ref]",
    "\n[ref]: https://r.example/ref\n",
    "\n```\nfenced does not\nfor example, web server\n```\n",
    "\n~~~python\nx = 1  # e-mail\n~~~\n",
    "\n    indented code does not\n",
    "{{= a | b | c =}}",
    "{{=label: lies | resides =}}",
    "{{= 0x41..0x50 =}}",
    "{{= A..P =}}",
    "{{= 10..25 =}}",
    "{{= \\x00..\\x0f =}}",
    "{{= one \\| two | three =}}",
    "0x{{= 41 | 42 =}}",
    "{{= declared | announced | stated =}}",
    "{{= web server | webserver =}}",
    "caf\u00e9",
    "na\u00efve",
    "r\u00e9sum\u00e9",
    "Stra\u00dfe",
    "\u0430tt\u0430ck",
    "\ufb01le name",
    "\u65e5\u672c\u8a9e",
    "\U0001f389",
    "\u200b",
    "doesn\u2019t",
    "80%",
    "80 percent",
    "e.g.",
    "i.e.,",
    "etc.",
    "v1.2.3",
    "config.yaml",
    "$HOME/log files",
    "snake_case_name",
    "#!/bin/sh",
    "# heading does not",
    "| cell | web page |",
    "\u00c9COLE",
    "\u0130stanbul",
]


class _Draws:
    """A reproducible stream of choices that depends on nothing but the seed (not on the random module)."""

    def __init__(self, seed: str):
        self.seed, self.counter = seed, 0

    def below(self, limit: int) -> int:
        self.counter += 1
        digest = hashlib.sha256(f"{self.seed}:{self.counter}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % limit

    def pick(self, items):
        return items[self.below(len(items))]


def _phrase_form(draws: _Draws) -> str:
    form = draws.pick(draws.pick(PHRASE_CLASSES).forms)
    casing = draws.below(6)
    return form.capitalize() if casing == 0 else form.upper() if casing == 1 else form


def _fuzz_prose(seed: str, pieces: int) -> str:
    draws = _Draws(seed)
    out = []
    for _ in range(pieces):
        roll = draws.below(10)
        if roll < 4:
            out.append(draws.pick(_GENERIC_WORDS))
        elif roll < 7:
            out.append(_phrase_form(draws))
        elif roll == 7:
            out.append(draws.pick(PROTECTED_TERMS + list(PRODUCT_TERMS)))
        else:
            out.append(draws.pick(_SPECIALS))
        if draws.below(8) == 0:
            out[-1] = out[-1].capitalize()
        out.append(draws.pick(_SEPARATORS))
    return "".join(out)


_OPENERS = ["When", "If", "Once", "Because", "In", "During", "For", "With", "Therefore", "Today", "However,", "The"]
_NOUNS = ["the client", "the server", "a buffer", "the heap", "an attacker", "the worker", "each request", "it"]
_JOINERS = [", and", ", but", ", so", ", although", ", whereas", " and", " or", ",", ""]


def _fuzz_sentences(seed: str, sentences: int) -> str:
    """Prose shaped like an advisory's sentences, where the optional commas are."""
    draws = _Draws(seed)
    out = []
    for _ in range(sentences):
        words = [draws.pick(_OPENERS)]
        for _ in range(draws.below(7) + 1):
            words.append(draws.pick(_NOUNS + _GENERIC_WORDS) if draws.below(3) else _phrase_form(draws).lower())
        if draws.below(2):
            listed = [draws.pick(_GENERIC_WORDS) for _ in range(draws.below(3) + 2)]
            words.append(", ".join(listed[:-1]) + draws.pick([", and ", " and ", ", or ", " or "]) + listed[-1])
        words[-1] += draws.pick(_JOINERS)
        words += [draws.pick(_NOUNS), draws.pick(_GENERIC_WORDS), _phrase_form(draws).lower()]
        out.append(" ".join(words) + draws.pick([". ", ".\n", ".\n\n", "! ", ": ", "; "]))
    return "".join(out)


def _fuzz_code(seed: str, lines: int, marker: str) -> str:
    draws = _Draws(seed)
    out = []
    for number in range(lines):
        roll = draws.below(6)
        prose = " ".join(_phrase_form(draws) + draws.pick(["", ",", "."]) for _ in range(draws.below(8) + 1))
        if roll == 0:
            out.append(f"{'    ' * draws.below(3)}{marker} {prose} {draws.pick(_GENERIC_WORDS)}")
        elif roll == 1:
            out.append(f'name_{number} = "{draws.pick(_SPECIALS)}{prose}"  {marker} {prose}')
        elif roll == 2:
            out.append(f"value_{number} = {draws.pick(_SPECIALS)}")
        elif roll == 3:
            filler = draws.pick(["{{= A..Z =}}", "{{=pad: \\x00..\\x1f =}}", "AAAA"])
            out.append(f'payload = b"\\x41{filler}\\x42"')
        elif roll == 4:
            out.append(f"def {draws.pick(['{{= f | g | h =}}', 'handler'])}(x): return x  /* {prose} */")
        else:
            out.append("")
    return "\n".join(out) + draws.pick(["\n", "", "\r\n"])


def golden_sources() -> dict[str, SourceText]:
    sources = {}
    for number, document in enumerate(AUTHORED_DOCUMENTS):
        sources[f"authored-{number}"] = SourceText(document, protected_terms=PRODUCT_TERMS)
        sources[f"authored-{number}-letters"] = SourceText(document, letters=True)
        sources[f"authored-{number}-as-prose"] = SourceText(document, kind="prose", protected_terms=PRODUCT_TERMS)
    for number, document in enumerate(SAMPLE_DOCUMENTS):
        sources[f"sample-{number}"] = SourceText(document)
    sources["poc-hash-comments"] = SourceText(PROOF_OF_CONCEPT, kind="code", comment_prefix="# ")
    sources["poc-slash-comments"] = SourceText(PROOF_OF_CONCEPT, kind="code", comment_prefix="// ")
    for text in ("", "\n", "word", "{{= a | b =}}", "The flaw does not,\r\nfor example, crash.\r\n", "80 percent"):
        sources[f"edge-{text!r}"] = SourceText(text)
        sources[f"edge-{text!r}-code"] = SourceText(text, kind="code")
    for number in range(24):
        text = _fuzz_prose(f"prose-{number}", 400)
        kind = ("markdown", "prose")[number % 2]
        sources[f"fuzz-prose-{number}"] = SourceText(
            text, kind=kind, letters=number % 3 == 0, protected_terms=PRODUCT_TERMS if number % 4 else ()
        )
    for number in range(12):
        sources[f"fuzz-sentences-{number}"] = SourceText(
            _fuzz_sentences(f"sentences-{number}", 80), letters=number % 4 == 1, protected_terms=PRODUCT_TERMS
        )
    for number in range(12):
        marker = ("#", "//")[number % 2]
        text = _fuzz_code(f"code-{number}", 120, marker)
        sources[f"fuzz-code-{number}"] = SourceText(text, kind="code", comment_prefix=marker + " ")
    sources["bench-prose-100KiB"] = SourceText(text_of("prose", 100 * 1024), kind="prose")
    sources["bench-code-100KiB"] = SourceText(text_of("code", 100 * 1024), kind="code")
    sources["bench-prose-300KiB-letters"] = SourceText(text_of("prose", 300 * 1024), kind="prose", letters=True)
    return sources


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, default=_plain).encode()).hexdigest()


def _plain(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, str | int):
        return value
    return vars(value)


def _template_record(template) -> list:
    slots = [
        [slot.kind, slot.name, slot.start, slot.end, slot.replacements, slot.forms, slot.unit]
        + [slot.letter_positions, slot.context]
        for slot in template.slots
    ]
    return [template.text, template.code, template.units, slots, _plain(template.byte_patterns)]


def golden_record(source: SourceText) -> dict[str, str]:
    """Digests of what serving and tracing make of one source: the copies, the templates, the words read."""
    template = _build_serving_template(source)
    record = {
        "copies": _digest([personalise(template, key) for key in KEYS]),
        "template": _digest(_template_record(template)),
        "without_key": _digest(strip_variant_points(source.text)),
        "prose_tokens": _digest(vars(tokenize(source.text))),
        "code_tokens": _digest(vars(tokenize(source.text, code=True))),
    }
    if source.kind == "code" and "{{=" in source.text:
        record["code_template"] = _digest(_template_record(_code_template(source)))
    return record


GOLDEN = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
SOURCES = golden_sources()


def test_the_fixture_covers_every_golden_source():
    assert sorted(GOLDEN) == sorted(SOURCES)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_copies_templates_and_words_are_those_recorded(name):
    assert golden_record(SOURCES[name]) == GOLDEN[name]


def test_the_fuzzed_sources_exercise_every_kind_of_slot():
    kinds = set()
    for name, source in SOURCES.items():
        if name.startswith("fuzz-"):
            kinds |= {slot.kind for slot in _build_serving_template(source).slots}

    assert kinds == {"phrase", "comma", "variant", "letter"}


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps({name: golden_record(source) for name, source in SOURCES.items()}, indent=1) + "\n")
