"""Reading a leaked sample against the advisory's source texts: which form each slot takes in it.

The reader knows the sources (the tracer always knows which advisory leaked), so it looks for each slot where the
source has it: the slot's canonical neighbours on both sides (NEIGHBOURS units each side; a neighbouring slot
matches any of its forms), and between them one of the slot's forms. Every word is compared folded (text.fold), so
look-alike folding, transliteration, case changes, typographic quotes and dashes, re-wrapping and Markdown
rendering change nothing; OCR errors cost the slots whose neighbourhood they touch.

A slot read twice with different forms (an excerpt mixed from two copies, or a coincidence) is dropped; each
distinct context is read once, so no evidence is counted twice.
"""

from dataclasses import dataclass, field

from advisories.fingerprinting.slots import NEIGHBOURS, Template, separator_class
from advisories.fingerprinting.text import CONFUSABLES, Tokens, prepare_sample, tokenize

_SENTENCE_MARKS = frozenset(".;:!?")


@dataclass
class Reading:
    """What one sample says: for each slot context read, the number of forms and the form seen."""

    slots: dict[str, tuple[int, int]] = field(default_factory=dict)
    conflicting: set[str] = field(default_factory=set)

    def add(self, context: str, forms: int, observed: int) -> None:
        if context in self.conflicting:
            return
        seen = self.slots.get(context)
        if seen is not None and seen != (forms, observed):
            del self.slots[context]
            self.conflicting.add(context)
            return
        self.slots[context] = (forms, observed)


@dataclass
class _Pattern:
    template: Template
    slot: int
    left: list  # units
    right: list


class Reader:
    """The patterns of a set of templates, indexed by their first words; reusable for many samples."""

    def __init__(self, templates: list[Template]):
        self.templates = templates
        self.index: dict[tuple, list[_Pattern]] = {}
        for template in templates:
            for number, slot in enumerate(template.slots):
                u = slot.unit
                if slot.kind == "comma":
                    left, right = template.units[max(0, u - NEIGHBOURS) : u], template.units[u : u + NEIGHBOURS]
                else:
                    left = template.units[max(0, u - NEIGHBOURS) : u]
                    right = template.units[u + 1 : u + 1 + NEIGHBOURS]
                if not left or not right:
                    continue
                pattern = _Pattern(template, number, left, right)
                for first in _first_words(template, left[0]):
                    self.index.setdefault(first, []).append(pattern)

    def read(self, sample: str, *, code: bool, reading: Reading | None = None) -> Reading:
        reading = reading or Reading()
        text = prepare_sample(sample)
        tokens = tokenize(text, code=code)
        for position, word in enumerate(tokens.words):
            for pattern in self.index.get(word, ()):
                if pattern.template.code != code:
                    continue
                self._try(pattern, tokens, text, position, reading)
        return reading

    def _try(self, pattern: _Pattern, tokens: Tokens, text: str, position: int, reading: Reading) -> None:
        template = pattern.template
        slot = template.slots[pattern.slot]
        for after_left in _match_units(template, pattern.left, tokens, position):
            if slot.kind == "comma":
                if after_left >= len(tokens):
                    continue
                if _match_units(template, pattern.right, tokens, after_left):
                    separator = tokens.seps[after_left]
                    if _SENTENCE_MARKS.isdisjoint(separator):
                        reading.add(slot.context, 2, 1 if "," in separator else 0)
                continue
            if slot.kind == "letter":
                if (
                    after_left < len(tokens)
                    and tokens.words[after_left] == slot.name
                    and _match_units(template, pattern.right, tokens, after_left + 1)
                ):
                    observed = _twins(text[tokens.starts[after_left] : tokens.ends[after_left]], slot)
                    if observed:
                        reading.add(slot.context, slot.size, observed)
                continue
            seen = set()
            for index, form in enumerate(slot.forms):
                end = after_left + len(form.words)
                if tuple(tokens.words[after_left:end]) != form.words:
                    continue
                if any(
                    separator_class(tokens.seps[after_left + 1 + k]) != form.inner[k] for k in range(len(form.inner))
                ):
                    continue
                if form.comma_after is not None:
                    has_comma = end < len(tokens) and tokens.seps[end].lstrip().startswith(",")
                    if has_comma != form.comma_after:
                        continue
                if _match_units(template, pattern.right, tokens, end):
                    seen.add(index)
            if len(seen) == 1:
                reading.add(slot.context, slot.size, seen.pop())


def _first_words(template: Template, unit) -> list[str]:
    kind, value = unit
    if kind == "w":
        return [value]
    return sorted({form.words[0] for form in template.slots[value].forms if form.words})


def _match_units(template: Template, units: list, tokens: Tokens, position: int) -> list[int]:
    """Every position just after `units` matched from `position` (a slot unit matches any of its forms)."""
    ends = [position]
    for kind, value in units:
        following = []
        for at in ends:
            if kind == "w":
                if at < len(tokens) and tokens.words[at] == value:
                    following.append(at + 1)
                continue
            for form in template.slots[value].forms:
                end = at + len(form.words)
                if tuple(tokens.words[at:end]) == form.words:
                    following.append(end)
        ends = sorted(set(following))
        if not ends:
            return []
    return ends


def _twins(word: str, slot) -> int:
    """The letter slot's form in this spelling (0: no twin, which says nothing: see observe())."""
    if len(word) != slot.end - slot.start:
        return 0
    found = 0
    for k, position in enumerate(slot.letter_positions):
        if word[position] in CONFUSABLES:
            found |= 1 << k
    if any(ch in CONFUSABLES for p, ch in enumerate(word) if p not in slot.letter_positions):
        return 0  # a twin where the copies never put one: not our spelling
    return found
