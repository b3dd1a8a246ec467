"""CSV downloads that a spreadsheet opens safely, streamed row by row so a large export never sits in memory."""

import csv
import re
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet guesses the separator (comma, or semicolon in many European locales, or tab) and may ignore quotes,
# so any separator inside a cell can start a new cell there: "x;=HYPERLINK(...)" read with ";" is two cells, the
# second a formula. A trigger after a separator (past spaces and quotes) is therefore quoted like one at the start.
_TRIGGER_AFTER_SEPARATOR = re.compile(r'([,;\t\r\n][\s"]*)([=+\-@])')
_TRIGGER_AT_START = re.compile(r'[\s"]*[=+\-@]')


def safe_cell(value) -> str:
    """The value as text that no spreadsheet runs as a formula, whether it reads the file with comma, semicolon or
    tab as separator: a formula trigger starting the cell, or starting what a separator inside it would make a
    cell, is prefixed with a quote so it stays text."""
    if value is None:
        return ""
    text = _TRIGGER_AFTER_SEPARATOR.sub(r"\1'\2", str(value))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) or _TRIGGER_AT_START.match(text) else text


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def streamed_csv(*, filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A streamed CSV attachment: the header, then every row with each cell made safe."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([safe_cell(cell) for cell in header])
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
