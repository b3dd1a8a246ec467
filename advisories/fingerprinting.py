"""Invisible, excerpt-robust text fingerprints: embed a copy's key into prose, and score a leaked sample against keys.

Pure Python, no Django: the portal, the tracing service and bench/leak_trace.py all call these functions. The
technique is documented in docs/fingerprinting.md. In short, the text has *slots*: places where equivalent forms
exist. Each slot's form is chosen by a keyed pseudo-random function of the slot's *normalised context* (its canonical
neighbouring words), never of its position, so any excerpt can be scored without aligning it to the original. Two
layers of slots:

- phrase slots: equivalent phrasings from `fingerprint_phrases.PHRASE_CLASSES` ("does not"/"doesn't",
  "for example"/"e.g.", "sanitize"/"sanitise", "heap-based"/"heap based", ...). They are plain ASCII words, so they
  survive any character-level normalisation, including transliteration to ASCII;
- letter slots: prose words where one of a few Latin letters may be written with its visually identical Cyrillic
  twin (e.g. "о" U+043E for "o"). Dense (almost one slot per word), they survive NFKC, case changes, whitespace and
  invisible-character removal, quote and dash replacement and Markdown-to-text conversion; a deliberate
  transliteration removes them, and then the phrase slots still speak.

A sample is scored against every candidate key by counting the slots whose observed form is the one the key
chooses; under the hypothesis that the sample did not come from that copy, each agreement happens with probability
1/(number of forms), so the exact Poisson-binomial tail gives a p-value. Bonferroni over the candidates bounds the
chance of accusing anyone when the text came from no copy at all.
"""

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field

from advisories.fingerprint_phrases import PHRASE_CLASSES

CONTEXT_WORDS = 1  # canonical words taken on each side of a slot
EDGE_WORDS = 3  # words ignored at each end of a sample (the longest phrase has three words)
MAX_LETTER_POSITIONS = 6  # a letter slot's form is a subset of at most this many letters written as twins
MIN_LETTER_SLOT_LENGTH = 2

# Latin letter -> Cyrillic letter drawn identically in common fonts.
HOMOGLYPHS = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "x": "\u0445",
    "y": "\u0443",
    "i": "\u0456",
    "j": "\u0458",
    "s": "\u0455",
    "h": "\u04bb",
}
_SKELETON = {ord(cyrillic): latin for latin, cyrillic in HOMOGLYPHS.items()}
_CONFUSABLES = frozenset(HOMOGLYPHS.values())

_QUOTES_AND_DASHES = {
    **{ord(ch): "'" for ch in "\u2018\u2019\u201a\u201b\u2032\u00b4"},
    **{ord(ch): '"' for ch in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
    **{ord(ch): "-" for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
}
_WORD = re.compile(r"[^\W_]+")
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\w+|\]\([^)\s]*\)", re.IGNORECASE)
_MARKUP = re.compile(r"[*_~`]")
_BAD_BEFORE = frozenset("_/\\@$=<>{}-.%#")
_BAD_AFTER = frozenset("_/\\@$=<>{}-%#")


def without_homoglyphs(text: str) -> str:
    """The text with every Cyrillic twin read back as its Latin letter (what a reader sees)."""
    return text.translate(_SKELETON)


# Normalisation and tokens -------------------------------------------------------------------------------------------


def normalise_sample(text: str) -> str:
    """What the detector reads: NFKC, invisible format characters removed, quotes and dashes mapped to ASCII, case
    folded. (Whitespace and line breaks need no treatment: words are read between them.)"""
    text = unicodedata.normalize("NFKC", text)
    return _normalise_in_place("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))


def _normalise_in_place(text: str) -> str:
    """The same mapping, character for character, so that positions still point into the source."""
    out = []
    for ch in text.translate(_QUOTES_AND_DASHES):
        folded = ch.casefold()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


@dataclass
class _Token:
    start: int
    end: int
    skeleton: str  # case-folded, Cyrillic twins read as Latin
    glue: str  # what joins it to the previous token: " ", "-", "'", ".", or "#" (anything else)


def _glue(between: str) -> str:
    stripped = _MARKUP.sub("", between)
    core = "".join(stripped.split())
    if core:
        return core if core in ("-", "'", ".") else "#"
    return " " if between else ""


def _tokens(normalised: str) -> list[_Token]:
    """Words outside URLs, digits-only words dropped (list numbering comes and goes with Markdown conversion)."""
    hidden = [(m.start(), m.end()) for m in _URL.finditer(normalised)]
    tokens: list[_Token] = []
    previous_end = None
    dropped = False
    for match in _WORD.finditer(normalised):
        start, end = match.span()
        if any(a <= start < b for a, b in hidden) or match.group().isdigit():
            dropped = True
            continue
        between = normalised[previous_end:start] if previous_end is not None else " "
        glue = "#" if dropped else _glue(between)
        tokens.append(_Token(start, end, match.group().translate(_SKELETON), glue))
        previous_end, dropped = end, False
    return tokens


# The phrase table as token sequences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Variant:
    class_id: int
    index: int
    words: tuple[str, ...]
    glues: tuple[str, ...]  # between consecutive words


def _parse_variant(class_id: int, index: int, text: str) -> _Variant:
    words, glues = [], []
    previous_end = None
    for match in _WORD.finditer(text):
        if previous_end is not None:
            glues.append(_glue(text[previous_end : match.start()]))
        words.append(match.group())
        previous_end = match.end()
    return _Variant(class_id, index, tuple(words), tuple(glues))


_VARIANTS_BY_FIRST_WORD: dict[str, list[_Variant]] = {}
for _class_id, _forms in enumerate(PHRASE_CLASSES):
    for _index, _form in enumerate(_forms):
        _variant = _parse_variant(_class_id, _index, _form)
        _VARIANTS_BY_FIRST_WORD.setdefault(_variant.words[0], []).append(_variant)
for _variants in _VARIANTS_BY_FIRST_WORD.values():
    _variants.sort(key=lambda v: -len(v.words))
_VOWEL_MIXED = {
    class_id for class_id, forms in enumerate(PHRASE_CLASSES) if len({form[0] in "aeiou" for form in forms}) > 1
}


@dataclass
class _Slot:
    kind: str  # "phrase" or "letter"
    first: int  # token indexes covered, inclusive
    last: int
    class_id: int = -1  # phrase slots
    observed: int = 0  # index of the form found
    forms: int = 2
    positions: tuple[int, ...] = ()  # letter slots: offsets in the word of the letters that may be twins
    context: str = ""
    first_canonical: int = 0


def _match_phrase(tokens: list[_Token], at: int) -> _Variant | None:
    for variant in _VARIANTS_BY_FIRST_WORD.get(tokens[at].skeleton, ()):
        n = len(variant.words)
        if at + n > len(tokens):
            continue
        if all(tokens[at + k].skeleton == variant.words[k] for k in range(1, n)) and all(
            tokens[at + k + 1].glue == variant.glues[k] for k in range(n - 1)
        ):
            return variant
    return None


def _isolated(text: str, start: int, end: int) -> bool:
    """Not part of an identifier, path, address or compound word."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in _BAD_BEFORE or after in _BAD_AFTER:
        return False
    follow = text[end + 1] if end + 1 < len(text) else " "
    return not (after in ".:'" and (follow.isalnum() or follow == "_"))


def _letter_positions(skeleton: str) -> tuple[int, ...]:
    return tuple(i for i, ch in enumerate(skeleton) if ch in HOMOGLYPHS)[:MAX_LETTER_POSITIONS]


def _find_slots(text: str, tokens: list[_Token]) -> tuple[list[_Slot], list[str]]:
    """Slots in reading order, and the canonical word stream (each phrase slot one token naming its class)."""
    slots: list[_Slot] = []
    canonical: list[str] = []
    i = 0
    while i < len(tokens):
        variant = _match_phrase(tokens, i)
        if variant is not None:
            last = i + len(variant.words) - 1
            slot = _Slot("phrase", i, last, class_id=variant.class_id, observed=variant.index)
            slot.forms = len(PHRASE_CLASSES[variant.class_id])
            slot.first_canonical = len(canonical)
            if _isolated(text, tokens[i].start, tokens[last].end) and not (
                variant.class_id in _VOWEL_MIXED and canonical and canonical[-1] in ("a", "an")
            ):
                slots.append(slot)
            canonical.append(f"\u00a7{variant.class_id}")
            i = last + 1
            continue
        token = tokens[i]
        word = text[token.start : token.end]
        positions = _letter_positions(token.skeleton)
        if (
            len(word) >= MIN_LETTER_SLOT_LENGTH
            and word.isalpha()
            and positions
            and _isolated(text, token.start, token.end)
        ):
            found = sum(1 << k for k, pos in enumerate(positions) if word[pos] in _CONFUSABLES)
            stray = any(ch in _CONFUSABLES for pos, ch in enumerate(word) if pos not in positions)
            if not stray:
                slot = _Slot("letter", i, i, observed=found, positions=positions)
                slot.forms = 1 << len(positions)
                slot.first_canonical = len(canonical)
                slots.append(slot)
        canonical.append(token.skeleton)
        i += 1
    for slot in slots:
        at = slot.first_canonical
        before = canonical[max(0, at - CONTEXT_WORDS) : at]
        after = canonical[at + 1 : at + 1 + CONTEXT_WORDS]
        slot.context = "|".join([*before, slot.kind, canonical[at], *after])
    return slots, canonical


def _choice(key: bytes, context: str, forms: int) -> int:
    digest = hashlib.blake2b(context.encode(), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % forms


def copy_key(*, token: str, user_id: int | None) -> bytes:
    """The key of one served copy: the delivery's secret token and the person it was served to."""
    return hmac.new(token.encode(), f"forewarn-fingerprint-v1|user={user_id}".encode(), hashlib.sha256).digest()[:32]


# Embedding ----------------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*\n.*?(?:^\1?\2[`~]*[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)[^\n]*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
_HTML = re.compile(r"<[^>\n]*>")
_REFERENCE = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*\S+.*$", re.MULTILINE)
_REFERENCE_LABEL = re.compile(r"\]\[[^\]\n]*\]")
_BRACKETED = re.compile(r"\[([^\]\n]+)\]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")


def _protected_spans(markdown: str) -> list[tuple[int, int]]:
    """Code, URLs, HTML and entities, link targets and reference labels: never touched."""
    spans = [m.span() for m in _FENCE.finditer(markdown)]
    spans += [m.span() for m in _INDENTED_CODE.finditer(markdown) if not _inside(spans, m.start())]
    for pattern in (_INLINE_CODE, _HTML, _URL, _REFERENCE, _REFERENCE_LABEL, _ENTITY):
        spans += [m.span() for m in pattern.finditer(markdown)]
    # A shortcut reference ("[vendor advisory]") is its own label: changing it would break the link.
    labels = {m.group(1).strip().casefold() for m in _REFERENCE.finditer(markdown)}
    spans += [m.span() for m in _BRACKETED.finditer(markdown) if m.group(1).strip().casefold() in labels]
    return spans


def _inside(spans, position: int) -> bool:
    return any(a <= position < b for a, b in spans)


def _with_case_of(original: str, form: str) -> str:
    letters = [ch for ch in original if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and len(letters) > 1:
        return form.upper()
    if letters and letters[0].isupper():
        return form[:1].upper() + form[1:]
    return form


def fingerprint_text(text: str, key: bytes, *, letters: bool = True, protected=None) -> str:
    """`text` with every slot outside the protected spans set to the form `key` chooses. Letter slots only when
    `letters` (ASCII-only formats such as code comments keep the phrase layer alone); capitalised words (names,
    sentence starts) keep their letters."""
    spans = _protected_spans(text) if protected is None else protected
    # Words as the reader sees them: a code fence's info string ("```yaml") is not displayed.
    normalised = _FENCE_LINE.sub(lambda m: " " * len(m.group()), _normalise_in_place(text))
    tokens = _tokens(normalised)
    slots, _ = _find_slots(normalised, tokens)
    edits = []
    for slot in slots:
        start, end = tokens[slot.first].start, tokens[slot.last].end
        if _inside(spans, start) or _inside(spans, end - 1):
            continue
        original = text[start:end]
        choice = _choice(key, slot.context, slot.forms)
        if slot.kind == "phrase":
            replacement = _with_case_of(original, PHRASE_CLASSES[slot.class_id][choice])
        else:
            if not original.islower() or any(ch in _CONFUSABLES for ch in original) or not letters:
                continue
            letters_of = list(original)
            for k, position in enumerate(slot.positions):
                if choice >> k & 1:
                    letters_of[position] = HOMOGLYPHS[original[position]]
            replacement = "".join(letters_of)
        if replacement != original:
            edits.append((start, end, replacement))
    pieces, cursor = [], 0
    for start, end, replacement in edits:
        pieces += [text[cursor:start], replacement]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def fingerprint_markdown(markdown: str, key: bytes) -> str:
    """A Markdown document fingerprinted in its prose; code blocks, inline code, URLs and HTML untouched."""
    return fingerprint_text(markdown, key)


def fingerprint_comments(source: str, comment_prefix: str, key: bytes) -> str:
    """A text file whose whole-line comments (`# ...`, `// ...`) carry the phrase layer; code lines untouched."""
    marker = comment_prefix.strip()
    spans, offset = [], 0
    for line in source.splitlines(keepends=True):
        stripped = line.lstrip()
        if not stripped.startswith(marker) or stripped.startswith("#!"):
            spans.append((offset, offset + len(line)))
        offset += len(line)
    return fingerprint_text(source, key, letters=False, protected=spans + _protected_spans(source))


# Detection ----------------------------------------------------------------------------------------------------------


@dataclass
class Observation:
    """The slots of a sample, ready to be scored against any number of keys."""

    slots: list[tuple[str, int, int]]  # (context, forms, observed form)
    tail: list[float] = field(default_factory=list)  # tail[k] = P(at least k agreements) for an unrelated key

    @property
    def size(self) -> int:
        return len(self.slots)


def observe(sample: str) -> Observation:
    """Read a leaked sample: normalise it, find its slots, drop those cut by the excerpt's edges and repeated or
    contradictory ones. Letter slots count only where a substitution is present (see below)."""
    normalised = normalise_sample(sample)
    normalised = _FENCE_LINE.sub(lambda m: " " * len(m.group()), normalised)  # as the copy's slots were read
    tokens = _tokens(normalised)
    slots, canonical = _find_slots(normalised, tokens)
    seen: dict[str, tuple[int, int]] = {}
    conflicting = set()
    for slot in slots:
        # The excerpt's first and last words may be cut, and with them a phrase that the full text reads as one
        # canonical word: no slot may lean on the words near the edges.
        at = slot.first_canonical
        if at - CONTEXT_WORDS < EDGE_WORDS or at + CONTEXT_WORDS >= len(canonical) - EDGE_WORDS:
            continue
        # A plain letter slot says nothing reliable: code, names and sentence starts are never substituted, and
        # a copy transliterated to ASCII has none left. Only the substitutions found are evidence.
        if slot.kind == "letter" and slot.observed == 0:
            continue
        if slot.context in seen and seen[slot.context] != (slot.forms, slot.observed):
            conflicting.add(slot.context)
        seen[slot.context] = (slot.forms, slot.observed)
    observed = [(context, forms, form) for context, (forms, form) in seen.items() if context not in conflicting]
    return Observation(slots=observed, tail=_poisson_binomial_tail([1 / forms for _, forms, _ in observed]))


def _poisson_binomial_tail(probabilities: list[float]) -> list[float]:
    distribution = [1.0]
    for p in probabilities:
        nxt = [0.0] * (len(distribution) + 1)
        for k, mass in enumerate(distribution):
            nxt[k] += mass * (1 - p)
            nxt[k + 1] += mass * p
        distribution = nxt
    tail = [0.0] * (len(distribution) + 1)
    for k in range(len(distribution) - 1, -1, -1):
        tail[k] = tail[k + 1] + distribution[k]
    return [min(1.0, t) for t in tail]


def agreements(observation: Observation, key: bytes) -> int:
    return sum(1 for context, forms, form in observation.slots if _choice(key, context, forms) == form)


@dataclass
class CandidateScore:
    label: object
    agreements: int
    slots: int
    p_value: float  # chance that an unrelated copy agrees this well
    adjusted_p_value: float  # Bonferroni over all candidates scored


@dataclass
class Ranking:
    scores: list[CandidateScore]
    slots: int
    threshold: float

    @property
    def best(self) -> CandidateScore | None:
        return self.scores[0] if self.scores else None

    @property
    def match(self) -> CandidateScore | None:
        """The best candidate when its evidence clears the threshold; None means "no match"."""
        best = self.best
        return best if best is not None and best.adjusted_p_value < self.threshold else None


DEFAULT_THRESHOLD = 1e-9


def rank(sample: str | Observation, candidates: dict, *, threshold: float = DEFAULT_THRESHOLD) -> Ranking:
    """Score a sample against every candidate key ({label: key}); best first."""
    observation = sample if isinstance(sample, Observation) else observe(sample)
    count = max(1, len(candidates))
    scores = []
    for label, key in candidates.items():
        k = agreements(observation, key)
        p = observation.tail[k] if k < len(observation.tail) else 0.0
        scores.append(CandidateScore(label, k, observation.size, p, min(1.0, p * count)))
    scores.sort(key=lambda s: (s.p_value, -s.agreements))
    return Ranking(scores=scores, slots=observation.size, threshold=threshold)
