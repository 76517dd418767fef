"""Map a table's headers to canonical columns and type its cells, for files and databases.

The file readers (`readers`) and the database reader (`database`) both hand their raw
cells here, so the two give the same columns, the same types and the same one-line errors
(by source, row and column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from stockplan.config import PLAUSIBLE_DATES
from stockplan.errors import StockplanError, input_error, quote
from stockplan.i18n import input_column, phrase, place
from stockplan.io.schema import CODE_ALIASES, Column, TableSchema, normalise_header

ROW = "source_row"
"""Hidden column carrying each record's row number in its file, for error messages."""

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%d.%m.%Y")
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-10
EXCEL_CELL_LIMIT = 32_767  # characters a spreadsheet cell holds
TOTALS_LABEL = r"^(合计|小计|总计|总合计|共计|total|totals|subtotal|grandtotal)[:：]?$"
"""A cell holding only this (case, spaces, `-` and `_` ignored) marks a totals / subtotal row."""
TOTALS_START = r"(?i)^[\s\-_\x{3000}]*(合|小|总|共|sub|grand|total)"
"""Cheap first pass: only cells starting like a totals label are looked at closely."""


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
                phrase(
                    "error.mapped_to_unknown",
                    table=schema.name,
                    target=target,
                    known=", ".join(known),
                )
            )
    alias_to_name = {normalise_header(a): c.name for c in schema.columns for a in c.headers}
    fallback = {normalise_header(a) for c in schema.columns for a in c.fallbacks}
    mapping: dict[str, str] = {}
    for header in frame.columns:
        key = normalise_header(header)
        name = override_by_header.get(key) or alias_to_name.get(key)
        if name is None:
            continue
        explicit = key in override_by_header or normalise_header(mapping.get(name, "")) in (
            override_by_header
        )
        earlier_fallback = normalise_header(mapping.get(name, "")) in fallback
        if name in mapping and not explicit and (key in fallback) != earlier_fallback:
            if key not in fallback:  # an alias beats a fallback (`Column.fallbacks`)
                mapping[name] = header
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
            raise StockplanError(
                phrase(
                    "error.columns_clash",
                    where=place(path),
                    first=mapping[name],
                    second=header,
                    column=input_column(name, schema.by_name[name].aliases),
                    table=schema.name,
                )
            )
        mapping[name] = header
    for column in schema.columns:
        if column.required and column.name not in mapping:
            found = ", ".join(f"'{quote(c, 40)}'" for c in frame.columns[:12])
            raise StockplanError(
                phrase(
                    "error.missing_column",
                    where=place(path),
                    column=input_column(column.name, column.aliases),
                    found=found,
                    table=schema.name,
                )
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


NUMBER_MARKS = r"[\s,'¥￥$€£]"
"""What `_number_expr` removes or rewrites: spaces, separators, a decimal comma, currency."""


def parse_numbers(values: pl.Series) -> pl.Series:
    """A text column to floats as `_number_expr` reads it, mostly in one plain cast: a
    value without any of NUMBER_MARKS is exactly what `_number_expr` would cast, so the
    cast's value is kept; only the others (`1,234.5`, `12,5`, `¥8`, ` 3`, empty) and the
    values the cast cannot read go through `_number_expr`. Same result on every row."""
    plain = values.cast(pl.Float64, strict=False)
    redo = (plain.is_null() | values.str.contains(NUMBER_MARKS)) & values.is_not_null()
    if redo.any():
        rows = redo.arg_true()
        rest = values.gather(rows).to_frame("t").select(_number_expr(pl.col("t"))).to_series()
        plain = plain.scatter(rows, rest)
    return plain


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


def parse_dates(values: pl.Series) -> pl.Series:
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
    row numbers; a note in `notes` names each totals row dropped. A `source_row` column
    already in `raw` (a slice of a file) gives the row numbers.
    """
    notes = notes if notes is not None else []
    if ROW in raw.columns:  # a filtered slice keeps its rows' numbers in the file
        frame = raw
    else:
        frame = raw.with_row_index(ROW, offset=header_row + 1).with_columns(
            pl.col(ROW).cast(pl.Int64)
        )

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
            values = parse_dates(frame[source]).alias(name)
        elif column.kind == "number" and dtype == pl.String:
            values = parse_numbers(frame[source]).alias(name)
        else:
            values = frame.select(_cast_expr(column, dtype, source).alias(name)).to_series()
        read_as = name if normalise_header(source) != name else None
        # (bad rows, catalogue key of the problem, its fields beyond where and value) in the
        # order they are reported; "error.empty_required": an empty required value
        checks: list[tuple[pl.Expr, str, dict[str, object]]] = []
        if column.kind != "text":
            what = "error.not_a_number" if column.kind == "number" else "error.not_a_date"
            checks.append((pl.col(name).is_null() & pl.col("__present"), what, {}))
        if column.kind == "date":
            lo, hi = PLAUSIBLE_DATES
            checks.append(
                (
                    pl.col(name).is_not_null() & ~pl.col(name).is_between(lo, hi),
                    "error.implausible_date",
                    {"low": lo, "high": hi},
                )
            )
        if (
            column.kind == "text"
            and values.dtype == pl.String
            and (values.str.len_bytes() > EXCEL_CELL_LIMIT).any()
        ):
            checks.append(
                (
                    pl.col(name).str.len_chars() > EXCEL_CELL_LIMIT,
                    "error.too_long",
                    {"limit": f"{EXCEL_CELL_LIMIT:,}"},
                )
            )
        if column.kind == "number":
            checks.append(
                (pl.col(name).is_nan() | pl.col(name).is_infinite(), "error.not_finite", {})
            )
            checks.append((pl.col(name).abs() > 1e12, "error.too_large", {}))
            if column.non_negative:
                checks.append((pl.col(name) < 0, "error.negative", {}))
        if column.required:
            checks.append((pl.col(name).is_null(), "error.empty_required", {}))
        if checks:  # the first bad row of every check in one pass over the column
            first_bad = (
                frame.lazy()
                .select(ROW, (~empty(source)).alias("__present"))
                .with_columns(values)
                .select(
                    pl.col(ROW).filter(bad).first().alias(f"{i}")
                    for i, (bad, _, _) in enumerate(checks)
                )
                .collect()
                .row(0)
            )
            for (_, problem, fields), row in zip(checks, first_bad, strict=True):
                if row is None:
                    continue
                where = place(path, int(row), source, read_as)
                if problem == "error.empty_required":
                    raise StockplanError(phrase(problem, where=where))
                text = frame.filter(pl.col(ROW) == row).select(_clean_text(pl.col(source))).item()
                raise StockplanError(phrase(problem, where=where, value=quote(text), **fields))
        typed.append(values)
    return pl.DataFrame(typed)
