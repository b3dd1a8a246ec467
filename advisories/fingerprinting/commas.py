"""Optional commas, found by conservative rules on the source's sentences (docs/fingerprinting.md): the comma closing
an opening clause or phrase, the serial comma, and the comma before a conjunction joining two clauses. Never inside
code or quoted text, never where a list follows."""

from itertools import compress

from advisories.fingerprinting.slots import Slot, Template

# Sentence openers after which the comma closing the opening clause or phrase is optional.
_SUBORDINATORS = frozenset(
    ["when", "if", "once", "until", "because", "although", "after", "before", "unless", "whenever", "while", "where"]
)
_PREPOSITIONS = frozenset(
    ["in", "on", "by", "for", "at", "with", "without", "during", "to", "from", "within", "under", "through"]
)
_TRANSITIONS = frozenset(
    [
        "therefore",
        "consequently",
        "additionally",
        "furthermore",
        "moreover",
        "finally",
        "alternatively",
        "meanwhile",
        "similarly",
        "instead",
        "otherwise",
        "nevertheless",
        "then",
        "thus",
        "hence",
        "today",
        "currently",
        "previously",
    ]
)
_CLAUSE_SUBJECTS = frozenset(
    [
        "the",
        "a",
        "an",
        "it",
        "this",
        "these",
        "those",
        "they",
        "we",
        "there",
        "its",
        "their",
        "our",
        "he",
        "she",
        "you",
        "i",
        "attackers",
        "attacker",
        "users",
        "no",
    ]
)
_NOT_AFTER_COMMA = frozenset(["and", "or", "but", "which", "who", "whom", "whose", "where", "when", "that", "nor"])
_COMMA_RULE_WORDS = frozenset(["and", "or", "but", "so", "although", "whereas", "though"])


class _Rules:
    """The rules, read on the words of one text: where a comma may stand (word index after it -> the source has
    it). Protected words may stand on either side: a comma changes none of them."""

    def __init__(self, tokens, in_code, in_variant, sentence_start):
        self.words, self.seps = tokens.words, tokens.seps
        self.n = len(self.words)
        self.in_code, self.in_variant, self.sentence_start = in_code, in_variant, sentence_start
        self.boundaries: dict[int, bool] = {}

    def prose(self, k) -> bool:
        return 0 <= k < self.n and not self.in_code[k] and not self.in_variant[k]

    def plain(self, k) -> bool:  # the separator before word k is only a space
        return self.seps[k] == " "

    def find(self) -> dict[int, bool]:
        words, sentence_start, n = self.words, self.sentence_start, self.n
        # The rules below only start at a sentence start or at one of these words: the others are skipped.
        starting = compress(range(n), map(_COMMA_RULE_WORDS.__contains__, words))
        last_start = 0
        for i in sorted(set(compress(range(n), sentence_start)).union(starting)):
            if sentence_start[i]:
                last_start = i
            if sentence_start[i] and self.prose(i):
                self.opening(i)
            if words[i] in ("and", "or") and self.prose(i) and i - last_start >= 3:
                self.serial(i, last_start)
            self.joining(i, last_start)
        return self.boundaries

    def opening(self, i) -> None:
        """(a) the comma closing an opening clause or phrase: "When a client announces a chunk, the server ..." """
        words, seps, n = self.words, self.seps, self.n
        first = words[i]
        limit = 22 if first in _SUBORDINATORS else 10 if first in _PREPOSITIONS else 1 if first in _TRANSITIONS else 0
        for k in range(i + 1, min(n, i + limit + 1)):
            if self.sentence_start[k] or not self.prose(k):
                break
            if seps[k] == ", ":
                if words[k] not in _NOT_AFTER_COMMA and not any(
                    words[j] in ("and", "or") for j in range(k, min(n, k + 5))
                ):
                    self.boundaries[k] = True
                break
            if not self.plain(k):
                break

    def serial(self, i, last_start) -> None:
        """(b) the serial comma: "A, B and C" / "A, B, and C" """
        seps = self.seps
        for c in range(i - 1, max(last_start, i - 5), -1):
            if seps[c] == ", ":
                previous = c - 1
                while previous > last_start and self.plain(previous):
                    previous -= 1
                listed = c - previous <= 6 and (seps[previous] == ", " or previous == last_start)
                if listed and seps[i] in (" ", ", ") and all(self.prose(k) for k in range(c - 1, i + 1)):
                    self.boundaries[i] = seps[i] == ", "
                break
            if not self.plain(c):
                break

    def joining(self, i, last_start) -> None:
        """(c) before "and"/"but" joining two clauses: "... the buffer, but it does not check ..."
        (d) before a concessive or contrasting clause: "..., although an authenticated user can still ..." """
        words, seps, n = self.words, self.seps, self.n
        if words[i] in ("although", "whereas", "though") and seps[i] == ", " and i - last_start >= 4 and self.prose(i):
            self.boundaries.setdefault(i, True)
        joins_clauses = words[i] in ("and", "but", "so") and seps[i] == ", " and i - last_start >= 6
        if joins_clauses and self.prose(i) and i + 1 < n and words[i + 1] in _CLAUSE_SUBJECTS and self.plain(i + 1):
            self.boundaries.setdefault(i, True)


def add_comma_slots(template: Template, text, tokens, in_code, in_variant, sentence_start, token_unit) -> None:
    """A comma slot at each place the rules find, unless a phrase slot ends there or the separator is not a plain
    space or a single comma."""
    starts, ends = tokens.starts, tokens.ends
    units = template.units
    boundaries = _Rules(tokens, in_code, in_variant, sentence_start).find()
    for k, has_comma in sorted(boundaries.items()):
        if k == 0 or token_unit[k] == token_unit[k - 1]:
            continue
        before_unit = token_unit[k - 1]
        if units[before_unit][0] == "s" and template.slots[units[before_unit][1]].kind == "phrase":
            continue
        between = text[ends[k - 1] : starts[k]]
        if has_comma:
            if between.count(",") != 1 or between.strip(" ,") != "":
                continue
            position = ends[k - 1] + between.index(",")
            slot = Slot("comma", ",", position, position + 1, ("", ","), unit=token_unit[k])
        else:
            if between != " ":
                continue
            slot = Slot("comma", ",", ends[k - 1], ends[k - 1], ("", ","), unit=token_unit[k])
        template.slots.append(slot)
