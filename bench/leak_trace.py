"""Leak-trace benchmark: is a leaked excerpt traced to the one served copy it came from after what a deliberate
leaker does to it, and is nobody innocent ever named?

    python bench/leak_trace.py [--deliveries 1400] [--trials 200] [--false-trials 3000] [--ocr-copies 16]
    python bench/leak_trace.py --smoke      # small scale, for CI: fails when a figure cannot be measured

Runs standalone on an in-memory SQLite database (test settings, migrated at start; files in a temporary folder).
It seeds four advisories as an author who expects leaks writes them (advisories/sample_texts.py: descriptions with
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
after the same transformations. Ends with one summary line.
"""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from advisories import selectors  # noqa: E402
from advisories.fingerprinting import copy_key, personalise  # noqa: E402
from advisories.fingerprinting.code import serving_template  # noqa: E402
from advisories.fingerprinting.personalisation import (  # noqa: E402
    artifact_source,
    fingerprinted_markdown,
    read_text_artifact,
)
from advisories.fingerprinting.template import strip_variant_points  # noqa: E402
from advisories.models import (  # noqa: E402
    AccessKind,
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    Delivery,
    DownloadEvent,
    ReleaseWave,
    WaveStatus,
)
from advisories.sample_texts import AUTHORED_DOCUMENTS, PROOF_OF_CONCEPT  # noqa: E402
from bench import text_transformations as tt  # noqa: E402
from core.levels import AccessLevel  # noqa: E402
from core.markdown import render_markdown  # noqa: E402
from partners.models import Partner  # noqa: E402

OCR_TOOLS = ("chromium", "pdftoppm", "tesseract")


class CannotMeasure(RuntimeError):
    """A figure the benchmark claims could not be measured (a missing tool, nothing traced at all)."""


def seed(*, deliveries: int, rng: random.Random, first_number: int = 1, documents=AUTHORED_DOCUMENTS):
    """Advisories with a standard description and an early proof of concept, `deliveries` organisations spread
    over them at the early level, one or two readers each, each reader's copy recorded as served."""
    now = timezone.now()
    user_model = get_user_model()
    advisories = []
    for offset, body in enumerate(documents):
        advisory = Advisory.objects.create(
            identifier=f"FWN-2026-{first_number + offset:04d}",
            title=f"Benchmark advisory {first_number + offset}",
            public_release_at=now,
            status=AdvisoryStatus.RELEASED,
        )
        AdvisoryDocument.objects.create(
            advisory=advisory, level=AccessLevel.STANDARD, title="Technical description", body_markdown=body
        )
        content = PROOF_OF_CONCEPT.encode()
        Artifact.objects.create(
            advisory=advisory,
            level=AccessLevel.EARLY,
            name="Proof of concept",
            file=ContentFile(content, name="poc.py"),
            content_type="text/x-python",
            size=len(content),
            sha256="0" * 64,
        )
        ReleaseWave.objects.create(
            advisory=advisory, level=AccessLevel.EARLY, scheduled_at=now, status=WaveStatus.RELEASED
        )
        advisories.append(advisory)
    copies = {advisory.pk: [] for advisory in advisories}
    users, events = [], []
    for number in range(deliveries):
        advisory = advisories[number % len(advisories)]
        group = Group.objects.create(name=f"partner:bench-{first_number}-{number}")
        partner = Partner.objects.create(
            legal_name=f"Bench Partner {first_number}-{number} Ltd", country="US", group=group
        )
        delivery = Delivery.objects.create(
            wave=advisory.waves.get(),
            advisory=advisory,
            partner=partner,
            level=AccessLevel.EARLY,
            fingerprint_token=f"{rng.getrandbits(256):064x}",
            delivered_at=now,
        )
        for reader in range(2 if rng.random() < 0.25 else 1):
            user = user_model(email=f"reader{reader}@partner{first_number}-{number}.test")
            users.append((user, partner, advisory, delivery))
    user_model.objects.bulk_create([user for user, _, _, _ in users])
    for user, partner, advisory, delivery in users:
        events.append(
            DownloadEvent(user=user, partner=partner, advisory=advisory, delivery=delivery, kind=AccessKind.VIEW)
        )
        copies[advisory.pk].append((delivery, user))
    DownloadEvent.objects.bulk_create(events)
    return advisories, copies


class Copies:
    """Each reader's copies, made once, by the serving code."""

    def __init__(self, advisories):
        self.advisories = {advisory.pk: advisory for advisory in advisories}
        self.bodies = {advisory.pk: advisory.documents.get().body_markdown for advisory in advisories}
        self.pocs = {}
        for advisory in advisories:
            artifact = advisory.artifacts.get()
            self.pocs[advisory.pk] = serving_template(artifact_source(artifact, read_text_artifact(artifact)))
        self.made = {}

    def markdown(self, advisory, delivery, user) -> str:
        key = ("md", delivery.pk, user.pk)
        if key not in self.made:
            self.made[key] = fingerprinted_markdown(
                self.bodies[advisory.pk], delivery=delivery, user=user, advisory=advisory
            )
        return self.made[key]

    def page_text(self, advisory, delivery, user) -> str:
        """What a reader copies from the rendered page."""
        return tt.markdown_to_plain_text(self.markdown(advisory, delivery, user))

    def poc(self, advisory, delivery, user) -> str:
        key = ("poc", delivery.pk, user.pk)
        if key not in self.made:
            self.made[key] = personalise(
                self.pocs[advisory.pk], copy_key(token=delivery.fingerprint_token, user_id=user.pk)
            )
        return self.made[key]


def folded(text: str) -> str:
    return tt.retype(tt.ascii_transliteration(tt.fold_look_alikes(text)))


def named(result, delivery, user) -> bool:
    match = result.match
    return bool(match and match.delivery.pk == delivery.pk and match.user.pk == user.pk)


# Print and scan -----------------------------------------------------------------------------------------------------


def ocr_tools_missing() -> list[str]:
    return [tool for tool in OCR_TOOLS if shutil.which(tool) is None]


def print_and_scan(markdown: str, workdir: Path, name: str) -> str:
    """The document rendered as on the portal, printed to PDF by Chromium, rasterised and read by tesseract."""
    page = workdir / f"{name}.html"
    pdf = workdir / f"{name}.pdf"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><style>body{font:11pt 'DejaVu Serif',serif;margin:2cm;"
        "max-width:17cm} pre,code{font:9pt 'DejaVu Sans Mono',monospace;white-space:pre-wrap}</style>"
        f"<article>{render_markdown(markdown)}</article>",
        encoding="utf-8",
    )
    browser = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}", page.as_uri(),
    ]  # fmt: skip
    subprocess.run(browser, check=True, capture_output=True, timeout=120)  # noqa: S603
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(pdf), str(workdir / name)], check=True, timeout=120)  # noqa: S603, S607
    pages = sorted(workdir.glob(f"{name}-*.png"))
    text = []
    for image in pages:
        scanned = subprocess.run(["tesseract", str(image), "-"], check=True, capture_output=True, timeout=120)  # noqa: S603, S607
        text.append(scanned.stdout.decode("utf-8", "replace"))
    return "\n".join(text)


# Proof of concept ---------------------------------------------------------------------------------------------------


def strip_and_reformat(code: str, rng: random.Random) -> str:
    """What a leaker or an attacker does to a PoC: comments and docstrings out, another formatter's style."""
    lines = []
    for line in code.splitlines():
        line = re.sub(r"\s+#.*$", "", line) if not line.lstrip().startswith("#") else ""
        if not line.strip() or re.match(r'^\s*"""[^"]*"""\s*$', line):
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        body = body.replace('b"', "b'").replace('"', "'")  # quote style
        body = re.sub(r"\s*([=+*<>]=?|,)\s*", lambda m: f" {m.group(1)} " if m.group(1) != "," else ", ", body)
        body = re.sub(r" {2,}", " ", body)
        lines.append(" " * (indent // 2 if rng.random() < 0.5 else indent) + body)
    return "\n".join(lines)


def hex_dump(data: bytes) -> str:
    """xxd's format."""
    rows = []
    for offset in range(0, len(data), 16):
        row = data[offset : offset + 16]
        groups = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        rows.append(f"{offset:08x}: {groups:<39}  {text}")
    return "\n".join(rows)


def sent_bytes(poc_copy: str) -> bytes:
    """Run the copy's payload builder (no network): the bytes the exploit puts on the wire."""
    namespace = {"__name__": "leaked_poc"}
    exec(compile(poc_copy, "poc.py", "exec"), namespace)  # noqa: S102 (the benchmark's own generated copy)
    return namespace["payload"]()


# Timing -------------------------------------------------------------------------------------------------------------


def trace_time_ms(advisory, sample: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        selectors.trace_sample(advisory=advisory, text=sample)
        timings.append(1000 * (time.perf_counter() - started))
    return statistics.median(timings)


def timing_advisory(copies_wanted: int, rng: random.Random, number: int):
    """An advisory with `copies_wanted` served copies (deliveries of ten readers each)."""
    now = timezone.now()
    advisory = Advisory.objects.create(
        identifier=f"FWN-2026-{number:04d}", title="Timing", public_release_at=now, status=AdvisoryStatus.RELEASED
    )
    AdvisoryDocument.objects.create(
        advisory=advisory,
        level=AccessLevel.STANDARD,
        title="Technical description",
        body_markdown=AUTHORED_DOCUMENTS[0],
    )
    wave = ReleaseWave.objects.create(
        advisory=advisory, level=AccessLevel.EARLY, scheduled_at=now, status=WaveStatus.RELEASED
    )
    partners = [
        Partner(legal_name=f"Timing {number}-{n}", country="US", group=Group.objects.create(name=f"t{number}-{n}"))
        for n in range((copies_wanted + 9) // 10)
    ]
    Partner.objects.bulk_create(partners)
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            wave=wave,
            advisory=advisory,
            partner=partner,
            level=AccessLevel.EARLY,
            fingerprint_token=f"{rng.getrandbits(256):064x}",
            delivered_at=now,
        )
        for partner in partners
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(email=f"t{number}-{n}@timing.test") for n in range(copies_wanted)
    )
    DownloadEvent.objects.bulk_create(
        DownloadEvent(
            user=user, partner=deliveries[n // 10].partner, advisory=advisory, delivery=deliveries[n // 10],
            kind=AccessKind.VIEW,
        )
        for n, user in enumerate(users)
    )  # fmt: skip
    # Every reader opened the page ten times: the candidates must still be one per copy.
    DownloadEvent.objects.bulk_create(
        DownloadEvent(
            user=users[0], partner=deliveries[0].partner, advisory=advisory, delivery=deliveries[0],
            kind=AccessKind.VIEW,
        )
        for _ in range(10)
    )  # fmt: skip
    return advisory, deliveries[0], users[0]


# Main ---------------------------------------------------------------------------------------------------------------


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def main(argv=None) -> int:  # noqa: C901 (one linear script)
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
    rng = random.Random(options.seed)
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    advisories, copies = seed(deliveries=options.deliveries, rng=rng)
    made = Copies(advisories)
    total = sum(len(c) for c in copies.values())
    print(
        f"{len(advisories)} advisories, {options.deliveries} deliveries, {total} served copies (delivery x reader, "
        f"about {total // len(advisories)} candidates per advisory); {options.trials} trials per cell; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    def pick():
        advisory = rng.choice(advisories)
        return (advisory, *rng.choice(copies[advisory.pk]))

    results: dict[str, tuple[int, int]] = {}
    wrong = 0

    def cell(name, sample_of, trials):
        nonlocal wrong
        hits = bits = 0
        for _ in range(trials):
            advisory, delivery, user = pick()
            result = selectors.trace_sample(advisory=advisory, text=sample_of(advisory, delivery, user))
            hit = named(result, delivery, user)
            hits += hit
            wrong += result.match is not None and not hit
            bits += result.bits
        results[name] = (hits, trials)
        print(f"  {name:<34} {pct(hits, trials):6.1f}%   (evidence carried: {bits / max(1, trials):5.1f} bits)")

    print("named top-1 (the right delivery and person, above the threshold):")
    for length in (500, 1000, 2000):
        cell(f"plain @{length}", lambda a, d, u, n=length: tt.excerpt(made.page_text(a, d, u), n, rng), options.trials)
    for length in (1000, 2000):
        cell(
            f"folded+ascii+retyped @{length}",
            lambda a, d, u, n=length: folded(tt.excerpt(made.page_text(a, d, u), n, rng)),
            options.trials,
        )
    cell(
        "PoC 40 lines, stripped+reformatted",
        lambda a, d, u: _poc_excerpt(strip_and_reformat(made.poc(a, d, u), rng), rng),
        options.trials,
    )
    cell("PoC payload bytes (hex dump)", lambda a, d, u: hex_dump(sent_bytes(made.poc(a, d, u))), options.trials)

    # Letter layer (off by default): the same plain excerpts when a manager turns it on.
    for advisory in advisories:
        Advisory.objects.filter(pk=advisory.pk).update(fingerprint_letters=True)
        advisory.fingerprint_letters = True
    made_lettered = Copies(advisories)
    cell(
        "plain @500, letter layer on",
        lambda a, d, u: tt.excerpt(made_lettered.page_text(a, d, u), 500, rng),
        options.trials,
    )
    for advisory in advisories:
        Advisory.objects.filter(pk=advisory.pk).update(fingerprint_letters=False)
        advisory.fingerprint_letters = False

    missing = ocr_tools_missing()
    if missing:
        raise CannotMeasure(f"print and OCR need {', '.join(missing)} (Debian: chromium, poppler-utils, tesseract-ocr)")
    ocr_hits = ocr_trials = 0
    with tempfile.TemporaryDirectory() as workdir:
        for number in range(options.ocr_copies):
            advisory, delivery, user = pick()
            scanned = print_and_scan(made.markdown(advisory, delivery, user), Path(workdir), f"copy{number}")
            for _ in range(3):
                result = selectors.trace_sample(advisory=advisory, text=tt.excerpt(scanned, 2000, rng))
                hit = named(result, delivery, user)
                ocr_hits += hit
                wrong += result.match is not None and not hit
                ocr_trials += 1
    results["ocr @2000"] = (ocr_hits, ocr_trials)
    print(f"  {'printed to PDF, OCR @2000':<34} {pct(ocr_hits, ocr_trials):6.1f}%   ({ocr_trials} excerpts)")
    print(f'wrong copy named in these trials (a miss is "no match", never another copy): {wrong}')

    # False accusations.
    outsiders = seed(deliveries=len(advisories) * 6, rng=rng, first_number=500)[1]
    outsider_copies = Copies(list(Advisory.objects.filter(identifier__gte="FWN-2026-0500")))
    accused = trials = 0
    for trial in range(options.false_trials):
        advisory, delivery, user = pick()
        kind = trial % 4
        colluders = ()
        if kind == 0:  # the public text
            text = tt.markdown_to_plain_text(strip_variant_points(made.bodies[advisory.pk]))
        elif kind == 1:  # a copy of another advisory
            other, other_delivery, other_user = pick()
            while other.pk == advisory.pk:
                other, other_delivery, other_user = pick()
            text = made.page_text(other, other_delivery, other_user)
        elif kind == 2:  # a copy of this text made for someone who is not a candidate
            outsider_advisory = rng.choice(list(outsider_copies.advisories.values()))
            outsider_delivery, outsider_user = rng.choice(outsiders[outsider_advisory.pk])
            text = outsider_copies.page_text(outsider_advisory, outsider_delivery, outsider_user)
            advisory = next(a for a in advisories if made.bodies[a.pk] == outsider_copies.bodies[outsider_advisory.pk])
        else:  # two colluders' copies mixed line by line
            other_delivery, other_user = rng.choice(copies[advisory.pk])
            first = made.page_text(advisory, delivery, user).split("\n")
            second = made.page_text(advisory, other_delivery, other_user).split("\n")
            text = "\n".join(rng.choice(pair) for pair in zip(first, second, strict=False))
            colluders = {(delivery.pk, user.pk), (other_delivery.pk, other_user.pk)}
        sample = tt.excerpt(text, rng.choice((1000, 2000)), rng)
        if rng.random() < 0.5:
            sample = folded(sample)
        match = selectors.trace_sample(advisory=advisory, text=sample).match
        trials += 1
        accused += match is not None and (match.delivery.pk, match.user.pk) not in colluders
    print(f"false accusations (public text, other advisories, outsiders' copies, colluders): {accused}/{trials}")

    timings = {}
    for count in options.timing_copies:
        advisory, delivery, user = timing_advisory(count, rng, 900 + len(timings))
        sample = tt.excerpt(
            tt.markdown_to_plain_text(fingerprinted_markdown(AUTHORED_DOCUMENTS[0], delivery=delivery, user=user)),
            2000,
            rng,
        )
        result = selectors.trace_sample(advisory=advisory, text=sample)
        if result.candidates != count:
            raise CannotMeasure(f"{result.candidates} candidates for {count} served copies")
        timings[count] = trace_time_ms(advisory, sample, runs=3 if count > 10000 else 5)
        print(f"trace of a 2,000-character sample among {count} copies: {timings[count]:.0f} ms (median)")

    print(f"({time.monotonic() - started:.0f} s, load average {os.getloadavg()[0]:.1f})")
    if not any(results[name][0] for name in results if "folded" in name or "PoC" in name):
        raise CannotMeasure("nothing was traced: the figures would measure nothing")
    timing_key = 3000 if 3000 in timings else min(timings)
    print(
        f"leak-trace: top1_at_500={pct(*results['plain @500']):.1f}% "
        f"folded_top1_at_1000={pct(*results['folded+ascii+retyped @1000']):.1f}% "
        f"folded_top1_at_2000={pct(*results['folded+ascii+retyped @2000']):.1f}% "
        f"ocr_top1_at_2000={pct(*results['ocr @2000']):.1f}% "
        f"poc_top1={pct(*results['PoC 40 lines, stripped+reformatted']):.1f}% "
        f"false_accusations={accused}/{trials} trace_ms_{timing_key}={timings[timing_key]:.0f}"
    )
    return 0


def _poc_excerpt(code: str, rng: random.Random) -> str:
    lines = code.splitlines()
    start = rng.randrange(0, max(1, len(lines) - 40))
    return "\n".join(lines[start : start + 40])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CannotMeasure as error:
        print(f"leak-trace: cannot measure: {error}", file=sys.stderr)
        sys.exit(2)
    finally:
        shutil.rmtree(_VAR, ignore_errors=True)
