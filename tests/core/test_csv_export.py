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
