"""Markdown renders the features authors use, sanitised, in time that grows linearly with the input."""

import gc
import time

import pytest

from core.markdown import render_markdown


def test_tables_fenced_code_and_emphasis_render():
    html = render_markdown(
        "## Impact\n\n| Product | Fixed in |\n| --- | --- |\n| Gateway | 4.2 |\n\n"
        "```python\nif size > limit:\n    raise ValueError\n```\n\n**Apply** the *update* ~~later~~ now, see <https://vendor.test>."
    )

    assert "<h2>Impact</h2>" in html
    assert "<th>Product</th>" in html and "<td>Gateway</td>" in html
    assert "<pre><code>if size &gt; limit:\n    raise ValueError\n</code></pre>" in html
    assert "<strong>Apply</strong> the <em>update</em> <s>later</s> now" in html
    assert '<a href="https://vendor.test" rel="noopener noreferrer">https://vendor.test</a>' in html


def test_scripts_event_handlers_and_javascript_links_are_removed():
    html = render_markdown(
        'Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))\n\n'
        '<div onclick="alert(4)">block</div>\n\n[y](data:text/html,alert(5))'
    )

    assert "<script" not in html and "onerror" not in html and "onclick" not in html
    assert "javascript:" not in html.replace("[x](javascript:alert(3))", "")
    assert 'href="javascript' not in html and 'href="data' not in html


@pytest.mark.parametrize("text", ["- " * 5000 + "a", ">" * 5000 + " b", "[" * 5000 + "a" + "]" * 5000])
def test_deeply_nested_input_renders_without_recursing_to_death(text):
    assert render_markdown(text).startswith(("<ul>", "<blockquote>", "<p>"))


# Inputs that made regular-expression Markdown parsers backtrack: each is n characters long.
ADVERSARIAL = {
    "unclosed brackets": lambda n: "[" * n,
    "nested brackets": lambda n: "[" * (n // 2) + "a" + "]" * (n // 2),
    "unclosed images": lambda n: "![" * (n // 2),
    "unclosed link destinations": lambda n: "[a](" * (n // 4),
    "emphasis runs": lambda n: "*a_" * (n // 3),
    "long table": lambda n: "| a | b |\n| --- | --- |\n" + "| x | y |\n" * (n // 10),
}


def _cpu_seconds(text: str) -> float:
    """Best of three CPU times (not wall-clock: other processes on the machine do not count), garbage collection
    paused so that it cannot land in one measurement and not the other."""
    gc.collect()
    gc.disable()
    try:
        times = []
        for _ in range(3):
            start = time.process_time()
            render_markdown(text)
            times.append(time.process_time() - start)
        return min(times)
    finally:
        gc.enable()


@pytest.mark.parametrize("case", ADVERSARIAL, ids=list(ADVERSARIAL))
def test_rendering_time_grows_linearly_with_adversarial_input(case):
    small, large = ADVERSARIAL[case](8_000), ADVERSARIAL[case](32_000)

    small_seconds = _cpu_seconds(small)
    # A generous absolute bound first, so that a quadratic renderer fails here instead of running for minutes.
    assert small_seconds < 2.0, f"{case}: 8,000 characters took {small_seconds:.2f} s"
    large_seconds = _cpu_seconds(large)

    # Four times the input: about four times the work when linear, sixteen when quadratic.
    assert large_seconds < 8 * max(small_seconds, 0.005), (
        f"{case}: {small_seconds:.3f} s for 8,000 characters, {large_seconds:.3f} s for 32,000"
    )
