"""Phrase slots: the reviewed phrase table as the reader sees its forms, looked up by first word, and where a form of
a class in the source becomes a slot (its guards, case and surroundings)."""

from functools import lru_cache

from advisories.fingerprinting.phrases import PHRASE_CLASSES
from advisories.fingerprinting.protection import IDENTIFIER_GLUE
from advisories.fingerprinting.slots import Form, phrase_form, separator_class
from advisories.fingerprinting.text import is_number

# The phrase table as forms, looked up by their first word.
_CLASS_FORMS: list[tuple[Form, ...]] = []
BY_FIRST_WORD: dict[str, list[tuple[int, int]]] = {}
for _class_id, _phrase_class in enumerate(PHRASE_CLASSES):
    _comma_variant = any(form.endswith(",") for form in _phrase_class.forms)
    _forms = tuple(phrase_form(form, comma_variant=_comma_variant) for form in _phrase_class.forms)
    _CLASS_FORMS.append(_forms)
    for _index, _form_words in enumerate(_forms):
        if _phrase_class.triggered_by(_index):
            BY_FIRST_WORD.setdefault(_form_words.words[0], []).append((_class_id, _index))
for _candidates in BY_FIRST_WORD.values():
    # Longest first; with the comma after it before without.
    _candidates.sort(key=lambda c: (-len(_CLASS_FORMS[c[0]][c[1]].words), not _CLASS_FORMS[c[0]][c[1]].comma_after))


# For a first word whose forms all have more words: the second words they may have (a quick test of most places).
SECOND_WORDS: dict[str, frozenset[str] | None] = {
    first: None
    if any(len(_CLASS_FORMS[c][f].words) == 1 for c, f in candidates)
    else frozenset(_CLASS_FORMS[c][f].words[1] for c, f in candidates)
    for first, candidates in BY_FIRST_WORD.items()
}


def class_forms(class_id: int) -> tuple[Form, ...]:
    return _CLASS_FORMS[class_id]


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


def _with_case_of(original: str, form: str) -> str:
    letters = [ch for ch in original if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and len(letters) > 1:
        return form.upper()
    if letters and letters[0].isupper():
        return form[:1].upper() + form[1:]
    return form


@lru_cache(maxsize=4096)
def replacements_with_case_of(original: str, class_id: int) -> tuple[str, ...]:
    return tuple(_with_case_of(original, form) for form in PHRASE_CLASSES[class_id].forms)


def match_phrase(text, tokens, raw, protected, in_variant, sentence_start, i):
    words, seps = tokens.words, tokens.seps
    n = len(words)
    for class_id, form_index in BY_FIRST_WORD.get(words[i], ()):
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
        if before_char in IDENTIFIER_GLUE or after_char in IDENTIFIER_GLUE or before_char == "-":
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
