"""Map a table's headers to canonical columns and type its cells, for files and databases.

The file readers (`readers`) and the database reader (`database`) both hand their raw
cells here, so the two give the same columns, the same types and the same one-line errors
(by source, row and column).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from stockplan.config import PLAUSIBLE_DATES
from stockplan.errors import Phrase, StockplanError, input_error, quote
from stockplan.i18n import both, input_column, phrase, place
from stockplan.io.schema import (
    CODE_ALIASES,
    FULL_WIDTH,
    LONGEST_DAYS,
    Column,
    TableSchema,
    header_scale,
    normalise_header,
    without_unit,
)

ROW = "source_row"
SOURCE_FILE = "source_file"
"""Hidden column of a Parquet dataset's rows: the part file of each (`io.datasets`)."""
"""Hidden column carrying each record's row number in its file, for error messages."""

DATE_FORMATS = (
    *("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%d.%m.%Y"),
    "%Y年%m月%d号",  # 号 for 日, as a date is said aloud and hand-typed sheets write it
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-10
EXCEL_CELL_LIMIT = 32_767  # characters a spreadsheet cell holds
SENTENCE_ROOM = 1_000
"""Characters a cell keeps for the words around a value quoted in a sentence: a customer
notice (`Order SO1: A-100 name x 4, expected ...`) or a reason's clauses (`backup supplier
X instead of Y: ...`) hold a few hundred at most besides the value."""
QUOTED_COLUMNS = frozenset(
    {"sku", "name", "location", "supplier", "backup_supplier", "customer", "order_id"}
    | {"new_sku", "reason", "author", "note"}
)
"""Text columns whose values notices and reasons quote: each must leave `SENTENCE_ROOM` in
a cell, or the sentence quoting it would not fit one when the plan is written."""


def _longest_text(column: Column) -> int:
    """The most characters a value of `column` may have: a cell's, less `SENTENCE_ROOM`
    for a column notices and reasons quote."""
    return EXCEL_CELL_LIMIT - SENTENCE_ROOM if column.name in QUOTED_COLUMNS else EXCEL_CELL_LIMIT


TOTALS_LABEL = r"^(合计|小计|总计|总合计|共计|total|totals|subtotal|grandtotal)[:：]?$"
"""A cell holding only this (case, spaces, `-` and `_` ignored) marks a totals / subtotal row."""
_ZH_TOTAL = r"(?:总合计|合 ?计|小 ?计|总 ?计|共 ?计)"
_EN_TOTAL = r"(?:sub ?-?totals?|grand ?-?totals?|totals?)"
QUALIFIED_TOTALS = (
    rf"^(?:{_ZH_TOTAL}|{_EN_TOTAL}) ?[:：(（\[【].*$"  # 小计：总仓, 合计(含税), Total: WH1
    rf"|^{_EN_TOTAL} [-–] .+$|^totals? (?:for|of) .+$"  # Total - WH1, Total for WH1
    rf"|^(?:sub ?-?total|grand ?-?total) .+$"  # Subtotal WH1, Grand total all stores
    rf"|^.{{1,40}}?{_ZH_TOTAL}[:：]?$"  # 本日小计, 本页合计, 分类合计, 总仓小计, 门店一 小计
    rf"|^.{{1,40}}? {_EN_TOTAL}[:：]?$"  # WH1 Total, Store 2 subtotal
)
"""A totals label with a qualifier (matched lower case, runs of spaces as one): the label,
then a colon or bracket and what it totals; or what it totals, then the label. Unlike a
bare label (`TOTALS_LABEL`) such a cell marks a totals row only where no item stands
beside it (`drop_totals_rows`): `TOTAL-1`, `保温杯合计装` and a product name ending in 合计
beside its sku stay items."""
TOTALS_START = r"(?i)^[\s\-_\x{3000}]*(合|小|总|共|sub|grand|total)|[合小总共][\s\x{3000}]*计|total"
"""Cheap first pass: only cells starting like a totals label, or holding one of its words,
are looked at closely."""
UNTRIMMED_OR_TOTALS = TOTALS_START + r"|^\s|\s$"
"""A cell with a space (any Unicode one) at either end, blank or not, or starting like a
totals label or holding its word: a text column without such a cell and without an empty
one is empty only where null, trims to itself and holds no totals label (`_clean_columns`)."""


def mapped_headers(
    headers: list[str], overrides: Mapping[str, str], path: Path | str, table: str
) -> dict[str, str]:
    """{source header: canonical name} of the config's `columns:` mapping for `headers`.

    A mapping key names the header written as it is (case, spaces and full width aside:
    `normalise_header(..., drop_unit=False)`) before one that is equal only without its
    unit in brackets: `库存量(基本单位)` is that header, not `库存量(箱)` beside it. A key
    that still names two headers (`库存量` beside both) is refused naming both: reading
    either would be a guess."""
    exact = {h: normalise_header(h, drop_unit=False) for h in headers}
    loose = {h: normalise_header(h) for h in headers}
    found: dict[str, str] = {}
    for by_unit in (True, False):  # every key's exact header first, then the rest loosely
        for key, target in overrides.items():
            written = normalise_header(key, drop_unit=False)
            if by_unit:
                named = [h for h in headers if exact[h] == written]
            elif any(exact[h] == written for h in found):
                continue  # named its header exactly
            else:
                named = [h for h in headers if h not in found and loose[h] == normalise_header(key)]
            if len(named) > 1:
                raise StockplanError(
                    phrase(
                        "error.mapping_two_headers",
                        where=place(path),
                        written=quote(key, 60),
                        target=target,
                        first=quote(named[0], 60),
                        second=quote(named[1], 60),
                        table=table,
                    )
                )
            if named:
                found[named[0]] = target
    return found


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
    for target in overrides.values():
        if target not in known:
            raise StockplanError(
                phrase(
                    "error.mapped_to_unknown",
                    source="config",
                    table=schema.name,
                    target=target,
                    known=", ".join(known),
                )
            )
    mapped = mapped_headers(frame.columns, overrides, path, schema.name)
    alias_to_name = {normalise_header(a): c.name for c in schema.columns for a in c.headers}
    fallback = {normalise_header(a) for c in schema.columns for a in c.fallbacks}
    mapping: dict[str, str] = {}
    for header in frame.columns:
        key = normalise_header(header)
        name = mapped.get(header) or alias_to_name.get(key)
        if name is None:
            continue
        explicit = header in mapped or mapping.get(name) in mapped
        earlier_fallback = normalise_header(mapping.get(name, "")) in fallback
        if name in mapping and not explicit and (key in fallback) != earlier_fallback:
            if key not in fallback:  # an alias beats a fallback (`Column.fallbacks`)
                mapping[name] = header
            continue
        if name in mapping:
            if header in mapped and mapping[name] not in mapped:
                mapping[name] = header  # an explicit mapping beats an alias match
                continue
            if mapping[name] in mapped:
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


SPACE_LIKE = "[\u00a0\u202f\u2009]"
"""No-break, narrow no-break and thin spaces: spreadsheets group thousands with them."""
DOT_DECIMAL = r"^[-+]?[1-9]\d{0,2}([,' ]\d{3})+(\.\d+)?$"
"""Thousands groups (`1,234`, `1 234`, `1'234.5`) read with a decimal dot: marks dropped."""
COMMA_DECIMAL = r"^[-+]?(\d+|[1-9]\d{0,2}([.' ]\d{3})+)(,\d+)?$"
"""A decimal comma, thousands groups by dot, space or `'` (`0,125`, `1.234,5`, `1.503`)."""
AMBIGUOUS_NUMBER = r"^[-+]?[1-9]\d{0,2}([' ]\d{3})*[,.]\d{3}$"
"""`1,250`, `1.503`: 1250 or 1.25, 1503 or 1.503, by the file's decimal mark."""
COMMA_EVIDENCE = r"^[-+]?(\d+|[1-9]\d{0,2}([.' ]\d{3})+),\d+$|^[-+]?[1-9]\d{0,2}(\.\d{3}){2,}$"
"""Written with a decimal comma (unless also AMBIGUOUS_NUMBER): `12,5`, `0,125`, `1.234,5`."""
DOT_EVIDENCE = r"^[-+]?(\d*|[1-9]\d{0,2}([,' ]\d{3})+)\.\d+$|^[-+]?[1-9]\d{0,2}(,\d{3}){2,}$"
"""Written with a decimal dot (unless also AMBIGUOUS_NUMBER): `13.95`, `1,234.5`, `1,234,567`."""


def _number_text(expr: pl.Expr) -> pl.Expr:
    """Trimmed text without a leading or trailing currency sign; empty is missing. A
    number typed in full width (`１２`, `１２．５`, `－３`) reads as its ASCII digits
    (`schema.FULL_WIDTH`): the same number, written in other glyphs; so does a group
    spaced by a no-break, narrow no-break or thin space (`1 000` as spreadsheets set to
    French or Russian save it): a plain space."""
    ascii_text = expr.cast(pl.String).str.replace_many(FULL_WIDTH).str.replace_all(SPACE_LIKE, " ")
    return _clean_text(ascii_text).str.replace_all(r"^[¥￥$€£]|[¥￥$€£]$", "")


def _number_expr(expr: pl.Expr, decimal: str | None = None, typed_dots: bool = False) -> pl.Expr:
    """Text to float. `decimal` is the file's decimal mark (`decimal_mark`); it decides only
    AMBIGUOUS_NUMBER values: `1,250` is 1.25 with ",", else 1250; `1.503` is 1503 with ",",
    else 1.503 (always with `typed_dots`: a workbook's typed numbers read as `1.503`).
    Every other value reads one way: `1 234` and `1,234.5` lose their thousands marks,
    `12,5`, `0,125` and `1.234,5` have a decimal comma, `13.95` a decimal dot."""
    text = _number_text(expr)
    comma = text.str.replace_all(r"[.' ]", "").str.replace(",", ".", literal=True)
    dot = text.str.replace_all(r"[, ']", "")
    if decimal == ",":
        comma_read = text.str.contains(COMMA_DECIMAL)
        if typed_dots:
            comma_read = comma_read & text.str.contains(",", literal=True)
        chosen = pl.when(comma_read).then(comma).when(text.str.contains(DOT_DECIMAL)).then(dot)
    else:
        chosen = (
            pl.when(text.str.contains(DOT_DECIMAL))
            .then(dot)
            .when(
                text.str.contains(COMMA_DECIMAL) & ~text.str.contains(r"^[-+]?[1-9]\d{0,2}\.\d{3}$")
            )
            .then(comma)
        )
    return chosen.otherwise(text).cast(pl.Float64, strict=False)


NUMBER_MARKS = r"[\s,'¥￥$€£]"
"""What `_number_expr` removes or rewrites: spaces, separators, a decimal comma, currency."""


def plain_numbers(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(a text column's plain cast to floats, the values that cast may misread or cannot
    read: those with any of NUMBER_MARKS, and those it leaves empty)."""
    plain, redo = plain_numbers_of(values.to_frame("v"), ["v"])["v"]
    return plain.alias(values.name), redo


def plain_numbers_of(
    frame: pl.DataFrame, sources: list[str]
) -> dict[str, tuple[pl.Series, pl.Series]]:
    """`plain_numbers` of each of the text columns `sources` of `frame`, in one pass."""
    if not sources:
        return {}
    exprs = []
    for i, source in enumerate(sources):
        values = pl.col(source)
        plain = values.cast(pl.Float64, strict=False)
        redo = (plain.is_null() | values.str.contains(NUMBER_MARKS)) & values.is_not_null()
        exprs += [plain.alias(f"plain{i}"), redo.alias(f"redo{i}")]
    done = frame.select(exprs)
    return {s: (done[f"plain{i}"].alias(s), done[f"redo{i}"]) for i, s in enumerate(sources)}


def parse_numbers(
    values: pl.Series,
    decimal: str | None = None,
    typed_dots: bool = False,
    cast: tuple[pl.Series, pl.Series] | None = None,
) -> pl.Series:
    """A text column to floats as `_number_expr` reads it, mostly in one plain cast: a
    value without any of NUMBER_MARKS (nor a dot, under a decimal comma) is exactly what
    `_number_expr` would cast, so the cast's value is kept; only the others (`1,234.5`,
    `12,5`, `¥8`, ` 3`, empty) and the values the cast cannot read go through
    `_number_expr`. Same result on every row. `cast`: `plain_numbers(values)`, if done."""
    plain, redo = cast if cast is not None else plain_numbers(values)
    if decimal == "," and not typed_dots:  # `1.503` is 1503
        redo = redo | (values.str.contains(".", literal=True) & values.is_not_null())
    if redo.any():
        rows = redo.arg_true()
        rest = (
            values.gather(rows)
            .to_frame("t")
            .select(_number_expr(pl.col("t"), decimal, typed_dots))
            .to_series()
        )
        plain = plain.scatter(rows, rest)
    return plain


def _readings(text: str) -> tuple[str, str]:
    """An AMBIGUOUS_NUMBER's two readings, thousands mark first: `1,250` -> 1250, 1.25."""
    plain = lambda number: f"{number:.3f}".rstrip("0").rstrip(".")  # noqa: E731
    whole = float(re.sub(r"[,.' ]", "", text))
    decimal = float(re.sub(r"[' ]", "", text).replace(",", "."))
    return plain(whole), plain(decimal)


def decimal_mark(
    frame: pl.DataFrame,
    columns: Mapping[str, str],
    path: Path,
    notes: list[str],
    casts: Mapping[str, tuple[pl.Series, pl.Series]],
    typed_dots: bool = False,
) -> str | None:
    """The file's decimal mark, "," or "." (None: no evidence), from its text number
    `columns` ({source header: canonical name}), decided only when it matters: when a
    value reads two ways (AMBIGUOUS_NUMBER: `1,250`, `1.503`).

    A value written with a decimal comma (`12,5`, `0,125`, `1.234,5`: COMMA_EVIDENCE) or a
    decimal dot (`13.95`, `1,234.5`: DOT_EVIDENCE) shows the mark. One mark shown: the
    ambiguous values follow it (a note names one). Both marks, or none while `1,250` and
    `1.503` stand side by side: an ambiguous value is refused naming row, column and its
    two readings. None and no such pair: `1,250` is 1250 and `1.503` is 1.503, as before.
    `casts`: `plain_numbers` of each column; a file without a comma or two dot groups in the
    values its plain cast leaves to `_number_expr` is decided by that alone. With
    `typed_dots` (a workbook, whose typed numbers read as `1.503`, `0.1`) only values with
    a comma, which only a text cell holds, count.
    """
    if not columns:
        return None
    marks = "," if typed_dots else r",|\.\d{3}\."  # a comma, or `1.234.567` (the cast fails)
    evidence = (pl.col(s).filter(casts[s][1]).str.contains(marks).any() for s in columns)
    if not frame.select(pl.any_horizontal(evidence)).item():
        return None  # no comma evidence (`12,5`, `1.234.567`) and no `1,250`: `1.503` is 1.503
    texts = frame.select(
        pl.col(ROW),
        *(
            pl.when(~pl.lit(typed_dots) | pl.col(s).str.contains(",", literal=True))
            .then(_number_text(pl.col(s)))
            .alias(s)
            for s in columns
        ),
    )

    def first(pattern: str, ambiguous: bool | None = None) -> tuple[int, str, str] | None:
        """(row, header, text) of the first value matching `pattern`, by column."""
        for source in columns:
            hit = pl.col(source).str.contains(pattern)
            if ambiguous is not None:
                hit = hit & (pl.col(source).str.contains(AMBIGUOUS_NUMBER) == ambiguous)
            found = texts.filter(hit).select(ROW, source).head(1)
            if found.height:
                row, text = found.row(0)
                return int(row), source, text
        return None

    ambiguous = first(AMBIGUOUS_NUMBER)
    if ambiguous is None:
        return None
    comma, dot = first(COMMA_EVIDENCE, False), first(DOT_EVIDENCE, False)

    def shown(found: tuple[int, str, str]) -> dict[str, str]:
        row, source, text = found
        return cell_at(row, source, columns[source], text)

    if (comma is None) != (dot is None):
        mark = "," if comma is not None else "."
        if mark == ",":  # a decimal dot reads every value as it would without the rule
            evidence = comma
            assert evidence is not None
            row, source, text = ambiguous
            notes.append(
                phrase(
                    "note.decimal_mark",
                    file=str(path),
                    evidence=shown(evidence),
                    value=quote(text),
                    cell=cell_at(row, source, columns[source]),
                    reading=_readings(text)[1 if mark in text else 0],  # `1,250` or `1.503`
                )
            )
        return mark
    row, source, text = ambiguous
    whole, decimal = _readings(text)
    if comma is not None and dot is not None:
        why = both("reading.decimals_both_ways", comma=shown(comma), dot=shown(dot))
    else:
        other = first(AMBIGUOUS_NUMBER.replace("[,.]", r"\." if "," in text else ","))
        if other is None:
            return None
        why = both("reading.decimal_unshown", other=shown(other))
    read_as = columns[source] if normalise_header(source) != columns[source] else None
    raise StockplanError(
        phrase(
            "error.decimal_ambiguous",
            where=place(path, row, quote(source), read_as),
            value=quote(text),
            whole=whole,
            decimal=decimal,
            why=why,
        )
    )


def cell_at(row: int, source: str, name: str, value: str | None = None) -> dict[str, str]:
    """`row 2, column '单价' (unit_cost): '13,95'` in both languages: `i18n.place` without
    its file, the canonical `name` only where the header is another word."""
    read_as = name if normalise_header(source) != name else None
    where = place("", row, quote(source), read_as)
    shown = {"en": where["en"].removeprefix(", "), "zh": where["zh"].removeprefix("，")}
    if value is not None:
        shown = {"en": f"{shown['en']}: '{quote(value)}'", "zh": f"{shown['zh']}：'{quote(value)}'"}
    return shown


def _date_expr(expr: pl.Expr) -> pl.Expr:
    """Text to date: ISO, `2024/1/5`, `2024年1月5日`, `20240105`, `5.1.2024`, Excel serials,
    also typed in full width (`２０２４－０１－０５`, `２０２４／１／５`: `schema.FULL_WIDTH`)."""
    text = _clean_text(expr.cast(pl.String).str.replace_many(FULL_WIDTH))
    # keep the date part of timestamps such as `2024-01-05 10:00:00 +0800`, `2024-01-05T10:00`
    # or `2024年1月5日 14:30`
    text = text.str.replace(TIMESTAMP, "${1}")
    parsed = [text.str.strptime(pl.Date, f, strict=False, exact=True) for f in DATE_FORMATS]
    serial = text.cast(pl.Float64, strict=False)
    lo, hi = EXCEL_SERIAL_RANGE
    excel = (
        pl.when(serial.is_between(lo, hi) & text.str.contains(r"^\d{5}(\.\d+)?$"))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64)))
        .otherwise(None)
    )
    return pl.coalesce([*parsed, excel])


TWO_DIGIT_YEAR = r"(\d{2})[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T].*)?"
"""`24-09-02`: a year in two digits, which the ISO formats read as the year 24."""

NUMBER_WITH_UNIT = r"([-+]?\d[\d,.]*)\s*([^\d\s.,+\-%％][^\d]*)"
"""`12件`, `14 天`, `3 pcs`: a number with its unit written after it in the cell."""


def _refused(
    problem: str, where: object, text: str, fields: dict[str, object], header: str
) -> Phrase:
    """The phrase refusing a cell of column `header` for `problem`, more precise where its
    text shows why: a two-digit year (`TWO_DIGIT_YEAR`), a number with its unit
    (`NUMBER_WITH_UNIT`: the header to write, `数量(件)`)."""
    year = re.fullmatch(TWO_DIGIT_YEAR, text)
    if problem == "error.implausible_date" and year:
        return phrase("error.two_digit_year", where=where, value=quote(text), year=int(year[1]))
    unit = re.fullmatch(NUMBER_WITH_UNIT, text)
    if problem == "error.not_a_number" and unit:
        return phrase(
            "error.number_with_unit",
            where=where,
            value=quote(text),
            number=unit[1],
            header=f"{without_unit(header)} ({unit[2].strip()})",
        )
    return phrase(problem, where=where, value=quote(text), **fields)


TIMESTAMP = (
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}[日号])(?:[ T]|\s*\d{1,2}[:：时]).*$"
)
"""A date with a time after it (`2024-01-05 10:00`, `2024年1月5日 14:30`): group 1 is the date."""


DATE_SAMPLE = 256
"""Values tried against every date format to find the column's one."""


def parse_dates(values: pl.Series, trimmed: bool = False) -> pl.Series:
    """A text column to dates in one vectorised pass: the first format of DATE_FORMATS that
    reads a sample spread over the column parses the whole column; only the values it
    cannot read (a column that mixes formats, Excel serials) get every format
    (`_date_expr`). Same results as `_date_expr` on every row: the formats never read the
    same text two ways. `trimmed`: no value has a space at either end or is empty
    (`_clean_columns`), so trimming would copy the column unchanged."""
    text = (
        values.alias("t")
        if trimmed
        else values.to_frame("t").select(_clean_text(pl.col("t"))).to_series()
    )
    present = text.len() - text.null_count()
    if present == 0:
        return text.cast(pl.Date)
    step = max(1, present // DATE_SAMPLE)
    # one query asks whether any value has a time after its date and whether the first
    # format reads the sample (the common case: every step below was a query of its own)
    timed, first_reads = (
        text.to_frame("t")
        .select(
            pl.col("t").str.contains(r"[ T:时]").any(),
            pl.col("t")
            .drop_nulls()
            .gather_every(step)
            .str.strptime(pl.Date, DATE_FORMATS[0], strict=False, exact=True)
            .null_count()
            .eq(0)
            .alias("first_reads"),
        )
        .row(0)
    )
    if timed:
        text = text.str.replace(TIMESTAMP, "${1}")
    if first_reads and not timed:
        fmt: str | None = DATE_FORMATS[0]
    else:
        sample = text.drop_nulls().gather_every(step)
        tried = DATE_FORMATS if timed else DATE_FORMATS[1:]
        readers = (
            f
            for f in tried
            if sample.str.strptime(pl.Date, f, strict=False, exact=True).null_count() == 0
        )
        fmt = next(readers, None)
        if fmt is None:
            return text.to_frame("t").select(_date_expr(pl.col("t"))).to_series()
    parsed = text.str.strptime(pl.Date, fmt, strict=False, exact=True)
    if parsed.null_count() > text.null_count():  # a value the format does not read
        missed = parsed.is_null() & text.is_not_null()
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
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        # the date on the value's own clock, in its time zone (a cast takes the UTC date:
        # a sale at 2025-06-02 00:00 +08:00 fell on June 1), as a text `+08:00` is read
        return expr.dt.replace_time_zone(None).cast(pl.Date)
    if dtype.is_temporal():
        return expr.cast(pl.Date)
    if dtype.is_numeric():  # typed: a whole number of 8 digits is `20240105`, else a serial
        number = expr.cast(pl.Float64)
        serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=number.floor().cast(pl.Int64))
        compact = (
            number.cast(pl.Int64, strict=False)
            .cast(pl.String)
            .str.strptime(pl.Date, "%Y%m%d", strict=False, exact=True)
        )
        whole_eight = number.is_between(10_000_000, 99_999_999) & (number == number.floor())
        return pl.when(whole_eight).then(compact).otherwise(serial)
    return _date_expr(expr)


def is_totals_label(cell: pl.Expr) -> pl.Expr:
    """Whether a text cell holds only a totals label (合计, 小计, Total ...; TOTALS_LABEL)."""
    return (
        cell.str.to_lowercase().str.replace_all(r"[\s\-_\x{3000}]+", "").str.contains(TOTALS_LABEL)
    )


def _totals_label(frame: pl.DataFrame) -> pl.Expr:
    """The first cell of each row that holds only a totals label (合计, 小计, Total ...)."""
    texts = [n for n, t in frame.schema.items() if t == pl.String and n != ROW]
    if not texts:
        return pl.lit(None, pl.String)
    folded = [pl.when(is_totals_label(pl.col(n))).then(pl.col(n).str.strip_chars()) for n in texts]
    return pl.coalesce(folded)


def is_qualified_totals_label(cell: pl.Expr) -> pl.Expr:
    """Whether a text cell holds a totals label with a qualifier (`QUALIFIED_TOTALS`:
    本日小计, 小计：总仓, Total for WH1)."""
    folded = cell.str.to_lowercase().str.replace_all(r"[\s\x{3000}]+", " ").str.strip_chars()
    return folded.str.contains(QUALIFIED_TOTALS)


def _qualified_totals_label(frame: pl.DataFrame, items: list[str]) -> pl.Expr:
    """The qualified totals label (`is_qualified_totals_label`) of each row that names no
    item: one in an item cell (`items`: the sku, a kit's and component's codes, the
    supplier of the suppliers table) whose other item cells are empty or labels too
    (`2025-08-18, 本日小计, , 总仓, 5`: a dated daily subtotal), or one in any text cell of
    a row whose item cells are all empty (`, , 门店一 小计, 336`); else null. A table
    without an item column has none."""
    texts = [n for n, t in frame.schema.items() if t == pl.String and n != ROW]
    if not items or not texts:
        return pl.lit(None, pl.String)

    def empty(n: str) -> pl.Expr:
        return pl.col(n).is_null() | pl.col(n).str.contains(r"^\s*$")

    qualified = {n: is_qualified_totals_label(pl.col(n)).fill_null(False) for n in texts}
    label_or_empty = (empty(k) | qualified[k] | is_totals_label(pl.col(k)) for k in items)
    in_item = pl.any_horizontal(qualified[k] for k in items) & pl.all_horizontal(label_or_empty)
    no_item = pl.all_horizontal(empty(k) for k in items)
    first = lambda names: pl.coalesce(  # noqa: E731
        pl.when(qualified[n]).then(pl.col(n).str.strip_chars()) for n in names
    )
    return pl.when(in_item).then(first(items)).when(no_item).then(first(texts))


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
    since the top for a grand total), or when a cell holds a totals label with a
    qualifier (本日小计, 小计：总仓, Total for WH1) and no item stands beside it
    (`_qualified_totals_label`). Such a row is never an item and never demand.
    A cheap first pass (a label's start or word, empty keys) keeps the cost off clean files.
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
    items = [
        mapping[c.name]
        for c in schema.columns
        if c.kind == "text"
        and (c.required or c.name in schema.one_of)
        and c.name in mapping
        and frame.schema[mapping[c.name]] == pl.String
    ]
    labelled = (
        frame.filter(flags["maybe"])
        .select(
            ROW,
            pl.coalesce(_totals_label(frame), _qualified_totals_label(frame, items)).alias("label"),
        )
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
    what = (
        {"en": f" ({', '.join(labels)})", "zh": f"（{'、'.join(labels)}）"}
        if labels
        else {"en": " (sum of the rows above)", "zh": "（等于上方各行之和）"}
    )
    plural = "s" if len(rows) > 1 else ""
    notes.append(
        phrase(
            "note.totals_rows",
            where={"en": f"{path}, row{plural} {shown}", "zh": f"{path}，第 {shown} 行"},
            rows={"en": f"{len(rows)} totals row{plural}", "zh": f"{len(rows)} 行合计行"},
            what=what,
        )
    )
    return frame.filter(~pl.col(ROW).is_in(rows))


FOOTER_LABEL = (
    r"^(制表人?|制单人?|审核人?|复核人?|打印日期|打印时间|打印人|操作员|经办人|页码"
    r"|printedby|printedon|printdate|printtime|preparedby)([:：].*)?$"
    r"|^第\d+页|^共\d+页|^page\d+of\d+$"
)
"""A report footer's first cell (spaces ignored, any case): 制表人：张三, 打印日期：2026-11-20,
审核人, 制单人, 打印时间, 操作员, 页码, 第 1 页 共 3 页, Printed by:, Page 1 of 3 (not a bare
`Page` or `Page1`, which may be an item code)."""
FOOTER_TAIL = 8
"""Rows at the end of a table looked at first for footers (more when all of them are)."""


def _footer_label(expr: pl.Expr) -> pl.Expr:
    folded = expr.cast(pl.String).str.replace_all(r"[\s\x{3000}]+", "").str.to_lowercase()
    return folded.str.contains(FOOTER_LABEL).fill_null(False)


def drop_footer_rows(
    frame: pl.DataFrame,
    schema: TableSchema,
    mapping: dict[str, str],
    path: Path,
    notes: list[str],
) -> pl.DataFrame:
    """Drop the report footer an ERP prints under its data (制表人：张三, 打印日期：...,
    第 1 页 共 3 页), with one note. A footer row is one of the rows after the last data row
    whose first non-empty cell is a `FOOTER_LABEL` and whose required number columns are
    empty or hold such a label too; a row like it between data rows is data (and its
    label an error where a number or date belongs). Blank and totals rows are gone by now.
    Only the last rows are looked at: no cost on the body of a file."""
    cells = [n for n in frame.columns if n != ROW]
    if not cells or frame.height < 2:
        return frame
    numbers = [mapping[c.name] for c in schema.columns if c.required and c.kind == "number"]
    numbers = [n for n in numbers if n in frame.columns]
    text = {n for n, t in frame.schema.items() if t == pl.String}
    # a typed cell (Parquet, a database) is never a label: a filled one ends the search
    first = pl.coalesce(
        _clean_text(pl.col(n)) if n in text else pl.when(pl.col(n).is_not_null()).then(pl.lit(""))
        for n in cells
    )
    empty_or_label = (
        _clean_text(pl.col(n)).is_null() | _footer_label(pl.col(n))
        if n in text
        else pl.col(n).is_null()
        for n in numbers
    )
    footer = _footer_label(first) & pl.all_horizontal(pl.lit(True), *empty_or_label)
    size = FOOTER_TAIL
    while True:
        tail = frame.tail(size)
        flags = tail.select(footer).to_series().reverse()
        data = (~flags).arg_true()
        if data.len() or size >= frame.height:
            break
        size *= 4
    count = int(data[0]) if data.len() else tail.height
    if count == 0 or count >= frame.height:  # no footer, or no data above it
        return frame
    footers = frame.tail(count)
    rows = footers[ROW].to_list()
    labels = footers.select(first).to_series().to_list()
    shown = ", ".join(f"'{quote(t, 40)}'" for t in labels[:3]) + (", ..." if count > 3 else "")
    plural = "s" if count > 1 else ""
    numbers = ", ".join(str(r) for r in rows[:10]) + (", ..." if count > 10 else "")
    notes.append(
        phrase(
            "note.footer_rows",
            where={"en": f"{path}, row{plural} {numbers}", "zh": f"{path}，第 {numbers} 行"},
            footers={"en": f"{count} footer row{plural}", "zh": f"{count} 行表尾"},
            labels=shown,
        )
    )
    return frame.head(frame.height - count)


def _clean_columns(
    frame: pl.DataFrame, keys: list[str], first: str, texts: Mapping[str, int]
) -> dict[str, bool] | None:
    """What `type_table` would find in one pass over `frame`, when every text column is
    clean: no cell matches UNTRIMMED_OR_TOTALS nor is empty. Then a cell is empty only where
    null, no row holds a totals label, and every text trims to itself, so the checks for
    blank lines and totals rows, the trimming of text columns and of dates can be skipped.
    Returns None when a text column is not clean (those steps run as they are), else
    `first_null` (column `first` has a null: a blank line may be there), `keyless` (a row
    with every one of `keys` null: a totals row may be there) and `long_<source>` (a value
    of text column `source` is longer than `texts[source]` bytes)."""
    strings = [n for n, t in frame.schema.items() if t == pl.String]
    unclean = (
        (pl.col(n).str.contains(UNTRIMMED_OR_TOTALS) | (pl.col(n) == "")).any() for n in strings
    )
    keyless = pl.all_horizontal(pl.col(k).is_null() for k in keys).any() if keys else pl.lit(False)
    facts = frame.select(
        pl.any_horizontal(pl.lit(False), *unclean).alias("unclean"),
        pl.col(first).is_null().any().alias("first_null"),
        keyless.alias("keyless"),
        *(
            (pl.col(s).str.len_bytes() > longest).any().alias(f"long{i}")
            for i, (s, longest) in enumerate(texts.items())
        ),
    ).row(0, named=True)
    if facts["unclean"]:
        return None
    return {
        "first_null": facts["first_null"],
        "keyless": facts["keyless"],
        **{f"long_{s}": facts[f"long{i}"] for i, s in enumerate(texts)},
    }


TINY = 1e-12
"""Below this a number other than 0 is read as 0, with a note: no quantity, price, time or
share a plan reads is so small (a milligram in tonnes is 1e-9). Such a cell is a rounding
residue (1.4e-14 left of a stock after fractional moves) or damaged (5e-324, the smallest
float), and near the smallest floats the policy's arithmetic breaks: 5e-324 as an item's
sales made numpy print `divide by zero` on the terminal, 1e-160 `overflow in square`.
The counterpart of `error.too_large` (above 1e12, refused)."""


def tiny_as_zero(
    values: pl.Series,
    frame: pl.DataFrame,
    source: str,
    path: Path | str,
    read_as: str | None,
    notes: list[str],
) -> pl.Series:
    """`values` (a number column of `frame`, from its column `source`) with every value
    nearer 0 than `TINY`, other than 0, as 0; a note names the first cell and the count."""
    tiny = ((values.abs() < TINY) & (values != 0.0)).fill_null(False)
    if not tiny.any():
        return values
    at = tiny.arg_true()
    first = int(at[0])
    cell = frame[source][first]
    notes.append(
        phrase(
            "note.tiny_number",
            where=place(path, int(frame[ROW][first]), source, read_as),
            value=quote(cell.strip() if isinstance(cell, str) else f"{cell!r}"),
            count=len(at),
        )
    )
    return values.scatter(at, 0.0)


def scaled(
    values: pl.Series, source: str, path: Path | str, read_as: str | None, notes: list[str]
) -> pl.Series:
    """`values` of a number column times the scale its header's unit gives
    (`schema.header_scale`: `金额(万元)` 0.025 is 250 元, `数量(千件)` 1.2 is 1,200), with a
    note naming the column; rounded to 12 significant digits, so 0.0003 万件 is 3, not
    2.9999999999999996. Other columns unchanged."""
    scale = header_scale(source)
    if scale is None:
        return values
    factor, unit = scale
    notes.append(
        phrase(
            "note.scaled_column",
            where=place(path, None, source, read_as),
            unit=unit,
            factor=f"{factor:,.0f}",
        )
    )
    return (values * factor).round_sig_figs(12)


def type_table(
    raw: pl.DataFrame,
    schema: TableSchema,
    mapping: dict[str, str],
    path: Path,
    header_row: int = 1,
    notes: list[str] | None = None,
    workbook: bool = False,
    part_file: bool = False,
) -> pl.DataFrame:
    """Cast mapped columns to their kinds, failing on the first value that does not fit.

    Text numbers follow the file's decimal mark (`decimal_mark`); a `workbook`'s cells
    written as `1.503` are its typed numbers and read so.

    Blank lines (every mapped cell empty) and totals rows are dropped, keeping the others'
    row numbers; a note in `notes` names each totals row dropped. A `source_row` column
    already in `raw` (a slice of a file) gives the row numbers. A `part_file` of a dataset
    leaves blank locations to the whole dataset (`refuse_blank_locations`).
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

    texts = {
        source: _longest_text(schema.by_name[name])
        for name, source in mapping.items()
        if schema.by_name[name].kind == "text" and frame.schema[source] == pl.String
    }
    # one pass over the text columns first: in a clean file (`_clean_columns`) the checks
    # for blank lines and totals rows below find nothing and are skipped
    keys = [
        mapping[c.name]
        for c in schema.columns
        if c.required and c.kind != "number" and c.name in mapping
    ]
    clean = _clean_columns(frame, keys, next(iter(mapping.values())), texts) if mapping else None
    if mapping:
        # a blank line has every mapped cell empty: the first column alone clears most
        # tables (one pass over one column), the others are looked at only when it has one
        if clean is None or clean["first_null"]:
            first_empty = empty(next(iter(mapping.values()))).any()
            if frame.select(first_empty).item():
                blank = frame.select(pl.all_horizontal(empty(c) for c in mapping.values()))
                blank = blank.to_series()
                if blank.any():  # filtering copies every column: only when there is one
                    frame = frame.filter(~blank)
        if clean is None or clean["keyless"]:  # else no row can be a totals row
            frame = drop_totals_rows(frame, schema, mapping, path, notes)
        frame = drop_footer_rows(frame, schema, mapping, path, notes)
    typed: list[pl.Series] = [frame[ROW]]
    numbers = {
        source: name
        for name, source in mapping.items()
        if schema.by_name[name].kind == "number" and frame.schema[source] == pl.String
    }
    casts = plain_numbers_of(frame, list(numbers))
    decimal = decimal_mark(frame, numbers, path, notes, casts, workbook)
    # one pass over the text columns: which are clean (kept as they are: no copy of a
    # column of millions of codes) and which may hold a value too long for a cell (known
    # already for a clean file, from its rows before footers were dropped: a value too
    # long there is looked for again below)
    text_facts = (
        {f"d{i}": False for i in range(len(texts))}
        | {f"l{i}": clean[f"long_{s}"] for i, s in enumerate(texts)}
        if clean is not None
        else (
            frame.select(
                *(
                    (pl.col(s).str.contains(r"^\s|\s$") | (pl.col(s) == "")).any().alias(f"d{i}")
                    for i, s in enumerate(texts)
                ),
                *(
                    (pl.col(s).str.len_bytes() > longest).any().alias(f"l{i}")
                    for i, (s, longest) in enumerate(texts.items())
                ),
            ).row(0, named=True)
            if texts
            else {}
        )
    )
    dirty = {s: text_facts[f"d{i}"] for i, s in enumerate(texts)}
    maybe_long = {s: text_facts[f"l{i}"] for i, s in enumerate(texts)}
    # the checks of the columns typed so far, run in one pass: (index, source, read_as,
    # checks); `present`: whether each column's cell is filled, beside its typed value
    pending: list[tuple[int, str, str | None, list[tuple[pl.Expr, str, dict[str, object]]]]] = []
    checked: list[pl.Series] = []

    def run_checks() -> None:
        """Raise the first problem of the pending columns, in column order (each column's
        checks in the order they are reported); one pass over them all."""
        if not pending:
            return
        # `present` matters only where the typed value is empty: a column without one
        # skips the pass over its text
        present = {
            i: ~empty(s) if v.null_count() else pl.lit(True)
            for (i, s, _, _), v in zip(pending, checked, strict=True)
        }
        first_bad = (
            frame.lazy()
            .select(ROW, *(present[i].alias(f"p{i}") for i, _, _, _ in pending))
            .with_columns(checked)
            .select(
                pl.col(ROW).filter(bad).first().alias(f"{i}.{j}")
                for i, _, _, checks in pending
                for j, (bad, _, _) in enumerate(checks)
            )
            .collect()
            .row(0, named=True)
        )
        for i, source, read_as, checks in pending:
            for j, (_, problem, fields) in enumerate(checks):
                row = first_bad[f"{i}.{j}"]
                if row is None:
                    continue
                where = place(path, int(row), source, read_as)
                if problem == "error.empty_required":
                    raise StockplanError(phrase(problem, where=where))
                text = frame.filter(pl.col(ROW) == row).select(_clean_text(pl.col(source))).item()
                raise StockplanError(_refused(problem, where, str(text), fields, source))
        pending.clear()
        checked.clear()

    for i, (name, source) in enumerate(mapping.items()):
        column = schema.by_name[name]
        dtype = frame.schema[source]
        if column.kind == "text" and dtype == pl.String and not dirty[source]:
            values = frame[source].alias(name)  # clean text is kept as it is
        elif column.kind == "date" and dtype == pl.String:
            values = parse_dates(frame[source], trimmed=clean is not None).alias(name)
        elif column.kind == "number" and dtype == pl.String:
            values = parse_numbers(frame[source], decimal, workbook, casts[source]).alias(name)
        else:
            if dtype != pl.String:  # a typed cell's cast may fail: earlier columns report first
                run_checks()
            values = frame.select(_cast_expr(column, dtype, source).alias(name)).to_series()
        read_as = name if normalise_header(source) != name else None
        if column.kind == "number" and values.dtype == pl.Float64:
            values = scaled(values, source, path, read_as, notes)
            values = tiny_as_zero(values, frame, source, path, read_as, notes)
        value, present = pl.col(f"v{i}"), pl.col(f"p{i}")
        # (bad rows, catalogue key of the problem, its fields beyond where and value) in the
        # order they are reported; "error.empty_required": an empty required value
        checks: list[tuple[pl.Expr, str, dict[str, object]]] = []
        if column.kind != "text":
            what = "error.not_a_number" if column.kind == "number" else "error.not_a_date"
            checks.append((value.is_null() & present, what, {}))
        if column.kind == "date":
            lo, hi = PLAUSIBLE_DATES
            checks.append(
                (
                    value.is_not_null() & ~value.is_between(lo, hi),
                    "error.implausible_date",
                    {"low": lo, "high": hi},
                )
            )
        quoted = column.name in QUOTED_COLUMNS
        longest = _longest_text(column)
        if (
            column.kind == "text"
            and values.dtype == pl.String
            and maybe_long.get(source, True)
            and (values.str.len_bytes() > longest).any()
        ):
            checks.append(
                (
                    value.str.len_chars() > longest,
                    "error.too_long_quoted" if quoted else "error.too_long",
                    {"longest": f"{longest:,}", "limit": f"{EXCEL_CELL_LIMIT:,}"}
                    if quoted
                    else {"limit": f"{EXCEL_CELL_LIMIT:,}"},
                )
            )
        if column.kind == "number":
            checks.append((value.is_nan() | value.is_infinite(), "error.not_finite", {}))
            checks.append((value.abs() > 1e12, "error.too_large", {}))
            if column.non_negative:
                checks.append((value < 0, "error.negative", {}))
            if column.day_count:
                checks.append(
                    (value > LONGEST_DAYS, "error.too_many_days", {"longest": f"{LONGEST_DAYS:,}"})
                )
        if column.required:
            checks.append((value.is_null(), "error.empty_required", {}))
        if checks:
            pending.append((i, source, read_as, checks))
            checked.append(values.alias(f"v{i}"))
        typed.append(values)
    run_checks()
    out = net_returns(pl.DataFrame(typed), schema, mapping, path, notes)
    if "location" in mapping and not schema.every_location_when_blank and not part_file:
        refuse_blank_locations(out, mapping["location"], path)
    return out


RETURN_WORDS = r"(?i)退货|退回|销退|\breturns?\b"
"""A document type naming a return: 销售退货, 退货单, 退回, Return, Sales return."""


def net_returns(
    frame: pl.DataFrame,
    schema: TableSchema,
    mapping: Mapping[str, str],
    path: Path | str,
    notes: list[str],
) -> pl.DataFrame:
    """Returns netted from the sales as negative lines are, the columns that said so dropped.

    A `nets` column (`returned_quantity`: 退货数量; `returned_revenue`: 退货金额) is
    subtracted on its row: quantity = 销售数量 - 退货数量 (3 sold and 7 returned is -4,
    netted within its bucket). A `marks_returns` column (`document_type`: 单据类型) whose
    value names a return (`RETURN_WORDS`) makes that line's positive quantity and revenue
    negative: a 销售退货 line of 7 is -7. One note per column that changed a line."""
    dropped = []
    for column in schema.columns:
        if column.name not in frame.columns or not (column.nets or column.marks_returns):
            continue
        source = mapping[column.name]
        dropped.append(column.name)
        if column.nets is not None and column.nets in frame.columns:
            returned = pl.col(column.name).fill_null(0.0)
            rows, total = frame.select(
                (returned != 0).sum().alias("rows"), returned.sum().alias("total")
            ).row(0)
            if rows:
                notes.append(
                    phrase(
                        "note.returns_netted",
                        where=place(path, None, source, column.name),
                        target=column.nets,
                        rows=rows,
                        total=f"{total:,.10g}",
                    )
                )
                frame = frame.with_columns((pl.col(column.nets) - returned).alias(column.nets))
        if column.marks_returns and "quantity" in frame.columns:
            is_return = pl.col(column.name).str.contains(RETURN_WORDS).fill_null(False)
            positive = frame.filter(is_return & (pl.col("quantity") > 0)).select(ROW, column.name)
            if positive.height:
                words = positive[column.name].unique(maintain_order=True)
                notes.append(
                    phrase(
                        "note.return_lines",
                        where=place(path, int(positive[ROW][0]), source, column.name),
                        rows=positive.height,
                        values=", ".join(f"'{quote(w, 40)}'" for w in words.head(3)),
                    )
                )
                flip = pl.col(ROW).is_in(positive[ROW].implode())
                frame = frame.with_columns(
                    pl.when(flip).then(-pl.col(c).abs()).otherwise(pl.col(c)).alias(c)
                    for c in ("quantity", "revenue")
                    if c in frame.columns
                )
    return frame.drop(dropped) if dropped else frame


def refuse_blank_locations(
    frame: pl.DataFrame, source: str | Callable[[str], str], path: Path | str
) -> None:
    """A blank location cell in a table whose other rows name one is refused, naming its
    row: filled with `planning.default_location` it would be a warehouse of its own (503
    units moved to a made-up MAIN, an order for it). A table whose location cells are all
    blank belongs, as one without the column, to the stock's only or the default location;
    promotions and overrides read a blank as every location (`every_location_when_blank`).
    `source`: the file's location header; for a Parquet dataset (rows with `source_file`),
    whose rule holds over every part file, the header of a part file given its path."""
    blank = frame["location"].null_count()
    if blank == 0 or blank == frame.height:
        return
    refuse_blank_location_facts([blank_locations(frame)], source, path)


def blank_locations(frame: pl.DataFrame) -> dict:
    """What `refuse_blank_locations` decides on, over a table or one partition's slice of
    it: `blank` (rows without a location), `first` (the earliest of them: source_row
    [, source_file]) and `named` (the distinct locations the other rows name)."""
    located = [c for c in (SOURCE_FILE, ROW) if c in frame.columns]
    blanks = frame.filter(pl.col("location").is_null())
    return {
        "blank": blanks.height,
        "first": blanks.select(located).sort(located).head(1),
        "named": frame.select(pl.col("location").drop_nulls().unique()),
    }


def refuse_blank_location_facts(
    facts: list[dict], source: str | Callable[[str], str], path: Path | str
) -> None:
    """`refuse_blank_locations` over the `blank_locations` of every slice of one table (the
    partitions a cluster's tasks read, each a slice of every part file)."""
    blank = sum(f["blank"] for f in facts)
    named = pl.concat([f["named"] for f in facts])["location"].unique().sort()
    if blank == 0 or named.len() == 0:
        return
    firsts = pl.concat([f["first"] for f in facts if f["blank"]])
    first = firsts.sort([c for c in (SOURCE_FILE, ROW) if c in firsts.columns]).row(0, named=True)
    file = first.get(SOURCE_FILE) or path
    header = source if isinstance(source, str) else source(str(file))
    shown = ", ".join(quote(n, 40) for n in named.head(3)) + (", ..." if named.len() > 3 else "")
    read_as = "location" if normalise_header(header) != "location" else None
    raise StockplanError(
        phrase(
            "error.blank_location",
            where=place(file, first[ROW], header, read_as),
            named=shown,
            blank=blank,
        )
    )
