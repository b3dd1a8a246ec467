"""The benchmarks cannot rot: each runs at small scale (its --smoke mode) and must measure what it claims; a
script that fails, cannot measure (exit 2) or prints no summary line fails here."""

import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.bench


def _run(
    script: str,
    *arguments: str,
    timeout: int,
    environment: dict[str, str] | None = None,
    bash_script: bool = False,
    expected_returncode: int = 0,
    raw: bool = False,
):
    """Run bench/<script> as CI would (bash for a shell script, this interpreter otherwise); its output, or the
    completed process when `raw`."""
    inherited = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    interpreter = ["bash"] if bash_script else [sys.executable]
    result = subprocess.run(
        [*interpreter, str(REPO_ROOT / "bench" / script), *arguments],
        cwd=REPO_ROOT,
        env={**inherited, "PYTHON": sys.executable, **(environment or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == expected_returncode, result.stdout[-3000:] + result.stderr[-3000:]
    return result if raw else result.stdout


def _summary(output: str, prefix: str) -> str:
    """The summary line: the last line, which must start with the bench's name."""
    lines = output.strip().splitlines()
    assert lines and lines[-1].startswith(prefix), output[-3000:]
    return lines[-1]


def test_fingerprint_size_bench_measures_linear_growth_at_small_scale():
    output = _run("fingerprint_size.py", "--smoke", timeout=300)

    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"bench fingerprint-size: seconds_160KiB=\S+ baseline=\S+ ratio=\S+ \S+=\S+ goals_met=n/a", summary
    )


def test_leak_trace_bench_traces_the_deliberate_leaker_at_small_scale():
    missing = [tool for tool in ("chromium", "pdftoppm", "tesseract") if shutil.which(tool) is None]
    if missing:
        reason = f"print-and-OCR tools missing: {', '.join(missing)} (.ci/run installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    output = _run("leak_trace.py", "--smoke", timeout=900)

    summary = output.strip().splitlines()[-1]
    figures = re.fullmatch(
        r"leak-trace: top1_at_500=(\S+)% folded_top1_at_1000=(\S+)% folded_top1_at_2000=(\S+)% "
        r"ocr_top1_at_2000=(\S+)% poc_top1=(\S+)% false_accusations=(\d+)/(\d+) trace_ms_(\d+)=(\d+)",
        summary,
    )
    assert figures, summary
    assert figures.group(6) == "0"  # nobody innocent named
    assert int(figures.group(7)) > 0
    assert float(figures.group(5)) > 0  # the PoC layer measured something


# The benches that read a seeded program: each runs at small scale against a throwaway PostgreSQL database (created
# by seed_scale.py --smoke, dropped at the end) and the test Redis database.


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def bench_environment(tmp_path_factory):
    import psycopg
    import redis

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        _unavailable("the seeded benches need PostgreSQL (DATABASE_URL)")
    # A Redis database of the benches' own: their workers never share a queue with the integration tests' workers.
    redis_url = os.environ.get("FOREWARN_TEST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"the fan-out bench needs Redis at {redis_url} (FOREWARN_TEST_BENCH_REDIS_URL): {error}")
    name = f"fw_bench_smoke_{uuid.uuid4().hex[:12]}"
    server = urlparse(database_url)
    environment = {
        "FOREWARN_BENCH_DATABASE_URL": server._replace(path=f"/{name}").geturl(),
        "FOREWARN_BENCH_REDIS_URL": redis_url,
        "FOREWARN_BENCH_VAR_DIR": str(tmp_path_factory.mktemp("bench")),
    }
    yield environment
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def seeded(bench_environment):
    return _run("seed_scale.py", "--smoke", timeout=300, environment=bench_environment)


def test_seed_scale_bench_seeds_a_small_program_through_every_table(seeded):
    figures = re.fullmatch(
        r"bench seed_scale: seconds=\S+ baseline=\S+ ratio=\S+ organisations=20 users=83 advisories=50 "
        r"deliveries=(\d+) permissions=(\d+) download_events=(\d+) rows=\d+",
        _summary(seeded, "bench seed_scale:"),
    )
    assert figures, seeded
    deliveries, permissions, download_events = (int(value) for value in figures.groups())
    assert deliveries >= 4 * 50  # the large organisations and the early ones hold every advisory
    assert permissions > deliveries  # documents and artifacts too
    assert download_events > 0


def test_fanout_bench_releases_to_every_organisation_with_as_many_queries_at_a_tenth(seeded, bench_environment):
    output = _run("fanout.py", "--smoke", timeout=300, environment=bench_environment)

    figures = re.fullmatch(
        r"bench fanout: seconds_all=\S+ baseline=\S+ ratio=\S+ organisations=40 queries_all=(\d+) "
        r"organisations_tenth=4 seconds_tenth=\S+ baseline_tenth=\S+ ratio_tenth=\S+ queries_tenth=(\d+) "
        r"target=\S+ met=(True|False) load=\S+",
        _summary(output, "bench fanout:"),
    )
    assert figures, output
    assert figures.group(1) == figures.group(2)  # the release's queries do not grow with the organisations
    import psycopg

    # The organisations it added for the run are gone: the next benches read the seeded program.
    with psycopg.connect(bench_environment["FOREWARN_BENCH_DATABASE_URL"]) as database:
        counts = database.execute("SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM partners_partner")
        assert counts.fetchone() == (20, 20)


def test_pages_bench_times_the_real_pages_and_their_baselines(seeded, bench_environment):
    output = _run("pages.py", "--smoke", timeout=300, environment=bench_environment)

    summary = _summary(output, "bench pages:")
    assert re.fullmatch(
        r"bench pages: list_p1_median_ms=\S+ baseline=\S+ ratio=\S+ list_p1_p95_ms=\S+ list_p1_queries=\d+ "
        r"(list_deep|detail|download)_median_ms=.* download_queries=\d+ worst_ratio=\S+ met=(True|False) load=\S+",
        summary,
    ), output
    for page in ("list_deep", "detail", "download"):
        assert re.search(rf" {page}_median_ms=\S+ {page}_baseline_ms=\S+ {page}_ratio=\S+ ", summary), page


def test_load_bench_serves_the_real_pages_under_wrk(seeded, bench_environment):
    if shutil.which("wrk") is None:
        _unavailable("the load bench needs wrk (Debian package wrk; .ci/run installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    output = _run(
        "load.sh", "--smoke", timeout=300, environment={**bench_environment, "LOAD_PORT": str(port)}, bash_script=True
    )

    figures = re.fullmatch(
        r"bench load: list_rps=(\S+) baseline=\S+ ratio=\S+ list_p99_ms=\S+ baseline_p99_ms=\S+ download_rps=(\S+) "
        r"download_baseline_rps=\S+ download_ratio=\S+ download_p99_ms=\S+ download_baseline_p99_ms=\S+ errors=0 "
        r"load=\S+",
        _summary(output, "bench load:"),
    )
    assert figures, output
    assert float(figures.group(1)) > 0 and float(figures.group(2)) > 0


def test_pages_bench_refuses_to_time_a_page_the_user_is_not_shown(seeded, bench_environment):
    """Agreements that lapsed: the portal answers with its no-access page, which the bench must not time."""
    import psycopg

    lapse = (
        "UPDATE compliance_agreement SET valid_until = valid_until - interval '{shift}' WHERE partner_id = "
        "(SELECT id FROM partners_partner WHERE legal_name = 'Partner 0001 Security Ltd')"
    )
    database = psycopg.connect(bench_environment["FOREWARN_BENCH_DATABASE_URL"], autocommit=True)
    try:
        database.execute(lapse.format(shift="1000 days"))
        result = _run(
            "pages.py", "--smoke", timeout=300, environment=bench_environment, expected_returncode=2, raw=True
        )
    finally:
        database.execute(lapse.format(shift="-1000 days"))
        database.close()

    assert re.search(r"^bench: cannot measure: .* answered 403", result.stderr, re.MULTILINE), result.stderr
    assert "bench pages:" not in result.stdout


def test_markdown_rendering_bench_renders_every_case_in_linear_time_at_small_scale():
    output = _run("markdown_rendering.py", "--smoke", timeout=300)

    figures = re.fullmatch(
        r"bench markdown: worst=\S+s \(.+\) baseline=\S+s ratio=\S+ max_growth_4x=(\S+) chars=32000 cases=14 "
        r"load=\S+",
        _summary(output, "bench markdown:"),
    )
    assert figures, output


def test_punctuality_bench_releases_with_the_notices_flowing_to_an_smtp_sink(seeded, bench_environment):
    output = _run("punctuality.py", "--smoke", timeout=400, environment=bench_environment)

    figures = re.fullmatch(
        r"bench punctuality: lateness_p99_s=\S+ baseline=\S+ ratio=\S+ lateness_median_s=\S+ baseline_median_s=\S+ "
        r"recorded_p99_s=\S+ pickup_p99_s=\S+ released_early=(\d+) waves=3 interval_s=\S+ emails=(\d+) "
        r"not_emailed=(\d+) last_email_median_s=\S+ last_email_max_s=\S+ generic_last_email_max_s=\S+ "
        r"emails_per_s=\d+ met=(True|False)",
        _summary(output, "bench punctuality:"),
    )
    assert figures, output
    released_early, emails, not_emailed = (int(figures.group(number)) for number in (1, 2, 3))
    assert released_early == 0
    assert emails > 0 and not_emailed == 0
