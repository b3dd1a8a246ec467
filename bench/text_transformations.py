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
