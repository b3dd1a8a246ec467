"""Scoring a reading against many candidate copies, with a bound on false accusation.

For each candidate, the score is the evidence of the slots where the sample takes the form the candidate's key
chooses: log2(forms) bits per agreeing slot (counted in quarter bits). Under the hypothesis that the sample owes
nothing to that candidate's copy, its key is independent of the sample, so each slot agrees with probability
1/forms independently, and the exact distribution of the score is a convolution computed once per sample. Its tail
at the candidate's score is the p-value; multiplied by the number of candidates (Bonferroni) it bounds the chance
that *any* candidate who did not leak scores this well. That holds whatever the sample is: the public text, a
paraphrase, another advisory, or a mix of two colluders' copies (an innocent's key is independent of all of them),
so a mix names one of the colluders or nobody.

Cost: one vector operation over all candidates per slot read (choices.CandidateKeys); no per-candidate loop in
Python.
"""

import math
from dataclasses import dataclass

from advisories.fingerprinting.choices import CandidateKeys
from advisories.fingerprinting.reading import Reading

# The largest chance that anyone who did not leak is named by one trace (whatever the number of candidates): one in a
# million. docs/fingerprinting.md, "The threshold", explains the choice and gives the figures at 1e-9 too.
DEFAULT_THRESHOLD = 1e-6
QUARTER_BITS = 4
TOP = 25  # ranked candidates kept in a result


def _weight(forms: int) -> int:
    return max(1, round(QUARTER_BITS * math.log2(forms)))


def null_tail(slots: list[tuple[int, int]]):
    """tail[s] = P(score >= s) for a key unrelated to the sample."""
    import numpy as np  # numpy only loads where tracing runs, not in every web worker

    weights = [_weight(forms) for forms, _ in slots]
    distribution = np.zeros(sum(weights) + 1)
    distribution[0] = 1.0
    reach = 0
    for (forms, _), weight in zip(slots, weights, strict=True):
        p = 1.0 / forms
        shifted = distribution[: reach + 1] * p
        distribution[: reach + 1] *= 1 - p
        distribution[weight : weight + reach + 1] += shifted
        reach += weight
    tail = np.cumsum(distribution[::-1])[::-1]
    return np.minimum(tail, 1.0)


@dataclass
class CandidateScore:
    label: object
    score: int  # quarter bits of agreement
    agreements: int
    slots: int
    p_value: float  # chance that an unrelated copy agrees this well
    adjusted_p_value: float  # Bonferroni over all candidates scored

    @property
    def evidence_bits(self) -> float:
        return self.score / QUARTER_BITS


@dataclass
class Ranking:
    scores: list[CandidateScore]  # the best TOP, best first
    slots: int
    bits: float  # the evidence the sample can carry at most
    threshold: float
    candidates: int

    @property
    def best(self) -> CandidateScore | None:
        return self.scores[0] if self.scores else None

    @property
    def match(self) -> CandidateScore | None:
        """The best candidate when its evidence clears the threshold; None means "no match"."""
        best = self.best
        return best if best is not None and best.adjusted_p_value < self.threshold else None


def rank(
    reading: Reading, labels: list, keys: CandidateKeys, *, threshold: float = DEFAULT_THRESHOLD, top: int = TOP
) -> Ranking:
    """Score every candidate (labels[i] has keys[i]); the best `top`, best first."""
    import numpy as np  # see null_tail

    slots = list(reading.slots.items())
    count = len(labels)
    scores = np.zeros(count, dtype=np.int64)
    agreements = np.zeros(count, dtype=np.int32)
    for context, (forms, observed) in slots:
        agree = keys.choices(context, forms) == np.uint64(observed)
        scores += agree * _weight(forms)
        agreements += agree
    tail = null_tail([value for _, value in slots])
    bits = (len(tail) - 1) / QUARTER_BITS
    order = np.argsort(-scores, kind="stable")[:top] if count else []
    ranked = []
    for index in order:
        p = float(tail[scores[index]])
        ranked.append(
            CandidateScore(
                label=labels[index],
                score=int(scores[index]),
                agreements=int(agreements[index]),
                slots=len(slots),
                p_value=p,
                adjusted_p_value=min(1.0, p * max(1, count)),
            )
        )
    return Ranking(scores=ranked, slots=len(slots), bits=bits, threshold=threshold, candidates=count)
