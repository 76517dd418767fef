"""Read ERP exports (CSV, XLSX, Parquet) into canonical, typed Polars frames.

Every file is first read as text, headers are mapped to canonical names, then each
column is cast; the first value that does not cast is reported by file, row and
column (row numbers count the header as row 1, as a spreadsheet shows them).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockplan.config import Config, DatabaseInput, InputFile
from stockplan.errors import StockplanError, input_error, quote
from stockplan.i18n import both, input_name, phrase, place
from stockplan.io.columns import ROW as ROW  # re-exported: the row-number column's name
from stockplan.io.columns import SOURCE_FILE, map_headers, refuse_blank_locations, type_table
from stockplan.io.columns import parse_dates as parse_dates  # re-exported
from stockplan.io.datasets import is_dataset, read_dataset
from stockplan.io.schema import SCHEMAS, TableSchema, normalise_header

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 20  # title lines an export may put above its header
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted .xlsx is an OLE compound file
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
MISDECODED = re.compile("[\ue000-\uf8ff\ufffd]")
"""Private-use or replacement characters: bytes read in the wrong encoding."""


@dataclass(frozen=True)
class RawTable:
    """A file read as text cells; `header_row` is the header's 1-based line / sheet row;
    `workbook`: read as a workbook, whose typed numbers come as `1.503` (not a text saved
    with an `.xls` name); `sheet`: the sheet's name, for one of several sheets of a
    workbook read as one table."""

    frame: pl.DataFrame
    header_row: int = 1
    workbook: bool = False
    sheet: str | None = None


BIG5_PRIVATE_SHARE = 0.15
"""Share of a text's non-ASCII characters that GB18030 reads as private-use or undefined
from which it is taken to be Big5. Big5 puts its frequent characters under lead bytes A4-AF,
which GBK leaves to user-defined characters (造字): a Big5 file of traditional warehouse,
product and supplier names read as GB18030 comes out about one third private-use (34 %
measured on such names; 17 % over all 5,401 frequent Big5 characters, unweighted by use).
A GBK export holds at most a few user-defined characters: one to three among 45 Chinese
characters are 2-6 %, one among 10 in a two-line file 10 %. A GB18030 text under this
share is kept as it is (most simplified text also decodes as cp950, into nonsense)."""

GB2312_SHARE = 0.8
"""Share of a GB18030 text's non-ASCII characters in GB2312 (the simplified characters and
signs of every day) below which a text GB18030 reads with any private-use character is
tried as Big5 too. Simplified Chinese exports stay above it, a stray user-defined
character (造字) included; a Big5 text read as GB18030 falls far below, since every Big5
character whose second byte is 40-7E lands outside GB2312 (half of a list of traditional
grocery names whose lead bytes leave only 12 % private-use characters)."""


def _gb2312_share(text: str, wide: int) -> float:
    """The share of `text`'s `wide` non-ASCII characters that GB2312 holds."""
    outside = text.encode("gb2312", errors="replace").count(b"?") - text.count("?")
    return 1.0 - outside / max(wide, 1)


def _misread_cell(text: str, at: int) -> tuple[int, str | None, str, int]:
    """(line number, header of the column or None, the cell with its odd characters as
    `\\uXXXX`, 0-based field) of the character at `at` in a decoded text."""
    start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
    line = text[start : end if end >= 0 else len(text)].rstrip("\r")
    delimiter = _sniff_delimiter(line)
    field = line.count(delimiter, 0, at - start)
    header = _head_lines(text, 1)[0].split(delimiter) if start else []
    column = quote(header[field].strip(), 40) if field < len(header) else None
    cell = MISDECODED.sub(lambda c: f"\\u{ord(c.group()):04x}", line.split(delimiter)[field])
    return text.count("\n", 0, at) + 1, column, quote(cell, 40), field


_UTF8_CHINESE = re.compile(rb"[\xe3-\xe9][\x80-\xbf]{2}")
"""Three bytes such as UTF-8 writes a Chinese character (U+3000-U+9FFF: CJK signs and
ideographs) with: the first place a UTF-8 row of Chinese can start."""

_UTF8_CHINESE_ROW = re.compile(
    r"^[^\n\udc80-\udcff]*[\u3000-\u9fff][^\n\udc80-\udcff]*$", re.MULTILINE
)
"""A row, decoded as UTF-8 with each byte that is not UTF-8 kept as a lone surrogate
(`surrogateescape`), that is all UTF-8 and holds a Chinese character."""


def _one_encoding(raw: bytes, path: Path) -> None:
    """Refuse a file that is not UTF-8 as a whole but holds a row of UTF-8 Chinese: two
    exports in two encodings joined (a GBK export with a row pasted from a UTF-8 one, or the
    other way round). GB18030 reads most UTF-8 Chinese too, as other Chinese characters
    (缺货 as 缂鸿揣), so that row's name or location would be silently wrong. Names the first
    row in the encoding the file does not start in, and the other encoding's first row.

    A row counts as UTF-8 when all of it decodes as UTF-8 and it holds a Chinese character
    (U+3000-U+9FFF) so decoded. GBK text is seldom valid UTF-8, and then as Latin, Greek or
    Cyrillic letters (茅台 as `ę́`, 元 as `Ԫ`): 10 of the 1,879 Chinese words of this
    project's messages, README and tests are valid UTF-8 in GBK, none of them as Chinese;
    none of the sample's or of tests/erp_exports/; of random words of 1-4 GB2312 characters
    0 % (level 1) and 0.003 % (levels 1 and 2). The rows are looked at from the first three
    bytes shaped like UTF-8 Chinese on, in one search of the text decoded with the other
    bytes kept (none in a GBK sales file of the sample's kind, 350,000 rows and 16 MB,
    checked in 60 ms of its 0.75 s read; 0.4 s where every row holds such bytes)."""
    try:
        raw.decode("utf-8")
        return
    except UnicodeDecodeError as failed:  # stops at the first byte that is not UTF-8
        other = raw.count(b"\n", 0, failed.start) + 1
    first = _UTF8_CHINESE.search(raw)
    if first is None:
        return
    start = raw.rfind(b"\n", 0, first.start()) + 1
    text = raw[start:].decode("utf-8", errors="surrogateescape")
    found = _UTF8_CHINESE_ROW.search(text)
    if found is None:
        return
    row = raw.count(b"\n", 0, start) + text.count("\n", 0, found.start()) + 1
    key = "error.mixed_utf8_row" if row > other else "error.mixed_other_row"
    first_row, then = sorted((row, other))
    raise StockplanError(phrase(key, where=place(path, then), other=first_row))


def _decode(raw: bytes, path: Path, encoding: str | None, notes: list[str] | None = None) -> str:
    """The file's text: the declared `encoding`, else UTF-16 by its BOM, UTF-8, GB18030,
    or Big5 when GB18030 reads a `BIG5_PRIVATE_SHARE` of its characters as private-use
    and cp950 decodes it cleanly. A GB18030 text with fewer such characters (a GBK
    export's user-defined characters) is kept, with a note naming the first one."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise input_error(path, f"cannot decode as {encoding}: {exc}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text" is UTF-16
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise StockplanError(phrase("error.bad_utf16", where=place(path))) from None
    if b"\x00" in raw[:65536]:
        raise input_error(path, "is a binary file, not CSV text (wrong file or extension?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    _one_encoding(raw, path)
    try:
        text = raw.decode("gb18030")  # superset of GBK / GB2312, the usual Chinese ERP export
    except UnicodeDecodeError:
        raise StockplanError(phrase("error.not_utf8_gb18030", where=place(path))) from None
    misread = MISDECODED.search(text)
    if misread is None:
        return text
    odd = len(MISDECODED.findall(text))
    wide = len(text) - len(text.encode("ascii", "ignore"))  # non-ASCII characters
    row, column, cell, field = _misread_cell(text, misread.start())
    few = odd < BIG5_PRIVATE_SHARE * wide  # as many as a GBK export's 造字 may hold

    def as_gb18030() -> str:  # kept as GB18030 reads it, with a note on the first
        if notes is not None:
            notes.append(
                phrase(
                    "note.user_defined_characters",
                    where=place(path, row, column) if column else place(path, row),
                    cell=cell,
                    count=odd,
                )
            )
        return text

    if few and _gb2312_share(text, wide) >= GB2312_SHARE:  # a simplified export's 造字
        return as_gb18030()
    try:  # GB18030 reads almost any bytes: Big5 (Taiwan, Hong Kong) comes out as odd signs
        big5 = raw.decode("cp950")
        if MISDECODED.search(big5) is None:
            return big5
    except UnicodeDecodeError:
        pass
    if few:  # not Big5 either: GB18030 with its odd characters
        return as_gb18030()
    raise input_error(
        path,
        f"{'' if column else f'field {field + 1}: '}'{cell}' is not UTF-8, "
        "GB18030 or Big5 text (read as GB18030 it holds private-use or undefined "
        "characters); save the file as UTF-8, or set inputs.<table>.encoding",
        row=row,
        column=column,
    )


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _header_names(schema: TableSchema, overrides: Mapping[str, str]) -> dict[str, str]:
    """Normalised header -> column: the config's `columns:` mapping, then every alias."""
    names = {normalise_header(k): v for k, v in overrides.items()}
    return names | {normalise_header(a): c.name for c in schema.columns for a in c.headers}


def _matches_header(cells: list[str], schema: TableSchema, overrides: Mapping[str, str]) -> bool:
    """True when `cells` name every required column of `schema`."""
    names = _header_names(schema, overrides)
    found = {names.get(normalise_header(str(cell))) for cell in cells if cell is not None}
    required = {c.name for c in schema.columns if c.required}
    return required <= found and (not schema.one_of or bool(found & set(schema.one_of)))


def header_index(rows: list[list[str]], schema: TableSchema, overrides: Mapping[str, str]) -> int:
    """Index of the header among the first rows: title lines above it are skipped."""
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _matches_header(cells, schema, overrides):
            return index
    return 0


def _ragged_row(text: str, delimiter: str, skip: int) -> tuple[int, int, int] | None:
    """(line number, fields, header fields) of the first row with more fields than the header."""
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = None
    for number, row in enumerate(rows, start=1):
        if number <= skip or not row:
            continue
        if width is None:
            width = len(row)
        elif len(row) > width:
            return number, len(row), width
    return None


def _head_lines(text: str, count: int) -> list[str]:
    """`text.splitlines()[:count]` without splitting the whole text (a sales export has
    hundreds of thousands of lines): a growing prefix holds more than `count` lines, so
    the first `count` are complete."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def _read_csv(
    path: Path,
    spec: InputFile,
    schema: TableSchema,
    overrides: Mapping[str, str],
    notes: list[str] | None = None,
) -> RawTable:
    raw = path.read_bytes()
    text = _decode(raw, path, spec.encoding, notes)
    if not text or text.isspace():  # not `text.strip()`: a copy of the whole text
        raise input_error(path, "file is empty")
    # ASCII bytes read the same in every encoding detected: Polars reads them as they are,
    # not a UTF-8 copy of the text (one more copy of a file of 11 MB or more)
    data = raw if spec.encoding is None and raw.isascii() else None
    if "\r" in text and "\n" not in text:  # old Mac line ends: a CR inside a field of a
        text = text.replace("\r", "\n")  # CRLF or LF file stays in its field
        data = None
    lines = _head_lines(text, HEADER_SEARCH_ROWS)
    split = [line.split(spec.delimiter or _sniff_delimiter(line)) for line in lines]
    skip = header_index(split, schema, overrides)
    delimiter = spec.delimiter or _sniff_delimiter(lines[skip] if lines else "")
    try:
        frame = pl.read_csv(
            data if data is not None else text.encode("utf-8"),
            separator=delimiter,
            infer_schema=False,
            skip_rows=skip,
            raise_if_empty=True,
        )
    except pl.exceptions.PolarsError as exc:
        ragged = _ragged_row(text, delimiter, skip)
        if ragged is not None:
            line, fields, width = ragged
            raise StockplanError(
                phrase("error.ragged_row", where=place(path, line), fields=fields, width=width)
            ) from None
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise input_error(path, f"cannot parse as CSV ({first_line})") from None
    return RawTable(frame, header_row=skip + 1)


def _visible_sheets(reader: Any, path: Path) -> list[tuple[str, bool]]:
    """(name, holds a cell) of each sheet a person sees when opening the workbook
    (`reader`: it, open in fastexcel), in the workbook's order."""
    names = reader.sheet_names
    if not names:
        raise StockplanError(phrase("error.no_sheets", where=place(path)))
    visible: list[tuple[str, bool]] = []
    with _quiet_stderr():  # the Excel library prints a line for each chart sheet it opens
        for index, name in enumerate(names):
            first = reader.load_sheet(index, header_row=None, n_rows=1, dtypes="string")
            if first.visible == "visible":
                visible.append((name, first.width > 0))
    return visible


def _first_visible_sheet(
    reader: Any, path: Path, notes: list[str], visible: list[tuple[str, bool]] | None = None
) -> str:
    """Name of the first sheet a person sees when opening the workbook (`reader`: it, open
    in fastexcel; `visible`: its `_visible_sheets`, when known).

    A hidden first sheet is often a stale copy or a lookup list the ERP keeps: reading it
    without a word would plan on the wrong numbers.
    """
    names = reader.sheet_names
    visible = _visible_sheets(reader, path) if visible is None else visible
    if not visible:
        return names[0]
    chosen = next((name for name, cells in visible if cells), visible[0][0])
    passed = names[: names.index(chosen)]
    if passed:
        empty = {name for name, cells in visible if not cells}
        hidden = ", ".join(f"'{quote(n)}'" for n in passed if n not in empty)
        blank = ", ".join(f"'{quote(n)}'" for n in passed if n in empty)
        skipped = "; ".join(
            f"{kind}: {shown}" for kind, shown in (("hidden", hidden), ("empty", blank)) if shown
        )
        notes.append(
            f"{path}: reading sheet '{quote(chosen)}', the first visible one with cells "
            f"({skipped}); set `sheet:` to choose another"
            if blank
            else f"{path}: reading sheet '{quote(chosen)}', the first visible one "
            f"({skipped}); set `sheet:` to choose another"
        )
    return chosen


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Standard error closed for the block at the file descriptor: the Excel library writes
    a line there itself (not through Python) for each chart sheet, which would reach the
    buyer's terminal beside stockplan's one line. Its errors still raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _sheet_cells(reader: Any, name: str, rows: int | None = None) -> pl.DataFrame:
    """Every cell of the workbook's sheet `name` as text (its first `rows` rows only, when
    given), as `pl.read_excel(engine="calamine", has_header=False, infer_schema_length=0,
    drop_empty_rows=False)` gives them (columns `column_0`, `column_1`, ...), from the
    workbook `reader` already opened: Polars would open and parse it a second time and,
    with pyarrow installed, import pyarrow (0.3 s on two cores) to take the sheet as an
    Arrow batch."""
    cells = pl.DataFrame(
        reader.load_sheet(name, header_row=None, skip_rows=0, n_rows=rows, dtypes="string")
    )
    if cells.height == cells.width == 0:
        raise ValueError("empty Excel sheet")  # Polars' words (`_excel_error` quotes them)
    return cells.rename({c: f"column_{i}" for i, c in enumerate(cells.columns)})


def _excel_error(path: Path, exc: Exception) -> StockplanError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return input_error(path, f"cannot read as an Excel workbook ({message})")


def _chosen_sheet(names: list[str], chosen: str | int, path: Path, key: str) -> str | int:
    """The sheet `sheet:` names among the workbook's `names`: a name, or a 0-based position;
    a number past the last sheet that is a sheet's name (`sheet: 2024` for a sheet named
    2024) is that sheet. One naming none is refused naming the key, the value and the
    sheets the workbook has; a number that is both a position and another sheet's name is
    refused saying which it could be."""
    text = str(chosen)
    if isinstance(chosen, int):
        if text in names and 0 <= chosen < len(names) and names[chosen] != text:
            raise StockplanError(
                phrase(
                    "error.sheet_both",
                    where=place(path),
                    setting=key,
                    value=chosen,
                    position=quote(names[chosen]),
                    name=quote(text),
                )
            )
        if 0 <= chosen < len(names):
            return chosen
        if text in names:
            return text
    elif chosen in names:
        return chosen
    raise StockplanError(
        phrase(
            "error.no_such_sheet",
            where=place(path),
            setting=key,
            value=quote(text) if isinstance(chosen, int) else f"'{quote(text)}'",
            sheets=", ".join(f"'{quote(n)}'" for n in names),
            count=len(names),
        )
    )


def _open_workbook(path: Path) -> Any:
    """The workbook at `path` open in fastexcel; an encrypted one is refused saying so."""
    with path.open("rb") as handle:
        magic = handle.read(8)
    if path.suffix.lower() in (".xlsx", ".xlsm") and magic.startswith(OLE_MAGIC):
        raise StockplanError(phrase("error.encrypted", where=place(path)))
    import fastexcel

    return fastexcel.read_excel(path)


def read_excel_cells(
    path: Path, spec: InputFile, notes: list[str], key: str = "sheet"
) -> tuple[pl.DataFrame, str | int]:
    """(every cell of the chosen sheet as text, no header yet; the sheet read: its name, or
    its 0-based position as `sheet:` gave it); no `sheet:` = the first visible sheet. `key`:
    the setting that names the sheet (`inputs.sales.sheet`), for a sheet not found.

    Row i of the frame is the sheet's row i + 1: blank rows, above the first used one too,
    are kept (the reader would drop them), so every row number named is the one Excel
    shows."""
    try:
        reader = _open_workbook(path)
        chosen = spec.sheet if spec.sheet is not None else _first_visible_sheet(reader, path, notes)
        names = list(reader.sheet_names)
        chosen = _chosen_sheet(names, chosen, path, key)
        cells = _sheet_cells(reader, names[chosen] if isinstance(chosen, int) else chosen)
    except StockplanError:
        raise
    except Exception as exc:  # fastexcel raises its own types for corrupt files
        raise _excel_error(path, exc) from None
    if cells.height == 0 or not _filled_rows(cells, 1):
        raise input_error(path, "the sheet is empty")
    return cells, chosen


SHEET_TOP_ROWS = 500
"""Rows of a sheet looked at for its header when `_data_sheets` chooses the sheets to read
(title lines and blank rows above a header are far fewer)."""


def _header_columns(
    cells: pl.DataFrame, schema: TableSchema, overrides: Mapping[str, str]
) -> frozenset[str] | None:
    """The columns of `schema` that the header found among the first rows of `cells` maps
    to; None when no row there names every required column."""
    filled = _filled_rows(cells, HEADER_SEARCH_ROWS)
    top = [list(cells.row(i)) for i in filled]
    if not top:
        return None
    cells_of_header = top[header_index(top, schema, overrides)]
    if not _matches_header(cells_of_header, schema, overrides):
        return None
    names = _header_names(schema, overrides)
    found = {names.get(normalise_header(str(c))) for c in cells_of_header if c is not None}
    return frozenset(found - {None})  # type: ignore[arg-type]


def sheet_label(path: Path | str, sheet: str) -> str:
    """How a message names a sheet of a workbook read with others: `file, sheet '9月'`."""
    return f"{path}, sheet '{sheet}'"


_SHEET_LABEL = re.compile(r"^(.*), sheet '(.*)'$", re.DOTALL)


def _data_sheets(
    reader: Any, path: Path, schema: TableSchema, overrides: Mapping[str, str], notes: list[str]
) -> list[str]:
    """The sheets read when `sheet:` names none: from the first visible sheet with cells,
    the first whose header names every required column of `schema` (a cover sheet such as
    说明 before it is passed, with a note), then every later visible sheet whose header maps
    to the same columns (a month or a category per sheet: 8月, 9月, 10月), stacked as one
    table with a note naming them; a later sheet whose header maps to other columns, or to
    none, is left with a note. When no sheet has such a header, the first visible one
    (whose missing column is then refused)."""
    visible = _visible_sheets(reader, path)
    first = _first_visible_sheet(reader, path, notes, visible)
    names = list(reader.sheet_names)
    candidates = [first] + [
        n for n, filled in visible if filled and names.index(n) > names.index(first)
    ]
    if len(candidates) == 1:
        return candidates
    with _quiet_stderr():
        columns = {
            name: _header_columns(_sheet_cells(reader, name, SHEET_TOP_ROWS), schema, overrides)
            for name in candidates
        }
    data = [name for name in candidates if columns[name] is not None]
    if not data:
        return [first]
    table = {"en": schema.name, "zh": input_name(schema.name, "zh")}
    start = data[0]
    if start != first:
        passed = candidates[: candidates.index(start)]
        notes.append(
            phrase(
                "note.sheet_with_header",
                file=str(path),
                sheet=quote(start),
                table=table,
                passed=", ".join(f"'{quote(n)}'" for n in passed),
            )
        )
    read = [n for n in data if columns[n] == columns[start]]
    left = [n for n in candidates[candidates.index(start) + 1 :] if n not in read]
    if len(read) > 1:
        notes.append(
            phrase(
                "note.sheets_stacked",
                file=str(path),
                sheets=", ".join(f"'{quote(n)}'" for n in read),
                table=table,
            )
        )
    if left:
        notes.append(
            phrase(
                "note.sheets_left",
                file=str(path),
                sheets=", ".join(f"'{quote(n)}'" for n in left),
                first=quote(start),
                columns=", ".join(sorted(columns[start] or ())),
            )
        )
    return read


def _filled_rows(cells: pl.DataFrame, count: int) -> list[int]:
    """Indices of the first `count` rows of `cells` with a cell that is not blank (the
    header search looks at rows with something in them, as the CSV reader does)."""
    found: list[int] = []
    size = max(count, 64)
    while not found or len(found) < count:
        filled = (
            cells.head(size)
            .select(
                pl.any_horizontal(
                    pl.col(c).str.strip_chars().ne("").fill_null(False) for c in cells.columns
                )
            )
            .to_series()
        )
        found = filled.arg_true().head(count).to_list()
        if size >= cells.height:
            break
        size *= 4
    return found


def _read_excel(
    path: Path,
    spec: InputFile,
    schema: TableSchema,
    overrides: Mapping[str, str],
    notes: list[str],
) -> list[RawTable]:
    """The sheet `sheet:` names, else every sheet `_data_sheets` reads, each as a table of
    its own (`RawTable.sheet` set when there are several)."""
    if spec.sheet is not None:
        cells, sheet = read_excel_cells(path, spec, notes, f"inputs.{schema.name}.sheet")
        return [_sheet_table(path, sheet, cells, schema, overrides)]
    try:
        reader = _open_workbook(path)
        sheets = _data_sheets(reader, path, schema, overrides, notes)
        cells = [_sheet_cells(reader, name) for name in sheets]
    except StockplanError:
        raise
    except Exception as exc:  # fastexcel raises its own types for corrupt files
        raise _excel_error(path, exc) from None
    tables = []
    for name, sheet_cells in zip(sheets, cells, strict=True):
        where = Path(sheet_label(path, name)) if len(sheets) > 1 else path
        if sheet_cells.height == 0 or not _filled_rows(sheet_cells, 1):
            raise input_error(where, "the sheet is empty")
        table = _sheet_table(path, name, sheet_cells, schema, overrides, where)
        sheet = name if len(sheets) > 1 else None
        tables.append(RawTable(table.frame, table.header_row, True, sheet))
    return tables


def _sheet_table(
    path: Path,
    sheet: str | int,
    cells: pl.DataFrame,
    schema: TableSchema,
    overrides: Mapping[str, str],
    where: Path | None = None,
) -> RawTable:
    """One sheet's `cells` under their header (found below any title lines); `where`: how
    messages name the sheet (the file, or `sheet_label` when several are read)."""
    where = where or path
    filled = _filled_rows(cells, HEADER_SEARCH_ROWS)
    top = [list(cells.row(i)) for i in filled]
    index = filled[header_index(top, schema, overrides)]  # the header's row in the sheet - 1
    headers = [
        str(h).strip() if h is not None and str(h).strip() else f"column_{n + 1}"
        for n, h in enumerate(cells.row(index))
    ]
    if index + 1 < cells.height:
        _refuse_two_row_header(headers, list(cells.row(index + 1)), where, index + 2)
    _check_duplicate_headers(headers, where)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _refuse_uncalculated(path, sheet, cells, index, headers, schema, overrides, where)
        _refuse_long_numbers(path, sheet, cells, index, headers, schema, overrides, where)
    frame = cells.slice(index + 1).rename(dict(zip(cells.columns, headers, strict=True)))
    return RawTable(frame, header_row=index + 1, workbook=True)


def _refuse_uncalculated(
    path: Path,
    sheet: str | int,
    cells: pl.DataFrame,
    index: int,
    headers: list[str],
    schema: TableSchema,
    overrides: Mapping[str, str],
    where: Path | None = None,
) -> None:
    """A formula without a saved result, or an Excel error, in a column stockplan reads and
    a row below the header that is not a totals row, is refused naming its row, column and
    cell (`io.xlsx_formulas`): read as empty it would drop the value silently. `cells`:
    the sheet as read from its first row, its header at row `index` (0-based)."""
    from stockplan.io.columns import _totals_label
    from stockplan.io.xlsx_formulas import column_number, misread_cells

    misread = misread_cells(path, sheet)
    if not misread.found or misread.origin is None:
        return
    first_column = misread.origin[1]  # the reader's first column; its rows start at 1
    names = _header_names(schema, overrides)
    read = {n for n, h in enumerate(headers) if normalise_header(h) in names}
    body = cells.slice(index + 1)
    totals = set(
        body.with_row_index("_at").filter(_totals_label(body).is_not_null())["_at"].to_list()
    )
    used = []
    for letters, row, what in misread.found:  # a few cells: the refusal names the first
        at, column = row - index - 2, column_number(letters) - first_column
        if at >= 0 and column in read and at not in totals:
            used.append((letters, row, what, headers[column]))
    if not used:
        return
    letters, row, what, header = used[0]
    more = f"; {len(used)} such cells" if len(used) > 1 else ""
    problem = (
        f"a formula without a saved value (cell {letters}{row}{more}): the program that "
        "wrote the file did not calculate it, so it reads as empty; open and save the file "
        "in Excel or WPS, or paste the values"
        if what == "formula"
        else f"the Excel error {quote(what)} (cell {letters}{row}{more}) reads as empty; "
        "correct the formula or the cell"
    )
    raise input_error(where or path, problem, row=row, column=quote(header))


CODE_COLUMNS = ("sku", "kit_sku", "component_sku", "old_sku", "new_sku")
"""The columns that hold an item's code, which a spreadsheet must keep as text."""

SHORTENED_CODE = r"^\s*[0-9]\.[0-9]+E\+[0-9]{2,3}\s*$"
"""A code in the shortened scientific form a spreadsheet displays a long number in
(`6.90123E+12` for the barcode 6901234567890), saved so from a CSV opened in Excel: only
its first digits are left. A code such as `1E5` (no decimals) may be a shop's real code."""

EXCEL_DIGITS = 15
"""Significant digits a spreadsheet keeps of a number: a longer code typed or exported
as a number has lost its last digits (69012345678901234 becomes 69012345678901200 in
Excel, 69012345678901232 from a program that writes the double)."""


def refuse_lost_codes(frame: pl.DataFrame, mapping: Mapping[str, str], where: Path) -> None:
    """A code column (`CODE_COLUMNS`) holding a code in a spreadsheet's shortened
    scientific form (`SHORTENED_CODE`) is refused naming its first row and column: two
    barcodes 6901234567890 and 6901234567891 both shown as `6.90123E+12` would be planned
    as one item with both items' sales, and neither real code would have any."""
    for name in CODE_COLUMNS:
        if name not in frame.columns or frame.schema[name] != pl.String:
            continue
        lost = frame.filter(pl.col(name).str.contains(SHORTENED_CODE))
        if lost.height == 0:
            continue
        first = lost.sort(ROW).row(0, named=True)
        code = str(first[name]).strip()
        source = mapping.get(name, name)
        read_as = name if normalise_header(source) != name else None
        raise StockplanError(
            phrase(
                "error.code_shortened",
                where=place(where, first[ROW], source, read_as),
                code=code,
                digits=len(code.split("E")[0].replace(".", "")),
                more=both("reading.more_cells", count=lost.height) if lost.height > 1 else "",
            )
        )


_LONG_NUMBER = re.compile(rb"<(?:\w+:)?v>\s*(-?(?:\d{16,}(?:\.\d*)?|\d(?:\.\d+)?[Ee]\+?\d+))\s*<")
"""A saved number of 16 digits or more (or in exponent form, checked after)."""
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s[^>]*>")
_CELL_TYPE = re.compile(rb"""\st\s*=\s*["']([a-zA-Z]+)["']""")


def _long_number_cells(path: Path, sheet: str | int) -> tuple[list[tuple[str, int, str]], int]:
    """(column letters, row, value) of each cell of `sheet` holding a number of more than
    `EXCEL_DIGITS` digits before its decimal point, in sheet order, and the sheet's first
    used column (where the reader's first column is)."""
    import zipfile

    from stockplan.io.xlsx_formulas import _REF, _origin, sheet_xml_path

    try:
        with zipfile.ZipFile(path) as book:
            member = sheet_xml_path(book, sheet)
            xml = book.read(member) if member else b""
    except (OSError, KeyError, zipfile.BadZipFile):
        return [], 1
    found = []
    for value in _LONG_NUMBER.finditer(xml):
        number = value[1].decode()
        if "e" in number.lower():
            mantissa, exponent = number.lower().split("e")
            if int(exponent) < EXCEL_DIGITS:
                continue
        tags = list(_CELL_TAG.finditer(xml, max(0, value.start() - 400), value.start()))
        if not tags:
            continue
        tag = tags[-1][0]
        kind = _CELL_TYPE.search(tag)
        ref = _REF.search(tag)
        if ref is None or (kind is not None and kind[1] != b"n"):
            continue  # text (a shared or inline string, a formula's text result) is kept
        found.append((ref[1].decode(), int(ref[2]), number))
    origin = _origin(xml) if found else None
    return found, origin[1] if origin else 1


def _refuse_long_numbers(
    path: Path,
    sheet: str | int,
    cells: pl.DataFrame,
    index: int,
    headers: list[str],
    schema: TableSchema,
    overrides: Mapping[str, str],
    where: Path,
) -> None:
    """A number cell of more than `EXCEL_DIGITS` digits in a code column (`CODE_COLUMNS`)
    of an .xlsx is refused naming its cell: the code was typed or exported as a number and
    its last digits are gone (a 17-digit code read back as 69012345678901232), so two codes
    may be one and none is the item's. Text cells of any length are codes as written. The
    sheet's XML is looked at only when a code column holds such a long number."""
    names = _header_names(schema, overrides)
    codes = {n for n, h in enumerate(headers) if names.get(normalise_header(h)) in CODE_COLUMNS}
    if not codes:
        return
    body = cells.slice(index + 1)
    long = r"^\s*-?[0-9]{16,}(\.[0-9]*)?\s*$"
    if not body.select(
        pl.any_horizontal(pl.col(body.columns[n]).str.contains(long).any() for n in codes)
    ).item():
        return
    from stockplan.io.xlsx_formulas import column_number

    found, first_column = _long_number_cells(path, sheet)
    for letters, row, number in found:
        column = column_number(letters) - first_column
        if row > index + 1 and column in codes:
            header = headers[column]
            name = names[normalise_header(header)]
            read_as = name if normalise_header(header) != name else None
            shown = cells[row - 1, column]
            raise StockplanError(
                phrase(
                    "error.code_too_long_number",
                    where=place(where, row, quote(header), read_as),
                    cell=f"{letters}{row}",
                    value=quote(shown if shown is not None else number),
                    digits=EXCEL_DIGITS,
                )
            )


def _read_parquet(path: Path) -> RawTable:
    try:
        return RawTable(pl.read_parquet(path))
    except Exception as exc:
        raise input_error(path, f"cannot read as Parquet ({exc})") from None


def _blank_header(header: str) -> bool:
    """A header cell left empty (named `column_3` by the workbook reader, `` or
    `_duplicated_1` by the CSV reader)."""
    return not header.strip() or bool(re.fullmatch(r"column_\d+|_duplicated_\d+", header))


def two_row_header(headers: list[str], below: list[str | None]) -> tuple[str, list[str]] | None:
    """(group, the labels under it) when `headers` and the row `below` them are a header
    of two rows (`本期销售` over `数量`, `金额`, merged across the columns under it): the
    row below leaves its first cell empty, and labels (no numbers) stand under a header
    cell left empty. None otherwise."""
    cells = [("" if c is None else str(c).strip()) for c in below]
    if len(cells) < 2 or cells[0] or len(cells) != len(headers):
        return None
    under = [n for n, h in enumerate(headers) if _blank_header(h) and cells[n]]
    if not under or any(re.fullmatch(r"[-+0-9.,\s¥$%]+", c) for c in cells if c):
        return None
    column = under[0]
    start = max(n for n in range(column) if not _blank_header(headers[n])) if column else 0
    end = next((n for n in range(column, len(headers)) if not _blank_header(headers[n])), None)
    end = len(headers) if end is None or end <= column else end
    return headers[start], [c for c in cells[start:end] if c]


def _refuse_two_row_header(
    headers: list[str], below: list[str | None], where: Path, row: int
) -> None:
    """A header of two rows (`two_row_header`) is refused naming its second row: read as
    one, its labels would be the first row of data and its empty cells headers."""
    found = two_row_header(headers, below)
    if found is None:
        return
    group, labels = found
    raise StockplanError(
        phrase(
            "error.two_row_header",
            where=place(where, row),
            group=quote(group),
            labels=", ".join(f"'{quote(label)}'" for label in labels),
            first=quote(labels[0]),
        )
    )


def _check_duplicate_headers(headers: list[str], path: Path) -> None:
    seen: dict[str, str] = {}
    for header in headers:
        key = normalise_header(header, drop_unit=False)  # 数量(件) and 数量(箱) are two headers
        if key and key in seen:
            raise input_error(path, f"the header '{header}' appears twice")
        seen[key] = header


def _text_saved_as_xls(path: Path, notes: list[str]) -> bool:
    """True for a `.xls` that is really tab- or comma-separated text, as several ERPs and web
    systems export "Excel" files; it is then read as text. An HTML page saved as `.xls` is
    refused with what to do, not parsed."""
    if path.suffix.lower() != ".xls":
        return False
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith((OLE_MAGIC, b"PK\x03\x04")) or not head.strip():
        return False  # a real workbook (or an empty file, reported by the Excel reader)
    if b"<html" in head.lower() or b"<table" in head.lower() or head.lstrip().startswith(b"<"):
        raise StockplanError(phrase("error.web_page_xls", where=place(path)))
    notes.append(f"{path}: is text saved with an .xls name; read as delimited text")
    return True


def _check_regular_file(path: Path) -> None:
    """A folder, pipe (FIFO), socket or device is refused before it is opened: reading a
    FIFO nobody writes to would wait for ever (a cron job that never ends)."""
    if not path.exists():
        raise input_error(path, "file not found")
    if path.is_dir():
        raise input_error(path, "is a directory, expected a file")
    if not path.is_file():
        raise StockplanError(phrase("error.not_regular_file", where=place(path)))


INIT_READ_BYTES = 1 << 20  # enough of a text export to find and score its header


def read_top_rows(path: Path, notes: list[str] | None = None) -> list[list[str]]:
    """The first rows of a file as text cells, for `init` to score against every table.

    The file is read once, and a text export only as far as its first megabyte; title lines
    above the header are kept, so each table's header search sees them as `read_raw` does.
    """
    notes = notes if notes is not None else []
    _check_regular_file(path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES and not _text_saved_as_xls(path, notes):
        cells = read_excel_cells(path, InputFile(path=path), notes)[0]
        rows = [cells.row(i) for i in _filled_rows(cells, HEADER_SEARCH_ROWS)]
        return [["" if v is None else str(v) for v in row] for row in rows]
    if suffix in (".parquet", ".pq"):
        try:
            return [list(pl.read_parquet_schema(path))]
        except Exception as exc:
            raise input_error(path, f"cannot read as Parquet ({quote(exc, 200)})") from None
    with path.open("rb") as handle:
        raw = handle.read(INIT_READ_BYTES)
    if len(raw) == INIT_READ_BYTES:  # cut at a line end, not inside a character
        utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        end = raw.rfind(b"\n\x00" if utf16 else b"\n")
        raw = raw[: end + (2 if utf16 else 1)] if end > 0 else raw
    text = _decode(raw, path, None)
    if not text.strip():
        raise input_error(path, "file is empty")
    lines = [line for line in text.splitlines() if line.strip()][:HEADER_SEARCH_ROWS]
    return [next(csv.reader([line], delimiter=_sniff_delimiter(line)), []) for line in lines]


def _text_rows(cells: pl.DataFrame) -> list[list[str]]:
    """The first `HEADER_SEARCH_ROWS` filled rows of a sheet's `cells`, as text."""
    rows = [cells.row(i) for i in _filled_rows(cells, HEADER_SEARCH_ROWS)]
    return [["" if v is None else str(v) for v in row] for row in rows]


def read_sheet_tops(
    path: Path, notes: list[str] | None = None
) -> list[tuple[str, list[list[str]]]]:
    """(name, first rows as text cells) of each sheet of the workbook at `path` that a read
    without `sheet:` may read (`_data_sheets`): the first visible sheet with cells, then
    every later visible one with cells; for `init` to find the sheet that holds a table
    when a cover sheet (说明) comes first."""
    notes = notes if notes is not None else []
    _check_regular_file(path)
    try:
        reader = _open_workbook(path)
        visible = _visible_sheets(reader, path)
        first = _first_visible_sheet(reader, path, notes, visible)
        names = list(reader.sheet_names)
        later = [n for n, filled in visible if filled and names.index(n) > names.index(first)]
        with _quiet_stderr():
            return [
                (n, _text_rows(_sheet_cells(reader, n, SHEET_TOP_ROWS))) for n in [first, *later]
            ]
    except StockplanError:
        raise
    except Exception as exc:  # fastexcel raises its own types for corrupt files
        raise _excel_error(path, exc) from None


def is_workbook(path: Path) -> bool:
    """Whether `path` is read as a workbook (not text saved with an `.xls` name)."""
    return path.suffix.lower() in EXCEL_SUFFIXES and not _text_saved_as_xls(path, [])


def source_header(
    path: Path | str, table: str, column: str, overrides: Mapping[str, str] | None = None
) -> str | None:
    """The file's own header read as `column` of `table` (`箱规` for `pack_size`), for a
    message that names it; None when there is no file to look at (frames, a database, a
    dataset) or no such header. `path` may name a sheet of a workbook read with others
    (`sheet_label`); in a workbook the first sheet read with a header of `table` counts.
    Reads only the file's first rows."""
    overrides = overrides or {}
    schema = SCHEMAS[table]
    label = _SHEET_LABEL.match(str(path))
    file, sheet = (
        (Path(label[1]), label[2]) if label and not Path(path).exists() else (Path(path), None)
    )
    try:
        if is_workbook(file):
            tops = [rows for name, rows in read_sheet_tops(file) if sheet in (None, name)]
        else:
            tops = [read_top_rows(file)]
    except (StockplanError, OSError):
        return None
    headers = [rows[header_index(rows, schema, overrides)] for rows in tops if rows]
    if not headers:
        return None
    cells = next((h for h in headers if _matches_header(h, schema, overrides)), headers[0])
    names = _header_names(schema, overrides)
    found = (str(c).strip() for c in cells if names.get(normalise_header(str(c))) == column)
    return next(found, None)


def part_location_header(name: str, overrides: Mapping[str, str]) -> Callable[[str], str]:
    """The location header of a part file of dataset `name` (`source_header`), given its
    path, for `refuse_blank_locations`."""
    return lambda file: source_header(file, name, "location", overrides) or "location"


def read_raw(
    spec: InputFile,
    schema: TableSchema,
    overrides: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> list[RawTable]:
    """Read one file as it is, picking the reader by extension: one table, or a workbook's
    sheets read as one table (`_data_sheets`), each with its own header."""
    overrides = overrides or {}
    notes = notes if notes is not None else []
    path = Path(spec.path)
    _check_regular_file(path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES and not _text_saved_as_xls(path, notes):
        return _read_excel(path, spec, schema, overrides, notes)
    if suffix in (".parquet", ".pq"):
        return [_read_parquet(path)]
    table = _read_csv(path, spec, schema, overrides, notes)
    if table.frame.height:
        below = list(table.frame.row(0))
        _refuse_two_row_header(table.frame.columns, below, path, table.header_row + 1)
    duplicated = [c for c in table.frame.columns if "_duplicated_" in c]
    if duplicated:
        raise input_error(
            path, f"the header '{duplicated[0].split('_duplicated_')[0]}' appears twice"
        )
    _check_duplicate_headers(table.frame.columns, path)
    return [table]


def _typed(
    table: RawTable,
    schema: TableSchema,
    overrides: Mapping[str, str],
    where: Path,
    notes: list[str],
    identify_by: str,
    part: bool = False,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """A raw table's headers mapped and its cells typed and checked (`columns.type_table`),
    with the mapping (column -> header); `where` names it in messages."""
    raw = table.frame.rename({c: c.replace("\ufeff", "").strip() for c in table.frame.columns})
    mapping = map_headers(raw, schema, overrides, where, identify_by)
    typed = type_table(
        raw, schema, mapping, where, table.header_row, notes, table.workbook, part_file=part
    )
    return typed, mapping


def read_table(
    name: str,
    spec: InputFile | DatabaseInput,
    overrides: Mapping[str, str],
    notes: list[str] | None = None,
    identify_by: str = "name",
) -> pl.DataFrame:
    """Load one input table into canonical columns (plus `source_row`).

    Corrections worth telling the user (totals rows dropped, a hidden sheet skipped) are
    appended to `notes`. A folder or glob is a Parquet dataset (`io.datasets`): its rows
    also carry `source_file`, the part file they come from; so do the rows of a workbook
    whose sheets are read as one table, `file, sheet '9月'` (`sheet_label`).
    """
    if not isinstance(spec, InputFile):  # `{url, query}`: same mapping and typing, from a database
        from stockplan.io.database import read_database_table

        return read_database_table(name, spec, overrides, notes, identify_by)
    schema = SCHEMAS[name]
    notes = notes if notes is not None else []
    if is_dataset(spec.path):  # a folder or glob of Parquet part files, each read lazily
        frame = read_dataset(name, spec.path, overrides, identify_by, notes)
        if "location" in frame.columns and not schema.every_location_when_blank:
            # over every part file: a part whose cells are all blank is blank beside the others
            refuse_blank_locations(frame, part_location_header(name, overrides), spec.path)
        return frame
    path = Path(spec.path)
    tables = read_raw(spec, schema, overrides, notes)
    if len(tables) == 1:
        typed, mapping = _typed(tables[0], schema, overrides, path, notes, identify_by)
        refuse_lost_codes(typed, mapping, path)
    else:  # a workbook's sheets: each typed as a file of its own, then stacked
        labels = [sheet_label(path, t.sheet or "") for t in tables]
        kind = pl.Enum(labels)  # the workbook's order: messages name the first sheet first
        frames, headers = [], {}
        for table, label in zip(tables, labels, strict=True):
            frame, mapping = _typed(table, schema, overrides, Path(label), notes, identify_by, True)
            refuse_lost_codes(frame, mapping, Path(label))
            frames.append(frame.with_columns(pl.lit(label, kind).alias(SOURCE_FILE)))
            headers[label] = mapping.get("location", "location")
        typed = pl.concat(frames, how="diagonal_relaxed")
        if "location" in typed.columns and not schema.every_location_when_blank:
            # over every sheet: a sheet whose cells are all blank is blank beside the others
            refuse_blank_locations(typed, lambda label: headers[label], path)
    if typed.height == 0 and schema.need_rows:
        raise input_error(spec.path, "has a header but no data rows")
    return typed


ENGINE_READ_TABLES = ("sales", "stock", "products")
"""The tables a cluster plan's tasks may read themselves, each its own slice of skus."""


def engine_read_tables(config: Config) -> set[str]:
    """The input tables a cluster plan's tasks read themselves, each its own slice: sales,
    stock and products given as a Parquet dataset (folder or glob) under `forecast.engine`
    dask, ray or spark."""
    if config.forecast.engine == "local" or config.inputs is None:
        return set()
    specs = {name: getattr(config.inputs, name) for name in ENGINE_READ_TABLES}
    return {
        name
        for name, spec in specs.items()
        if isinstance(spec, InputFile) and is_dataset(spec.path)
    }


def load_inputs(
    config: Config, notes: list[str] | None = None, skip: set[str] | frozenset[str] = frozenset()
) -> dict[str, pl.DataFrame]:
    """Read every configured input table but those in `skip`; absent optional tables are
    simply missing."""
    tables: dict[str, pl.DataFrame] = {}
    for name, spec in config.inputs or ():
        if spec is None or name in skip:
            continue
        tables[name] = read_table(
            name, spec, config.columns.get(name, {}), notes, config.io.identify_by
        )
    return tables
