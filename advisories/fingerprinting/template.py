"""Where a source text may vary: its slots, each with the forms a copy may take there, and the copy a key makes.

Slots (see docs/fingerprinting.md):
- phrase: a place where the source uses a form of a reviewed phrase class (phrases.py, phrase_slots.py), outside
  protected text (protection.py);
- comma: an optional comma (after an introductory clause, the serial comma, before "and"/"but" joining clauses;
  commas.py);
- variant: a variant point written by the author, `{{= first | second | third =}}`, anywhere (code included;
  variant_points.py);
- letter: a prose word whose letters may be written with look-alike Cyrillic twins (only when the advisory's letter
  layer is on).

Each slot has a context: a string naming it by its kind and its neighbouring words (its "canonical" neighbours:
another slot in the neighbourhood is named by its class, never by its form), so that the choice a key makes there
does not depend on where in the text the slot is, and a reader can find it again in any excerpt.
Building a template is linear in the size of the text.
"""

import bisect
from itertools import compress
from operator import itemgetter

from advisories.fingerprinting.commas import add_comma_slots
from advisories.fingerprinting.phrase_slots import (
    BY_FIRST_WORD,
    SECOND_WORDS,
    class_forms,
    match_phrase,
    replacements_with_case_of,
)
from advisories.fingerprinting.phrases import PHRASE_CLASSES
from advisories.fingerprinting.protection import (
    IDENTIFIER_GLUE,
    covered,
    markdown_protected_spans,
    protect_terms,
    sentence_starts,
)
from advisories.fingerprinting.slots import NEIGHBOURS, Slot, Template, variant_forms
from advisories.fingerprinting.text import HOMOGLYPHS, tokenize
from advisories.fingerprinting.variant_points import VARIANT_POINT, variant_point

MAX_LETTER_POSITIONS = 6


def build_template(
    source: str,
    *,
    letters: bool = False,
    protected_spans: list[tuple[int, int]] | None = None,
    protected_terms: list[str] = (),
    code: bool = False,
) -> Template:
    """The slots of `source` (Markdown, or a text file whose `protected_spans` cover everything but its prose)."""
    text, variants = _displayed(source)
    builder = _Builder(text, variants, letters=letters, code=code)
    builder.protect(protected_spans, protected_terms)
    builder.walk()
    template = Template(text=text, slots=builder.slots, units=builder.units, code=code)
    if not code:
        add_comma_slots(
            template, text, builder.tokens, builder.in_code, builder.in_variant, builder.sentence_start,
            builder.token_unit,
        )  # fmt: skip
    _set_contexts(template)
    return template


def _displayed(source: str) -> tuple[str, list]:
    """The text as displayed (each variant point written as its first alternative) and the variant points in it:
    (start, end, alternatives, label or name)."""
    display_parts, variants, cursor, shift = [], [], 0, 0
    for match in VARIANT_POINT.finditer(source):
        label, body = match.groups()
        match_start, match_end = match.span()
        alternatives, name = variant_point(body)
        shown = alternatives[0]
        display_parts.append(source[cursor:match_start])
        start = match_start - shift
        display_parts.append(shown)
        variants.append((start, start + len(shown), alternatives, label or name))
        shift += (match_end - match_start) - len(shown)
        cursor = match_end
    display_parts.append(source[cursor:])
    return ("".join(display_parts) if variants else source), variants


class _Builder:
    """The units and slots of a displayed text, in one walk over its words."""

    def __init__(self, text: str, variants: list, *, letters: bool, code: bool):
        self.text, self.variants, self.letters, self.code = text, variants, letters, code
        self.tokens = tokenize(text, code=code)
        self.raw = _RawWords(text, self.tokens.starts, self.tokens.ends)
        self.sentence_start = sentence_starts(text, self.tokens.starts, self.tokens.ends)
        self.slots: list[Slot] = []
        self.units: list[tuple[str, object]] = []
        self.token_unit = [0] * len(self.tokens.words)

    def protect(self, protected_spans, protected_terms) -> None:
        words, starts, ends = self.tokens.words, self.tokens.starts, self.tokens.ends
        n = len(words)
        spans = markdown_protected_spans(self.text) if protected_spans is None else sorted(protected_spans)
        self.in_code = covered(spans, starts, ends) if not self.code else [True] * n
        self.protected = list(self.in_code)
        protect_terms(words, self.protected, protected_terms)
        variant_spans = [(a, b) for a, b, _, _ in self.variants]
        self.in_variant = covered(variant_spans, starts, ends) if self.variants else [False] * n

    def special_words(self) -> list[int]:
        """The words that may be more than a unit of their own (the first word of a phrase, a word glued to a variant
        point, a word of the letter layer), then the number of words."""
        words, protected, in_variant = self.tokens.words, self.protected, self.in_variant
        n = len(words)
        if self.letters and not self.code:
            special = [k for k in range(n) if in_variant[k] or not protected[k]]
        else:
            may_start_phrase = compress(range(n), map(BY_FIRST_WORD.__contains__, words))
            following = words[1:] + [""]
            special = {
                k
                for k in may_start_phrase
                if not protected[k] and ((seconds := SECOND_WORDS[words[k]]) is None or following[k] in seconds)
            }
            special = sorted(special.union(compress(range(n), in_variant)))
        special.append(n)
        return special

    def walk(self) -> None:
        """The special words are looked at one by one; the runs of plain words between them are added at once."""
        words, starts = self.tokens.words, self.tokens.starts
        units, token_unit, in_variant, variants = self.units, self.token_unit, self.in_variant, self.variants
        n = len(words)
        special = self.special_words()
        # One unit tuple for each distinct word, shared by all its places: a large text's units allocate nothing more,
        # so the cyclic garbage collector has hundreds of thousands fewer objects to traverse once they are built.
        self.word_unit = word_unit = {word: ("w", word) for word in set(words)}
        next_special = 0  # index in special
        v = 0  # next variant point
        i = 0
        variant_count = len(variants)
        variant_word = bisect.bisect_left(starts, variants[0][0]) if variants else n  # first word at or after it
        while i < n or v < variant_count:
            if v < variant_count and i >= variant_word:
                i = self.variant_slot(variants[v], i)
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
            i = self.word(i)

    def variant_slot(self, variant, i: int) -> int:
        """The slot of a variant point whose first word (if any) is word i; the index of the word after it."""
        start, end, alternatives, label = variant
        slot = Slot("variant", "v:" + label, start, end, alternatives, variant_forms(alternatives, self.code))
        slot.unit = len(self.units)
        self.units.append(("s", len(self.slots)))
        self.slots.append(slot)
        starts, n = self.tokens.starts, len(self.tokens.words)
        while i < n and starts[i] < end:
            self.token_unit[i] = slot.unit
            i += 1
        return i

    def word(self, i: int) -> int:
        """Word i: a phrase slot starting there, or a unit (and a letter slot); the index of the next word."""
        tokens, text, units = self.tokens, self.text, self.units
        matched = None
        if not self.protected[i] and tokens.words[i] in BY_FIRST_WORD:
            matched = match_phrase(text, tokens, self.raw, self.protected, self.in_variant, self.sentence_start, i)
        if matched is not None:
            return self.phrase_slot(i, *matched)
        self.token_unit[i] = len(units)
        units.append(self.word_unit[tokens.words[i]])
        if self.letters and not self.protected[i] and not self.code:
            positions = _letter_positions(self.raw[i], text, tokens.starts[i], tokens.ends[i])
            if positions:
                forms = 1 << len(positions)
                slot = Slot("letter", tokens.words[i], tokens.starts[i], tokens.ends[i], (self.raw[i],) * forms)
                slot.unit = len(units) - 1
                slot.letter_positions = positions
                self.slots.append(slot)
        return i + 1

    def phrase_slot(self, i: int, class_id: int, form_index: int, last: int, span_end: int) -> int:
        starts, ends = self.tokens.starts, self.tokens.ends
        phrase_forms = PHRASE_CLASSES[class_id].forms
        replacements = replacements_with_case_of(self.text[starts[i] : span_end], class_id)
        start = starts[i]
        if "%" in phrase_forms:  # "80 percent" / "80%": the space goes with the word
            start = ends[i - 1]
            replacements = tuple(form if form == "%" else " " + form for form in replacements)
        slot = Slot("phrase", "p:" + phrase_forms[0], start, span_end, replacements, class_forms(class_id))
        slot.unit = len(self.units)
        self.units.append(("s", len(self.slots)))
        self.slots.append(slot)
        self.token_unit[i : last + 1] = [slot.unit] * (last + 1 - i)
        return last + 1


class _RawWords:
    """The words as written, sliced when asked for (most never are)."""

    def __init__(self, text, starts, ends):
        self.text, self.starts, self.ends = text, starts, ends

    def __getitem__(self, i):
        return self.text[self.starts[i] : self.ends[i]]


def _letter_positions(word: str, text: str, start: int, end: int) -> tuple[int, ...]:
    if len(word) < 2 or not word.isalpha() or not word.islower() or not word.isascii():
        return ()
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in IDENTIFIER_GLUE or after in IDENTIFIER_GLUE or before == "-" or after == "-":
        return ()
    return tuple(k for k, ch in enumerate(word) if ch in HOMOGLYPHS)[:MAX_LETTER_POSITIONS]


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
