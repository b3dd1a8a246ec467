"""Markdown rendering benchmark: adversarial inputs at the largest size the preview accepts, against ordinary prose
of the same length.

    python bench/markdown_rendering.py [--chars 200000] [--repeat 3]
    python bench/markdown_rendering.py --smoke    # 32,000 characters, for CI: fails when a case grows quadratically

Needs no database: it renders with `core.markdown.render_markdown` (markdown-it-py, then nh3), the function behind
the portal, the API and the Markdown preview. Each case is built to `--chars` characters (default: the preview's
limit) and also at a quarter of that size; the growth column is time(n) / time(n/4), about 4 when rendering is
linear and 16 when quadratic. Baseline: realistic advisory prose (advisories/sample_texts/) repeated to the same
length. Ends with one summary line; exits 2 when a rendering is empty or too fast to time.
"""

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from advisories.sample_texts import SAMPLE_DOCUMENTS  # noqa: E402
from bench.common import CannotMeasure, load_average, run  # noqa: E402
from core.markdown import render_markdown  # noqa: E402
from program.views.advisories import PREVIEW_MAX_CHARS  # noqa: E402

# A quarter of it still holds one whole wide table (7,500 characters), so that every case keeps its shape.
SMOKE_CHARS = 32_000
# Linear is 4 and quadratic 16; at small sizes fixed costs and noise weigh more, so the smoke run judges growth only
# on the cases that take long enough to time in one run.
SMOKE_MAX_GROWTH = 10.0
SMOKE_MIN_SECONDS = 0.02


def _fill(unit: str, chars: int) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


# Each makes a document of exactly `chars` characters.
CASES = {
    "unclosed brackets": lambda chars: "[" * chars,
    "nested brackets": lambda chars: "[" * (chars // 2) + "]" * (chars - chars // 2),
    "unclosed images": lambda chars: _fill("![", chars),
    "unclosed link destinations": lambda chars: _fill("[a](", chars),
    "brackets in prose": lambda chars: _fill("see [note [1 ", chars),
    "emphasis runs": lambda chars: _fill("*a_", chars),
    "star run": lambda chars: "*" * (chars - 1) + "a",
    "strong openers": lambda chars: _fill("**a ", chars),
    "backtick runs": lambda chars: _fill("`a``", chars),
    "unclosed html": lambda chars: _fill("<a ", chars),
    "nested lists": lambda chars: _fill("- ", chars),
    "nested quotes": lambda chars: ">" * chars,
    "long table": lambda chars: _fill("| a | b |\n| --- | --- |\n" + "| x | y |\n" * 40, chars),
    "wide table": lambda chars: _fill("| a " * 500 + "|\n" + "| --- " * 500 + "|\n" + "| x " * 500 + "|\n", chars),
}


def _seconds(text: str, repeat: int) -> float:
    """Best CPU time of `repeat` renderings, garbage collection paused during each."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            rendered = render_markdown(text)
            times.append(time.process_time() - start)
        finally:
            gc.enable()
        if not rendered.strip():
            raise CannotMeasure(f"rendering {text[:20]!r}... ({len(text)} characters) gave nothing")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=PREVIEW_MAX_CHARS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_CHARS:,} characters, for CI")
    options = parser.parse_args()
    chars = SMOKE_CHARS if options.smoke else options.chars
    repeat = 1 if options.smoke else options.repeat

    prose = "\n\n".join(SAMPLE_DOCUMENTS)
    baseline = _seconds(_fill(prose + "\n\n", chars), repeat)
    if baseline <= 0:
        raise CannotMeasure(f"the prose baseline of {chars} characters took no measurable CPU time")
    print(f"{'case':28s} {'seconds':>8s} {'x prose':>8s} {'growth':>7s}")
    print(f"{'prose (baseline)':28s} {baseline:8.3f} {1:8.1f}")
    results = {}
    for name, build in CASES.items():
        full = _seconds(build(chars), repeat)
        quarter = _seconds(build(chars // 4), repeat)
        results[name] = (full, full / quarter if quarter > 0 else float("nan"))
        print(f"{name:28s} {full:8.3f} {full / baseline:8.1f} {results[name][1]:7.1f}", flush=True)

    worst_name, (worst, _growth) = max(results.items(), key=lambda item: item[1][0])
    judged = [growth for taken, growth in results.values() if not options.smoke or taken >= SMOKE_MIN_SECONDS]
    if not judged:
        raise CannotMeasure(f"no case took {SMOKE_MIN_SECONDS} s at {chars} characters: growth cannot be judged")
    max_growth = max(judged)
    print(
        f"bench markdown: worst={worst:.3f}s ({worst_name}) baseline={baseline:.3f}s ratio={worst / baseline:.1f} "
        f"max_growth_4x={max_growth:.1f} chars={chars} cases={len(CASES)} load={load_average().replace(' ', '/')}"
    )
    if options.smoke and max_growth > SMOKE_MAX_GROWTH:
        sys.exit(f"a case grew {max_growth:.1f}-fold for 4 times the input (linear is 4): rendering is not linear")


if __name__ == "__main__":
    run(main)
