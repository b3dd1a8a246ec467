"""What the leak-trace benchmark serves, what a leaker does to it, and what is traced: the seeded advisories and each
reader's copies (made by the serving code), print and scan, the proof of concept stripped and reformatted or run, the
advisory used for timing. Imported by bench/leak_trace.py once Django is set up."""

import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from advisories import selectors
from advisories.fingerprinting import copy_key, personalise
from advisories.fingerprinting.code import serving_template
from advisories.fingerprinting.personalisation import artifact_source, fingerprinted_markdown, read_text_artifact
from advisories.fingerprinting.variant_points import strip_variant_points
from advisories.models import (
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
from advisories.sample_texts import AUTHORED_DOCUMENTS, PROOF_OF_CONCEPT
from bench import text_transformations as tt
from core.levels import AccessLevel
from core.markdown import render_markdown
from partners.models import Partner

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
    with mock.patch.object(sys, "argv", ["poc.py"]):  # its defaults, not the benchmark's options
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


def poc_excerpt(code: str, rng: random.Random) -> str:
    lines = code.splitlines()
    start = rng.randrange(0, max(1, len(lines) - 40))
    return "\n".join(lines[start : start + 40])


# Innocent samples ---------------------------------------------------------------------------------------------------


class Innocents:
    """Samples that owe nothing to a candidate copy, or owe it to two colluders: naming anyone else is false."""

    def __init__(self, made: Copies, copies: dict, pick, rng: random.Random):
        self.made, self.copies, self.pick, self.rng = made, copies, pick, rng
        outsider_advisories, self.outsiders = seed(deliveries=len(made.advisories) * 6, rng=rng, first_number=500)
        self.outsider_copies = Copies(outsider_advisories)

    def text(self, kind: int):
        """(advisory traced, excerpt, colluders): the public text, a copy of another advisory, a copy of this text
        made for someone who is not a candidate, or two candidates' copies mixed line by line."""
        advisory, delivery, user = self.pick()
        made, rng, colluders = self.made, self.rng, set()
        if kind == 0:
            text = tt.markdown_to_plain_text(strip_variant_points(made.bodies[advisory.pk]))
        elif kind == 1:
            other, other_delivery, other_user = self.pick()
            while other.pk == advisory.pk:
                other, other_delivery, other_user = self.pick()
            text = made.page_text(other, other_delivery, other_user)
        elif kind == 2:
            outsider_advisory, outsider_delivery, outsider_user = self._outsider()
            text = self.outsider_copies.page_text(outsider_advisory, outsider_delivery, outsider_user)
            advisory = self._candidates_advisory(outsider_advisory)
        else:
            other_delivery, other_user = rng.choice(self.copies[advisory.pk])
            first = made.page_text(advisory, delivery, user).split("\n")
            second = made.page_text(advisory, other_delivery, other_user).split("\n")
            text = "\n".join(rng.choice(pair) for pair in zip(first, second, strict=False))
            colluders = {(delivery.pk, user.pk), (other_delivery.pk, other_user.pk)}
        sample = tt.excerpt(text, rng.choice((1000, 2000)), rng)
        return advisory, folded(sample) if rng.random() < 0.5 else sample, colluders

    def payload(self, kind: int):
        """(advisory traced, hex dump, colluders): the traffic of a proof of concept served to someone who is not a
        candidate, or two candidates' traffic one after the other."""
        if kind == 0:
            outsider_advisory, outsider_delivery, outsider_user = self._outsider()
            traffic = sent_bytes(self.outsider_copies.poc(outsider_advisory, outsider_delivery, outsider_user))
            return self._candidates_advisory(outsider_advisory), hex_dump(traffic), set()
        advisory, delivery, user = self.pick()
        other_delivery, other_user = self.rng.choice(self.copies[advisory.pk])
        traffic = sent_bytes(self.made.poc(advisory, delivery, user))
        traffic += sent_bytes(self.made.poc(advisory, other_delivery, other_user))
        return advisory, hex_dump(traffic), {(delivery.pk, user.pk), (other_delivery.pk, other_user.pk)}

    def _outsider(self):
        advisory = self.rng.choice(list(self.outsider_copies.advisories.values()))
        return (advisory, *self.rng.choice(self.outsiders[advisory.pk]))

    def _candidates_advisory(self, outsider_advisory):
        body = self.outsider_copies.bodies[outsider_advisory.pk]
        return next(a for a in self.made.advisories.values() if self.made.bodies[a.pk] == body)
