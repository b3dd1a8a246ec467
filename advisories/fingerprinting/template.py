"""Where a source text may vary: its slots, each with the forms a copy may take there, and the copy a key makes.

Slots (see docs/fingerprinting.md):
- phrase: a place where the source uses a form of a reviewed phrase class (phrases.py), outside protected text;
- comma: an optional comma (after an introductory clause, the serial comma, before "and"/"but" joining clauses);
- variant: a variant point written by the author, `{{= first | second | third =}}`, anywhere (code included);
- letter: a prose word whose letters may be written with look-alike Cyrillic twins (only when the advisory's letter
  layer is on).

Each slot has a context: a string naming it by its kind and its neighbouring words (its "canonical" neighbours:
another slot in the neighbourhood is named by its class, never by its form), so that the choice a key makes there
does not depend on where in the text the slot is, and a reader can find it again in any excerpt.
Building a template is linear in the size of the text.
"""

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from operator import itemgetter

from advisories.fingerprinting.phrases import PHRASE_CLASSES, PROTECTED_TERMS
from advisories.fingerprinting.text import HOMOGLYPHS, is_number, tokenize

NEIGHBOURS = 2  # canonical units on each side of a slot, in its context and in the pattern the reader looks for
MAX_LETTER_POSITIONS = 6

VARIANT_POINT = re.compile(r"\{\{=(?:(?P<label>[\w-]+):)?(?P<body>[^\n]*?)=\}\}")
_ESCAPED_BAR = "\x00"
_RANGE = re.compile(r"^(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)\.\.(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)$")
MAX_ALTERNATIVES = 256


def parse_alternatives(body: str) -> list[str]:
    """`a | b | c` (a `\\|` is a bar inside an alternative), or a range: `A..P`, `0x41..0x50`, `\\x00..\\x0f`,
    `10..25`."""
    body = body.replace("\\|", _ESCAPED_BAR)
    parts = [part.strip().replace(_ESCAPED_BAR, "|") for part in body.split("|")]
    if len(parts) == 1:
        match = _RANGE.match(parts[0])
        if match:
            return _expand_range(*match.groups())
    return parts


@lru_cache(maxsize=4096)
def _variant_point(body: str) -> tuple[tuple[str, ...], str]:
    """The alternatives of a variant point and its name when it has no label, once for each body a text repeats."""
    return tuple(parse_alternatives(body)), " ".join(body.split())


def _expand_range(low: str, high: str) -> list[str]:
    """The values from `low` to `high` (at most MAX_ALTERNATIVES); a reversed range is text, not a range."""
    as_text = [f"{low}..{high}"]
    if low.startswith("\\x") and high.startswith("\\x"):
        first, last = int(low[2:], 16), int(high[2:], 16)
        return [f"\\x{value:02x}" for value in range(first, last + 1)] if first <= last else as_text
    if low.lower().startswith("0x") and high.lower().startswith("0x"):
        width = len(low) - 2
        first, last = int(low, 16), int(high, 16)
        values = range(first, min(last, first + MAX_ALTERNATIVES - 1) + 1)
        return [f"0x{value:0{width}x}" for value in values] if first <= last else as_text
    if low.isdigit() and high.isdigit():
        first, last = int(low), int(high)
        values = range(first, min(last, first + MAX_ALTERNATIVES - 1) + 1)
        return [str(value) for value in values] if first <= last else as_text
    if len(low) == 1 and len(high) == 1 and low <= high:
        return [chr(code) for code in range(ord(low), min(ord(high), ord(low) + MAX_ALTERNATIVES - 1) + 1)]
    return as_text


@dataclass(frozen=True)
class Form:
    """What a form looks like to the reader: its folded words, the separators inside it, a comma after it."""

    words: tuple[str, ...]
    inner: tuple[str, ...] = ()  # separator class between consecutive words
    comma_after: bool | None = None  # None: not part of the form


@dataclass(slots=True)
class Slot:
    kind: str  # "phrase", "variant", "comma", "letter"
    name: str  # how a neighbouring slot's context names it
    start: int  # span of the source replaced by the chosen form
    end: int
    replacements: tuple[str, ...]
    forms: tuple[Form, ...] = ()
    unit: int = -1  # word slots: its unit; comma slots: the unit after the comma
    letter_positions: tuple[int, ...] = ()
    context: str = ""

    @property
    def size(self) -> int:
        return len(self.replacements)


@dataclass(eq=False)
class Template:
    text: str  # the source as displayed: variant points written as their first alternative
    slots: list[Slot]
    units: list[tuple[str, object]]  # ("w", word) or ("s", slot index), in reading order
    code: bool = False
    byte_patterns: list = field(default_factory=list)  # filled by code.py for variant points in string literals
    comment_prefix: str = ""

    def unit_name(self, index: int) -> str:
        kind, value = self.units[index]
        return value if kind == "w" else self.slots[value].name


def separator_class(separator: str) -> str:
    for mark in ("-", ".", "'", "/", ","):
        if mark in separator:
            return mark
    return " " if separator.strip() == "" else "#"


def _form(text: str, *, comma_variant: bool) -> Form:
    comma = text.endswith(",")
    tokens = tokenize(text.rstrip(","))
    inner = tuple(separator_class(tokens.seps[k]) for k in range(1, len(tokens)))
    return Form(tuple(tokens.words), inner, comma if comma_variant else None)


# The phrase table as forms, looked up by their first word.
_CLASS_FORMS: list[tuple[Form, ...]] = []
_BY_FIRST_WORD: dict[str, list[tuple[int, int]]] = {}
for _class_id, _phrase_class in enumerate(PHRASE_CLASSES):
    _comma_variant = any(form.endswith(",") for form in _phrase_class.forms)
    _forms = tuple(_form(form, comma_variant=_comma_variant) for form in _phrase_class.forms)
    _CLASS_FORMS.append(_forms)
    for _index, _form_words in enumerate(_forms):
        if _phrase_class.triggered_by(_index):
            _BY_FIRST_WORD.setdefault(_form_words.words[0], []).append((_class_id, _index))
for _candidates in _BY_FIRST_WORD.values():
    # Longest first; with the comma after it before without.
    _candidates.sort(key=lambda c: (-len(_CLASS_FORMS[c[0]][c[1]].words), not _CLASS_FORMS[c[0]][c[1]].comma_after))


# For a first word whose forms all have more words: the second words they may have (a quick test of most places).
_SECOND_WORDS: dict[str, frozenset[str] | None] = {
    first: None
    if any(len(_CLASS_FORMS[c][f].words) == 1 for c, f in candidates)
    else frozenset(_CLASS_FORMS[c][f].words[1] for c, f in candidates)
    for first, candidates in _BY_FIRST_WORD.items()
}


def class_forms(class_id: int) -> tuple[Form, ...]:
    return _CLASS_FORMS[class_id]


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
_IDENTIFIER_GLUE = frozenset("_/\\@$=<>{}%#")


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


def _covered(spans: list[tuple[int, int]], starts: list[int], ends: list[int]) -> list[bool]:
    """For each word, whether it overlaps one of the spans: one pass over both sorted lists."""
    out = [False] * len(starts)
    for a, b in spans:
        first = bisect.bisect_right(ends, a)  # the first word ending after the span starts
        last = bisect.bisect_left(starts, b)  # the first word starting at or after its end
        if first < last:
            out[first:last] = [True] * (last - first)
    return out


# Sentence openers after which the comma closing the opening clause or phrase is optional.
_SUBORDINATORS = frozenset(
    ["when", "if", "once", "until", "because", "although", "after", "before", "unless", "whenever", "while", "where"]
)
_PREPOSITIONS = frozenset(
    ["in", "on", "by", "for", "at", "with", "without", "during", "to", "from", "within", "under", "through"]
)
_TRANSITIONS = frozenset(
    [
        "therefore",
        "consequently",
        "additionally",
        "furthermore",
        "moreover",
        "finally",
        "alternatively",
        "meanwhile",
        "similarly",
        "instead",
        "otherwise",
        "nevertheless",
        "then",
        "thus",
        "hence",
        "today",
        "currently",
        "previously",
    ]
)
_CLAUSE_SUBJECTS = frozenset(
    [
        "the",
        "a",
        "an",
        "it",
        "this",
        "these",
        "those",
        "they",
        "we",
        "there",
        "its",
        "their",
        "our",
        "he",
        "she",
        "you",
        "i",
        "attackers",
        "attacker",
        "users",
        "no",
    ]
)
_NOT_AFTER_COMMA = frozenset(["and", "or", "but", "which", "who", "whom", "whose", "where", "when", "that", "nor"])
_ARTICLES = frozenset(("a", "an"))
_NOT_NOUNS = frozenset(
    [
        "of",
        "other",
        "one",
        "and",
        "or",
        "to",
        "in",
        "is",
        "was",
        "are",
        "were",
        "has",
        "have",
        "can",
        "will",
        "would",
        "should",
        "may",
    ]
)
_VOWELS = frozenset("aeiou")
_COMMA_RULE_WORDS = frozenset(["and", "or", "but", "so", "although", "whereas", "though"])
_STOP = re.compile(r"[.!?]\s|\n\s*\n|\n\s*[-*+#>|]|^\s*[-*+#>|]|:\s")


def _with_case_of(original: str, form: str) -> str:
    letters = [ch for ch in original if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and len(letters) > 1:
        return form.upper()
    if letters and letters[0].isupper():
        return form[:1].upper() + form[1:]
    return form


@lru_cache(maxsize=4096)
def _replacements_with_case_of(original: str, class_id: int) -> tuple[str, ...]:
    return tuple(_with_case_of(original, form) for form in PHRASE_CLASSES[class_id].forms)


def build_template(
    source: str,
    *,
    letters: bool = False,
    protected_spans: list[tuple[int, int]] | None = None,
    protected_terms: list[str] = (),
    code: bool = False,
) -> Template:
    """The slots of `source` (Markdown, or a text file whose `protected_spans` cover everything but its prose)."""
    # 1. Variant points: the displayed text shows the first alternative.
    display_parts, variants, cursor, shift = [], [], 0, 0
    for match in VARIANT_POINT.finditer(source):
        label, body = match.groups()
        match_start, match_end = match.span()
        alternatives, name = _variant_point(body)
        shown = alternatives[0]
        display_parts.append(source[cursor:match_start])
        start = match_start - shift
        display_parts.append(shown)
        variants.append((start, start + len(shown), alternatives, label or name))
        shift += (match_end - match_start) - len(shown)
        cursor = match_end
    display_parts.append(source[cursor:])
    text = "".join(display_parts) if variants else source

    tokens = tokenize(text, code=code)
    words, starts, ends = tokens.words, tokens.starts, tokens.ends
    n = len(words)
    spans = markdown_protected_spans(text) if protected_spans is None else sorted(protected_spans)
    in_code = _covered(spans, starts, ends) if not code else [True] * n
    protected = list(in_code)
    _protect_terms(words, protected, protected_terms)
    in_variant = _covered([(a, b) for a, b, _, _ in variants], starts, ends) if variants else [False] * n

    sentence_start = _sentence_starts(text, starts, ends)
    raw = _RawWords(text, starts, ends)

    slots: list[Slot] = []
    units: list[tuple[str, object]] = []
    token_unit = [0] * n
    # Most words are only a unit of their own. The words that may be more (the first word of a phrase, a word glued
    # to a variant point, a word of the letter layer) are looked at one by one; the runs between are added at once.
    if letters and not code:
        special = [k for k in range(n) if in_variant[k] or not protected[k]]
    else:
        may_start_phrase = compress(range(n), map(_BY_FIRST_WORD.__contains__, words))
        following = words[1:] + [""]
        special = {
            k
            for k in may_start_phrase
            if not protected[k] and ((seconds := _SECOND_WORDS[words[k]]) is None or following[k] in seconds)
        }
        special = sorted(special.union(compress(range(n), in_variant)))
    special.append(n)
    # One unit tuple for each distinct word, shared by all its places: a large text's units allocate nothing more,
    # so the cyclic garbage collector has hundreds of thousands fewer objects to traverse once they are built.
    word_unit = {word: ("w", word) for word in set(words)}
    next_special = 0  # index in special
    v = 0  # next variant point
    i = 0
    variant_count = len(variants)
    variant_word = bisect.bisect_left(starts, variants[0][0]) if variants else n  # first word at or after it
    while i < n or v < variant_count:
        if v < variant_count and i >= variant_word:
            start, end, alternatives, label = variants[v]
            slot = Slot("variant", "v:" + label, start, end, alternatives, _variant_forms(alternatives, code))
            slot.unit = len(units)
            units.append(("s", len(slots)))
            slots.append(slot)
            while i < n and starts[i] < end:
                token_unit[i] = slot.unit
                i += 1
            v += 1
            variant_word = bisect.bisect_left(starts, variants[v][0], i) if v < variant_count else n
            continue
        while special[next_special] < i:
            next_special += 1
        run_end = special[next_special] if special[next_special] < variant_word else variant_word
        if run_end > i:
            first_unit = len(units)
            units += map(word_unit.__getitem__, words[i:run_end])
            token_unit[i:run_end] = range(first_unit, len(units))
            i = run_end
            continue
        if in_variant[i]:  # a word glued to a variant point ("0x{{= 41 | 42 =}}")
            token_unit[i] = len(units) - 1
            i += 1
            continue
        matched = None
        if not protected[i] and words[i] in _BY_FIRST_WORD:
            matched = _match_phrase(text, tokens, raw, protected, in_variant, sentence_start, i)
        if matched is not None:
            class_id, form_index, last, span_end = matched
            phrase_forms = PHRASE_CLASSES[class_id].forms
            replacements = _replacements_with_case_of(text[starts[i] : span_end], class_id)
            start = starts[i]
            if "%" in phrase_forms:  # "80 percent" / "80%": the space goes with the word
                start = ends[i - 1]
                replacements = tuple(form if form == "%" else " " + form for form in replacements)
            slot = Slot("phrase", "p:" + phrase_forms[0], start, span_end, replacements, class_forms(class_id))
            slot.unit = len(units)
            units.append(("s", len(slots)))
            slots.append(slot)
            token_unit[i : last + 1] = [slot.unit] * (last + 1 - i)
            i = last + 1
            continue
        token_unit[i] = len(units)
        units.append(word_unit[words[i]])
        if letters and not protected[i] and not code:
            positions = _letter_positions(raw[i], text, starts[i], ends[i])
            if positions:
                forms = 1 << len(positions)
                slot = Slot("letter", words[i], starts[i], ends[i], (raw[i],) * forms, unit=len(units) - 1)
                slot.letter_positions = positions
                slots.append(slot)
        i += 1

    template = Template(text=text, slots=slots, units=units, code=code)
    if not code:
        _add_comma_slots(template, text, tokens, in_code, in_variant, sentence_start, token_unit)
    _set_contexts(template)
    return template


def _sentence_starts(text: str, starts: list[int], ends: list[int]) -> list[bool]:
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


class _RawWords:
    """The words as written, sliced when asked for (most never are)."""

    def __init__(self, text, starts, ends):
        self.text, self.starts, self.ends = text, starts, ends

    def __getitem__(self, i):
        return self.text[self.starts[i] : self.ends[i]]


@lru_cache(maxsize=4096)
def _variant_forms(alternatives: tuple[str, ...], code: bool) -> tuple[Form, ...]:
    return tuple(_variant_form(alternative, code) for alternative in alternatives)


@lru_cache(maxsize=4096)
def _variant_form(alternative: str, code: bool) -> Form:
    tokens = tokenize(alternative, code=code)
    inner = tuple(separator_class(tokens.seps[k]) for k in range(1, len(tokens)))
    return Form(tuple(tokens.words), inner)


def _protect_terms(words: list[str], protected: list[bool], extra_terms) -> None:
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


def _match_phrase(text, tokens, raw, protected, in_variant, sentence_start, i):
    words, seps = tokens.words, tokens.seps
    n = len(words)
    for class_id, form_index in _BY_FIRST_WORD.get(words[i], ()):
        form = _CLASS_FORMS[class_id][form_index]
        length = len(form.words)
        last = i + length - 1
        if last >= n or (length > 1 and words[i + 1] != form.words[1]) or tuple(words[i : last + 1]) != form.words:
            continue
        if True in protected[i : last + 1] or True in in_variant[i : last + 1]:
            continue
        if length > 1 and any(separator_class(seps[i + 1 + k]) != form.inner[k] for k in range(length - 1)):
            continue
        after = seps[last + 1] if last + 1 < n else ""
        span_end = tokens.ends[last]
        if form.comma_after is not None:
            has_comma = after.lstrip().startswith(",")
            if has_comma != form.comma_after:
                continue
            if has_comma:
                span_end = text.index(",", span_end) + 1
        # Glued to an identifier, a path or an address: not prose.
        before_char = text[tokens.starts[i] - 1] if tokens.starts[i] > 0 else " "
        after_char = text[tokens.ends[last]] if tokens.ends[last] < len(text) else " "
        if before_char in _IDENTIFIER_GLUE or after_char in _IDENTIFIER_GLUE or before_char == "-":
            continue
        if after_char == "-" or (after_char in ".:" and text[tokens.ends[last] + 1 : tokens.ends[last] + 2].isalnum()):
            continue
        # Lower case, or capitalised only as the first word of a sentence (names keep their spelling).
        first_raw = raw[i]
        capitalised_opening = sentence_start[i] and first_raw[:1].isupper() and first_raw[1:].islower()
        if not (first_raw.islower() or capitalised_opening or first_raw == "%"):
            continue
        if last > i and any(not raw[k].islower() for k in range(i + 1, last + 1)):
            continue
        phrase_class = PHRASE_CLASSES[class_id]
        if phrase_class.guard == "number_after" and not (last + 1 < n and is_number(words[last + 1])):
            continue
        if phrase_class.guard == "number_before" and not (i > 0 and words[i - 1].isdigit()):
            continue
        if phrase_class.guard in ("word_after", "noun_after"):
            following = words[last + 1] if last + 1 < n and seps[last + 1] == " " else ""
            if not following.isalpha() or (phrase_class.guard == "noun_after" and following in _NOT_NOUNS):
                continue
        if i > 0 and words[i - 1] in _ARTICLES and len({f[:1] in _VOWELS for f in phrase_class.forms}) > 1:
            continue
        return class_id, form_index, last, span_end
    return None


def _letter_positions(word: str, text: str, start: int, end: int) -> tuple[int, ...]:
    if len(word) < 2 or not word.isalpha() or not word.islower() or not word.isascii():
        return ()
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in _IDENTIFIER_GLUE or after in _IDENTIFIER_GLUE or before == "-" or after == "-":
        return ()
    return tuple(k for k, ch in enumerate(word) if ch in HOMOGLYPHS)[:MAX_LETTER_POSITIONS]


def _add_comma_slots(template, text, tokens, in_code, in_variant, sentence_start, token_unit) -> None:
    """Optional commas, found by conservative rules on the source's sentences (docs/fingerprinting.md). Protected
    words may stand on either side: a comma changes none of them."""
    words, starts, ends, seps = tokens.words, tokens.starts, tokens.ends, tokens.seps
    n = len(words)
    units = template.units
    boundaries: dict[int, bool] = {}  # word index after the comma -> the source has the comma

    def prose(k):
        return 0 <= k < n and not in_code[k] and not in_variant[k]

    def plain(k):  # the separator before word k is only a space
        return seps[k] == " "

    # The rules below only start at a sentence start or at one of these words: the others are skipped.
    starting = compress(range(n), map(_COMMA_RULE_WORDS.__contains__, words))
    last_start = 0
    for i in sorted(set(compress(range(n), sentence_start)).union(starting)):
        if sentence_start[i]:
            last_start = i
        # (a) the comma closing an opening clause or phrase: "When a client announces a chunk, the server ..."
        if sentence_start[i] and prose(i):
            first = words[i]
            limit = (
                22 if first in _SUBORDINATORS else 10 if first in _PREPOSITIONS else 1 if first in _TRANSITIONS else 0
            )
            for k in range(i + 1, min(n, i + limit + 1)):
                if sentence_start[k] or not prose(k):
                    break
                if seps[k] == ", ":
                    if words[k] not in _NOT_AFTER_COMMA and not any(
                        words[j] in ("and", "or") for j in range(k, min(n, k + 5))
                    ):
                        boundaries[k] = True
                    break
                if not plain(k):
                    break
        # (b) the serial comma: "A, B and C" / "A, B, and C"
        if words[i] in ("and", "or") and prose(i) and i - last_start >= 3:
            for c in range(i - 1, max(last_start, i - 5), -1):
                if seps[c] == ", ":
                    previous = c - 1
                    while previous > last_start and plain(previous):
                        previous -= 1
                    listed = c - previous <= 6 and (seps[previous] == ", " or previous == last_start)
                    if listed and seps[i] in (" ", ", ") and all(prose(k) for k in range(c - 1, i + 1)):
                        boundaries[i] = seps[i] == ", "
                    break
                if not plain(c):
                    break
        # (c) before "and"/"but" joining two clauses: "... the buffer, but it does not check ..."
        # (d) before a concessive or contrasting clause: "..., although an authenticated user can still ..."
        if words[i] in ("although", "whereas", "though") and seps[i] == ", " and i - last_start >= 4 and prose(i):
            boundaries.setdefault(i, True)
        joins_clauses = words[i] in ("and", "but", "so") and seps[i] == ", " and i - last_start >= 6
        if joins_clauses and prose(i) and i + 1 < n and words[i + 1] in _CLAUSE_SUBJECTS and plain(i + 1):
            boundaries.setdefault(i, True)

    for k, has_comma in sorted(boundaries.items()):
        if k == 0 or token_unit[k] == token_unit[k - 1]:
            continue
        before_unit = token_unit[k - 1]
        if units[before_unit][0] == "s" and template.slots[units[before_unit][1]].kind == "phrase":
            continue
        between = text[ends[k - 1] : starts[k]]
        if has_comma:
            if between.count(",") != 1 or between.strip(" ,") != "":
                continue
            position = ends[k - 1] + between.index(",")
            slot = Slot("comma", ",", position, position + 1, ("", ","), unit=token_unit[k])
        else:
            if between != " ":
                continue
            slot = Slot("comma", ",", ends[k - 1], ends[k - 1], ("", ","), unit=token_unit[k])
        template.slots.append(slot)


def _set_contexts(template: Template) -> None:
    slots = template.slots
    names = list(map(itemgetter(1), template.units))  # a word unit is named by its word
    for slot in slots:
        if slot.kind == "phrase" or slot.kind == "variant":  # the slots that are a unit of their own
            names[slot.unit] = slot.name
    for slot in slots:
        if slot.kind == "variant":
            slot.context = "variant|" + slot.name
        elif slot.kind == "letter":
            u = slot.unit
            slot.context = "|".join(["letter", slot.name, *names[max(0, u - 1) : u], "_", *names[u + 1 : u + 2]])
        elif slot.kind == "comma":
            u = slot.unit
            slot.context = "|".join(["comma", *names[max(0, u - NEIGHBOURS) : u], "_", *names[u : u + NEIGHBOURS]])
        else:
            u = slot.unit
            left = names[max(0, u - NEIGHBOURS) : u]
            right = names[u + 1 : u + 1 + NEIGHBOURS]
            slot.context = "|".join(["phrase", slot.name, *left, "_", *right])


def render_copy(template: Template, key_choices) -> str:
    """The text with each slot set to the form `key_choices(slot)` returns."""
    text = template.text
    # Each edit's place (start, end) as one number that sorts as the pair: tens of thousands of edit tuples alive at
    # once would each count towards a run of the cyclic garbage collector, numbers and strings do not.
    stride = len(text) + 1
    places, replacements = [], []
    for slot in template.slots:
        choice = key_choices(slot)
        if slot.kind == "letter":
            if choice == 0:
                continue
            letters_of = list(text[slot.start : slot.end])
            for k, position in enumerate(slot.letter_positions):
                if choice >> k & 1:
                    letters_of[position] = HOMOGLYPHS[letters_of[position]]
            replacement = "".join(letters_of)
        else:
            replacement = slot.replacements[choice]
        if replacement != text[slot.start : slot.end]:
            places.append(slot.start * stride + slot.end)
            replacements.append(replacement)
    pieces, cursor = [], 0
    for k in sorted(range(len(places)), key=places.__getitem__):
        start, end = divmod(places[k], stride)
        if start < cursor:
            continue  # never two edits on one place
        pieces.append(text[cursor:start])
        pieces.append(replacements[k])
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def strip_variant_points(text: str) -> str:
    """The text as displayed without a copy key: every variant point written as its first alternative."""
    return VARIANT_POINT.sub(lambda m: _variant_point(m.group("body"))[0][0], text)


def variant_points(text: str) -> list[tuple[str | None, list[str]]]:
    """The variant points of a text: (label, alternatives), in order."""
    return [(m.group("label"), parse_alternatives(m.group("body"))) for m in VARIANT_POINT.finditer(text)]


def _protected_words(markdown: str):
    """(start, end, word as written, protected) for each prose word of a Markdown text without variant points."""
    tokens = tokenize(markdown)
    protected = _covered(markdown_protected_spans(markdown), tokens.starts, tokens.ends)
    _protect_terms(tokens.words, protected, ())
    for i in range(len(tokens)):
        start, end = tokens.starts[i], tokens.ends[i]
        before = markdown[start - 1] if start > 0 else " "
        after = markdown[end] if end < len(markdown) else " "
        glued = before in _IDENTIFIER_GLUE or after in _IDENTIFIER_GLUE or before == "-" or after == "-"
        yield start, end, markdown[start:end], protected[i] or glued
