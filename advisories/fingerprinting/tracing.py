"""Tracing a leaked sample (prose, a code excerpt, or a hex dump of traffic) to the served copy it came from.

The candidates are the copies actually served: one per (delivery, person) that has an access record, however many
times that person opened the advisory. The sample is read against the advisory's current sources (its documents
and text artifacts) and scored against every candidate's key at once (scoring.py).
"""

import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from advisories.fingerprinting.choices import CandidateKeys, copy_key
from advisories.fingerprinting.code import read_sample, templates_for
from advisories.fingerprinting.personalisation import artifact_source, document_source, read_text_artifact
from advisories.fingerprinting.scoring import DEFAULT_THRESHOLD, rank
from advisories.models import Advisory, Delivery, DownloadEvent
from core.levels import AccessLevel


@dataclass
class TracedCopy:
    """One served copy (a delivery read by one person) and how well a sample matches its fingerprint."""

    delivery: Delivery
    user: object
    agreements: int
    slots: int
    p_value: float
    adjusted_p_value: float

    @property
    def confidence(self) -> float:
        """The chance, in percent, that this is not a false match (1 - Bonferroni-adjusted p-value)."""
        return 100.0 * (1.0 - self.adjusted_p_value)

    @property
    def evidence_bits(self) -> float:
        """-log2 of the adjusted p-value: how many coin flips' worth of evidence the match carries."""
        return -math.log2(self.adjusted_p_value) if self.adjusted_p_value > 0 else math.inf


@dataclass
class TraceResult:
    slots: int
    threshold: float
    candidates: int
    ranked: list[TracedCopy]  # the best few, best first
    bits: float = 0.0  # the most evidence the sample could carry

    @property
    def match(self) -> TracedCopy | None:
        """The best copy when its evidence clears the threshold; None is "no match": nobody is accused."""
        best = self.ranked[0] if self.ranked else None
        return best if best is not None and best.adjusted_p_value < self.threshold else None

    def as_json(self, *, top: int = 10) -> dict:
        def row(copy: TracedCopy) -> dict:
            return {
                "delivery": copy.delivery.pk,
                "partner": copy.delivery.partner_id,
                "partner_name": str(copy.delivery.partner),
                "level": AccessLevel(copy.delivery.level).label,
                "user": copy.user.pk,
                "user_email": copy.user.email,
                "agreements": copy.agreements,
                "slots": copy.slots,
                "p_value": copy.p_value,
                "adjusted_p_value": copy.adjusted_p_value,
            }

        return {
            "slots": self.slots,
            "bits": self.bits,
            "threshold": self.threshold,
            "candidates": self.candidates,
            "match": row(self.match) if self.match else None,
            "ranked": [row(copy) for copy in self.ranked[:top]],
        }


def served_copy_keys(*, advisory: Advisory) -> list[tuple[int, int, str]]:
    """(delivery id, user id, delivery token) of every copy served: one row per copy, not per access. The
    ordering of DownloadEvent must not reach the DISTINCT (it would add the access time to each row)."""
    return list(
        DownloadEvent.objects.filter(advisory=advisory, delivery__isnull=False)
        .order_by()
        .values_list("delivery_id", "user_id", "delivery__fingerprint_token")
        .distinct()
        .order_by("delivery_id", "user_id")
    )


def served_copies(*, advisory: Advisory) -> list[tuple[Delivery, object]]:
    """Every (delivery, person) pair that was served a fingerprinted copy of the advisory: the trace candidates."""
    rows = served_copy_keys(advisory=advisory)
    deliveries = Delivery.objects.select_related("partner").in_bulk({d for d, _, _ in rows})
    users = get_user_model().objects.in_bulk({u for _, u, _ in rows})
    return [(deliveries[d], users[u]) for d, u, _ in rows]


def advisory_sources(advisory: Advisory) -> list:
    """The texts every copy of the advisory was made from: its documents and its text artifacts."""
    sources = [document_source(document.body_markdown, advisory) for document in advisory.documents.all()]
    for artifact in advisory.artifacts.all():
        artifact.advisory = advisory
        text = read_text_artifact(artifact)
        if text is not None:
            sources.append(artifact_source(artifact, text))
    return sources


def trace_sample(*, advisory: Advisory, text: str, threshold: float = DEFAULT_THRESHOLD) -> TraceResult:
    """Rank every copy of the advisory served to a partner user by how well `text` (prose, code or a hex dump)
    carries its fingerprint; a match only above the threshold, whatever the number of copies."""
    rows = served_copy_keys(advisory=advisory)
    reading = read_sample(text, templates_for(advisory_sources(advisory)))
    keys = CandidateKeys([copy_key(token=token, user_id=user_id) for _, user_id, token in rows])
    ranking = rank(reading, list(range(len(rows))), keys, threshold=threshold)
    shown = [rows[score.label] for score in ranking.scores]
    deliveries = Delivery.objects.select_related("partner").in_bulk({d for d, _, _ in shown})
    users = get_user_model().objects.in_bulk({u for _, u, _ in shown})
    ranked = [
        TracedCopy(
            delivery=deliveries[rows[score.label][0]],
            user=users[rows[score.label][1]],
            agreements=score.agreements,
            slots=score.slots,
            p_value=score.p_value,
            adjusted_p_value=score.adjusted_p_value,
        )
        for score in ranking.scores
    ]
    return TraceResult(slots=ranking.slots, threshold=threshold, candidates=len(rows), ranked=ranked, bits=ranking.bits)
