"""What a leaker's tools do to a copied text, for bench/leak_trace.py and the fingerprint tests."""

import html
import random
import re
import textwrap
import unicodedata
from html.parser import HTMLParser

import markdown as markdown_lib

ZERO_WIDTH_AND_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


class _TextExtractor(HTMLParser):
    """Roughly what a browser puts on the clipboard: text, with line breaks between blocks."""

    BLOCKS = {
        "p",
        "div",
        "li",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "br",
        "table",
        "ul",
        "ol",
        "blockquote",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_data(self, data):
        self.parts.append(data)


def markdown_to_plain_text(text: str) -> str:
    """Render the Markdown and keep the text, as copying from the rendered page does (links lose their URL)."""
    extractor = _TextExtractor()
    extractor.feed(markdown_lib.markdown(text, extensions=["fenced_code", "tables"]))
    return html.unescape(re.sub(r"\n{3,}", "\n\n", "".join(extractor.parts))).strip()


def collapse_and_rewrap(text: str, width: int = 64) -> str:
    return textwrap.fill(" ".join(text.split()), width=width)


def remove_invisible(text: str) -> str:
    return ZERO_WIDTH_AND_INVISIBLE.sub("", text)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def upper_case(text: str) -> str:
    return text.upper()


def lower_case(text: str) -> str:
    return text.lower()


def smart_punctuation(text: str) -> str:
    """What word processors do: curly quotes and apostrophes, en and em dashes, non-breaking hyphens."""
    text = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    text = re.sub(r"'([^'\n]*)'", "\u2018\\1\u2019", text)
    text = text.replace("--", "\u2014").replace(" - ", " \u2013 ")
    return re.sub(r"(?<=[a-z])-(?=[a-z])", "\u2011", text)


# What a deliberate leaker does, written independently of the detector's own folding (fingerprinting/text.py).
_LOOK_ALIKES = {
    **dict.fromkeys("\u0430\u03b1", "a"), "\u0441": "c", **dict.fromkeys("\u0435\u03b5", "e"),
    **dict.fromkeys("\u043e\u03bf", "o"), **dict.fromkeys("\u0440\u03c1", "p"), **dict.fromkeys("\u0445\u03c7", "x"),
    "\u0443": "y", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u04bb": "h", "\u0410": "A", "\u0412": "B",
    "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H", "\u041e": "O", "\u0420": "P", "\u0421": "C",
    "\u0422": "T", "\u0425": "X",
}  # fmt: skip
# Transliteration reads Cyrillic as it sounds (as unidecode does): a look-alike "с" becomes "s", "х" becomes "kh".
_TRANSLITERATION = {
    "\u0430": "a", "\u0441": "s", "\u0435": "e", "\u043e": "o", "\u0440": "r", "\u0445": "kh", "\u0443": "u",
    "\u0456": "i", "\u0458": "j", "\u0455": "dz", "\u04bb": "h", "\u2018": "'", "\u2019": "'", "\u201c": '"',
    "\u201d": '"', "\u2013": "-", "\u2014": "--", "\u2011": "-", "\u2026": "...", "\u00a0": " ",
}  # fmt: skip


def fold_look_alikes(text: str) -> str:
    """The Unicode TS #39 skeleton pass: every look-alike letter back to its Latin twin (one line of code)."""
    return "".join(_LOOK_ALIKES.get(ch, ch) for ch in text)


def ascii_transliteration(text: str) -> str:
    """What unidecode-style tools do: accents dropped, other scripts spelled in Latin letters, ASCII only."""
    text = "".join(_TRANSLITERATION.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def retype(text: str) -> str:
    """Retyping by hand: the words as read, in lower case, plain ASCII punctuation, no emphasis or code marks,
    whitespace as the typist likes it."""
    text = fold_look_alikes(text)
    text = ascii_transliteration(text).lower()
    text = re.sub(r"[*_`~#>|]", "", text)
    return " ".join(text.split())


def excerpt(text: str, length: int, rng: random.Random) -> str:
    """A random run of `length` characters (cut anywhere, mid-word included)."""
    if len(text) <= length:
        return text
    start = rng.randrange(0, len(text) - length)
    return text[start : start + length]


# Applied to the excerpt, in this order, by "all".
EXCERPT_TRANSFORMATIONS = {
    "whitespace": collapse_and_rewrap,
    "invisible": remove_invisible,
    "nfkc": nfkc,
    "case": upper_case,
    "quotes_dashes": smart_punctuation,
}
