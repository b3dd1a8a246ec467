"""The phrase table is meaning-safe class by class, and the protected vocabulary is never varied: a search for a
protected term finds it in every copy."""

import re

import pytest

from advisories.fingerprinting import copy_key, fingerprint_markdown
from advisories.fingerprinting.phrase_slots import class_forms
from advisories.fingerprinting.phrases import PHRASE_CLASSES, PROTECTED_TERMS
from advisories.fingerprinting.template import build_template
from advisories.fingerprinting.text import tokenize

KEYS = [copy_key(token=f"{n:064x}", user_id=n) for n in range(12)]
PROTECTED = [tuple(tokenize(term).words) for term in PROTECTED_TERMS]


def _contains(words: tuple[str, ...], term: tuple[str, ...]) -> bool:
    return any(words[i : i + len(term)] == term for i in range(len(words) - len(term) + 1))


def _sentence(phrase_class, form: str) -> str:
    if phrase_class.guard == "number_before":
        place = "The service failed for 42" + ("" if form == "%" else " ") + form
    else:
        place = "The daemon logs " + form + (" 42" if phrase_class.guard == "number_after" else "")
    return f'{place} items, and then "{form} stays" and `{form}` are written.\n'


@pytest.mark.parametrize("class_id", range(len(PHRASE_CLASSES)), ids=[c.forms[0] for c in PHRASE_CLASSES])
def test_every_form_of_the_class_is_safe_wherever_the_source_uses_a_triggering_form(class_id):
    phrase_class = PHRASE_CLASSES[class_id]
    read_as = class_forms(class_id)
    folded = [form.words for form in read_as]

    # Distinct to the reader (words, the separators inside, a comma after), never a protected term, never a number.
    assert len(set(read_as)) == len(read_as)
    for words in folded:
        assert not any(_contains(words, term) for term in PROTECTED), words
        assert not any(word.isdigit() for word in words)
    for index, form in enumerate(phrase_class.forms):
        if not phrase_class.triggered_by(index):
            continue
        source = _sentence(phrase_class, form)
        template = build_template(source)

        # The place in prose is a slot whose alternatives are exactly the class's forms ...
        [slot] = [slot for slot in template.slots if slot.kind == "phrase"]
        assert [alternative.strip() for alternative in slot.replacements] == list(phrase_class.forms)
        # ... and every copy keeps the number, the quoted string and the code exactly.
        for key in KEYS:
            copy = fingerprint_markdown(source, key)
            assert f'"{form} stays"' in copy and f"`{form}`" in copy
            assert re.findall(r"\d+", copy) == re.findall(r"\d+", source)


@pytest.mark.parametrize("term", PROTECTED_TERMS)
def test_a_protected_term_is_found_in_every_copy(term):
    source = (
        f"For example, the attacker does not need credentials: the {term} is reachable, although it is not the "
        f"default, and we recommend that administrators do not wait for the {term} patch.\n"
    )
    for key in KEYS:
        copy = fingerprint_markdown(source, key).lower()
        assert copy.count(term) == source.lower().count(term)


def test_copies_of_a_text_full_of_protected_terms_vary_only_outside_them():
    source = (
        "A remote attacker can trigger a heap-based buffer overflow and execute arbitrary code; it does not need "
        "authentication, for example through a use-after-free in the parser.\n"
    )
    copies = {fingerprint_markdown(source, key) for key in KEYS}

    assert len(copies) > 1
    for copy in copies:
        for term in ("heap-based buffer overflow", "execute arbitrary code", "use-after-free", "remote attacker"):
            assert term in copy
