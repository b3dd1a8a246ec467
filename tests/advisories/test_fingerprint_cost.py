"""Fingerprinting a text costs time in proportion to its size, whatever the text holds (bench/fingerprint_size.py
measures the figures; these tests catch a quadratic case an artifact could trigger)."""

import time

import pytest

from advisories.fingerprinting import copy_key, personalise
from advisories.fingerprinting.code import SourceText, _build_serving_template
from advisories.fingerprinting.text import tokenize

# A regular expression searched from every position of this run, as the word reader once was, takes minutes.
LONG_RUN = 30_000
GENEROUS_SECONDS = 2.0  # the linear reading takes milliseconds


@pytest.mark.parametrize("code", [False, True], ids=["prose", "code"])
def test_words_are_read_in_linear_time_when_a_long_run_of_punctuation_ends_the_text(code):
    text = "The flaw does not check the size.\n" + "-=" * (LONG_RUN // 2)

    started = time.process_time()
    tokens = tokenize(text, code=code)
    elapsed = time.process_time() - started

    assert len(tokens) == 7
    assert elapsed < GENEROUS_SECONDS


def test_a_code_artifact_ending_in_a_long_ascii_banner_is_personalised_in_linear_time():
    text = "# The helper does not, for example, check the size.\nSIZE = {{= 16 | 32 =}}\n#" + "=" * LONG_RUN + "\n"
    key = copy_key(token="0" * 64, user_id=1)

    started = time.process_time()
    copy = personalise(_build_serving_template(SourceText(text, kind="code")), key)
    elapsed = time.process_time() - started

    assert copy.endswith("=" * LONG_RUN + "\n")
    assert "{{=" not in copy
    assert elapsed < GENEROUS_SECONDS
