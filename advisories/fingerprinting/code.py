"""Code and payload bytes: the sources of an advisory as the reader sees them, and reading every layer of a sample.

A proof of concept or a detection rule carries the author's variant points (a filler byte, a constant with several
valid values, a variable name). They must survive what a leaker or an attacker does with code: strip the comments,
reformat it (whitespace, line breaks, quotes), run it. So besides the prose template, each code file gets a code
template built on its text with the comments removed, read with case-sensitive code words; and each variant point
inside a string literal gives byte patterns (the literal bytes around it, escapes evaluated), found again in a hex
dump of the traffic the exploit sends.
"""

import codecs
import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from advisories.fingerprinting.protection import comment_protected_spans
from advisories.fingerprinting.reading import Reader, Reading
from advisories.fingerprinting.slots import Template
from advisories.fingerprinting.template import build_template

MIN_PATTERN_BYTES = 4
ANCHOR_BYTES = 8


@dataclass(frozen=True)
class SourceText:
    """One text an advisory serves: a Markdown document, a prose file, or a code file (with its comment prefix)."""

    text: str
    kind: str = "markdown"  # "markdown", "prose" or "code"
    comment_prefix: str = "# "
    letters: bool = False
    protected_terms: tuple[str, ...] = ()


CACHED_TEXT_CHARS = 256 * 1024  # larger texts are rare: built for each use rather than held in memory


def serving_template(source: SourceText) -> Template:
    """The template a copy is rendered from (cached by content when small)."""
    if len(source.text) > CACHED_TEXT_CHARS:
        return _build_serving_template(source)
    return _serving_template(source)


@lru_cache(maxsize=128)
def _serving_template(source: SourceText) -> Template:
    return _build_serving_template(source)


@contextmanager
def _collection_paused():
    """Building a template of a large file allocates hundreds of thousands of small acyclic objects, each batch of
    which would trigger a full pass of the cyclic garbage collector: a third of the time of a 2 MiB file."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_serving_template(source: SourceText) -> Template:
    with _collection_paused():
        return _build(source)


def _build(source: SourceText) -> Template:
    if source.kind == "code":
        spans = comment_protected_spans(source.text, source.comment_prefix)
        return build_template(source.text, protected_spans=spans, protected_terms=source.protected_terms)
    return build_template(source.text, letters=source.letters, protected_terms=source.protected_terms)


@lru_cache(maxsize=32)
def _code_template(source: SourceText) -> Template:
    template = build_template(strip_comments(source.text, source.comment_prefix), code=True)
    template.byte_patterns = _byte_patterns(template)
    return template


def templates_for(sources: list[SourceText]) -> list[Template]:
    templates = []
    for source in sources:
        templates.append(serving_template(source))
        if source.kind == "code" and "{{=" in source.text:
            template = _code_template(source)
            template.comment_prefix = source.comment_prefix
            templates.append(template)
    return templates


_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def strip_comments(text: str, comment_prefix: str) -> str:
    """The code without its comments (line comments with the prefix's marker; /* */ blocks for // languages)."""
    marker = comment_prefix.strip() or "#"
    if marker == "//":
        text = _BLOCK_COMMENT.sub(" ", text)
    lines = []
    for line in text.splitlines():
        if line.startswith("#!"):
            lines.append("")
            continue
        at = line.find(marker)
        lines.append(line if at < 0 else line[:at])
    return "\n".join(lines)


# Payload bytes ------------------------------------------------------------------------------------------------------


def _literal_bytes(text: str) -> bytes:
    try:
        return codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0]
    except (ValueError, UnicodeError):
        return text.encode("utf-8", "replace")


@dataclass(frozen=True)
class FillerPattern:
    """A filler made of adjacent variant points and repeated, `b"{{=f1: A..Z =}}{{=f2: A..Z =}}" * N`: each run of
    one unit repeated in the payload reads every point of the unit at once (a unit's alternatives alone are too short
    to be found, and the combinations too many to list)."""

    contexts: tuple[str, ...]
    sizes: tuple[int, ...]
    alternatives: tuple[tuple[bytes, ...], ...]

    @property
    def run(self) -> re.Pattern:
        return _filler_run(self.contexts, self.alternatives)

    def read(self, data: bytes, reading: Reading) -> None:
        """Each point whose every run agrees on one alternative."""
        found: dict[str, set[int]] = {}
        for match in self.run.finditer(data):
            for number, (context, alternatives) in enumerate(zip(self.contexts, self.alternatives, strict=True)):
                found.setdefault(context, set()).add(alternatives.index(match.group(number + 1)))
        for context, size in zip(self.contexts, self.sizes, strict=True):
            if len(found.get(context, ())) == 1:
                reading.add(context, size, found[context].pop())


MIN_FILLER_BYTES = 8  # a run of a filler of several points is found when at least this long (and 4 units)


@lru_cache(maxsize=256)
def _filler_run(contexts: tuple[str, ...], alternatives: tuple[tuple[bytes, ...], ...]) -> re.Pattern:
    """One group per point, the unit repeated: the first unit of a run is read (a run starts where the filler does,
    and a point used twice in the unit, read with two alternatives, is dropped)."""
    unit = b"".join(
        b"(" + b"|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)) + b")"
        for forms in alternatives
    )
    shortest_unit = sum(min(map(len, forms)) for forms in alternatives)
    repeats = max(MIN_PATTERN_BYTES, -(-MIN_FILLER_BYTES // max(1, shortest_unit)))
    again = b"".join(b"(?:\\%d)" % (number + 1) for number in range(len(contexts)))
    return re.compile(unit + b"(?:" + again + b"){%d,}" % (repeats - 1), re.DOTALL)


_REPEATED = re.compile(r"\s*\*\s*\w+")


def _filler_points(template: Template) -> dict[int, FillerPattern | None]:
    """Fillers of several adjacent variant points, `b"{{=f1: A..Z =}}{{=f2: A..Z =}}" * N`: the start of each such
    point, with the FillerPattern at the first point of each filler (None at the others)."""
    text = template.text
    variants = sorted((slot for slot in template.slots if slot.kind == "variant"), key=lambda slot: slot.start)
    groups, group = [], []
    for slot in variants:
        if group and group[-1].end != slot.start:
            groups.append(group)
            group = []
        group.append(slot)
    groups.append(group)
    points: dict[int, FillerPattern | None] = {}
    for group in groups:
        if len(group) < 2:
            continue
        first, last = group[0], group[-1]
        line_start = text.rfind("\n", 0, first.start) + 1
        quote = _open_quote(text[line_start : first.start])
        if quote is None or text[first.start - 1] != quote or text[last.end : last.end + 1] != quote:
            continue
        if not _REPEATED.match(text, last.end + 1):
            continue
        alternatives = tuple(tuple(_literal_bytes(form) for form in slot.replacements) for slot in group)
        if any(len(set(forms)) != len(forms) or b"" in forms for forms in alternatives):
            continue
        points.update(dict.fromkeys((slot.start for slot in group[1:]), None))
        contexts = tuple(slot.context for slot in group)
        points[first.start] = FillerPattern(contexts, tuple(slot.size for slot in group), alternatives)
    return points


def _byte_patterns(template: Template) -> list:
    """For each variant point inside a string literal: the bytes each alternative puts on the wire, with the literal
    bytes around it (or, for a filler repeated with `* N`, the alternative repeated; a filler of several points is a
    FillerPattern)."""
    patterns = []
    text = template.text
    boundaries = sorted((slot.start, slot.end) for slot in template.slots)
    filler_points = _filler_points(template)
    for slot in template.slots:
        if slot.kind != "variant":
            continue
        if slot.start in filler_points:
            if filler_points[slot.start] is not None:
                patterns.append(filler_points[slot.start])
            continue
        packed = _packed_integers(slot.replacements)
        if packed:
            patterns.append((slot.context, slot.size, packed))
            continue
        line_start = text.rfind("\n", 0, slot.start) + 1
        line_end = text.find("\n", slot.end)
        line_end = len(text) if line_end < 0 else line_end
        before, after = text[line_start : slot.start], text[slot.end : line_end]
        quote = _open_quote(before)
        if quote is None or quote not in after:
            continue
        left = before[before.rfind(quote) + 1 :]
        right = after[: after.index(quote)]
        for start, end in boundaries:  # never lean on another variant point's bytes
            if line_start <= end <= slot.start:
                left = text[max(end, slot.start - len(left)) : slot.start]
            if slot.end <= start <= line_end:
                right = right[: max(0, start - slot.end)]
        left_bytes, right_bytes = _literal_bytes(left)[-ANCHOR_BYTES:], _literal_bytes(right)[:ANCHOR_BYTES]
        alternatives = [_literal_bytes(alternative) for alternative in slot.replacements]
        if not left_bytes and not right_bytes and re.match(r"\s*\*\s*\w+", after[after.index(quote) + 1 :]):
            candidates = [alternative * MIN_PATTERN_BYTES for alternative in alternatives]
        else:
            candidates = [left_bytes + alternative + right_bytes for alternative in alternatives]
        if len(set(candidates)) == len(candidates) and all(len(c) >= MIN_PATTERN_BYTES for c in candidates):
            patterns.append((slot.context, slot.size, candidates))
    return patterns


def _packed_integers(alternatives) -> list[tuple[bytes, ...]] | None:
    """A constant of 32 bits (17 to 32 significant bits) as it goes on the wire: little- or big-endian."""
    try:
        values = [int(alternative, 0) for alternative in alternatives]
    except ValueError:
        return None
    if not values or min(values) < 0 or max(values) < 1 << 16 or max(values) >= 1 << 32:
        return None
    return [(value.to_bytes(4, "little"), value.to_bytes(4, "big")) for value in values]


def _open_quote(before: str) -> str | None:
    """The quote character of the string literal `before` ends inside, if any."""
    inside = None
    escaped = False
    for ch in before:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif inside is None and ch in "'\"":
            inside = ch
        elif ch == inside:
            inside = None
    return inside


_OFFSET = re.compile(r"^\s*(?:0x)?[0-9a-fA-F]{4,16}[:\s]")
_HEX_GROUP = re.compile(r"^(?:[0-9a-fA-F]{2})+$")
_ESCAPED_BYTES = re.compile(r"(?:\\x[0-9a-fA-F]{2}){4,}")


def parse_hex_dump(sample: str) -> bytes | None:
    """The bytes of a hex dump (xxd, hexdump -C, tcpdump -X, Wireshark, plain hex, or \\x escapes), else None."""
    escaped = _ESCAPED_BYTES.findall(sample)
    if escaped:
        return bytes.fromhex("".join(run.replace("\\x", "") for run in escaped))
    data = bytearray()
    lines = [line for line in sample.splitlines() if line.strip()]
    parsed = 0
    for line in lines:
        line = line.split("|", 1)[0]
        offset = _OFFSET.match(line)
        body = line[offset.end() :] if offset else line
        line_bytes = bytearray()
        for group in body.split():
            if not _HEX_GROUP.match(group) or (offset and len(line_bytes) >= 16):
                break
            line_bytes += bytes.fromhex(group)
        if len(line_bytes) >= 4 or (offset and line_bytes):
            parsed += 1
            data += line_bytes
    if lines and parsed >= max(1, len(lines) // 2) and len(data) >= 8:
        return bytes(data)
    return None


def _found(candidate, data: bytes) -> bool:
    if isinstance(candidate, tuple):
        return any(form in data for form in candidate)
    return candidate in data


# Reading every layer ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _reader(templates: tuple[Template, ...]) -> Reader:
    return Reader(list(templates))


def read_sample(sample: str, templates: list[Template]) -> Reading:
    """Every layer of a sample: prose, code (comments stripped as each code file's syntax does), payload bytes."""
    reading = Reading()
    prose = tuple(template for template in templates if not template.code)
    _reader(prose).read(sample, code=False, reading=reading)
    code_templates = [template for template in templates if template.code]
    for prefix in sorted({template.comment_prefix for template in code_templates}):
        group = tuple(template for template in code_templates if template.comment_prefix == prefix)
        _reader(group).read(strip_comments(sample, prefix), code=True, reading=reading)
    data = parse_hex_dump(sample)
    if data is not None:
        for template in code_templates:
            for pattern in template.byte_patterns:
                if isinstance(pattern, FillerPattern):
                    pattern.read(data, reading)
                    continue
                context, forms, candidates = pattern
                found = [index for index, candidate in enumerate(candidates) if _found(candidate, data)]
                if len(found) == 1:
                    reading.add(context, forms, found[0])
    return reading
