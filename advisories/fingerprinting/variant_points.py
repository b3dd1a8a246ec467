"""The author's variant points: `{{= first | second | third =}}`, a range (`{{= A..Z =}}`, `{{= \\x00..\\xff =}}`,
`{{= 0x41..0x50 =}}`, `{{= 5..20 =}}`), an optional label (`{{=pad: A..Z =}}`); the text shown without a copy."""

import re
from functools import lru_cache

VARIANT_POINT = re.compile(r"\{\{=(?:(?P<label>[\w-]+):)?(?P<body>[^\n]*?)=\}\}")
_ESCAPED_BAR = "\x00"
_RANGE = re.compile(r"^(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)\.\.(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)$")
MAX_ALTERNATIVES = 256


def parse_alternatives(body: str) -> list[str]:
    """`a | b | c` (a `\\|` is a bar inside an alternative), or a range: `A..P`, `0x41..0x50`, `\\x00..\\x0f`,
    `10..25`."""
    body = body.replace("\\|", _ESCAPED_BAR)
    parts = [part.strip().replace(_ESCAPED_BAR, "|") for part in body.split("|")]
    if len(parts) == 1:
        match = _RANGE.match(parts[0])
        if match:
            return _expand_range(*match.groups())
    return parts


@lru_cache(maxsize=4096)
def variant_point(body: str) -> tuple[tuple[str, ...], str]:
    """The alternatives of a variant point and its name when it has no label, once for each body a text repeats."""
    return tuple(parse_alternatives(body)), " ".join(body.split())


def _expand_range(low: str, high: str) -> list[str]:
    """The values from `low` to `high` (at most MAX_ALTERNATIVES); a reversed range is text, not a range."""
    as_text = [f"{low}..{high}"]
    if low.startswith("\\x") and high.startswith("\\x"):
        first, last = int(low[2:], 16), int(high[2:], 16)
        return [f"\\x{value:02x}" for value in range(first, last + 1)] if first <= last else as_text
    if low.lower().startswith("0x") and high.lower().startswith("0x"):
        width = len(low) - 2
        first, last = int(low, 16), int(high, 16)
        values = range(first, min(last, first + MAX_ALTERNATIVES - 1) + 1)
        return [f"0x{value:0{width}x}" for value in values] if first <= last else as_text
    if low.isdigit() and high.isdigit():
        first, last = int(low), int(high)
        values = range(first, min(last, first + MAX_ALTERNATIVES - 1) + 1)
        return [str(value) for value in values] if first <= last else as_text
    if len(low) == 1 and len(high) == 1 and low <= high:
        return [chr(code) for code in range(ord(low), min(ord(high), ord(low) + MAX_ALTERNATIVES - 1) + 1)]
    return as_text


def strip_variant_points(text: str) -> str:
    """The text as displayed without a copy key: every variant point written as its first alternative."""
    return VARIANT_POINT.sub(lambda m: variant_point(m.group("body"))[0][0], text)
