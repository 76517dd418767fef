"""Write output tables as CSV, XLSX, JSON or Parquet, atomically and safe to open.

Every file is written to a temporary file in the target folder and renamed into place
only after all of a run's files are written, so a failed run leaves no half sheet; a
temporary file left by a killed run is removed by the next one. A new file gets the mode
the umask gives (as `touch` would), a replaced file keeps its mode.

Cell safety: no NaN or infinity reaches any output (an undefined number is an empty
cell / null); in XLSX every text is written as a string, never a formula or link; in CSV
a text starting with = + - @ TAB or CR is prefixed with `'` (OWASP CSV injection), unless
`io.csv_escape_formulas: false`. CSV for Excel (`for_excel`): a text Excel would turn into a
number, date or formula (`011491`, `1-2`, `-3`) is written `="011491"`, which Excel shows
as the text itself.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import io
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

import polars as pl

from stockplan.errors import StockplanError, quote
from stockplan.i18n import both, phrase, place, table_title

Format = Literal["csv", "xlsx", "json", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "parquet")
SUFFIX_FORMAT = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".parquet": "parquet"}

MONEY = "#,##0.00"
PRICE = "#,##0.00##"
"""A unit cost or price: the decimals it has, 2 to 4 (0.126 is not 0.13)."""
QUANTITY = "#,##0.00"
"""A quantity with a fraction (a sheet's quantity column of whole numbers is an integer
column, `INTEGER_FORMAT`: `quantity_format`)."""
RATE = "0.0%"
COLUMN_FORMATS = {
    "order_value": MONEY,
    "revenue_at_risk": MONEY,
    "annual_value": MONEY,
    "unit_cost": PRICE,
    "unit_price": PRICE,
    "stockout_probability": RATE,
    "service_level": RATE,
    "on_time_rate": RATE,
    "fill_rate": RATE,
    "quantity_fill_rate": RATE,
    "quality_rate": RATE,
    "promised_service": RATE,
    "reachable_service": RATE,
    "unreachable_promised": RATE,
    "unreachable_service": RATE,
    "unreachable_demand_share": RATE,
    "achieved_service": RATE,
    # the simulation's targets and service, shares: fractions shown as percentages
    "target": RATE,
    "cycle_service_level": RATE,
    "rule_fill_rate_compared": RATE,
    "load_fill": RATE,
    "kit_share": RATE,
}


PRICES = {"unit_cost", "unit_price"}
"""Prices per unit: shown with up to 4 decimals (a line's value is in cents, its unit cost
as the price list has it: 0.126 a unit, 5 units 0.63)."""


def presentable(frame: pl.DataFrame, decimals: int = 2) -> pl.DataFrame:
    """Round floats for people: 2 decimals, 4 for rates and unit prices; whole-number
    columns become integers (those within Int64: the days of cover of an item sold in
    units of 1e-300 are 4e301)."""
    fine = {
        "stockout_probability",
        "service_level",
        "on_time_rate",
        "fill_rate",
        "quantity_fill_rate",
        "quality_rate",
        "promised_service",
        "reachable_service",
        "unreachable_promised",
        "unreachable_service",
        "unreachable_demand_share",
        "achieved_service",
        "rule_fill_rate_compared",
        "inventory_vs_rule",
        "target",
        "cycle_service_level",
        "load_fill",
        "kit_share",
        "adi",
        "cv2",
        "cv",
    }
    floats = [n for n, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    rounded = frame.with_columns(
        pl.col(n).round(4 if n in fine or n in PRICES else decimals) for n in floats
    )
    whole = rounded.select(
        (
            pl.col(n).is_null()
            | (
                pl.col(n).is_finite()
                & (pl.col(n) == pl.col(n).round(0))
                & (pl.col(n).abs() < 2.0**63)
            )
        ).all()
        for n in floats
    )
    integral = [n for n in floats if n not in fine and whole[n][0]]
    return rounded.with_columns(pl.col(n).cast(pl.Int64) for n in integral)


FORMULA_START = r"^'*[=+\-@\t\r]"
"""Text an office suite may run as a formula (OWASP: = + - @ TAB CR), and such text after
quotes of its own (`'-100` in the data is written `''-100`), so that taking one quote off
when a plan is read back (`planfiles`) gives the text as it was."""
EXCEL_CELL_LIMIT = 32_767
EXCEL_ROW_LIMIT = 1_048_576


def finite(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN and +-inf in float columns become null: an empty cell, never `NaN` or `inf`."""
    floats = [n for n, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    if not floats:
        return frame
    # one expression over all the float columns: one per column cost twice the CPU
    return frame.with_columns(
        pl.when(pl.col(floats).is_finite()).then(pl.col(floats)).otherwise(None)
    )


def escape_formulas(frame: pl.DataFrame, keep: str | None = None) -> pl.DataFrame:
    """Text cells starting with = + - @ TAB or CR get a leading `'` (OWASP CSV injection),
    except those starting with `keep` (the `="..."` text of CSV for Excel).

    Only text columns: a negative number in a numeric column stays a number.
    """
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    kept = (lambda n: ~pl.col(n).str.starts_with(keep)) if keep else (lambda n: pl.lit(True))
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(FORMULA_START) & kept(n))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in texts
    )


EXCEL_TEXT = r'(?s)^="((?:[^"]|"")*)"$'
"""A cell written for Excel (`="011491"`): the text is the quoted part, `""` one quote."""


def unescape_cell(column: pl.Expr) -> pl.Expr:
    """A CSV cell's text as it was before `write_csv` escaped it: one `'` taken off a
    formula-like text (`'-100` -> `-100`; `''-100` in the data stays `'-100`), the formula
    of CSV for Excel undone (`="011491"` -> `011491`)."""
    escaped = "^'" + FORMULA_START.removeprefix("^")  # one quote more than the data had
    return (
        pl.when(column.str.contains(escaped))
        .then(column.str.slice(1))
        .when(column.str.contains(EXCEL_TEXT))
        .then(column.str.extract(EXCEL_TEXT, 1).str.replace_all('""', '"', literal=True))
        .otherwise(column)
    )


CONTROL_CHARS = (
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\x{ad}\x{200b}-\x{200f}\x{202a}-\x{202e}"
    r"\x{2060}-\x{2064}\x{2066}-\x{2069}\x{feff}]"
)
"""Control characters, the bidi overrides and invisible characters (`errors.safe_text`
escapes the same)."""


def escape_controls(frame: pl.DataFrame) -> pl.DataFrame:
    r"""Text with control characters (ESC, BEL, ...) and bidi overrides shown escaped
    (`\x1b`, `\u202e`), for a terminal.

    Only columns that hold one are touched, so a clean table costs one scan.
    """
    from stockplan.errors import safe_text

    dirty = [
        n
        for n, t in frame.schema.items()
        if t == pl.String and frame[n].str.contains(CONTROL_CHARS).any()
    ]
    return frame.with_columns(
        pl.col(n).map_elements(safe_text, return_dtype=pl.String) for n in dirty
    )


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
EXCEL_CONVERTS = (
    r"(?i)^\s*(?:"
    r"[+-]?[$¥￥]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?\s*%?"  # 011491 1E5 +86 1,234
    r"|\([$¥￥]?\d[\d,]*(?:\.\d*)?\)"  # (12): -12
    r"|(?:\d+\s+)?\d+/\d+"  # 3/4 (a date), 1 1/2 (a fraction)
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,4}-\d{1,2}"  # 2026-01-02, 1-2
    rf"|\d{{1,2}}[-\s/]?{_MONTH}(?:[-\s/,]+\d{{1,4}})?|{_MONTH}[-\s/]?\d{{1,4}}(?:,?\s*\d{{2,4}})?"
    r"|\d{1,4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日"  # 1月2日
    r"|(?:\d{1,4}[-/]\d{1,2}[-/]\d{1,4}\s+)?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m?)?"
    r"|true|false"
    r")\s*$"
)
"""Text Excel reads as a number, date, time or truth value when it opens a CSV file (in
the English and Chinese Windows locales): `011491` becomes 11491, `1-2` and `3/4` dates,
`1E5` 100000, a 19-digit code 1.23457E+18."""
EXCEL_SHOWS_AS_IS = r"^(?:0|[1-9]\d{0,10})(?:\.\d*[1-9])?$"
"""Numbers Excel shows as written (no leading zero, sign, exponent or trailing zero, at
most 11 digits before the point): text it converts without changing what a buyer reads."""
EXCEL_FORMULA_TEXT_LIMIT = 255
"""Characters of a text in an Excel formula (`="..."`); a longer cell keeps the `'`."""
_EXCEL_QUOTES = tuple(chr(c) for c in range(0xE000, 0xE010))
"""Private-use characters that stand for the `"` of `="..."` while polars writes the CSV
(it would quote the cell and double them), one that no cell holds."""


def _excel_converts(column: pl.Expr) -> pl.Expr:
    """A text cell Excel would not keep as it is: read as a number, date, time or formula."""
    return column.str.contains(EXCEL_CONVERTS) | column.str.contains(FORMULA_START)


def excel_would_change(frame: pl.DataFrame, escape: bool = True) -> tuple[str, str] | None:
    """(column, first such cell) of a text cell Excel changes when it opens a plain CSV of
    `frame` (`011491` shows as 11491, `1-2` as a date), else None. A formula-like text
    escaped with `'` (`escape`: `-3` written `'-3`) is shown marked, not changed."""
    for name in [n for n, t in frame.schema.items() if t == pl.String]:
        column = pl.col(name)
        if escape:
            converts = column.str.contains(EXCEL_CONVERTS) & ~column.str.contains(FORMULA_START)
        else:
            converts = _excel_converts(column)
        changed = (converts & ~column.str.contains(EXCEL_SHOWS_AS_IS)).fill_null(False)
        found = frame.filter(changed).select(name).head(1)
        if found.height:
            return name, found.item()
    return None


def _for_excel(frame: pl.DataFrame, escape: bool) -> tuple[pl.DataFrame, str | None]:
    """Text cells Excel would change (`_excel_converts`, formula-like text included) as
    `=QXQ`, Q a private-use stand-in for `"` (`_EXCEL_QUOTES`, returned; None when every
    one is in the data: then nothing is wrapped). A cell with a quote, comma or line break,
    or too long for a formula, is left to `escape_formulas`."""
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    unwrapped = escape_formulas(frame) if escape else frame
    if not texts:
        return unwrapped, None

    def used(pattern: str) -> pl.Expr:
        return pl.any_horizontal(pl.col(texts).str.contains(pattern)).any().fill_null(False)

    quote_mark: str | None = _EXCEL_QUOTES[0]
    if frame.select(used(f"[{_EXCEL_QUOTES[0]}-{_EXCEL_QUOTES[-1]}]")).item():  # rare: scan each
        held = frame.select(used(c).alias(c) for c in _EXCEL_QUOTES).row(0)
        quote_mark = next((c for c, u in zip(_EXCEL_QUOTES, held, strict=True) if not u), None)
    if quote_mark is None:
        return unwrapped, None
    wrapped = []
    for name in texts:
        column = pl.col(name)
        plain = ~column.str.contains(r"[\",\r\n]") & (
            column.str.len_chars() <= EXCEL_FORMULA_TEXT_LIMIT
        )
        wrapped.append(
            pl.when(_excel_converts(column) & plain)
            .then(pl.lit("=" + quote_mark) + column + pl.lit(quote_mark))
            .otherwise(column)
            .alias(name)
        )
    frame = frame.with_columns(wrapped)
    return (escape_formulas(frame, keep=f"={quote_mark}") if escape else frame), quote_mark


def write_csv(
    frame: pl.DataFrame,
    target: IO[bytes] | Path,
    *,
    bom: bool | None = False,
    table: str | None = None,
    lang: str = "en",
    escape: bool = True,
    currency: str | None = None,
    bucket: str | None = None,
    for_excel: bool = False,
) -> None:
    """CSV for people and spreadsheets: headers and word values in `lang` (canonical with
    lang "en"), rounded, finite, formula-like text neutralised (`escape`); amounts in the
    reasons carry `currency`'s unit in Chinese; with the planning `bucket` the per-bucket
    columns say it in their header (`forecast per week`, 每周预测量; None: canonical).

    `bom` None: a UTF-8 BOM when the text is not all ASCII (Excel on Chinese Windows reads
    a CSV without one as GBK). `for_excel`: codes Excel would change written `="011491"`."""
    frame = localise(presentable(finite(frame)), table, lang, currency, bucket)
    quote_mark = None
    if for_excel:
        frame, quote_mark = _for_excel(frame, escape)
    elif escape:
        frame = escape_formulas(frame)
    if bom is not None and quote_mark is None:
        frame.write_csv(target, include_bom=bom, date_format="%Y-%m-%d")
        return
    buffer = io.BytesIO()
    frame.write_csv(buffer, date_format="%Y-%m-%d")
    data = buffer.getvalue()
    if quote_mark is not None:
        data = data.replace(quote_mark.encode(), b'"')
    if bom or (bom is None and not data.isascii()):
        data = codecs.BOM_UTF8 + data
    if isinstance(target, Path):
        target.write_bytes(data)
    else:
        target.write(data)


# --- layout for people: column order, headers and values in the buyer's language ---

# what a buyer decides on, first; the other columns follow (grouped and collapsed in XLSX)
BUYER_COLUMNS: dict[str, list[str]] = {
    "orders": [
        "sku",
        "name",
        "location",
        "supplier",
        "order_qty",
        "order_value",
        "order_date",
        "order_by",
        "expected_arrival",
        "risk_level",
        "reason",
    ],
    "risk": [
        "sku",
        "name",
        "location",
        "risk_level",
        "stockout_probability",
        "stockout_date",
        "days_of_cover",
        "on_hand",
        "on_order",
        "next_receipt_date",
        "restock_eta",
        "expected_shortage",
        "revenue_at_risk",
    ],
    "transfers": [
        "sku",
        "name",
        "from_location",
        "to_location",
        "quantity",
        "arrival_date",
        "reason",
    ],
    "excess": ["sku", "name", "location", "excess_qty", "excess_value", "days_of_cover"],
    "notices": ["order_id", "customer", "sku", "name", "location", "quantity"],
}
TOTAL_COLUMNS: dict[str, list[str]] = {
    "orders": ["order_qty", "order_value"],
    "excess": ["excess_qty", "excess_value"],
    "transfers": ["quantity"],
}
WRAP_COLUMNS = {"reason": 60, "message": 60}
DETAIL_WIDTH = 14


def buyer_layout(frame: pl.DataFrame, table: str) -> tuple[pl.DataFrame, int]:
    """`frame` with the buyer's decision columns first; returns it and how many lead."""
    lead = [c for c in BUYER_COLUMNS.get(table, []) if c in frame.columns]
    if not lead:
        return frame, frame.width
    return frame.select(*lead, *[c for c in frame.columns if c not in lead]), len(lead)


def localise(
    frame: pl.DataFrame,
    table: str | None,
    lang: str,
    currency: str | None = None,
    bucket: str | None = None,
) -> pl.DataFrame:
    """Headers, word values (risk level, demand pattern, ...) and reasons in `lang`.

    English is the canonical frame itself, the machine contract, except that with the
    planning `bucket` a per-bucket column names it (`forecast per week`, `i18n.header`).
    """
    from stockplan.i18n import (
        BUCKET_HEADERS,
        REASON_COLUMNS,
        VALUES,
        headers,
        message,
        render_causes,
        render_inheritance,
        render_reason,
        value,
    )

    if lang == "en":
        per_bucket = [c for c in BUCKET_HEADERS if c in frame.columns]
        return frame.rename(headers(per_bucket, lang, bucket)) if bucket else frame
    exprs = []
    for column in [c for c in VALUES if c in frame.columns]:
        text = pl.col(column).cast(pl.String)
        if frame.schema[column] == pl.Boolean:
            text = text.str.to_lowercase()
        known = {k: value(column, k, lang) for k in VALUES[column]}
        rendered = text.replace(known)
        if column == "filled_from":  # "purchase order PO1" -> "采购单 PO1", transfer likewise
            for source in ("purchase order ", "transfer from "):
                prefix = value(column, source + "X", lang).removesuffix("X")
                rendered = rendered.str.replace(f"^{source}", prefix, literal=False)
        if column == "policy":  # the rule of thumb's name carries its weeks
            rendered = rendered.map_elements(lambda v: value("policy", v, lang), pl.String)
        exprs.append(rendered.alias(column))
    for column in [c for c in REASON_COLUMNS if c in frame.columns]:
        exprs.append(
            pl.col(column).map_elements(
                lambda r: render_reason(r, lang, currency), return_dtype=pl.String
            )
        )
    if "causes" in frame.columns:
        exprs.append(
            pl.col("causes").map_elements(lambda r: render_causes(r, lang), return_dtype=pl.String)
        )
    if "inherits_from" in frame.columns:
        exprs.append(
            pl.col("inherits_from").map_elements(
                lambda r: render_inheritance(r, lang), return_dtype=pl.String
            )
        )
    if "override" in frame.columns:  # "set to 300" / "x 1.5" (`overrides.override_table`)
        set_to, times = (message(f"override.{k}", lang, q="", m="") for k in ("set_to", "times"))
        exprs.append(
            pl.col("override")
            .str.replace(r"^set to ", set_to, literal=False)
            .str.replace(r"^x ", times, literal=False)
        )
    return frame.with_columns(exprs).rename(headers(frame.columns, lang, bucket))


def sheet_name(table: str, lang: str) -> str:
    """Excel sheet name of `table` in `lang` (31 characters at most)."""
    from stockplan.i18n import table_title

    return table_title(table, lang)[:31]


def _finish_sheet(
    workbook, worksheet, frame: pl.DataFrame, table: str, lead: int, lang: str
) -> None:
    """Group and collapse the technical columns after the lead ones; widen and wrap reason
    and message columns; a totals row below the table."""
    from stockplan.i18n import header, message

    if table in BUYER_COLUMNS and lead < frame.width:
        worksheet.set_column(
            lead, frame.width - 1, DETAIL_WIDTH, None, {"level": 1, "hidden": True}
        )
        worksheet.set_column(frame.width, frame.width, None, None, {"collapsed": True})
    for column, width in WRAP_COLUMNS.items():
        if column in frame.columns:
            index = frame.get_column_index(column)
            if index < lead or table not in BUYER_COLUMNS:
                worksheet.set_column(index, index, width)
    totals = [c for c in TOTAL_COLUMNS.get(table, []) if c in frame.columns]
    if totals and frame.height:
        row = frame.height + 1
        bold = workbook.add_format({"bold": True, "top": 1})
        missing = message("missing", lang)
        worksheet.write_string(row, 0, header("total", lang), bold)
        for column in totals:
            values = frame[column]
            # money and quantities summed to cents: 241075.7899999999 is 241075.79
            total = None if values.len() == values.null_count() else round(float(values.sum()), 2)
            shown = COLUMN_FORMATS.get(column) or quantity_format(total or 0.0)
            fmt = workbook.add_format({"bold": True, "top": 1, "num_format": shown})
            if total is None:  # no known value (no cost): never 0
                worksheet.write_string(row, frame.get_column_index(column), missing, fmt)
                continue
            worksheet.write_number(row, frame.get_column_index(column), total, fmt)


def summary_sheet(
    tables: dict[str, pl.DataFrame], info: dict, lang: str
) -> tuple[list[tuple], list[tuple[str, pl.DataFrame]]]:
    """The summary sheet's (label, value[, note beside it]) lines and its per-supplier /
    per-location tables: planning date, version, config, input files, order totals,
    high-risk counts."""
    from stockplan.i18n import currency_word, headers, input_name, message

    lines: list[tuple] = [
        (message("summary.planning_date", lang), info.get("as_of")),
        (message("summary.version", lang), info.get("version")),
        (message("summary.config", lang), info.get("config")),
    ]
    for name, path in (info.get("inputs") or {}).items():
        lines.append((message("summary.input", lang, table=input_name(name, lang)), str(path)))
    blocks: list[tuple[str, pl.DataFrame]] = []
    orders = tables.get("orders")
    if orders is not None:
        buying = orders.filter(pl.col("order_qty") > 0)
        currency = info.get("currency", "")
        uncosted = buying["order_value"].null_count()
        missing = message("missing", lang)
        # a line without a cost is not valued at 0: the total is of the known costs, with the
        # count of lines left out beside it, and `missing` when no line has a cost
        total: object = (
            missing
            if uncosted and uncosted == buying.height
            else round(float(buying["order_value"].sum()), 2)
        )
        unit = currency_word(currency, lang)  # 采购金额（元） in Chinese for CNY
        label = message("summary.order_value", lang)
        label = (f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})") if unit else label
        value_line: tuple = (label, total)
        if uncosted and uncosted < buying.height:
            value_line += (message("summary.not_counted", lang, count=uncosted),)
        lines += [
            (message("summary.order_lines", lang), buying.height),
            value_line,
            (message("summary.missing_cost", lang), uncosted),
        ]
        high = pl.col("risk_level") == "high" if "risk_level" in buying.columns else pl.lit(False)
        known = pl.col("order_value").is_not_null()
        for key, by in (("summary.by_supplier", "supplier"), ("summary.by_location", "location")):
            block = buying.with_columns(
                pl.col(by).fill_null(message("summary.no_name", lang))
            ).group_by(by)
            block = block.agg(
                pl.len().alias("lines"),
                pl.col("order_qty").sum(),
                # null (written `missing`) when no line of the group has a cost
                pl.when(known.any()).then(pl.col("order_value").sum().round(2)),
                (~known).sum().alias("missing_cost_lines"),
                high.sum().alias("high_risk"),
            )
            if by == "location":
                block = _every_high_risk_line(block, tables.get("risk"), orders)
            block = block.sort("order_value", by, descending=[True, False], nulls_last=True)
            if not uncosted:
                block = block.drop("missing_cost_lines")
            blocks.append((message(key, lang), block.rename(headers(block.columns, lang))))
    risk = tables.get("risk")
    if risk is not None:
        lines += [
            (
                message("summary.high_risk", lang),
                risk.filter(pl.col("risk_level") == "high").height,
            ),
            (
                message("summary.medium_risk", lang),
                risk.filter(pl.col("risk_level") == "medium").height,
            ),
        ]
    if orders is not None:
        lines.append(("", message("summary.details_note", lang)))
    return lines, blocks


def _every_high_risk_line(
    block: pl.DataFrame, risk: pl.DataFrame | None, orders: pl.DataFrame
) -> pl.DataFrame:
    """The per-location block (location, lines, order_qty, order_value, missing_cost_lines,
    high_risk of its order lines) with high_risk = every high-risk line of the location,
    ordered or not, as the summary's headline counts them (the risk table; without it the
    order rows), and a row of 0 lines for a location with high-risk lines and no order."""
    rows = risk if risk is not None else orders
    if "risk_level" not in rows.columns:
        return block
    high = (
        rows.filter(pl.col("risk_level") == "high")
        .group_by("location")
        .agg(pl.len().cast(block["high_risk"].dtype).alias("high_risk"))
    )
    return (
        block.drop("high_risk")
        .join(high, on="location", how="full", coalesce=True)
        .with_columns(
            pl.col("lines", "missing_cost_lines", "high_risk").fill_null(0),
            pl.col("order_qty", "order_value").fill_null(
                pl.when(pl.col("lines").is_null()).then(0.0)
            ),
        )
        .select(block.columns)
    )


def quantity_format(value: float) -> str:
    """How a quantity outside a table's column is shown (a total, the summary's sums): as a
    sheet's column shows it, whole numbers as `14,186`, a fraction with two decimals."""
    return INTEGER_FORMAT if float(value).is_integer() else QUANTITY


def _write_summary(workbook, tables: dict[str, pl.DataFrame], info: dict, lang: str) -> None:
    import datetime as dt

    from stockplan.i18n import header, message

    lines, blocks = summary_sheet(tables, info, lang)
    sheet = workbook.add_worksheet(sheet_name("summary", lang))
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    money = workbook.add_format({"num_format": MONEY})
    quantities = {f: workbook.add_format({"num_format": f}) for f in (INTEGER_FORMAT, QUANTITY)}
    quantity_columns = {header(c, lang) for c in ("order_qty",)}
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 4, 16)

    def put(row: int, col: int, item: object, fmt=None) -> None:
        if item is None:
            sheet.write_blank(row, col, None, fmt)
        elif isinstance(item, dt.date):
            sheet.write_datetime(row, col, dt.datetime.combine(item, dt.time()), date)
        elif isinstance(item, bool):
            sheet.write_string(row, col, str(item), fmt)
        elif isinstance(item, int | float):
            sheet.write_number(row, col, item, fmt)
        elif re.fullmatch(RICH_SHAPED, str(item)):
            # xlsxwriter writes such a string unescaped, as rich-string XML; written as a
            # rich string of plain runs (it needs three), each run is escaped
            text = str(item)
            runs = (text[:1], text[1:2], text[2:])
            sheet.write_rich_string(row, col, *runs, *([fmt] if fmt else []))
        else:
            sheet.write_string(row, col, str(item), fmt)

    missing = message("missing", lang)
    row = 0
    for label, item, *beside in lines:
        put(row, 0, label, bold)
        put(row, 1, item, money if isinstance(item, float) else None)
        for col, text in enumerate(beside, start=2):
            put(row, col, text)
        row += 1
    for title, block in blocks:
        row += 1
        put(row, 0, title, bold)
        row += 1
        for col, name in enumerate(block.columns):
            put(row, col, name, bold)
        for values in block.rows():
            row += 1
            for col, item in enumerate(values):
                # only a group's order_value is ever empty: none of its lines has a cost
                item = missing if item is None else item
                fmt = money if isinstance(item, float) else None
                if block.columns[col] in quantity_columns and isinstance(item, int | float):
                    fmt = quantities[quantity_format(item)]
                put(row, col, item, fmt)
        row += 1


def _check_fits_excel(name: str, frame: pl.DataFrame) -> None:
    """A sheet holds 1,048,576 rows and a cell 32,767 characters: refuse, never cut."""
    if frame.height + 1 > EXCEL_ROW_LIMIT:
        raise StockplanError(
            phrase(
                "error.rows_over_excel",
                table={"en": name, "zh": table_title(name, "zh")},
                name=name,
                rows=f"{frame.height:,}",
                limit=f"{EXCEL_ROW_LIMIT:,}",
            )
        )
    for column, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        long = frame.with_row_index("__row").filter(
            pl.col(column).str.len_chars() > EXCEL_CELL_LIMIT
        )
        if long.height:
            where = place(f"table {name}", int(long["__row"][0]) + 2, column)
            where["zh"] = where["zh"].replace(f"table {name}", f"表 {table_title(name, 'zh')}")
            raise StockplanError(
                phrase(
                    "error.cell_over_excel",
                    where=where,
                    length=f"{long[column].str.len_chars()[0]:,}",
                    limit=f"{EXCEL_CELL_LIMIT:,}",
                )
            )


WIDTH_SAMPLE = 1000
"""Rows measured for column widths (spread over the table)."""
MAX_WIDTH = 50


def column_widths(frame: pl.DataFrame) -> dict[str, int]:
    """Column widths in pixels from the header and a sample of rows (Excel's autofit reads
    every cell in Python: seconds on a large plan). A CJK character counts twice."""
    sample = frame.gather_every(max(1, frame.height // WIDTH_SAMPLE)) if frame.height else frame
    text = sample.select(pl.all().cast(pl.String).fill_null(""))
    chars = text.select(
        (pl.all().str.len_chars() + (pl.all().str.len_bytes() - pl.all().str.len_chars()) // 2)
        .max()
        .fill_null(0)
    ).row(0)
    widths = {}
    for name, longest in zip(frame.columns, chars, strict=True):
        header = len(name) + (len(name.encode()) - len(name)) // 2
        width = min(MAX_WIDTH, max(header + 2, int(longest) + 3))  # room for the filter arrow
        widths[name] = width * 7 + 5
    return widths


LARGE_SHEET_CELLS = 0
"""Sheets with more cells get their rows as XML built by Polars in one pass (`_row_xml`)
instead of xlsxwriter's per-cell Python (about 5 microseconds a cell): every sheet. Both
give the same workbook (`_table_sheet`), and in the sample plan's workbook a sheet of 50
to 1,200 cells costs the same either way. The per-cell writer is left for the columns
`_row_xml` does not write as Excel values (times, nested values: `_rows_as_xml`)."""
HEADER_FORMAT = {"bold": True, "bg_color": "#DDEBF7", "border": 1}
DTYPE_FORMATS = {pl.Date: "yyyy-mm-dd", pl.Float64: QUANTITY}
INTEGER_FORMAT = "#,##0;[Red]-#,##0"
"""`polars.write_excel`'s format of an integer column (with `table_style=None`)."""
FLOAT_FORMAT = "#,##0.00;[Red]-#,##0.00"
"""Its format of a float column without one of `DTYPE_FORMATS` (`float_precision=2`)."""
EXCEL_EPOCH = "1899-12-30"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9A-Fa-f]{4}_"
"""Text the sheet XML must escape as xlsxwriter does (`_xml_text`)."""


RICH_SHAPED = r"^<r>[\s\S]*</r>$"
"""A text xlsxwriter takes for rich-string XML and writes unescaped."""


def _rich_lookalike(frame: pl.DataFrame) -> bool:
    """Whether a text starts with `<r>` and ends with `</r>`: xlsxwriter takes such a text
    for rich-string XML and writes it unescaped (a name `<r></t></r>` made the workbook
    unreadable), so the sheet is written by `_row_xml`, which escapes every text."""
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    return bool(
        texts
        and frame.select(
            pl.any_horizontal(pl.col(n).str.contains(RICH_SHAPED).any() for n in texts)
        ).item()
    )


def _xml_text(text: pl.Expr, controls: bool) -> pl.Expr:
    """XML-escaped cell text, escaped as xlsxwriter escapes it: a literal `_xHHHH_` gets
    its underscore escaped (`_x005F_xHHHH_`, else Excel would read it as a character),
    control characters and the non-characters U+FFFE / U+FFFF (not allowed in XML) become
    Excel's `_xHHHH_`."""
    text = (
        text.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
    if controls:
        text = text.str.replace_all(r"(_x[0-9A-Fa-f]{4}_)", "_x005F${1}")
        for code in [*range(0x00, 0x09), *range(0x0B, 0x20), 0xFFFE, 0xFFFF]:
            text = text.str.replace_all(chr(code), f"_x{code:04X}_", literal=True)
    return text


def _row_xml(frame: pl.DataFrame, styles: list[int]) -> str:
    """The `<row>` elements of rows 2.. of a sheet: numbers as numbers, dates as Excel
    serial days, text as inline strings (never a formula), an empty cell for null and for
    an empty text (as xlsxwriter writes one)."""
    from xlsxwriter.utility import xl_col_to_name

    row = pl.int_range(2, frame.height + 2, dtype=pl.Int64).cast(pl.String)
    cells = []
    for index, (name, dtype) in enumerate(frame.schema.items()):
        column = pl.col(name)
        empty = column.is_null()
        ref = pl.concat_str(
            pl.lit(f'<c r="{xl_col_to_name(index)}'), row, pl.lit(f'" s="{styles[index]}"')
        )
        if dtype == pl.Boolean:
            cell = pl.concat_str(
                ref, pl.lit(' t="b"><v>'), column.cast(pl.Int8).cast(pl.String), pl.lit("</v></c>")
            )
        elif dtype == pl.Date:
            serial = (column - pl.lit(EXCEL_EPOCH).str.to_date()).dt.total_days()
            cell = pl.concat_str(ref, pl.lit("><v>"), serial.cast(pl.String), pl.lit("</v></c>"))
        elif dtype.is_numeric():
            cell = pl.concat_str(ref, pl.lit("><v>"), column.cast(pl.String), pl.lit("</v></c>"))
        else:
            text = column.cast(pl.String)
            controls = bool(frame.select(text.str.contains(_CONTROL).any()).item())
            empty = empty | (text == "")
            cell = pl.concat_str(
                ref,
                pl.lit(' t="inlineStr"><is><t xml:space="preserve">'),
                _xml_text(text, controls),
                pl.lit("</t></is></c>"),
            )
        blank = pl.concat_str(ref, pl.lit("/>"))  # formatted, as polars writes a null
        cells.append(pl.when(empty).then(blank).otherwise(cell))
    rows = frame.select(
        pl.concat_str(pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")).alias("x")
    )
    return rows["x"].str.join("").item() if frame.height else ""


def _rows_as_xml(frame: pl.DataFrame) -> bool:
    """Whether `_row_xml` writes every column as `polars.write_excel` does: text, numbers,
    truth values and dates (a time or a nested value is left to the per-cell writer)."""
    plain = (pl.String, pl.Categorical, pl.Enum, pl.Boolean, pl.Date, pl.Null)
    return all(t.is_numeric() or isinstance(t, plain) for t in frame.dtypes)


def _cell_format(dtype: pl.DataType, given: str | dict | None) -> dict:
    """A column's cell format as `polars.write_excel` makes it with our `DTYPE_FORMATS`,
    `float_precision=2` and no table style: the column's own (`given`) else its type's,
    vertically centred."""
    typed = DTYPE_FORMATS.get(dtype)
    if typed is None and dtype.is_integer():
        typed = INTEGER_FORMAT
    elif typed is None and dtype.is_float():
        typed = FLOAT_FORMAT
    spec = typed if given is None else given
    if spec is None:
        return {"valign": "vcenter"}
    if isinstance(spec, str):
        return {"num_format": spec, "valign": "vcenter"}
    return {**({"num_format": typed} if typed else {}), "valign": "vcenter", **spec}


def _table_sheet(workbook, worksheet: str, frame: pl.DataFrame, formats: dict) -> tuple:
    """A sheet as `polars.write_excel` writes it (an Excel table named `FrameN` over the
    header and rows, without a style, with filter buttons; bold header, number formats,
    widths from a sample, frozen header) whose data rows come from `_row_xml`: returns
    (worksheet, rows XML, (table name, its whole range)) for `_insert_rows` once the
    workbook is closed. Sheet names are checked before (`_check_sheet_names`): the sheet
    is new."""
    from xlsxwriter.utility import xl_range

    header = workbook.add_format(HEADER_FORMAT)
    made: dict[str, object] = {}
    cells = []
    for name, dtype in frame.schema.items():
        spec = _cell_format(dtype, formats.get(name))
        key = repr(sorted(spec.items()))
        if key not in made:
            made[key] = workbook.add_format(spec)
        cells.append(made[key])
    sheet = workbook.add_worksheet(worksheet)
    count = sum(len(s.tables) for s in workbook.worksheets())
    last_row = max(frame.height, 1)  # an empty table keeps one empty row (Excel needs one)
    whole = xl_range(0, 0, last_row, frame.width - 1)
    # add_table marks each cell of the range in Python to refuse an overlap (0.09 s for the
    # sample plan): on a new sheet, which has nothing to overlap, the table is made over the
    # header and one row, and its part in the file is given the whole range (`_insert_rows`)
    sheet.add_table(
        0,
        0,
        1,
        frame.width - 1,
        {
            "columns": [
                {"header": name, "format": cell, "header_format": header}
                for name, cell in zip(frame.columns, cells, strict=True)
            ],
            "style": None,
            "autofilter": True,
            "header_row": True,
            "total_row": False,
            "name": f"Frame{count}",
        },
    )
    for index, width in enumerate(column_widths(frame).values()):
        sheet.set_column_pixels(index, index, width)
    sheet.freeze_panes(1, 0)
    xml = _row_xml(frame, [cell._get_xf_index() for cell in cells])
    return sheet, xml, (f"Frame{count}", whole)


def _insert_rows(
    data: bytes, rows: dict[int, tuple[str, str]], tables: dict[str, str] | None = None
) -> bytes:
    """The closed workbook with each large sheet's rows inserted after its header row and
    its dimension set (sheet index -> (dimension, rows XML)), and each table of `tables`
    (name -> range) given that range and filter range in its part (`xl/tables/`)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            part = re.fullmatch(r"xl/tables/table\d+\.xml", item.filename)
            named = part and re.search(rb'<table [^>]*\bname="([^"]+)"', content)
            if named and tables and named[1].decode("utf-8") in tables:
                whole = tables[named[1].decode("utf-8")].encode("ascii")
                content = re.sub(rb'(<table [^>]*\bref=")[^"]*"', rb"\g<1>" + whole + b'"', content)
                content = re.sub(
                    rb'<autoFilter ref="[^"]*"', b'<autoFilter ref="' + whole + b'"', content
                )
            found = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            if found and int(found[1]) - 1 in rows:
                dimension, xml = rows[int(found[1]) - 1]
                text = content.decode("utf-8")
                text = re.sub(
                    r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', text, count=1
                )
                start = text.index("<sheetData")
                end = text.index("</row>", start) + len("</row>")  # the header row
                content = (text[:end] + xml + text[end:]).encode("utf-8")
            item.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(item, content, compresslevel=1)
    return out.getvalue()


def _workbook(target: io.BytesIO):  # noqa: ANN202 - xlsxwriter is imported lazily
    """A workbook that writes every text as a string: never a formula, link or number."""
    import xlsxwriter

    return xlsxwriter.Workbook(
        target,
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "in_memory": True,  # the parts in memory, not in 38 temporary files
        },
    )


def _check_sheet_names(tables: list[str], lang: str, summary: bool) -> None:
    """Refuse two tables whose sheets would have one name before anything is written:
    Excel keeps a sheet name's first 31 characters and compares them in any case."""
    from xlsxwriter.exceptions import DuplicateWorksheetName

    first = sheet_name("summary", lang).casefold()
    seen: dict[str, str] = {first: "the summary"} if summary else {}
    for table in tables:
        name = sheet_name(table, lang)
        earlier = seen.setdefault(name.casefold(), f"table {table!r}")
        if earlier != f"table {table!r}":
            raise DuplicateWorksheetName(
                f"{earlier} and table {table!r} would both be the sheet {name!r} "
                "(Excel keeps 31 characters of a sheet name, in any case)"
            )


def _write_xlsx(
    tables: dict[str, pl.DataFrame],
    path: Path,
    lang: str = "en",
    info: dict | None = None,
) -> None:
    from xlsxwriter.utility import xl_rowcol_to_cell

    from stockplan.i18n import header

    _check_sheet_names(list(tables), lang, summary=info is not None)
    buffer = io.BytesIO()  # built in memory: a full disk fails in our write, not in zipfile
    large: dict[int, tuple[str, str]] = {}
    ranges: dict[str, str] = {}  # each Excel table's whole range (`_table_sheet`)
    with _workbook(buffer) as workbook:
        if info is not None:
            _write_summary(workbook, tables, info, lang)
        for name, frame in tables.items():
            frame = presentable(finite(frame))
            _check_fits_excel(name, frame)
            frame, lead = buyer_layout(frame, name)
            bucket = (info or {}).get("bucket")
            formats: dict[str, object] = {
                header(c, lang, bucket): f for c, f in COLUMN_FORMATS.items() if c in frame.columns
            }
            formats |= {
                header(c, lang, bucket): {"text_wrap": True, "valign": "top"}
                for c in WRAP_COLUMNS
                if c in frame.columns
            }
            worksheet = sheet_name(name, lang)
            shown = localise(frame, name, lang, (info or {}).get("currency"), bucket)
            large_sheet = shown.height * shown.width > LARGE_SHEET_CELLS and _rows_as_xml(shown)
            if large_sheet or _rich_lookalike(shown):
                sheet, xml, (table, whole) = _table_sheet(workbook, worksheet, shown, formats)
                ranges[table] = whole
                _finish_sheet(workbook, sheet, frame, name, lead, lang)
                last = max(sheet.dim_rowmax or 0, frame.height)  # the totals row, if any
                large[sheet.index] = (f"A1:{xl_rowcol_to_cell(last, frame.width - 1)}", xml)
                continue
            shown.write_excel(
                workbook,
                worksheet=worksheet,
                autofilter=True,
                freeze_panes=(1, 0),
                column_widths=column_widths(shown),
                column_formats=formats or None,
                dtype_formats=DTYPE_FORMATS,
                table_style=None,
                header_format=HEADER_FORMAT,
                float_precision=2,
            )
            _finish_sheet(
                workbook, workbook.get_worksheet_by_name(worksheet), frame, name, lead, lang
            )
    data = buffer.getvalue()
    path.write_bytes(_insert_rows(data, large, ranges) if large else data)


def _write_one(
    frame: pl.DataFrame,
    path: Path,
    fmt: Format,
    bom: bool | None,
    escape: bool,
    table: str = "",
    lang: str = "en",
    currency: str | None = None,
    bucket: str | None = None,
    for_excel: bool = False,
) -> None:
    """Render in memory, then write the bytes ourselves: polars' `write_json` to a path
    reports no error when the disk fills (a cut file and exit 0), and a plain OSError
    says what went wrong."""
    frame = finite(frame)
    buffer = io.BytesIO()
    if fmt == "csv":
        write_csv(
            frame,
            buffer,
            bom=bom,
            escape=escape,
            table=table,
            lang=lang,
            currency=currency,
            bucket=bucket,
            for_excel=for_excel,
        )
    elif fmt == "json":
        presentable(frame).with_columns(
            [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        ).write_json(buffer)
    elif fmt == "parquet":
        frame.write_parquet(buffer)
    else:
        _write_xlsx({table or "sheet": frame}, path, lang)
        return
    path.write_bytes(buffer.getvalue())


TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".old"  # a replaced or removed file, kept until every file is in place


def _temp_beside(path: Path) -> Path:
    """`.plan.xlsx.<pid>.<random>.tmp` beside `path`: the pid tells a later run whether the
    writer is still alive."""
    _remove_stale_temps(path)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    os.close(handle)
    return Path(name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files and backups of `path` left by a run that was killed (its pid
    is gone); a backup whose file is missing (killed between setting it aside and putting
    the new one in place) is put back instead."""
    suffixes = "|".join(re.escape(s) for s in (TEMP_SUFFIX, BACKUP_SUFFIX))
    pattern = re.compile(re.escape(f".{path.name}.") + rf"(\d+)\.[^.]+({suffixes})")
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    if match.group(2) == BACKUP_SUFFIX and not path.exists():
                        os.rename(entry, path)
                    else:
                        entry.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _give_mode(temp: Path, path: Path) -> None:
    """Mode of the file `temp` will replace, or 0666 less the umask for a new file.

    mkstemp creates 0600 files: renamed as they are, a shared folder's plan.xlsx would be
    readable by its owner alone. A share that refuses chmod (SMB) keeps its own modes.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(PermissionError, NotImplementedError):
        os.chmod(temp, mode)


def _error_number(cause: BaseException) -> int | None:
    """The errno of a refused write: an OSError's own, or the `(os error 28)` that polars'
    Rust writers put in their message."""
    number = getattr(cause, "errno", None)
    if isinstance(number, int):
        return number
    found = re.search(r"\(os error (\d+)\)", str(cause))
    return int(found.group(1)) if found else None


def write_problem(cause: BaseException) -> str | dict[str, str]:
    """Why the machine refused a write, for a message: a full disk and a file too large
    in either language (`both`), else its own words (first line, quoted)."""
    import errno

    number = _error_number(cause)
    if number in (errno.ENOSPC, errno.EDQUOT):
        return both("error.disk_full")
    if number == errno.EFBIG:
        return both("error.file_too_large")
    text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    problem = quote(text.strip().splitlines()[0] if text.strip() else "", 200)
    return problem or type(cause).__name__


def _write_failed(
    exc: BaseException, path: Path | None = None, outcome: str | dict[str, str] | None = None
) -> StockplanError:
    """One line for a write that the machine refused: disk full, no permission, ...

    `outcome`: what became of the files (`both(...)`); by default nothing was written."""
    cause = next((a for a in exc.args if isinstance(a, OSError)), None) or exc.__cause__ or exc
    problem = write_problem(cause)
    target = f" {path}" if path is not None else {"en": " output", "zh": "输出"}
    outcome = outcome or both("error.nothing_written")
    return StockplanError(
        phrase("error.cannot_write", target=target, problem=problem, outcome=outcome)
    )


def check_writable(target: Path) -> None:
    """Refuse, before any work, an output file or folder `target` whose folder takes no new
    file (a read-only mount, no permission): a probe file is created there and removed. A
    folder still to be made is checked at its nearest existing parent."""
    folder = target
    while not folder.is_dir() and folder.parent != folder:
        folder = folder.parent
    try:
        handle, name = tempfile.mkstemp(prefix=".stockplan-probe.", suffix=TEMP_SUFFIX, dir=folder)
        os.close(handle)
        os.unlink(name)
    except OSError as exc:
        raise _write_failed(exc, target) from None


def write_text(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write a text file atomically; refuse to replace an existing file unless `overwrite`."""
    write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def write_bytes(path: Path, content: bytes, *, overwrite: bool = True) -> None:
    """Write a file atomically (temp file, then rename); optionally refuse to replace one."""
    check_not_inputs([path])
    if path.exists() and not overwrite:
        raise StockplanError(f"{path}: already exists (use --force to replace it)")
    check_file_target(path)
    temps: list[Path] = []
    try:
        temps.append(_temp_beside(path))
        temps[0].write_bytes(content)
        _give_mode(temps[0], path)
        os.replace(temps[0], path)
    except OSError as exc:
        raise _write_failed(exc, path) from None
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


# the files a command reads (config, inputs, plans it compares): never a target of its own
_RUN_INPUTS: list[Path] = []
# the dataset folders among them: every file in one is read as data, a new one too
_RUN_DATASETS: list[Path] = []


def reset_run_inputs() -> None:
    """Forget the inputs of an earlier command (one process may run several)."""
    _RUN_INPUTS.clear()
    _RUN_DATASETS.clear()


def add_run_inputs(*paths: str | Path) -> None:
    """Files the command reads: a folder or glob adds each file of it (a dataset)."""
    from stockplan.io.datasets import dataset_files, is_dataset

    for path in paths:
        if is_dataset(path):
            with contextlib.suppress(StockplanError, OSError):
                _RUN_INPUTS.extend(dataset_files(path))
            if Path(path).is_dir():
                _RUN_DATASETS.append(Path(path))
                with contextlib.suppress(OSError):  # its other files too (a folder replaced
                    # whole by part-file tables must not take them, `check_folders_not_inputs`)
                    _RUN_INPUTS.extend(p for p in Path(path).iterdir() if p.is_file())
        else:
            _RUN_INPUTS.append(Path(path))


def add_plan_inputs(*plans: str | Path) -> None:
    """The files of earlier plans that `diff` compares: a folder's orders table and run
    record (its other files, say the changes an earlier `diff` wrote into it, are not what
    it compares, and may be written again), or the plan file itself."""
    from stockplan.io.planfiles import RUN_JSON

    for plan in plans:
        path = Path(plan)
        if path.is_dir():
            compared = (RUN_JSON, "stockplan.xlsx")
            with contextlib.suppress(OSError):
                _RUN_INPUTS.extend(
                    p
                    for p in path.iterdir()
                    if p.is_file() and (p.stem == "orders" or p.name in compared)
                )
        else:
            _RUN_INPUTS.append(path)


def add_config_inputs(config_path: str | Path, config: object) -> None:
    """The config file and every input file it names (and SQLite / DuckDB database files)."""
    add_run_inputs(config_path)
    inputs = getattr(config, "inputs", None)
    for _, spec in inputs or ():
        if spec is None:
            continue
        if getattr(spec, "url", None) is None:
            add_run_inputs(spec.path)
            continue
        from stockplan.io.database import database_file

        path = database_file(spec)
        if path is not None:
            add_run_inputs(path)


def _file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, None when it does not exist or cannot be read."""
    with contextlib.suppress(OSError):
        if path.exists():
            found = os.stat(path)
            return found.st_dev, found.st_ino
    return None


def _normal(path: Path) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def _same_files() -> Callable[[Path, Path], bool]:
    """`same_file(one, other)`: one file under two names: the file system decides when
    both exist (case-insensitive Windows and macOS volumes, links), else the normalised
    absolute paths. Each path is looked up once per check (a plan compares each of its
    outputs with each input: over a hundred pairs, each a dozen system calls)."""
    identity = functools.cache(_file_identity)
    normal = functools.cache(_normal)

    def same_file(one: Path, other: Path) -> bool:
        first, second = identity(one), identity(other)
        if first is not None and second is not None:
            return first == second
        return normal(one) == normal(other)

    return same_file


def _same_file(one: Path, other: Path) -> bool:
    """One file under two names (`_same_files`), for a single pair."""
    return _same_files()(one, other)


def check_not_inputs(paths: Iterable[Path]) -> None:
    """Refuse, before anything is written, a target that is one of the command's inputs
    (`-o sample_data` beside `sample_data/suppliers.csv` would replace the input)."""
    same_file = _same_files()
    for path in paths:
        for source in _RUN_INPUTS:
            if same_file(Path(path), source):
                raise StockplanError(
                    phrase("error.output_is_input", path=str(path), source=str(source))
                )
        for folder in _RUN_DATASETS:  # a new file there would be read as data next time
            if any(same_file(parent, folder) for parent in Path(path).absolute().parents):
                raise StockplanError(
                    phrase("error.output_in_dataset", path=str(path), source=str(folder))
                )


def check_folders_not_inputs(folders: Iterable[Path]) -> None:
    """Refuse folders a run replaces whole (the part-file tables of `-o FOLDER -f parquet`)
    when an input file lies inside one."""
    same_file = _same_files()
    for folder in folders:
        for source in _RUN_INPUTS:
            if any(same_file(Path(folder), parent) for parent in Path(source).parents):
                raise StockplanError(
                    phrase("error.output_is_input", path=str(folder), source=str(source))
                )


def check_file_folder(path: Path) -> None:
    """Refuse an output file whose folder does not exist: a file's folder is never made
    (only a folder output is, `output_plan`)."""
    if not path.parent.is_dir():
        raise StockplanError(f"{path}: output folder {path.parent} does not exist")


def check_file_target(path: Path) -> None:
    """Refuse an output file whose folder does not exist, or that is an existing folder."""
    check_file_folder(path)
    if path.is_dir():
        raise StockplanError(phrase("error.output_is_folder", path=str(path)))


def write_files(
    plan: dict[Path, tuple[dict[str, pl.DataFrame], Format]],
    *,
    bom: bool | None = False,
    escape: bool = True,
    lang: str = "en",
    info: dict | None = None,
    for_excel: bool = False,
    texts: dict[Path, str] | None = None,
    remove: Iterable[Path] = (),
    also: tuple[dict[Path, tuple[dict[str, pl.DataFrame], Format]], str] | None = None,
    folders: dict[Path, Path] | None = None,
) -> list[Path]:
    """Write each target (path -> tables, format), each text file (`texts`, say the run
    record) and the files `also` (files, their language: the supplier workbooks), move each
    folder of `folders` (target -> a folder already written beside it: the part files of a
    cluster plan) into place, replacing the earlier one whole, and remove the files
    `remove`: all of it or nothing (`_commit`). Returns the files of `plan` and `texts`.

    CSV and XLSX are for people (`lang`: headers, values, reasons; `info`: the XLSX summary
    sheet); JSON and Parquet keep canonical names. Pass lang "en" for canonical CSV headers.
    `escape`: neutralise formula-like text in CSV files (see `escape_formulas`); `bom` and
    `for_excel`: see `write_csv`.
    """
    texts = texts or {}
    extra, extra_lang = also or ({}, lang)
    check_not_inputs([*plan, *texts, *extra])
    for target in (*plan, *texts, *extra):
        check_file_target(target)
    temps: dict[Path, Path] = {}
    try:
        _write_temps(plan, temps, bom, escape, lang, info, for_excel)
        _write_temps(extra, temps, False, True, extra_lang, None)
        for path, text in texts.items():
            try:
                temps[path] = _temp_beside(path)
                temps[path].write_bytes(text.encode("utf-8"))
                _give_mode(temps[path], path)
            except OSError as exc:
                raise _write_failed(exc, path) from None
        _commit(temps, list(remove), folders)
    finally:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    return [*plan, *texts]


def _write_temps(
    plan: dict[Path, tuple[dict[str, pl.DataFrame], Format]],
    temps: dict[Path, Path],
    bom: bool | None,
    escape: bool,
    lang: str,
    info: dict | None,
    for_excel: bool = False,
) -> None:
    """Write each file of `plan` to a temp beside it, noted in `temps` (target -> temp)."""
    from xlsxwriter.exceptions import XlsxWriterException

    for path, (tables, fmt) in plan.items():
        try:
            temp = temps[path] = _temp_beside(path)
            if fmt == "xlsx":
                _write_xlsx(tables, temp, lang, info)
            else:
                ((table, frame),) = tables.items()
                given = info or {}
                _write_one(
                    frame,
                    temp,
                    fmt,
                    bom,
                    escape,
                    table,
                    lang,
                    given.get("currency"),
                    given.get("bucket"),
                    for_excel,
                )
            _give_mode(temp, path)
        except (OSError, XlsxWriterException) as exc:  # the machine refused the write
            raise _write_failed(exc, path) from None
        except pl.exceptions.ComputeError as exc:  # the Parquet writer's own words for it
            if _error_number(exc) is None:
                raise
            raise _write_failed(exc, path) from None


def _backup_beside(path: Path) -> Path:
    """A free name `.orders.csv.<pid>.<random>.old` beside `path` for its earlier file."""
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=BACKUP_SUFFIX, dir=path.parent
    )
    os.close(handle)
    os.unlink(name)
    return Path(name)


def _set_aside(path: Path) -> Path | None:
    """Keep the file at `path` under a backup name in its folder before it is replaced: a
    hard link (the file stays in place), else a rename (file systems without links).
    None when there is no file."""
    if not path.exists():
        return None
    backup = _backup_beside(path)
    try:
        os.link(path, backup)
    except OSError:
        os.rename(path, backup)
    return backup


def _commit(
    temps: dict[Path, Path], remove: list[Path], folders: dict[Path, Path] | None = None
) -> None:
    """Put every written temp in place, each staged folder of `folders` (target -> staged)
    in place of its target, and remove the files `remove`, or change nothing.

    Each replaced or removed file is first set aside in its own folder (`_set_aside`; a
    replaced folder is renamed aside whole); when one step is refused (a file open in
    Excel on Windows, an immutable file, a full disk), every file or folder already
    replaced or removed is put back from its backup and every new one taken away, and the
    error says so. The backups go once all is in place.
    """
    done: list[tuple[Path, Path | None]] = []  # (file, its backup; None: a new file)
    path: Path | None = None
    try:
        for path, temp in temps.items():
            backup = _set_aside(path)
            try:
                os.replace(temp, path)
            except OSError:
                if backup is not None and not path.exists():  # set aside by a rename
                    done.append((path, backup))
                elif backup is not None:
                    backup.unlink(missing_ok=True)
                raise
            done.append((path, backup))
        for path, staged in (folders or {}).items():
            backup = _backup_beside(path) if path.exists() else None
            if backup is not None:
                os.rename(path, backup)
                done.append((path, backup))  # put back by the roll-back if the next fails
            os.rename(staged, path)
            if backup is None:
                done.append((path, None))
        for path in remove:
            backup = _backup_beside(path)
            os.rename(path, backup)
            done.append((path, backup))
    except OSError as exc:
        stuck = _roll_back(done)
        if not done:
            raise _write_failed(exc, path) from None
        if stuck:
            backups = ", ".join(str(b) for _, b in stuck if b is not None)
            outcome = both(
                "error.not_undone",
                paths=", ".join(str(p) for p, _ in stuck),
                kept=both("error.kept_as", backups=backups) if backups else "",
            )
        else:
            outcome = both("error.undone", paths=", ".join(str(p) for p, _ in done))
        raise _write_failed(exc, path, outcome) from None
    except BaseException:  # Ctrl-C between two renames: no mix of new and old files either
        _roll_back(done)
        raise
    for _, backup in done:
        if backup is not None and backup.is_dir() and not backup.is_symlink():
            shutil.rmtree(backup, ignore_errors=True)
        elif backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()


def _roll_back(done: list[tuple[Path, Path | None]]) -> list[tuple[Path, Path | None]]:
    """Put back the earlier files of `done` (a new file is removed); the ones that could
    not be, with their backups (kept)."""
    stuck = []
    for path, backup in reversed(done):
        try:
            if path.is_dir() and not path.is_symlink():  # a folder moved in (part files)
                shutil.rmtree(path)
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        except OSError:
            stuck.append((path, backup))
    return stuck[::-1]


def check_not_folder(target: Path) -> None:
    """Refuse `-o plan.xlsx` (a file suffix) naming an existing folder: it is not filled
    (the command line checks this before any planning work)."""
    suffix = target.suffix.lower()
    if suffix in SUFFIX_FORMAT and target.is_dir():
        raise StockplanError(phrase("error.folder_not_file", path=str(target), suffix=suffix))


def output_plan(
    tables: dict[str, pl.DataFrame], target: Path, fmt: Format | None, table: str
) -> dict[Path, tuple[dict[str, pl.DataFrame], Format]]:
    """Decide the files for `-o target`.

    - `plan.xlsx`: one workbook, one sheet per table.
    - `orders.csv` / `.json` / `.parquet`: the one table `table`.
    - a folder (existing, or a path with no suffix): one file per table in `fmt` (csv).
      An existing folder named like a file (`plan.xlsx/`) is refused, not filled.
    """
    check_not_folder(target)
    suffix = target.suffix.lower()
    if suffix in SUFFIX_FORMAT:
        file_format = SUFFIX_FORMAT[suffix]
        if fmt is not None and fmt != file_format:
            raise StockplanError(
                phrase("error.format_mismatch", path=str(target), format=fmt, suffix=suffix)
            )
        if file_format == "xlsx":
            return {target: (tables, "xlsx")}
        return {target: ({table: tables[table]}, file_format)}
    if suffix and not target.is_dir():
        raise StockplanError(phrase("error.unknown_output", path=str(target), suffix=suffix))
    if target.exists() and not target.is_dir():
        raise StockplanError(phrase("error.not_a_folder_output", path=str(target)))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_failed(exc, target) from None
    fmt = fmt or "csv"
    if fmt == "xlsx":
        return {target / "stockplan.xlsx": (tables, "xlsx")}
    return {target / f"{name}.{fmt}": ({name: frame}, fmt) for name, frame in tables.items()}
