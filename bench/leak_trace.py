"""Leak-trace benchmark: can a leaked excerpt be traced to the one served copy it came from, and is nobody accused
for text that came from no copy?

    python bench/leak_trace.py [--deliveries 400] [--trials 150] [--false-trials 1000] [--seed 7]

Runs standalone on an in-memory SQLite database (test settings, migrated at start). It seeds realistic advisories
(advisories/sample_texts.py) delivered to a few hundred partner organisations, some read by two people; every
reader's copy is personalised by the code the portal serves with. Trials cut random excerpts of 200, 500 and 1000
characters from a random copy, apply one transformation (or all of them), and trace them with the service the
compliance pages and `manage.py trace_leak` use (advisories.selectors.trace_sample). Top-1 accuracy counts a trial
as correct only when the trace names exactly the right delivery and person above the confidence threshold ("no
match" counts as a miss). False accusations: excerpts of text that came from no copy of that advisory (the
unfingerprinted original, or another advisory's copies), with all transformations, that the trace attributes to
anyone. Ends with one summary line.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ["DATABASE_URL"] = "sqlite://:memory:"

import django  # noqa: E402

django.setup()

from advisories.personalisation import fingerprinted_markdown  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from advisories import selectors  # noqa: E402
from advisories.fingerprinting import without_homoglyphs  # noqa: E402
from advisories.models import (  # noqa: E402
    AccessKind,
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Delivery,
    DownloadEvent,
    ReleaseWave,
    WaveStatus,
)
from advisories.sample_texts import SAMPLE_DOCUMENTS  # noqa: E402
from bench import text_transformations as tt  # noqa: E402
from core.levels import AccessLevel  # noqa: E402
from partners.models import Partner  # noqa: E402

LENGTHS = (200, 500, 1000)
TRANSFORMATIONS = [
    "excerpt only",
    "whitespace+rewrap",
    "invisible removed",
    "NFKC",
    "case change",
    "smart quotes/dashes",
    "markdown to text",
    "all together",
]
BEYOND = "ascii transliteration"  # not in the list: removes the letter layer entirely


def seed(*, deliveries: int, rng: random.Random):
    """Advisories with one standard document each, `deliveries` organisations spread over them, readers."""
    call_command("migrate", verbosity=0)
    now = timezone.now()
    user_model = get_user_model()
    advisories = []
    for number, body in enumerate(SAMPLE_DOCUMENTS, start=1):
        advisory = Advisory.objects.create(
            identifier=f"FWN-2026-{number:04d}",
            title=f"Benchmark advisory {number}",
            public_release_at=now,
            status=AdvisoryStatus.RELEASED,
        )
        AdvisoryDocument.objects.create(
            advisory=advisory, level=AccessLevel.STANDARD, title="Technical description", body_markdown=body
        )
        ReleaseWave.objects.create(
            advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=now, status=WaveStatus.RELEASED
        )
        advisories.append(advisory)
    copies = {advisory.pk: [] for advisory in advisories}
    for number in range(deliveries):
        advisory = advisories[number % len(advisories)]
        group = Group.objects.create(name=f"partner:bench-{number}")
        partner = Partner.objects.create(legal_name=f"Bench Partner {number} Ltd", country="US", group=group)
        delivery = Delivery.objects.create(
            wave=advisory.waves.get(),
            advisory=advisory,
            partner=partner,
            level=AccessLevel.STANDARD,
            fingerprint_token=f"{rng.getrandbits(256):064x}",
            delivered_at=now,
        )
        for reader in range(2 if rng.random() < 0.25 else 1):
            user = user_model.objects.create_user(email=f"reader{reader}@partner{number}.test")
            DownloadEvent.objects.create(
                user=user, partner=partner, advisory=advisory, delivery=delivery, kind=AccessKind.VIEW
            )
            copies[advisory.pk].append((delivery, user))
    return advisories, copies


def leaked_text(markdown: str, transformation: str, length: int, rng: random.Random) -> str:
    rendered = transformation in ("markdown to text", "all together")
    source = tt.markdown_to_plain_text(markdown) if rendered else markdown
    sample = tt.excerpt(source, length, rng)
    steps = {
        "whitespace+rewrap": [tt.collapse_and_rewrap],
        "invisible removed": [tt.remove_invisible],
        "NFKC": [tt.nfkc],
        "case change": [rng.choice([tt.upper_case, tt.lower_case])],
        "smart quotes/dashes": [tt.smart_punctuation],
        "all together": [
            tt.collapse_and_rewrap,
            tt.remove_invisible,
            tt.nfkc,
            rng.choice([tt.upper_case, tt.lower_case]),
            tt.smart_punctuation,
        ],
        BEYOND: [tt.remove_invisible, tt.nfkc, without_homoglyphs],
    }.get(transformation, [])
    for step in steps:
        sample = step(sample)
    return sample


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--trials", type=int, default=150, help="per excerpt length and transformation")
    parser.add_argument("--false-trials", type=int, default=1000, help="per excerpt length")
    parser.add_argument(
        "--headline-trials", type=int, default=1000, help="for the summary cell: all transformations at 500"
    )
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    started = time.monotonic()
    advisories, copies = seed(deliveries=options.deliveries, rng=rng)
    served = {}
    bodies = {advisory.pk: advisory.documents.get().body_markdown for advisory in advisories}

    def copy_text(advisory, delivery, user):
        if (delivery.pk, user.pk) not in served:
            served[(delivery.pk, user.pk)] = fingerprinted_markdown(bodies[advisory.pk], delivery=delivery, user=user)
        return served[(delivery.pk, user.pk)]

    total_copies = sum(len(c) for c in copies.values())
    print(
        f"{len(advisories)} advisories, {options.deliveries} deliveries, {total_copies} served copies "
        f"(delivery x reader); {options.trials} trials per cell ({options.headline_trials} for all transformations "
        f"at 500), {options.false_trials} no-delivery samples per length"
    )
    print(f"{'transformation':<24}" + "".join(f"{f'top-1 @{n}':>14}" for n in LENGTHS) + f"{'slots @500':>12}")
    results = {}
    wrong_named = trials_run = 0
    for transformation in [*TRANSFORMATIONS, BEYOND]:
        row, slots_500 = [], []
        for length in LENGTHS:
            correct = 0
            trials = options.headline_trials if (transformation, length) == ("all together", 500) else options.trials
            for _ in range(trials):
                advisory = rng.choice(advisories)
                delivery, user = rng.choice(copies[advisory.pk])
                sample = leaked_text(copy_text(advisory, delivery, user), transformation, length, rng)
                result = selectors.trace_sample(advisory=advisory, text=sample)
                match = result.match
                right = bool(match and match.delivery.pk == delivery.pk and match.user.pk == user.pk)
                correct += right
                wrong_named += bool(match) and not right
                trials_run += 1
                if length == 500:
                    slots_500.append(result.slots)
            results[(transformation, length)] = correct / trials
            row.append(f"{100 * correct / trials:>13.1f}%")
        label = transformation if transformation != BEYOND else f"({BEYOND})"
        print(f"{label:<24}" + "".join(row) + f"{sum(slots_500) / len(slots_500):>12.1f}")

    print(f'wrong copy named in these trials (a miss is "no match", never another copy): {wrong_named}/{trials_run}')

    # Beyond the list: a whole document transliterated to ASCII keeps only the sparse phrase layer.
    ranked_first = named = 0
    for _ in range(options.trials):
        advisory = rng.choice(advisories)
        delivery, user = rng.choice(copies[advisory.pk])
        sample = without_homoglyphs(tt.markdown_to_plain_text(copy_text(advisory, delivery, user)))
        result = selectors.trace_sample(advisory=advisory, text=sample)
        best, match = result.ranked[0], result.match
        ranked_first += best.delivery.pk == delivery.pk and best.user.pk == user.pk
        named += bool(match and match.delivery.pk == delivery.pk and match.user.pk == user.pk)
    print(
        f"({BEYOND}, whole document: right copy ranked first {100 * ranked_first / options.trials:.1f}%, "
        f"named above the threshold {100 * named / options.trials:.1f}%)"
    )

    print("false accusations on text from no delivery (all transformations):")
    false_by_length = {}
    for length in LENGTHS:
        accused = 0
        for trial in range(options.false_trials):
            advisory = rng.choice(advisories)
            if trial % 2 == 0:  # the public, unfingerprinted original of the same advisory
                source = bodies[advisory.pk]
            else:  # a copy of another advisory, traced against this one's copies
                other = rng.choice([a for a in advisories if a.pk != advisory.pk])
                source = copy_text(other, *rng.choice(copies[other.pk]))
            sample = leaked_text(source, "all together", length, rng)
            accused += selectors.trace_sample(advisory=advisory, text=sample).match is not None
        false_by_length[length] = accused
        print(f"  @{length}: {accused}/{options.false_trials} ({100 * accused / options.false_trials:.2f}%)")
    print(f"({time.monotonic() - started:.0f} s)")
    print(
        f"leak-trace: top1_at_500={100 * results[('all together', 500)]:.1f}% "
        f"false_accusations={false_by_length[500]}/{options.false_trials}"
    )


if __name__ == "__main__":
    main()
