"""Read ERP exports (CSV, XLSX, Parquet) into canonical, typed Polars frames.

Every file is first read as text, headers are mapped to canonical names, then each
column is cast; the first value that does not cast is reported by file, row and
column (row numbers count the header as row 1, as a spreadsheet shows them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from stockplan.config import PLAUSIBLE_DATES, Config, DatabaseInput, InputFile
from stockplan.errors import StockplanError, input_error, quote
from stockplan.io.schema import CODE_ALIASES, SCHEMAS, Column, TableSchema, normalise_header

ROW = "source_row"
"""Hidden column carrying each record's row number in its file, for error messages."""

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%d.%m.%Y")
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-10
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 20  # title lines an export may put above its header
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted .xlsx is an OLE compound file
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
EXCEL_CELL_LIMIT = 32_767  # characters a spreadsheet cell holds
TOTALS_LABEL = r"^(合计|小计|总计|总合计|共计|total|totals|subtotal|grandtotal)[:：]?$"
"""A cell holding only this (case, spaces, `-` and `_` ignored) marks a totals / subtotal row."""
TOTALS_START = r"(?i)^[\s\-_\x{3000}]*(合|小|总|共|sub|grand|total)"
"""Cheap first pass: only cells starting like a totals label are looked at closely."""


@dataclass(frozen=True)
class RawTable:
    """A file read as text cells; `header_row` is the header's 1-based line / sheet row."""

    frame: pl.DataFrame
    header_row: int = 1


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise input_error(path, f"cannot decode as {encoding}: {exc}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text" is UTF-16
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise input_error(path, "starts like UTF-16 text but does not decode as it") from None
    if b"\x00" in raw[:65536]:
        raise input_error(path, "is a binary file, not CSV text (wrong file or extension?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")  # superset of GBK / GB2312, the usual Chinese ERP export
    except UnicodeDecodeError:
        raise input_error(
            path, "not valid UTF-8 or GB18030 text; set inputs.<table>.encoding"
        ) from None


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _matches_header(cells: list[str], schema: TableSchema, overrides: Mapping[str, str]) -> bool:
    """True when `cells` name every required column of `schema`."""
    names = {normalise_header(k): v for k, v in overrides.items()}
    names |= {normalise_header(a): c.name for c in schema.columns for a in (c.name, *c.aliases)}
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


def _read_csv(
    path: Path, spec: InputFile, schema: TableSchema, overrides: Mapping[str, str]
) -> RawTable:
    raw = path.read_bytes()
    text = _decode(raw, path, spec.encoding)
    if not text.strip():
        raise input_error(path, "file is empty")
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    split = [line.split(spec.delimiter or _sniff_delimiter(line)) for line in lines]
    skip = header_index(split, schema, overrides)
    delimiter = spec.delimiter or _sniff_delimiter(lines[skip] if lines else "")
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            separator=delimiter,
            infer_schema=False,
            skip_rows=skip,
            raise_if_empty=True,
        )
    except pl.exceptions.PolarsError as exc:
        ragged = _ragged_row(text, delimiter, skip)
        if ragged is not None:
            line, fields, width = ragged
            raise input_error(
                path, f"has {fields} fields where the header has {width}", row=line
            ) from None
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise input_error(path, f"cannot parse as CSV ({first_line})") from None
    return RawTable(frame, header_row=skip + 1)


def _first_visible_sheet(path: Path, notes: list[str]) -> str:
    """Name of the first sheet a person sees when opening the workbook.

    A hidden first sheet is often a stale copy or a lookup list the ERP keeps: reading it
    without a word would plan on the wrong numbers.
    """
    import fastexcel

    reader = fastexcel.read_excel(path)
    names = reader.sheet_names
    if not names:
        raise input_error(path, "the workbook has no sheets")
    for index, name in enumerate(names):
        if (
            reader.load_sheet(index, header_row=None, n_rows=1, dtypes="string").visible
            == "visible"
        ):
            if index:
                hidden = ", ".join(f"'{quote(n)}'" for n in names[:index])
                notes.append(
                    f"{path}: reading sheet '{quote(name)}', the first visible one "
                    f"(hidden: {hidden}); set `sheet:` to choose another"
                )
            return name
    return names[0]


def _excel_error(path: Path, exc: Exception) -> StockplanError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return input_error(path, f"cannot read as an Excel workbook ({message})")


def read_excel_cells(path: Path, spec: InputFile, notes: list[str]) -> pl.DataFrame:
    """Every cell of the chosen sheet as text (no header yet); no `sheet:` = first visible."""
    with path.open("rb") as handle:
        magic = handle.read(8)
    if path.suffix.lower() in (".xlsx", ".xlsm") and magic.startswith(OLE_MAGIC):
        raise input_error(
            path, "is password-protected (encrypted); save an unprotected copy and use that"
        )
    try:
        sheet: dict[str, str | int] = {}
        if isinstance(spec.sheet, int):
            sheet = {"sheet_id": spec.sheet + 1}
        elif spec.sheet is not None:
            sheet = {"sheet_name": spec.sheet}
        else:
            sheet = {"sheet_name": _first_visible_sheet(path, notes)}
        cells = pl.read_excel(
            path, engine="calamine", infer_schema_length=0, has_header=False, **sheet
        )
    except StockplanError:
        raise
    except Exception as exc:  # fastexcel raises its own types for corrupt files
        raise _excel_error(path, exc) from None
    if cells.height == 0:
        raise input_error(path, "the sheet is empty")
    return cells


def _read_excel(
    path: Path,
    spec: InputFile,
    schema: TableSchema,
    overrides: Mapping[str, str],
    notes: list[str],
) -> RawTable:
    cells = read_excel_cells(path, spec, notes)
    top = [list(row) for row in cells.head(HEADER_SEARCH_ROWS).iter_rows()]
    index = header_index(top, schema, overrides)
    headers = [
        str(h).strip() if h is not None and str(h).strip() else f"column_{n + 1}"
        for n, h in enumerate(top[index])
    ]
    _check_duplicate_headers(headers, path)
    frame = cells.slice(index + 1).rename(dict(zip(cells.columns, headers, strict=True)))
    return RawTable(frame, header_row=index + 1)


def _read_parquet(path: Path) -> RawTable:
    try:
        return RawTable(pl.read_parquet(path))
    except Exception as exc:
        raise input_error(path, f"cannot read as Parquet ({exc})") from None


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
        raise input_error(
            path,
            "is a web page saved with an .xls name, not a workbook; open it in Excel and save "
            "it as .xlsx, or export CSV",
        )
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
        raise input_error(
            path, "is not a regular file (a pipe, socket or device); export to a file"
        )


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
        cells = read_excel_cells(path, InputFile(path=path), notes).head(HEADER_SEARCH_ROWS)
        return [["" if v is None else str(v) for v in row] for row in cells.iter_rows()]
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


def read_raw(
    spec: InputFile,
    schema: TableSchema,
    overrides: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> RawTable:
    """Read one file as it is, picking the reader by extension."""
    overrides = overrides or {}
    notes = notes if notes is not None else []
    path = Path(spec.path)
    _check_regular_file(path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES and not _text_saved_as_xls(path, notes):
        return _read_excel(path, spec, schema, overrides, notes)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    table = _read_csv(path, spec, schema, overrides)
    duplicated = [c for c in table.frame.columns if "_duplicated_" in c]
    if duplicated:
        raise input_error(
            path, f"the header '{duplicated[0].split('_duplicated_')[0]}' appears twice"
        )
    _check_duplicate_headers(table.frame.columns, path)
    return table


def map_headers(
    frame: pl.DataFrame,
    schema: TableSchema,
    overrides: Mapping[str, str],
    path: Path,
    identify_by: str = "name",
) -> dict[str, str]:
    """Return {canonical name: source header} for the columns this file has.

    Two headers for one column are an error, except a code and a name of the same thing
    (仓库编码 and 仓库名称): `identify_by` ("name" or "code") picks one of those.
    """
    known = schema.by_name
    override_by_header = {normalise_header(k): v for k, v in overrides.items()}
    for target in override_by_header.values():
        if target not in known:
            raise StockplanError(
                f"config: columns.{schema.name} maps to '{target}', which is not a "
                f"{schema.name} column (expected one of: {', '.join(known)})"
            )
    alias_to_name = {
        normalise_header(a): c.name for c in schema.columns for a in (c.name, *c.aliases)
    }
    mapping: dict[str, str] = {}
    for header in frame.columns:
        key = normalise_header(header)
        name = override_by_header.get(key) or alias_to_name.get(key)
        if name is None:
            continue
        if name in mapping:
            if (
                key in override_by_header
                and normalise_header(mapping[name]) not in override_by_header
            ):
                mapping[name] = header  # an explicit mapping beats an alias match
                continue
            if normalise_header(mapping[name]) in override_by_header:
                continue
            pair = {normalise_header(mapping[name]) in CODE_ALIASES, key in CODE_ALIASES}
            if pair == {True, False}:  # one code, one name of the same warehouse / supplier
                if (key in CODE_ALIASES) == (identify_by == "code"):
                    mapping[name] = header
                continue
            raise input_error(
                path,
                f"columns '{mapping[name]}' and '{header}' both look like '{name}'; "
                f"say which one under columns.{schema.name} in the config",
            )
        mapping[name] = header
    for column in schema.columns:
        if column.required and column.name not in mapping:
            found = ", ".join(f"'{quote(c, 40)}'" for c in frame.columns[:12])
            raise input_error(
                path,
                f"missing required column '{column.name}' (found {found}); rename it or map it "
                f"under columns.{schema.name} in the config",
            )
    if schema.one_of and not any(n in mapping for n in schema.one_of):
        raise input_error(path, f"needs one of the columns {', '.join(schema.one_of)}")
    return mapping


def _clean_text(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _number_expr(expr: pl.Expr) -> pl.Expr:
    """Text to float: `1,234.5` and `1 234` lose separators, `12,5` is a decimal comma."""
    text = _clean_text(expr).str.replace_all(r"^[¥￥$€£]|[¥￥$€£]$", "")
    text = (
        pl.when(text.str.contains(r"^[-+]?\d{1,3}([, ']\d{3})+(\.\d+)?$"))
        .then(text.str.replace_all(r"[, ']", ""))
        .when(text.str.contains(r"^[-+]?\d+,\d+$"))
        .then(text.str.replace(",", ".", literal=True))
        .otherwise(text)
    )
    return text.cast(pl.Float64, strict=False)


def _date_expr(expr: pl.Expr) -> pl.Expr:
    """Text to date: ISO, `2024/1/5`, `2024年1月5日`, `20240105`, `5.1.2024`, Excel serials."""
    text = _clean_text(expr)
    # keep the date part of timestamps such as `2024-01-05 10:00:00 +0800` or `2024-01-05T10:00`
    text = text.str.replace(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[ T].*$", "${1}")
    parsed = [text.str.strptime(pl.Date, f, strict=False, exact=True) for f in DATE_FORMATS]
    serial = text.cast(pl.Float64, strict=False)
    lo, hi = EXCEL_SERIAL_RANGE
    excel = (
        pl.when(serial.is_between(lo, hi) & text.str.contains(r"^\d{5}(\.\d+)?$"))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64)))
        .otherwise(None)
    )
    return pl.coalesce([*parsed, excel])


DATE_SAMPLE = 256
"""Values tried against every date format to find the column's one."""


def _parse_dates(values: pl.Series) -> pl.Series:
    """A text column to dates in one vectorised pass: the first format of DATE_FORMATS that
    reads a sample spread over the column parses the whole column; only the values it
    cannot read (a column that mixes formats, Excel serials) get every format
    (`_date_expr`). Same results as `_date_expr` on every row: the formats never read the
    same text two ways."""
    text = values.to_frame("t").select(_clean_text(pl.col("t"))).to_series()
    if (text.str.contains(" ", literal=True) | text.str.contains("T", literal=True)).any():
        text = text.str.replace(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[ T].*$", "${1}")
    present = text.drop_nulls()
    if present.len() == 0:
        return text.cast(pl.Date)
    sample = present.gather_every(max(1, present.len() // DATE_SAMPLE))
    for fmt in DATE_FORMATS:
        if sample.str.strptime(pl.Date, fmt, strict=False, exact=True).null_count() == 0:
            parsed = text.str.strptime(pl.Date, fmt, strict=False, exact=True)
            break
    else:
        return text.to_frame("t").select(_date_expr(pl.col("t"))).to_series()
    missed = parsed.is_null() & text.is_not_null()
    if missed.any():
        rows = missed.arg_true()
        rest = text.gather(rows).to_frame("t").select(_date_expr(pl.col("t"))).to_series()
        parsed = parsed.scatter(rows, rest)
    return parsed


def _cast_expr(column: Column, dtype: pl.DataType, source: str) -> pl.Expr:
    expr = pl.col(source)
    if column.kind == "text":
        return _clean_text(expr)
    if column.kind == "number":
        return expr.cast(pl.Float64, strict=False) if dtype.is_numeric() else _number_expr(expr)
    if dtype == pl.Date:
        return expr
    if dtype.is_temporal():
        return expr.cast(pl.Date)
    if dtype.is_numeric():  # typed Excel serial number
        return pl.lit(EXCEL_EPOCH) + pl.duration(days=expr.cast(pl.Float64).floor().cast(pl.Int64))
    return _date_expr(expr)


def _totals_label(frame: pl.DataFrame) -> pl.Expr:
    """The first cell of each row that holds only a totals label (合计, 小计, Total ...)."""
    texts = [n for n, t in frame.schema.items() if t == pl.String and n != ROW]
    if not texts:
        return pl.lit(None, pl.String)
    folded = [
        pl.when(
            pl.col(n)
            .str.to_lowercase()
            .str.replace_all(r"[\s\-_\x{3000}]+", "")
            .str.contains(TOTALS_LABEL)
        ).then(pl.col(n).str.strip_chars())
        for n in texts
    ]
    return pl.coalesce(folded)


def _same_total(value: pl.Expr, total: pl.Expr) -> pl.Expr:
    return (value - total).abs() <= 1e-6 * pl.max_horizontal(pl.lit(1.0), total.abs())


def drop_totals_rows(
    frame: pl.DataFrame,
    schema: TableSchema,
    mapping: dict[str, str],
    path: Path,
    notes: list[str],
) -> pl.DataFrame:
    """Drop totals and subtotal rows an export puts under its data, with one note.

    A row is a totals row when any cell holds only a totals label (合计, 小计, 总计, 合 计,
    Total, Subtotal, Grand total, a trailing colon allowed), or when its key fields (the
    required text and date columns, e.g. sku and date) are all empty and a number it holds
    equals the sum of that column over the rows above it (since the previous totals row, or
    since the top for a grand total). Such a row is never an item and never demand.
    A cheap first pass (an anchored prefix, empty keys) keeps the cost off clean files.
    """
    keys = [
        mapping[c.name]
        for c in schema.columns
        if c.required and c.kind != "number" and c.name in mapping
    ]
    numbers = [c for c in schema.columns if c.kind == "number" and c.name in mapping]
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    maybe_label = (
        pl.any_horizontal(pl.col(n).str.contains(TOTALS_START).fill_null(False) for n in texts)
        if texts
        else pl.lit(False)
    )
    keyless = (  # a typed column (a Parquet date) is empty only when null: no text copy of it
        pl.all_horizontal(
            pl.col(k).is_null() | pl.col(k).str.contains(r"^\s*$")
            if frame.schema[k] == pl.String
            else pl.col(k).is_null()
            for k in keys
        )
        if keys
        else pl.lit(False)
    )
    flags = frame.select(maybe_label.alias("maybe"), keyless.fill_null(True).alias("keyless"))
    if not (flags["maybe"].any() or flags["keyless"].any()):
        return frame
    labelled = (
        frame.filter(flags["maybe"])
        .select(ROW, _totals_label(frame).alias("label"))
        .drop_nulls("label")
    )
    totals = set(labelled[ROW].to_list())
    if numbers and flags["keyless"].any():
        candidate = flags["keyless"] | frame[ROW].is_in(labelled[ROW].implode())
        probe = frame.select(
            ROW,
            *(
                _cast_expr(c, frame.schema[mapping[c.name]], mapping[c.name]).alias(f"n{i}")
                for i, c in enumerate(numbers)
            ),
        ).with_columns(candidate.alias("candidate"), flags["keyless"].alias("keyless"))
        is_candidate = pl.col("candidate")
        segment = is_candidate.cast(pl.Int64).cum_sum().shift(1, fill_value=0)
        sums = []
        for i in range(len(numbers)):
            value = pl.col(f"n{i}")
            data = pl.when(is_candidate).then(0.0).otherwise(value.fill_null(0.0))
            above_segment = data.cum_sum().over(segment) - data
            above_all = data.cum_sum() - data
            sums.append(
                value.is_not_null()
                & (_same_total(value, above_segment) | _same_total(value, above_all))
            )
        rows_before = (~is_candidate).cast(pl.Int64).cum_sum()
        summed = probe.filter(pl.col("keyless") & pl.any_horizontal(sums) & (rows_before > 0))
        totals |= set(summed[ROW].to_list())
    if not totals:
        return frame
    rows = sorted(totals)
    shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
    labels = sorted({quote(t) for t in labelled["label"].to_list()})
    what = f" ({', '.join(labels)})" if labels else " (sum of the rows above)"
    plural = "s" if len(rows) > 1 else ""
    notes.append(
        f"{path}, row{plural} {shown}: {len(rows)} totals row{plural}{what} dropped, "
        "not read as items or demand"
    )
    return frame.filter(~pl.col(ROW).is_in(rows))


def type_table(
    raw: pl.DataFrame,
    schema: TableSchema,
    mapping: dict[str, str],
    path: Path,
    header_row: int = 1,
    notes: list[str] | None = None,
) -> pl.DataFrame:
    """Cast mapped columns to their kinds, failing on the first value that does not fit.

    Blank lines (every mapped cell empty) and totals rows are dropped, keeping the others'
    row numbers; a note in `notes` names each totals row dropped.
    """
    notes = notes if notes is not None else []
    frame = raw.with_row_index(ROW, offset=header_row + 1).with_columns(pl.col(ROW).cast(pl.Int64))

    def empty(source: str) -> pl.Expr:
        # only text needs trimming to tell blank from filled; typed columns have real nulls.
        # A test of the text as it is, not a trimmed copy of a column of millions of codes
        if frame.schema[source] == pl.String:
            return pl.col(source).is_null() | pl.col(source).str.contains(r"^\s*$")
        return pl.col(source).is_null()

    if mapping:
        blank = frame.select(pl.all_horizontal(empty(c) for c in mapping.values())).to_series()
        if blank.any():  # filtering copies every column: only when there is a blank line
            frame = frame.filter(~blank)
        frame = drop_totals_rows(frame, schema, mapping, path, notes)
    typed: list[pl.Series] = [frame[ROW]]
    for name, source in mapping.items():
        column = schema.by_name[name]
        dtype = frame.schema[source]
        untouched = (
            column.kind == "text"
            and dtype == pl.String
            and not frame.select(
                (pl.col(source).str.contains(r"^\s|\s$") | (pl.col(source) == "")).any()
            ).item()
        )
        if untouched:  # clean text is kept as it is: no copy of a column of millions of codes
            values = frame[source].alias(name)
        elif column.kind == "date" and dtype == pl.String:
            values = _parse_dates(frame[source]).alias(name)
        else:
            values = frame.select(_cast_expr(column, dtype, source).alias(name)).to_series()
        probe = frame.select(ROW, (~empty(source)).alias("__present")).with_columns(values)
        where = f"column '{source}'" + (f" ({name})" if normalise_header(source) != name else "")

        def fail(mask: pl.Expr, problem: str, *, probe=probe, where=where, source=source) -> None:
            bad = probe.filter(mask).select(ROW).head(1)
            if bad.height:
                row = int(bad[ROW][0])
                text = frame.filter(pl.col(ROW) == row).select(_clean_text(pl.col(source))).item()
                raise StockplanError(f"{path}, row {row}, {where}: '{quote(text)}' {problem}")

        if column.kind != "text":
            what = "is not a number" if column.kind == "number" else "is not a date I can read"
            hint = "" if column.kind == "number" else " (use YYYY-MM-DD)"
            fail(pl.col(name).is_null() & pl.col("__present"), what + hint)
        if column.kind == "date":
            lo, hi = PLAUSIBLE_DATES
            fail(
                pl.col(name).is_not_null() & ~pl.col(name).is_between(lo, hi),
                f"is not a plausible date (outside {lo} .. {hi}; a placeholder for no date?)",
            )
        if (
            column.kind == "text"
            and values.dtype == pl.String
            and (values.str.len_bytes() > EXCEL_CELL_LIMIT).any()
        ):
            fail(
                pl.col(name).str.len_chars() > EXCEL_CELL_LIMIT,
                f"is longer than the {EXCEL_CELL_LIMIT:,} characters a spreadsheet cell holds",
            )
        if column.kind == "number":
            fail(pl.col(name).is_nan() | pl.col(name).is_infinite(), "is not a finite number")
            fail(pl.col(name).abs() > 1e12, "is implausibly large")
            if column.non_negative:
                fail(pl.col(name) < 0, "must not be negative")
        if column.required:
            nulls = probe.filter(pl.col(name).is_null()).head(1)
            if nulls.height:
                raise StockplanError(
                    f"{path}, row {int(nulls[ROW][0])}, {where}: empty value in a required column"
                )
        typed.append(values)
    return pl.DataFrame(typed)


def read_table(
    name: str,
    spec: InputFile | DatabaseInput,
    overrides: Mapping[str, str],
    notes: list[str] | None = None,
    identify_by: str = "name",
) -> pl.DataFrame:
    """Load one input table into canonical columns (plus `source_row`).

    Corrections worth telling the user (totals rows dropped, a hidden sheet skipped) are
    appended to `notes`.
    """
    if not isinstance(spec, InputFile):  # `{url, query}`: same mapping and typing, from a database
        from stockplan.io.database import read_database_table

        return read_database_table(name, spec, overrides)
    schema = SCHEMAS[name]
    notes = notes if notes is not None else []
    table = read_raw(spec, schema, overrides, notes)
    raw = table.frame.rename({c: c.replace("\ufeff", "").strip() for c in table.frame.columns})
    mapping = map_headers(raw, schema, overrides, Path(spec.path), identify_by)
    typed = type_table(raw, schema, mapping, Path(spec.path), table.header_row, notes)
    if typed.height == 0 and schema.need_rows:
        raise input_error(spec.path, "has a header but no data rows")
    return typed


def load_inputs(config: Config, notes: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Read every configured input table; absent optional tables are simply missing."""
    tables: dict[str, pl.DataFrame] = {}
    for name, spec in config.inputs:
        if spec is None:
            continue
        tables[name] = read_table(
            name, spec, config.columns.get(name, {}), notes, config.io.identify_by
        )
    return tables
