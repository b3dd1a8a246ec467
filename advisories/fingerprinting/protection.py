"""What is never varied, and where sentences start: protected Markdown (code, quoted strings, HTML, entities, link
labels), the code of a code file outside its whole-line comments, the protected vocabulary and a text's own
protected terms (product names, CVE ids). Each is found in one pass over the text."""

import bisect
import re
from itertools import compress

from advisories.fingerprinting.phrases import PROTECTED_TERMS
from advisories.fingerprinting.text import tokenize


def _term_words(term: str) -> tuple[str, ...]:
    return tuple(tokenize(term).words)


_PROTECTED_BY_FIRST_WORD: dict[str, list[tuple[str, ...]]] = {}
for _term in PROTECTED_TERMS:
    _words = _term_words(_term)
    _PROTECTED_BY_FIRST_WORD.setdefault(_words[0], []).append(_words)

# Markdown that is never varied.
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*\n.*?(?:^\1?\2[`~]*[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)[^\n]*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
_HTML = re.compile(r"<[^>\n]*>")
_REFERENCE = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*\S+.*$", re.MULTILINE)
_REFERENCE_LABEL = re.compile(r"\]\[[^\]\n]*\]")
_BRACKETED = re.compile(r"\[([^\]\n]+)\]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|\u201c[^\u201d\n]{1,300}\u201d")
IDENTIFIER_GLUE = frozenset("_/\\@$=<>{}%#")


def markdown_protected_spans(markdown: str) -> list[tuple[int, int]]:
    """Code, quoted strings, HTML and entities, link labels: never varied (sorted spans)."""
    spans = [m.span() for m in _FENCE.finditer(markdown)]
    fences = sorted(spans)
    fence_starts = [a for a, _ in fences]
    for m in _INDENTED_CODE.finditer(markdown):
        k = bisect.bisect_right(fence_starts, m.start()) - 1
        if k < 0 or not fences[k][0] <= m.start() < fences[k][1]:
            spans.append(m.span())
    # Reference definitions ("[label]: target") are searched for only in a text that can have one.
    references = list(_REFERENCE.finditer(markdown)) if "]:" in markdown else []
    spans += [m.span() for m in references]
    for pattern in (_INLINE_CODE, _HTML, _REFERENCE_LABEL, _ENTITY, _QUOTED):
        spans += [m.span() for m in pattern.finditer(markdown)]
    labels = {m.group(1).strip().casefold() for m in references}
    if labels:
        spans += [m.span() for m in _BRACKETED.finditer(markdown) if m.group(1).strip().casefold() in labels]
    return sorted(spans)


def comment_protected_spans(source: str, comment_prefix: str) -> list[tuple[int, int]]:
    """Every line of a code file but its whole-line comments (`# ...`, `// ...`)."""
    marker = comment_prefix.strip()
    spans, offset = [], 0
    for line in source.splitlines(keepends=True):
        stripped = line.lstrip()
        if not stripped.startswith(marker) or stripped.startswith("#!"):
            spans.append((offset, offset + len(line)))
        offset += len(line)
    return spans


def covered(spans: list[tuple[int, int]], starts: list[int], ends: list[int]) -> list[bool]:
    """For each word, whether it overlaps one of the spans: one pass over both sorted lists."""
    out = [False] * len(starts)
    for a, b in spans:
        first = bisect.bisect_right(ends, a)  # the first word ending after the span starts
        last = bisect.bisect_left(starts, b)  # the first word starting at or after its end
        if first < last:
            out[first:last] = [True] * (last - first)
    return out


_STOP = re.compile(r"[.!?]\s|\n\s*\n|\n\s*[-*+#>|]|^\s*[-*+#>|]|:\s")


def sentence_starts(text: str, starts: list[int], ends: list[int]) -> list[bool]:
    """For each word, whether a sentence, paragraph, heading or list item starts with it (one pass)."""
    n = len(starts)
    out = [False] * n
    if n:
        out[0] = True
    for match in _STOP.finditer(text):
        k = bisect.bisect_left(starts, match.end() - 1)
        if 0 < k < n and ends[k - 1] <= match.start():
            out[k] = True
    return out


def protect_terms(words: list[str], protected: list[bool], extra_terms) -> None:
    terms_by_first_word = _PROTECTED_BY_FIRST_WORD
    if extra_terms:
        terms_by_first_word = {first: list(terms) for first, terms in _PROTECTED_BY_FIRST_WORD.items()}
        for term in extra_terms:
            term_words = _term_words(term)
            if term_words:
                terms_by_first_word.setdefault(term_words[0], []).append(term_words)
    for i in compress(range(len(words)), map(terms_by_first_word.__contains__, words)):
        for term in terms_by_first_word[words[i]]:
            end = i + len(term)
            if end == i + 1 or tuple(words[i:end]) == term:
                protected[i:end] = [True] * (end - i)


def protected_words(markdown: str):
    """(start, end, word as written, protected) for each prose word of a Markdown text without variant points."""
    tokens = tokenize(markdown)
    protected = covered(markdown_protected_spans(markdown), tokens.starts, tokens.ends)
    protect_terms(tokens.words, protected, ())
    for i in range(len(tokens)):
        start, end = tokens.starts[i], tokens.ends[i]
        before = markdown[start - 1] if start > 0 else " "
        after = markdown[end] if end < len(markdown) else " "
        glued = before in IDENTIFIER_GLUE or after in IDENTIFIER_GLUE or before == "-" or after == "-"
        yield start, end, markdown[start:end], protected[i] or glued
