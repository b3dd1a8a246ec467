"""Leak-trace benchmark: is a leaked excerpt traced to the one served copy it came from after what a deliberate
leaker does to it, and is nobody innocent ever named?

    python bench/leak_trace.py [--deliveries 1400] [--trials 200] [--false-trials 3000] [--ocr-copies 16]
    python bench/leak_trace.py --smoke      # small scale, for CI: fails when a figure cannot be measured

Runs standalone on an in-memory SQLite database (test settings, migrated at start; files in a temporary folder).
It seeds four advisories as an author who expects leaks writes them (advisories/sample_texts/: descriptions with
variant points, and a proof of concept with variant points in its code), delivered to `--deliveries`
organisations at the early level, a quarter of them read by two people; every reader's copies are made by the code
the portal serves with (advisories.fingerprinting.personalisation), and traced by the service the compliance pages
use (advisories.selectors.trace_sample), among all the copies of that advisory (about 440 each by default).

Transformations (bench/text_transformations.py), applied to text copied from the rendered page:
- plain: an excerpt as copied;
- folded: look-alike folding (Unicode TS #39 skeleton), ASCII transliteration, then retyping (lower case, plain
  punctuation, no emphasis marks, whitespace collapsed);
- OCR: the copy rendered as the portal renders it, printed to PDF by Chromium, rasterised at 300 dpi (pdftoppm) and
  read back by Debian's tesseract;
- PoC: 40 consecutive lines of the proof of concept, comments stripped and reformatted; also the payload bytes the
  copy sends, as a hex dump.
A trial counts as named only when the trace names exactly the right delivery and person above the threshold.
False accusations: texts that came from no candidate copy (the public text, other advisories' copies, copies of
people who are not candidates) or from two candidates mixed line by line (naming anyone but those two is false),
after the same transformations; and hex dumps of the traffic of proofs of concept served to people who are not
candidates, or of two candidates' traffic. Ends with one summary line.
The cases (seeding, copies, transformations, innocent samples) are in bench/leak_trace_cases.py.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ["DATABASE_URL"] = "sqlite://:memory:"
_VAR = tempfile.mkdtemp(prefix="leak-trace-")
os.environ["FOREWARN_VAR_DIR"] = _VAR

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from advisories import selectors  # noqa: E402
from advisories.fingerprinting.personalisation import fingerprinted_markdown  # noqa: E402
from advisories.models import Advisory  # noqa: E402
from advisories.sample_texts import AUTHORED_DOCUMENTS  # noqa: E402
from bench import text_transformations as tt  # noqa: E402
from bench.leak_trace_cases import (  # noqa: E402
    CannotMeasure,
    Copies,
    Innocents,
    folded,
    hex_dump,
    named,
    ocr_tools_missing,
    poc_excerpt,
    print_and_scan,
    seed,
    sent_bytes,
    strip_and_reformat,
    timing_advisory,
    trace_time_ms,
)

PAYLOAD_FALSE_TRIALS_SHARE = 10  # one hex dump of innocent traffic for every ten innocent texts


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1400)
    parser.add_argument("--trials", type=int, default=200, help="per cell")
    parser.add_argument("--false-trials", type=int, default=3000)
    parser.add_argument("--ocr-copies", type=int, default=16, help="copies printed and scanned (3 excerpts each)")
    parser.add_argument("--timing-copies", type=int, nargs="*", default=[3000, 30000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="small scale for CI; fails if it cannot measure")
    options = parser.parse_args(argv)
    if options.smoke:
        options.deliveries, options.trials, options.false_trials = 40, 6, 40
        options.ocr_copies, options.timing_copies = 1, [300]
    return options


class Run:
    """One run: the seeded advisories, their copies, and the figures measured so far."""

    def __init__(self, options):
        self.options = options
        self.rng = random.Random(options.seed)
        self.advisories, self.copies = seed(deliveries=options.deliveries, rng=self.rng)
        self.made = Copies(self.advisories)
        self.results: dict[str, tuple[int, int]] = {}
        self.wrong = 0  # trials where another copy than the right one was named

    def pick(self):
        advisory = self.rng.choice(self.advisories)
        return (advisory, *self.rng.choice(self.copies[advisory.pk]))

    def trace(self, advisory, sample, delivery, user) -> tuple[bool, float]:
        """Whether the right copy is named, and the evidence the sample carried."""
        result = selectors.trace_sample(advisory=advisory, text=sample)
        hit = named(result, delivery, user)
        self.wrong += result.match is not None and not hit
        return hit, result.bits

    def cell(self, name, sample_of, trials) -> None:
        hits = bits = 0
        for _ in range(trials):
            advisory, delivery, user = self.pick()
            hit, carried = self.trace(advisory, sample_of(advisory, delivery, user), delivery, user)
            hits += hit
            bits += carried
        self.results[name] = (hits, trials)
        print(f"  {name:<34} {pct(hits, trials):6.1f}%   (evidence carried: {bits / max(1, trials):5.1f} bits)")


def measure_excerpts(run: Run) -> None:
    """Plain, folded, PoC and payload excerpts of default copies."""
    made, rng, trials = run.made, run.rng, run.options.trials
    print("named top-1 (the right delivery and person, above the threshold):")
    for length in (500, 1000, 2000):
        run.cell(f"plain @{length}", lambda a, d, u, n=length: tt.excerpt(made.page_text(a, d, u), n, rng), trials)
    for length in (1000, 2000):
        run.cell(
            f"folded+ascii+retyped @{length}",
            lambda a, d, u, n=length: folded(tt.excerpt(made.page_text(a, d, u), n, rng)),
            trials,
        )
    run.cell(
        "PoC 40 lines, stripped+reformatted",
        lambda a, d, u: poc_excerpt(strip_and_reformat(made.poc(a, d, u), rng), rng),
        trials,
    )
    run.cell("PoC payload bytes (hex dump)", lambda a, d, u: hex_dump(sent_bytes(made.poc(a, d, u))), trials)


def measure_letter_layer(run: Run) -> None:
    """The same plain excerpts when a manager turns the letter layer on (off by default)."""
    _set_letters(run.advisories, True)
    lettered = Copies(run.advisories)
    run.cell(
        "plain @500, letter layer on",
        lambda a, d, u: tt.excerpt(lettered.page_text(a, d, u), 500, run.rng),
        run.options.trials,
    )
    _set_letters(run.advisories, False)


def _set_letters(advisories, on: bool) -> None:
    for advisory in advisories:
        Advisory.objects.filter(pk=advisory.pk).update(fingerprint_letters=on)
        advisory.fingerprint_letters = on


def measure_ocr(run: Run) -> None:
    missing = ocr_tools_missing()
    if missing:
        raise CannotMeasure(f"print and OCR need {', '.join(missing)} (Debian: chromium, poppler-utils, tesseract-ocr)")
    hits = trials = 0
    with tempfile.TemporaryDirectory() as workdir:
        for number in range(run.options.ocr_copies):
            advisory, delivery, user = run.pick()
            scanned = print_and_scan(run.made.markdown(advisory, delivery, user), Path(workdir), f"copy{number}")
            for _ in range(3):
                hits += run.trace(advisory, tt.excerpt(scanned, 2000, run.rng), delivery, user)[0]
                trials += 1
    run.results["ocr @2000"] = (hits, trials)
    print(f"  {'printed to PDF, OCR @2000':<34} {pct(hits, trials):6.1f}%   ({trials} excerpts)")
    print(f'wrong copy named in these trials (a miss is "no match", never another copy): {run.wrong}')


def measure_false_accusations(run: Run) -> tuple[int, int]:
    innocents = Innocents(run.made, run.copies, run.pick, run.rng)
    texts = _accusations(innocents.text, run.options.false_trials, kinds=4)
    print(f"false accusations (public text, other advisories, outsiders' copies, colluders): {texts[0]}/{texts[1]}")
    dumps = _accusations(innocents.payload, max(2, run.options.false_trials // PAYLOAD_FALSE_TRIALS_SHARE), kinds=2)
    print(f"false accusations from hex dumps (outsiders' PoC traffic, colluders' traffic): {dumps[0]}/{dumps[1]}")
    return texts[0] + dumps[0], texts[1] + dumps[1]


def _accusations(sample_of, trials: int, *, kinds: int) -> tuple[int, int]:
    accused = 0
    for trial in range(trials):
        advisory, sample, colluders = sample_of(trial % kinds)
        match = selectors.trace_sample(advisory=advisory, text=sample).match
        accused += match is not None and (match.delivery.pk, match.user.pk) not in colluders
    return accused, trials


def measure_timings(run: Run) -> dict[int, float]:
    timings = {}
    for count in run.options.timing_copies:
        advisory, delivery, user = timing_advisory(count, run.rng, 900 + len(timings))
        copy = fingerprinted_markdown(AUTHORED_DOCUMENTS[0], delivery=delivery, user=user)
        sample = tt.excerpt(tt.markdown_to_plain_text(copy), 2000, run.rng)
        result = selectors.trace_sample(advisory=advisory, text=sample)
        if result.candidates != count:
            raise CannotMeasure(f"{result.candidates} candidates for {count} served copies")
        timings[count] = trace_time_ms(advisory, sample, runs=3 if count > 10000 else 5)
        print(f"trace of a 2,000-character sample among {count} copies: {timings[count]:.0f} ms (median)")
    return timings


def summary(results, accusations: tuple[int, int], timings: dict[int, float]) -> str:
    timing_key = 3000 if 3000 in timings else min(timings)
    return (
        f"leak-trace: top1_at_500={pct(*results['plain @500']):.1f}% "
        f"folded_top1_at_1000={pct(*results['folded+ascii+retyped @1000']):.1f}% "
        f"folded_top1_at_2000={pct(*results['folded+ascii+retyped @2000']):.1f}% "
        f"ocr_top1_at_2000={pct(*results['ocr @2000']):.1f}% "
        f"poc_top1={pct(*results['PoC 40 lines, stripped+reformatted']):.1f}% "
        f"false_accusations={accusations[0]}/{accusations[1]} trace_ms_{timing_key}={timings[timing_key]:.0f}"
    )


def main(argv=None) -> int:
    options = parse_options(argv)
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    run = Run(options)
    total = sum(len(c) for c in run.copies.values())
    print(
        f"{len(run.advisories)} advisories, {options.deliveries} deliveries, {total} served copies (delivery x "
        f"reader, about {total // len(run.advisories)} candidates per advisory); {options.trials} trials per cell; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    measure_excerpts(run)
    measure_letter_layer(run)
    measure_ocr(run)
    accusations = measure_false_accusations(run)
    timings = measure_timings(run)
    print(f"({time.monotonic() - started:.0f} s, load average {os.getloadavg()[0]:.1f})")
    if not any(run.results[name][0] for name in run.results if "folded" in name or "PoC" in name):
        raise CannotMeasure("nothing was traced: the figures would measure nothing")
    print(summary(run.results, accusations, timings))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CannotMeasure as error:
        print(f"leak-trace: cannot measure: {error}", file=sys.stderr)
        sys.exit(2)
    finally:
        shutil.rmtree(_VAR, ignore_errors=True)
