"""What a template is made of: slots (a place of the source and the forms a copy may take there), the forms as the
reader sees them, and the template itself."""

from dataclasses import dataclass, field
from functools import lru_cache

from advisories.fingerprinting.text import tokenize

NEIGHBOURS = 2  # canonical units on each side of a slot, in its context and in the pattern the reader looks for


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


def phrase_form(text: str, *, comma_variant: bool) -> Form:
    comma = text.endswith(",")
    tokens = tokenize(text.rstrip(","))
    inner = tuple(separator_class(tokens.seps[k]) for k in range(1, len(tokens)))
    return Form(tuple(tokens.words), inner, comma if comma_variant else None)


@lru_cache(maxsize=4096)
def variant_forms(alternatives: tuple[str, ...], code: bool) -> tuple[Form, ...]:
    return tuple(_variant_form(alternative, code) for alternative in alternatives)


@lru_cache(maxsize=4096)
def _variant_form(alternative: str, code: bool) -> Form:
    tokens = tokenize(alternative, code=code)
    inner = tuple(separator_class(tokens.seps[k]) for k in range(1, len(tokens)))
    return Form(tuple(tokens.words), inner)
