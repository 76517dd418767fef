"""Formula cells an .xlsx holds without a saved value.

Excel and WPS save each formula's last result beside it, and that result is what a reader
(calamine, like every library that does not calculate) sees. A workbook written by a
script or an exporter that does not calculate (openpyxl, many web ERPs) holds the formula
alone: the cell reads as empty, so `=240` in a MOQ column would silently become no MOQ.
Such cells are found in the sheet's XML: a `<c>` with an `<f>` and no `<v>`, or an empty
one that is not a text result (`t="str"`: a formula that returned "").
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]+</(?:\w+:)?v>")
_TEXT_RESULT = re.compile(rb'\st="(?:str|inlineStr)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


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


def uncalculated_cells(path: Path, sheet: str | int) -> list[tuple[str, int]]:
    """(column letters, row number) of every formula cell of `sheet` without a saved value,
    in sheet order; empty for a workbook whose formulas all carry their results (or that
    has none: one scan of the sheet's bytes for `<f`)."""
    try:
        with zipfile.ZipFile(path) as book:
            member = sheet_xml_path(book, sheet)
            if member is None:
                return []
            xml = book.read(member)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return []  # the reader itself says what is wrong with the file
    found = []
    for formula in _FORMULA.finditer(xml):
        at = formula.start()
        start = max(xml.rfind(b"<c ", 0, at), xml.rfind(b"<c>", 0, at))
        close = xml.find(b"</c>", at)
        if start < 0 or close < 0:
            continue
        cell = xml[start : close + 4]
        if _VALUE.search(cell) or _TEXT_RESULT.search(cell[: cell.find(b">") + 1]):
            continue
        ref = _REF.search(cell)
        if ref:
            found.append((ref[1].decode(), int(ref[2])))
    return found
