"""Cells of an .xlsx that a reader would take as empty, or as a number, wrongly.

Excel and WPS save each formula's last result beside it, and that result is what a reader
(calamine, like every library that does not calculate) sees. A workbook written by a
script or an exporter that does not calculate holds the formula alone (openpyxl), or a
placeholder result and a flag asking Excel to calculate everything on opening
(`fullCalcOnLoad`, xlsxwriter and the libraries built on it): the cell reads as empty or
0, so `=240` in a MOQ column would silently become no MOQ. A cell holding an Excel error
(`#DIV/0!`, `#REF!`, `t="e"`) reads as empty too. Such cells are found in the sheet's XML
in one pass over its formulas and errors; `SheetCells.origin` is the sheet's first used
row and column, where a reader's first row and column are.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OPEN_CELL = re.compile(rb"<(?:\w+:)?c(?=[\s>])[^>]*>")
"""A cell's start tag with content (a self-closing `<c .../>` holds nothing)."""
_PROBLEM = re.compile(rb"<(?:\w+:)?f[\s>/]|\st\s*=\s*[\"']e[\"']")
_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]+)(\d+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]+)</(?:\w+:)?v>")
_TEXT_RESULT = re.compile(rb"""\st\s*=\s*["'](?:str|inlineStr)["']""")
_ERROR = re.compile(rb"""\st\s*=\s*["']e["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_FULL_CALC = re.compile(rb"""fullCalcOnLoad\s*=\s*["'](?:1|true)["']""")
_CLOSE_CELL = re.compile(rb"</(?:\w+:)?c>")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v>[^<]|is>)")


@dataclass
class SheetCells:
    """The cells a reader takes wrongly: (column letters, row, what), `what` one of
    "formula" (no saved result) or the Excel error shown ("#DIV/0!"); `origin` the first
    used (row, column number from 1) of the sheet, None when nothing was found."""

    found: list[tuple[str, int, str]] = field(default_factory=list)
    origin: tuple[int, int] | None = None


def column_number(letters: str) -> int:
    """A = 1, Z = 26, AA = 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def sheet_xml_path(book: zipfile.ZipFile, sheet: str | int) -> str | None:
    """The zip member of the sheet named `sheet` (or at 0-based position `sheet`)."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheets = workbook.findall(f"{_MAIN}sheets/{_MAIN}sheet")
    if isinstance(sheet, int):
        chosen = sheets[sheet] if 0 <= sheet < len(sheets) else None
    else:
        chosen = next((s for s in sheets if s.get("name") == sheet), None)
    if chosen is None:
        return None
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.findall(f"{_PACKAGE_RELS}Relationship"):
        if rel.get("Id") == chosen.get(_RELS):
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return None


def misread_cells(path: Path, sheet: str | int) -> SheetCells:
    """The formula cells of `sheet` without a saved result (or with the placeholder 0 when
    the workbook asks to be calculated on opening) and its error cells, in sheet order;
    nothing to find costs one scan of the sheet's bytes."""
    try:
        with zipfile.ZipFile(path) as book:
            member = sheet_xml_path(book, sheet)
            if member is None:
                return SheetCells()
            placeholders = bool(_FULL_CALC.search(book.read("xl/workbook.xml")))
            xml = book.read(member)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return SheetCells()  # the reader itself says what is wrong with the file
    found = []
    end = 0
    for problem in _PROBLEM.finditer(xml):
        if problem.start() < end:
            continue  # a second hit inside the cell just read
        start = _cell_start(xml, problem.start() + 1)
        close = _CLOSE_CELL.search(xml, problem.start())
        if start < 0 or close is None:
            continue
        end = close.end()
        cell = xml[start:end]
        tag = cell[: cell.find(b">") + 1]
        ref = _REF.search(tag)
        if ref is None:
            continue  # no reference: the cell cannot be placed in a column
        value = _VALUE.search(cell)
        if _ERROR.search(tag):
            what = value[1].decode(errors="replace") if value else "#VALUE!"
        elif not _FORMULA.search(cell) or _TEXT_RESULT.search(tag):
            continue
        elif value is None or (placeholders and value[1].strip() in (b"0", b"")):
            what = "formula"  # no result, or the placeholder 0 of a workbook not calculated
        else:
            continue
        found.append((ref[1].decode(), int(ref[2]), what))
    if not found:
        return SheetCells()
    return SheetCells(found, _origin(xml))


def _cell_start(xml: bytes, before: int) -> int:
    """Where the cell holding the tag just before `before` starts (-1: none): back tag by
    tag to the `<c ...>` (a formula or value is among the cell's first children)."""
    start = xml.rfind(b"<", 0, before)
    while start > 0 and not _OPEN_CELL.match(xml, start):
        start = xml.rfind(b"<", 0, start)
    return start


def _origin(xml: bytes) -> tuple[int, int] | None:
    """The first row and column holding a value (a saved result or a text), as a reader
    counts the sheet's rows and columns from there (a formula without a result is not one)."""
    rows, columns, end = [], [], 0
    for value in _HAS_VALUE.finditer(xml):
        if value.start() < end:
            continue
        start = _cell_start(xml, value.start())
        close = _CLOSE_CELL.search(xml, value.start())
        end = close.end() if close else value.end()
        ref = _REF.search(xml, start, xml.find(b">", start) + 1) if start >= 0 else None
        if ref:
            rows.append(int(ref[2]))
            columns.append(column_number(ref[1].decode()))
    return (min(rows), min(columns)) if rows else None
