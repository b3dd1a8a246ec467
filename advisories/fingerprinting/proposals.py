"""Helping authors write variant points: the preview that shows each point and its alternatives, and proposed places.

An author writes `{{= first | second | third =}}` where every alternative says the same thing in that sentence (the
canary trap: only the author can guarantee that), or a range: `{{= A..P =}}`, `{{= 0x41..0x50 =}}`, `{{= 5..20 =}}`.
A label names a point used at several places with the same choice: `{{=pad: 0x41..0x50 =}}` (variable names repeat
by themselves: points with the same alternatives always make the same choice). The markup is never served: a copy
shows the alternative its key chooses, the public and staff views without a copy show the first.

Proposals come from the phrase table (places where a reviewed class occurs but cannot vary by itself: its guard or
a capital letter stops it) and from AUTHOR_SUGGESTIONS: synonyms that are right in most sentences but not all, so
only an author may accept them.
"""

import html
import re

from django.utils.safestring import SafeString, mark_safe

from advisories.fingerprinting.phrases import PHRASE_CLASSES
from advisories.fingerprinting.protection import protected_words
from advisories.fingerprinting.template import build_template
from advisories.fingerprinting.variant_points import VARIANT_POINT, parse_alternatives
from core.markdown import render_markdown

# Word -> alternatives an author may accept where they fit (each one is read by the author before it is used).
AUTHOR_SUGGESTIONS = {
    "reliably": ("consistently", "dependably"),
    "simply": ("just",),
    "shows": ("demonstrates", "indicates"),
    "showed": ("demonstrated", "indicated"),
    "large": ("big", "sizeable"),
    "small": ("little", "modest"),
    "several": ("multiple", "a number of"),
    "many": ("numerous", "a large number of"),
    "often": ("frequently", "commonly"),
    "usually": ("typically", "normally"),
    "about": ("approximately", "around", "roughly"),
    "over": ("more than",),
    "since": ("because", "as"),
    "because": ("since", "as"),
    "while": ("whereas",),
    "uses": ("relies on", "employs"),
    "use": ("employ",),
    "sends": ("transmits", "delivers"),
    "send": ("transmit", "deliver"),
    "receives": ("gets", "obtains"),
    "handles": ("processes", "deals with"),
    "checks": ("verifies", "validates"),
    "check": ("verify", "validate"),
    "contains": ("holds", "includes"),
    "change": ("modify", "alter"),
    "changes": ("modifies", "alters"),
    "found": ("discovered", "identified"),
    "confirmed": ("verified", "established"),
    "developed": ("built", "wrote"),
    "reached": ("accessed",),
    "reachable": ("accessible", "exposed"),
    "hard": ("difficult",),
    "quick": ("fast", "rapid"),
    "typical": ("common", "usual"),
    "unusual": ("unexpected", "atypical"),
    "strong": ("clear", "reliable"),
    "naive": ("simple", "basic"),
    "dedicated": ("separate", "isolated"),
    "later": ("subsequently", "afterwards"),
    "again": ("once more",),
    "enough": ("sufficient",),
    "remaining": ("rest of the", "outstanding"),
    "every": ("each", "any"),
    "each": ("every",),
}

_PLACEHOLDER = "FWVARIANTPOINT{}X"
_PLACEHOLDER_PATTERN = re.compile(r"FWVARIANTPOINT(\d+)X")


def preview_html(markdown: str) -> SafeString:
    """The document rendered as partners see it (sanitised), each variant point shown as a marked span holding its
    alternatives (the first visible; the editor's script shows the others)."""
    points = []

    def hold(match):
        points.append(parse_alternatives(match.group("body")))
        return _PLACEHOLDER.format(len(points) - 1)

    rendered = str(render_markdown(VARIANT_POINT.sub(hold, markdown)))

    def show(match):
        number = int(match.group(1))
        if number >= len(points):
            return match.group(0)
        alternatives = points[number]
        inner = "".join(
            f'<span class="variant-alternative" data-alternative="{index}"{"" if index == 0 else " hidden"}>'
            f"{html.escape(alternative) or '&#8203;'}</span>"
            for index, alternative in enumerate(alternatives)
        )
        title = html.escape(" | ".join(alternatives))
        return (
            f'<span class="variant-point" data-variant="{number}" data-count="{len(alternatives)}" '
            f'title="Variant point: {title}">{inner}</span>'
        )

    return mark_safe(_PLACEHOLDER_PATTERN.sub(show, rendered))  # noqa: S308 - sanitised above, alternatives escaped  # nosec B308 B703


def propose(markdown: str, *, limit: int = 40) -> list[dict]:
    """Places where the author could add a variant point: {start, end, text, markup, source}, in text order,
    outside code, quoted strings, protected terms and existing variant points."""
    template = build_template(markdown, protected_spans=None)
    if template.text != markdown:  # positions are those of the text as written: skip texts with variant points
        return _propose_between_points(markdown, limit)
    automatic = {(slot.start, slot.end) for slot in template.slots}
    proposals = []
    for start, end, word, protected in protected_words(markdown):
        if protected or any(a <= start < b for a, b in automatic):
            continue
        lowered = word.lower()
        alternatives = AUTHOR_SUGGESTIONS.get(lowered) or _phrase_alternatives(lowered)
        if not alternatives:
            continue
        forms = [word, *(_case_like(word, alternative) for alternative in alternatives)]
        proposals.append(
            {
                "start": start,
                "end": end,
                "text": word,
                "markup": "{{= " + " | ".join(forms) + " =}}",
                "source": "suggestion" if lowered in AUTHOR_SUGGESTIONS else "phrase table",
            }
        )
        if len(proposals) >= limit:
            break
    return proposals


def _propose_between_points(markdown: str, limit: int) -> list[dict]:
    """Proposals for a text that already has variant points: outside them, with positions in the text as written."""
    proposals, cursor = [], 0
    for match in [*VARIANT_POINT.finditer(markdown), None]:
        end = match.start() if match else len(markdown)
        for proposal in propose(markdown[cursor:end], limit=limit):
            proposal["start"] += cursor
            proposal["end"] += cursor
            proposals.append(proposal)
        cursor = match.end() if match else end
        if len(proposals) >= limit:
            break
    return proposals[:limit]


_NOT_PROPOSED = frozenset(("before", "once", "thus", "over", "about", "around"))  # also start clauses: "before it"


def _phrase_alternatives(word: str) -> tuple[str, ...]:
    if word in _NOT_PROPOSED:
        return ()
    for phrase_class in PHRASE_CLASSES:
        if word in phrase_class.forms and " " not in word and phrase_class.guard is None:
            return tuple(form for form in phrase_class.forms if form != word and not form.endswith(","))
    return ()


def _case_like(original: str, form: str) -> str:
    return form[:1].upper() + form[1:] if original[:1].isupper() else form
