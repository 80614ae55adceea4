"""CSV exports for spreadsheets: ";" separator, UTF-8 with BOM, and no cell a spreadsheet would run.

A cell starting with = + - @, a tab or a carriage return is read as a formula by Excel and
LibreOffice (« =HYPERLINK(…) » in a payer's name would become a live link): such cells get a
leading apostrophe, which spreadsheets show as plain text (OWASP's advice on CSV injection).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int:
    """A value as written in the CSV: numbers as they are, text neutralised if it could be a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The whole file: a header row, then every row with each cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return "\ufeff" + buffer.getvalue()  # BOM so spreadsheet software reads the accents as UTF-8
