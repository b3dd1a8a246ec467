"""Leak attribution: every served copy of an advisory's texts differs from every other in meaning-safe choices keyed
by the copy's secret key, and a leaked excerpt, code fragment or hex dump names the copy it came from, or nobody.

Pure Python (no Django) except personalisation.py (what the portal serves) and tracing.py (the candidates of an
advisory, from the database). docs/fingerprinting.md explains the technique, its literature and its limits.

    phrases.py       the reviewed phrase and spelling table, the protected vocabulary
    text.py          folding and tokens: how the reader sees text
    template.py      the slots of a source text (phrase, comma, author variant point, letter), and rendering a copy
    slots.py         slots, forms and the template they make
    variant_points.py  the author's variant-point syntax (alternatives, ranges, labels)
    protection.py    what is never varied (protected Markdown, code, protected terms); sentence starts
    phrase_slots.py  where a form of the phrase table becomes a slot
    commas.py        the optional-comma rules
    code.py          code and payload bytes: variant points read from code excerpts and hex dumps
    choices.py       the keyed choice at each slot, for one copy or thousands at once
    reading.py       finding the slots of the sources in a sample
    scoring.py       scores, p-values and the no-false-accusation bound
    proposals.py     places where an author could add a variant point
"""

from advisories.fingerprinting.choices import CandidateKeys, choose, chooser, copy_key
from advisories.fingerprinting.code import SourceText, read_sample, templates_for
from advisories.fingerprinting.reading import Reading
from advisories.fingerprinting.scoring import DEFAULT_THRESHOLD, CandidateScore, Ranking, rank
from advisories.fingerprinting.slots import Template
from advisories.fingerprinting.template import build_template, render_copy
from advisories.fingerprinting.text import without_homoglyphs
from advisories.fingerprinting.variant_points import strip_variant_points

__all__ = [
    "DEFAULT_THRESHOLD",
    "CandidateKeys",
    "CandidateScore",
    "Ranking",
    "Reading",
    "SourceText",
    "Template",
    "build_template",
    "choose",
    "copy_key",
    "fingerprint_markdown",
    "personalise",
    "rank",
    "read_sample",
    "render_copy",
    "strip_variant_points",
    "templates_for",
    "trace",
    "without_homoglyphs",
]


def personalise(template: Template, key: bytes) -> str:
    """The copy of a template that the holder of `key` receives."""
    choose_form = chooser(key)
    return render_copy(template, lambda slot: choose_form(slot.context, slot.size))


def fingerprint_markdown(markdown: str, key: bytes, *, letters: bool = False, protected_terms=()) -> str:
    """A Markdown document as the holder of `key` receives it."""
    return personalise(build_template(markdown, letters=letters, protected_terms=protected_terms), key)


def trace(sample: str, sources: list, candidates: dict, *, threshold: float = DEFAULT_THRESHOLD) -> Ranking:
    """Rank candidate copies ({label: key}) of the source texts by how well `sample` carries their fingerprint."""
    reading = read_sample(sample, templates_for(sources))
    labels = list(candidates)
    return rank(reading, labels, CandidateKeys([candidates[label] for label in labels]), threshold=threshold)
