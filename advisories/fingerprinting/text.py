"""Reading text the way the detector does: letters folded to plain ASCII, words, and what separates them.

The reader must see the same words in a served copy and in what a leaker made of it: the copy pasted from the page,
its look-alike letters folded back to Latin (Unicode TS #39 skeleton), transliterated to ASCII, retyped in lower case
with plain punctuation, or printed and read back by OCR. So every word is read folded: compatibility forms
decomposed (NFKD), accents dropped, case folded, look-alike Cyrillic and Greek letters read as the Latin ones.
"""

import bisect
import re
import unicodedata
from dataclasses import dataclass
from itertools import accumulate, chain

# Latin letter -> the Cyrillic letter drawn identically in common fonts (the optional letter layer).
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
CONFUSABLES = frozenset(HOMOGLYPHS.values())
# Look-alikes read back as Latin: ours, and the Greek and Cyrillic letters a skeleton pass would fold.
_SKELETON = {
    **{ord(cyrillic): latin for latin, cyrillic in HOMOGLYPHS.items()},
    **{ord(ch): latin for latin, chars in {
        "a": "\u03b1", "b": "\u0432\u044c", "e": "\u03b5", "h": "\u043d", "i": "\u03b9\u0131", "k": "\u03ba\u043a",
        "m": "\u043c", "n": "\u03b7\u043f", "o": "\u03bf\u03c3", "p": "\u03c1", "t": "\u03c4\u0442", "u": "\u03c5",
        "v": "\u03bd", "x": "\u03c7", "y": "\u03b3",
    }.items() for ch in chars},
}  # fmt: skip
_QUOTES_AND_DASHES = {
    **{ord(ch): "'" for ch in "\u2018\u2019\u201a\u201b\u2032\u00b4"},
    **{ord(ch): '"' for ch in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
    **{ord(ch): "-" for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad"},
}
# A prose word (letters and digits, with inner apostrophes: "doesn't"), or a per cent sign.
PROSE_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|%")
# A code word: identifiers and literals, case kept.
CODE_WORD = re.compile(r"\w+")
_MARKUP = str.maketrans("", "", "*_~`#>|")
_WHITESPACE = re.compile(r"\s+")
_FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})[^\n]*$", re.MULTILINE)
URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\w+|\]\([^)\s]*\)|<[^>\n]*>", re.IGNORECASE)
_LIST_NUMBER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


def without_homoglyphs(text: str) -> str:
    """The text with every look-alike letter read back as its Latin letter (what a reader sees)."""
    return text.translate(_SKELETON)


def fold(word: str) -> str:
    """A word as the detector compares it: lower case, plain ASCII letters where a look-alike or accent was."""
    if word.isascii():
        return word.lower()
    word = unicodedata.normalize("NFKD", word.casefold().translate(_SKELETON).translate(_QUOTES_AND_DASHES))
    return "".join(ch for ch in word if not unicodedata.combining(ch)).translate(_SKELETON)


def separator(between: str) -> str:
    """What joins two words, with whitespace collapsed, Markdown emphasis dropped and typographic quotes and dashes
    read as ASCII: " ", ", ", "-", ". ", ..."""
    if between == " ":
        return " "
    return _WHITESPACE.sub(" ", between.translate(_MARKUP).translate(_QUOTES_AND_DASHES))


@dataclass
class Tokens:
    """The words of a text, in parallel lists (many files are large: no object per word)."""

    words: list[str]  # folded (prose) or as written (code)
    starts: list[int]
    ends: list[int]
    seps: list[str]  # separator() of the text before each word

    def __len__(self):
        return len(self.words)


# URL without its e-mail address alternative, which tries every position of every word (a third of the cost of
# tokenising a large text): a match of URL never spans a line, so lines without an "@" are searched with this.
_URL_BUT_ADDRESSES = re.compile(r"(?=[hfw\]<])(?:(?:https?://|ftp://|www\.)\S+|\]\([^)\s]*\)|<[^>\n]*>)", re.IGNORECASE)


def _url_spans(text: str) -> list[tuple[int, int]]:
    """The spans of URL.finditer(text)."""
    spans, cursor = [], 0
    while (at := text.find("@", cursor)) >= 0:
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        line_end = len(text) if line_end < 0 else line_end
        spans += [m.span() for m in _URL_BUT_ADDRESSES.finditer(text, cursor, line_start)]
        spans += [m.span() for m in URL.finditer(text, line_start, line_end)]
        cursor = line_end
    spans += [m.span() for m in _URL_BUT_ADDRESSES.finditer(text, cursor)]
    return spans


def _hidden_spans(text: str) -> list[tuple[int, int]]:
    """What a reader does not see as words: URLs, link targets, HTML tags, code fence lines, list numbers."""
    spans = _url_spans(text)
    spans += [m.span() for m in FENCE_LINE.finditer(text)]
    spans += [m.span() for m in _LIST_NUMBER.finditer(text)]
    spans.sort()
    return spans


# A word and the text before it, in one match: the whole text is split by one call into C (re.findall). The text
# before a word is the longest run of characters that cannot start a word, so it is matched without backtracking.
_PROSE_GAP = r"[^\w%]*+(?:_[^\w%]*+)*+"
_PROSE_PAIR = re.compile(rf"({_PROSE_GAP})([^\W_]+(?:['\u2019][^\W_]+)*|%)")
_CODE_GAP = r"\W*+"
_CODE_PAIR = re.compile(rf"({_CODE_GAP})(\w+)")
# The run after the last word, read backwards: the pairs are searched only up to it, since a search would otherwise
# try (and fail) from every position of a long trailing run of punctuation, in quadratic time.
_TRAILING_GAP = {False: re.compile(_PROSE_GAP), True: re.compile(_CODE_GAP)}


def tokenize(text: str, *, code: bool = False) -> Tokens:
    """Words of `text` with their positions. Prose words are folded; code words keep their case."""
    words_end = len(text) - _TRAILING_GAP[code].match(text[::-1]).end()
    pairs = (_CODE_PAIR if code else _PROSE_PAIR).findall(text, 0, words_end)
    raw_seps = [between for between, _ in pairs]
    raw_words = [word for _, word in pairs]
    # Where each separator and each word ends, alternately: a running sum in C, not a loop over the words.
    piece_ends = list(accumulate(map(len, chain.from_iterable(pairs))))
    starts, ends = piece_ends[0::2], piece_ends[1::2]
    # A large text repeats its words and separators: each distinct one is folded once, then looked up.
    if code:
        words = raw_words
    else:
        folded = {word: _prose_word(word) for word in set(raw_words)}
        words = list(map(folded.__getitem__, raw_words))
    separators = {between: separator(between) for between in set(raw_seps)}
    seps = list(map(separators.__getitem__, raw_seps))
    hidden = _hidden_spans(text)
    if hidden:
        return _without_hidden(text, Tokens(words, starts, ends, seps), hidden)
    return Tokens(words, starts, ends, seps)


def _prose_word(word: str) -> str:
    return word.lower() if word.isascii() else fold(word).replace("\u2019", "'")


def _without_hidden(text: str, tokens: Tokens, hidden: list[tuple[int, int]]) -> Tokens:
    """Drop the words inside hidden spans; the next word's separator covers what was dropped."""
    starts = tokens.starts
    n = len(starts)
    dropped: list[list[int]] = []  # runs of words [first, end), in order, touching runs merged
    for low, high in hidden:
        first = bisect.bisect_left(starts, low)
        end = bisect.bisect_left(starts, high, first)
        if first == end:
            continue
        if dropped and first <= dropped[-1][1]:
            dropped[-1][1] = max(dropped[-1][1], end)
        else:
            dropped.append([first, end])
    if not dropped:
        return tokens
    words, kept_starts, ends, seps = [], [], [], []
    covering = []  # (position of the word after a run, where the word before the run ends)
    cursor = 0
    for first, end in dropped:
        words += tokens.words[cursor:first]
        kept_starts += starts[cursor:first]
        ends += tokens.ends[cursor:first]
        seps += tokens.seps[cursor:first]
        if end < n:
            covering.append((len(words), ends[-1] if ends else 0))
        cursor = end
    words += tokens.words[cursor:]
    kept_starts += starts[cursor:]
    ends += tokens.ends[cursor:]
    seps += tokens.seps[cursor:]
    for position, previous_end in covering:
        seps[position] = separator(text[previous_end : kept_starts[position]])
    return Tokens(words, kept_starts, ends, seps)


def prepare_sample(text: str) -> str:
    """A leaked sample before tokenising: compatibility forms composed, invisible format characters removed."""
    return _FORMAT_CHARACTERS.sub("", unicodedata.normalize("NFKC", text))


def is_number(word: str) -> bool:
    return word.isdigit() or word in NUMBER_WORDS


NUMBER_WORDS = frozenset(
    [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "thousand",
        "dozen",
        "dozens",
        "hundreds",
        "thousands",
    ]
)
