"""Fingerprinting cost by file size: is personalising a text artifact linear in its size, and is a 2 MiB file (the
largest the portal fingerprints) done in under a second?

    python bench/fingerprint_size.py [--repeat 5]
    python bench/fingerprint_size.py --smoke      # small sizes, for CI: fails when growth is not linear

No database: it times what a download does to a text file once it is read, with the serving code
(advisories.fingerprinting.code.serving_template, uncached, then personalise) on 10 KiB, 100 KiB, 1 MiB and 2 MiB of
realistic advisory prose with the author's variant points (.md/.txt) and of proof-of-concept code (.py). Each
figure is the median of `--repeat` runs of CPU time of this process (time.process_time) and wall time; the machine
may be shared, so the load average is printed. Baseline: reading the same text's words once (a regular expression
over the whole text), which any linear treatment must at least do. Ends with one summary line.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisories.fingerprinting import copy_key, personalise  # noqa: E402
from advisories.fingerprinting.code import SourceText, _build_serving_template  # noqa: E402
from advisories.sample_texts import AUTHORED_DOCUMENTS, PROOF_OF_CONCEPT  # noqa: E402

KIB = 1024
SIZES = (10 * KIB, 100 * KIB, 1024 * KIB, 2048 * KIB)
SMOKE_SIZES = (16 * KIB, 64 * KIB, 160 * KIB)
GOAL_SECONDS = 1.0
MAX_GROWTH_RATIO = 12.0  # time(1 MiB) / time(100 KiB): linear is about 10
SMOKE_MAX_GROWTH_RATIO = 20.0  # time(160 KiB) / time(16 KiB) at small scale, where noise weighs more


class CannotMeasure(RuntimeError):
    pass


def text_of(kind: str, size: int) -> str:
    base = "\n\n".join(AUTHORED_DOCUMENTS) if kind == "prose" else PROOF_OF_CONCEPT
    text = (base * (size // len(base) + 1))[:size]
    return text[: text.rfind("\n") + 1]  # whole lines: no variant point cut in half


def measure(kind: str, size: int, repeat: int) -> tuple[float, float, int]:
    text = text_of(kind, size)
    key = copy_key(token="0" * 64, user_id=1)
    cpu, wall, slots = [], [], 0
    for _ in range(repeat):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        template = _build_serving_template(SourceText(text, kind="prose" if kind == "prose" else "code"))
        copy = personalise(template, key)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
        slots = len(template.slots)
        if len(copy) < len(text) // 2:
            raise CannotMeasure(f"the {kind} copy of {size} bytes is truncated")
    return statistics.median(cpu), statistics.median(wall), slots


def baseline(size: int, repeat: int) -> float:
    text = text_of("prose", size)
    runs = []
    for _ in range(repeat):
        started = time.process_time()
        sum(1 for _ in re.finditer(r"\w+", text))
        runs.append(time.process_time() - started)
    return statistics.median(runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true")
    options = parser.parse_args(argv)
    sizes = SMOKE_SIZES if options.smoke else SIZES
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {options.repeat} runs")
    print(f"{'size':>10} {'kind':>6} {'cpu s':>8} {'wall s':>8} {'slots':>7} {'us/KiB':>8}")
    figures: dict[tuple[str, int], float] = {}
    for size in sizes:
        for kind in ("prose", "code"):
            cpu, wall, slots = measure(kind, size, options.repeat)
            figures[(kind, size)] = cpu
            print(f"{size // KIB:>7} KiB {kind:>6} {cpu:8.3f} {wall:8.3f} {slots:7d} {1e6 * cpu / (size / KIB):8.0f}")
            if slots == 0:
                raise CannotMeasure(f"no slot in {size} bytes of {kind}: nothing was fingerprinted")
    small, large = (100 * KIB, 1024 * KIB) if not options.smoke else (SMOKE_SIZES[0], SMOKE_SIZES[2])
    growth = max(figures[(kind, large)] / max(figures[(kind, small)], 1e-6) for kind in ("prose", "code"))
    ratio_expected = large / small
    largest = max(figures[(kind, sizes[-1])] for kind in ("prose", "code"))
    floor = baseline(sizes[-1], options.repeat)
    print(
        f"growth {large // KIB} KiB / {small // KIB} KiB: {growth:.1f} (size ratio {ratio_expected:.0f}; linear "
        f"means about {ratio_expected:.0f}); baseline (reading the words of {sizes[-1] // KIB} KiB once): "
        f"{floor:.3f} s cpu"
    )
    met = "n/a" if options.smoke else str(largest < GOAL_SECONDS and growth <= MAX_GROWTH_RATIO).lower()
    print(
        f"bench fingerprint-size: seconds_{sizes[-1] // KIB}KiB={largest:.3f} baseline={floor:.3f} "
        f"ratio={largest / max(floor, 1e-9):.1f} growth_{large // KIB}KiB_over_{small // KIB}KiB={growth:.1f} "
        f"goals_met={met}"
    )
    if options.smoke and growth > SMOKE_MAX_GROWTH_RATIO:
        print(f"fingerprint-size: growth {growth:.1f} is not linear", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CannotMeasure as error:
        print(f"fingerprint-size: cannot measure: {error}", file=sys.stderr)
        sys.exit(2)
