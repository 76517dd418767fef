"""Read a written plan back: an XLSX workbook, an output folder, or one table file.

Used by `stockplan diff`, `stockplan verify` and `--previous PLAN`. Every cell is read as
text first (so a code like `007` keeps its zeros) and the number columns named below are
cast to numbers; the run record comes from the `run` sheet, `run.json` in a folder, or
`FILE.run.json` beside a single table file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from stockplan.errors import StockplanError, quote
from stockplan.i18n import both, phrase, place, table_title

RUN_SHEET = "run"
RUN_JSON = "run.json"
TABLE_SUFFIXES = (".csv", ".json", ".parquet")
HEADER_SEARCH_ROWS = 10
NUMBER_COLUMNS = (
    "order_qty",
    "order_value",
    "on_hand",
    "on_order",
    "backorders",
    "allocated",
    "transfer_qty",
    "inventory_position",
    "forecast_per_day",
    "lead_time_days",
    "review_days",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "service_level",
    "moq",
    "pack_size",
    "max_order",
    "unit_cost",
    "stockout_probability",
    "expected_shortage",
    "revenue_at_risk",
    "days_of_cover",
)


def stale_plan_files(folder: Path, written: list[Path], tables: tuple[str, ...]) -> list[Path]:
    """The files of an earlier plan in `folder` that this run does not write again: each
    table of `tables` in any table format, `stockplan.xlsx` and the run record. Only a
    plan folder has them: it holds `run.json`, or the `stockplan.xlsx` with its run record
    sheet that `-f xlsx` writes there (a plan `read_plan` would read before this week's
    tables); no other file is ever named."""
    if not (folder / RUN_JSON).is_file() and not workbook_with_record(folder / "stockplan.xlsx"):
        return []
    names = {f"{table}{suffix}" for table in tables for suffix in TABLE_SUFFIXES}
    names |= {"stockplan.xlsx", RUN_JSON}
    kept = {path.name for path in written if path.parent == folder}
    return sorted(
        path
        for path in folder.iterdir()
        if path.name in names and path.name not in kept and path.is_file()
    )


def record_beside(path: Path) -> Path:
    """Where the run record of a single table file goes: `orders.csv` -> `orders.csv.run.json`."""
    return path.with_name(path.name + ".run.json")


def workbook_with_record(path: Path) -> bool:
    """Whether `path` is a workbook stockplan wrote: it holds the run record sheet (`run`,
    with its `key` and `value` headers in either language), as `read_plan` finds it."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return False
    from stockplan.i18n import canonical_column, canonical_table

    try:
        import fastexcel

        workbook = fastexcel.read_excel(path)
        names = [n for n in workbook.sheet_names if canonical_table(n) == RUN_SHEET]
        if not names:
            return False
        sheet = workbook.load_sheet(names[0], n_rows=1)
        headers = [canonical_column(str(column.name)) for column in sheet.available_columns()]
    except Exception:  # an unreadable workbook is no plan of ours; its reader says why
        return False
    return headers[:2] == ["key", "value"]


def _typed(
    frame: pl.DataFrame, where: str = "the plan", first_row: int | pl.Series = 2
) -> pl.DataFrame:
    """Text cells in, read back as the canonical contract (a Chinese sheet's headers and
    words, the totals row dropped); the known number columns as Float64, the rest as text.
    A stockplan plan holds only finite numbers there and no negative order quantity: any
    other cell (an edit, a file that is not a plan) is an error naming `where`, the row
    (`first_row` is the first data row's, or every row's sheet row) and the column."""
    from stockplan.i18n import canonical_frame

    frame = canonical_frame(frame.select(pl.all().cast(pl.String)))
    if isinstance(first_row, int):
        first_row = pl.int_range(first_row, first_row + frame.height, eager=True)
    kept = ~totals_rows(frame)
    frame, first_row = frame.filter(kept), first_row.filter(kept)
    from stockplan.io.columns import _number_expr

    numbers = [c for c in NUMBER_COLUMNS if c in frame.columns]
    # as the input readers read a number: `1,234` and `1,234.5` lose their thousands marks,
    # `36,84` and `0,98` (a spreadsheet with a decimal comma) keep their decimals
    typed = frame.with_columns(_number_expr(pl.col(c)).alias(c) for c in numbers)
    for column in numbers:
        given = frame[column].str.strip_chars().fill_null("") != ""
        parsed = typed[column]
        bad = given & (parsed.is_null() | ~parsed.is_finite().fill_null(False))
        problem = "error.not_a_number"
        if column == "order_qty" and not bad.any():
            bad, problem = parsed.fill_null(0.0) < 0, "error.negative"
        if bad.any():
            index = int(bad.arg_true()[0])
            row = first_row[index]
            raise StockplanError(
                phrase(
                    problem,
                    where=place(where, row, column),
                    value=quote(frame[column][index]),
                )
            )
    if {"sku", "location", "order_qty"} <= set(typed.columns) or "risk_level" in typed.columns:
        _one_line_per_item(typed, where, first_row)
    if {"sku", "order_qty"} <= set(typed.columns):
        _no_quantity_without_sku(typed, where, first_row)
    return typed


def _no_quantity_without_sku(frame: pl.DataFrame, where: str, rows: pl.Series) -> None:
    """An order quantity on a line whose sku a buyer cleared is an error naming the cell:
    read as an item with no code, it appeared in a diff as an order for nothing. (A line
    without sku and quantity, a note under the table, is no order and is let be.)"""
    blank = frame["sku"].str.strip_chars().fill_null("") == ""
    bad = blank & frame["order_qty"].fill_null(0.0).ne(0.0)
    if bad.any():
        row = rows[int(bad.arg_true()[0])]
        raise StockplanError(phrase("error.empty_required", where=place(where, row, "sku")))


def _one_line_per_item(frame: pl.DataFrame, where: str, rows: pl.Series) -> None:
    """An orders or risk table holds one line per sku x location: a line a buyer copied
    (to split an order) would be read as the first copy alone, so it is an error naming
    the second copy's row and the first's."""
    if not {"sku", "location"} <= set(frame.columns):
        return
    keyed = frame.select("sku", "location").with_columns(rows.alias("row"))
    keyed = keyed.filter(pl.col("sku").str.strip_chars().fill_null("") != "")
    again = keyed.filter(pl.struct("sku", "location").is_duplicated())
    if not again.height:
        return
    first = again.row(0, named=True)
    second = again.filter(
        (pl.col("sku") == first["sku"]) & pl.col("location").eq_missing(first["location"])
    ).row(1, named=True)
    raise StockplanError(
        phrase(
            "error.plan_line_twice",
            where=place(where, second["row"], "sku"),
            sku=quote(first["sku"]),
            location=quote(first["location"] or ""),
            other=first["row"],
        )
    )


def totals_rows(frame: pl.DataFrame) -> pl.Series:
    """Per row of a plan table read back as text with canonical headers: a totals row, the
    one stockplan writes under a table or one a buyer added. Its first cell or its `sku`
    holds only a totals label (合计, Total, 小计 ...: `columns.TOTALS_LABEL`), wherever the
    columns were moved, and its `location`, where the table has one, is empty."""
    from stockplan.io.columns import is_totals_label

    if not (frame.width and frame.height):
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    labelled = [c for c in dict.fromkeys([frame.columns[0], "sku"]) if c in frame.columns]
    label = pl.any_horizontal(is_totals_label(pl.col(c).str.strip_chars()) for c in labelled)
    if "location" in frame.columns:
        label = label & (pl.col("location").str.strip_chars().fill_null("") == "")
    return frame.select(label.fill_null(False)).to_series()


def _with_header(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Use the first row holding a `sku`, `supplier`, `policy` or `key` cell (in any language)
    as the header (a title above it is skipped); without one, the first row that is not
    blank. `frame`: the sheet from its row 1, blank rows kept. Returns the table without
    its blank rows and each row's sheet row (1-based), as Excel shows it."""
    from stockplan.i18n import canonical_column

    filled = frame.select(
        pl.any_horizontal(
            pl.col(c).str.strip_chars().ne("").fill_null(False) for c in frame.columns
        )
    ).to_series()
    at = filled.arg_true()
    rows = [frame.row(i) for i in at.head(HEADER_SEARCH_ROWS)]
    found = (
        i
        for i, row in enumerate(rows)
        if {"sku", "supplier", "policy", "key"}
        & {canonical_column(str(c)) for c in row if c is not None}
    )
    index = int(at[next(found, 0)]) if at.len() else 0
    names = [
        str(c).strip() if c is not None and str(c).strip() else f"column_{i}"
        for i, c in enumerate(frame.row(index))
    ]
    kept = filled.slice(index + 1)
    body = frame.slice(index + 1).filter(kept)
    sheet_rows = (kept.arg_true() + index + 2).alias("row")
    return body.rename(dict(zip(body.columns, names, strict=True))), sheet_rows


# what of a plan could not be read, and a table's name, in both languages
_WORKBOOK = {"en": "workbook", "zh": "工作簿"}
_TABLE = {"en": "table", "zh": "表"}
_RECORD = {"en": "run record", "zh": "运行记录"}


def _table(name: str) -> dict[str, str]:
    return {"en": name, "zh": table_title(name, "zh")}


def _read_workbook(path: Path) -> dict[str, tuple[pl.DataFrame, pl.Series]]:
    try:
        sheets = pl.read_excel(  # from row 1, blank rows kept: rows named as Excel shows them
            path,
            sheet_id=0,
            has_header=False,
            infer_schema_length=0,
            raise_if_empty=False,
            drop_empty_rows=False,
            read_options={"skip_rows": 0},
        )
    except Exception as exc:  # fastexcel raises its own types for a broken file
        raise StockplanError(
            phrase("error.plan_unreadable", path=str(path), what=_WORKBOOK, detail=str(exc))
        ) from None
    from stockplan.i18n import canonical_table

    return {
        canonical_table(name): _with_header(frame)
        for name, frame in sheets.items()
        if frame.height
        and canonical_table(name) != "summary"
        and frame.select(pl.any_horizontal(pl.all().is_not_null()).any()).item()
    }


def _read_table_file(path: Path) -> pl.DataFrame:
    try:
        if path.suffix == ".csv":
            return _unescaped(_read_csv(path))
        if path.suffix == ".json":
            return pl.read_json(path)
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise StockplanError(
            phrase("error.plan_unreadable", path=str(path), what=_TABLE, detail=str(exc))
        ) from None


def _read_csv(path: Path) -> pl.DataFrame:
    """A plan CSV as a spreadsheet may have saved it: UTF-8 with or without its BOM, GBK
    (a spreadsheet's CSV on a Chinese system), `;`-separated (where the decimal sign is a
    comma), decoded and split as the input readers do. A last row with fewer fields than
    the header and no line end (a file cut short) is an error naming that row."""
    import csv

    from stockplan.io.readers import _decode, _sniff_delimiter

    text = _decode(path.read_bytes(), path, None)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, separator=delimiter)
    if frame.height and not text.endswith(("\n", "\r")):
        last = text.rsplit("\n", 1)[-1]
        fields = len(next(csv.reader([last], delimiter=delimiter), []))
        if fields < frame.width:
            raise StockplanError(
                phrase(
                    "error.ragged_row",
                    where=place(path, frame.height + 1),
                    fields=fields,
                    width=frame.width,
                )
            )
    return frame


def _unescaped(frame: pl.DataFrame) -> pl.DataFrame:
    """The CSV's text as it was before writing (`writers.unescape_cell`): SKU `-100`,
    written `'-100`, and SKU `011491`, written `="011491"` for Excel, read back as the SKU
    planned."""
    from stockplan.io.writers import unescape_cell

    return frame.with_columns(unescape_cell(pl.col(n)).alias(n) for n in frame.columns)


def _first_row(path: Path) -> int:
    """The row a table file's first record is counted as: 2 in a CSV (under its header),
    1 in JSON or Parquet."""
    return 2 if path.suffix == ".csv" else 1


def _table_name(path: Path, frame: pl.DataFrame) -> str:
    """`orders.csv` is the orders table; another name is told by its columns, in either
    language (`建议采购量` is `order_qty`), else by the name (`风险.csv` is risk)."""
    from stockplan.i18n import canonical_column, canonical_table

    if path.stem in ("orders", "risk"):
        return path.stem
    columns = {canonical_column(str(c)) for c in frame.columns}
    if "order_qty" in columns:
        return "orders"
    if "risk_level" in columns:
        return "risk"
    return canonical_table(path.stem)


def written_language(path: Path) -> str | None:
    """`zh` when the plan at `path` was written for people in Chinese (a CSV with Chinese
    headers, a workbook with Chinese sheet names), else None: for messages about a plan
    without its run record, which would say the language."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    for file in files[:1]:
        try:
            if file.suffix.lower() == ".csv":
                with file.open("rb") as handle:
                    head = handle.readline(64 * 1024).decode("utf-8", errors="replace")
            elif file.suffix.lower() == ".xlsx":
                import fastexcel

                head = " ".join(fastexcel.read_excel(file).sheet_names)
            else:
                return None
        except Exception:  # an unreadable plan is reported by its reader, not here
            return None
        return "zh" if re.search(r"[\u4e00-\u9fff]", head) else None
    return None


def _read_record(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StockplanError(
            phrase("error.plan_unreadable", path=str(path), what=_RECORD, detail=str(exc))
        ) from None


def record_from_sheet(frame: pl.DataFrame) -> dict:
    """The run record from the `run` sheet (`key`, `value` rows, dotted keys)."""
    from stockplan.i18n import canonical_column
    from stockplan.io.runrecord import unflatten

    frame = frame.rename({c: canonical_column(c) for c in frame.columns})
    return unflatten(dict(zip(frame["key"].to_list(), frame["value"].to_list(), strict=True)))


def _refuse_record(path: Path) -> None:
    """A plan's run record named where the plan goes (`verify p1.csv.run.json`): read as a
    table, it was a plan without a record. The error names the plan to give instead, in
    the plan's language."""
    if path.name == RUN_JSON:
        plan, what = path.parent, {"en": "plan folder", "zh": "计划文件夹"}
    else:
        plan, what = (
            path.with_name(path.name.removesuffix(".run.json")),
            {
                "en": "plan file",
                "zh": "计划文件",
            },
        )
    error = StockplanError(
        phrase("error.plan_is_record", path=str(path), what=what, plan=str(plan))
    )
    error.language = written_language(plan) if plan.exists() else None
    raise error


def read_plan(path: Path) -> tuple[dict[str, pl.DataFrame], dict | None]:
    """(tables by name, run record or None) of a plan written by stockplan."""
    if path.is_dir():
        workbook = path / "stockplan.xlsx"
        if workbook.is_file():
            return read_plan(workbook)
        files = sorted(p for p in path.iterdir() if p.suffix in TABLE_SUFFIXES)
        files = [p for p in files if p.name != RUN_JSON and not p.name.endswith(".run.json")]
        if not files:
            raise StockplanError(phrase("error.no_plan_tables", path=str(path)))
        tables = {p.stem: _typed(_read_table_file(p), str(p), _first_row(p)) for p in files}
        return tables, _read_record(path / RUN_JSON)
    if not path.is_file():
        raise StockplanError(phrase("error.no_plan", path=str(path)))
    if path.name.endswith(RUN_JSON) and isinstance(_read_record(path), dict):
        _refuse_record(path)  # a table is a list of rows, a run record one object
    if path.suffix.lower() == ".xlsx":
        sheets = _read_workbook(path)
        record = record_from_sheet(sheets.pop(RUN_SHEET)[0]) if RUN_SHEET in sheets else None
        tables = {
            name: _typed(frame, f"{path} ({name})", first)
            for name, (frame, first) in sheets.items()
        }
        return tables, record
    if path.suffix.lower() in TABLE_SUFFIXES:
        frame = _read_table_file(path)
        typed = _typed(frame, str(path), _first_row(path))
        return {_table_name(path, frame): typed}, _read_record(record_beside(path))
    raise StockplanError(phrase("error.not_a_plan", path=str(path)))


def plan_table(tables: dict[str, pl.DataFrame], name: str, path: Path) -> pl.DataFrame:
    """One table of a read plan, with sku and location; a clear error when it is not there."""
    if name not in tables:
        error = StockplanError(phrase("error.plan_no_table", path=str(path), table=_table(name)))
        error.language = written_language(path)  # a Chinese plan is told so in Chinese
        raise error
    frame = tables[name]
    missing = [c for c in ("sku", "location") if c not in frame.columns]
    if missing:
        raise StockplanError(
            phrase(
                "error.plan_no_column",
                path=str(path),
                table=_table(name),
                columns={"en": " or ".join(missing), "zh": " 或 ".join(missing)},
            )
        )
    return frame


def same_code_spelling(
    tables: tuple[pl.DataFrame, pl.DataFrame],
    paths: tuple[Path, Path | dict[str, str]],
    lost_in_first: bool = False,
) -> None:
    """Refuse two plans whose SKU codes match only as the inputs' spellings of one code do
    (`io.prepare.sku_key`): `10007` in one, `010007` in the other, or `1.1` beside `1.10`. A
    plan opened in a spreadsheet and saved loses leading zeros and a decimal code's last
    zeros, and every such item would be listed as vanished under one code and appeared
    under the other. Names the file that lost them, both spellings and the other file.
    `lost_in_first`: only codes the first table spells shorter (a `--previous` plan saved
    by a spreadsheet, against this run's own codes, `paths[1]` then its words per
    language)."""
    from stockplan.io.prepare import sku_difference, sku_key

    codes = [t.select(pl.col("sku").drop_nulls().unique()) for t in tables]
    keyed = [c.with_columns(sku_key(pl.col("sku")).alias("key")) for c in codes]
    pairs = (
        keyed[0]
        .join(keyed[1], on="key", suffix="_new")
        .filter(
            (pl.col("key") != "")
            & (pl.col("sku") != pl.col("sku_new"))
            & ~pl.col("sku").is_in(codes[1]["sku"].implode())
            & ~pl.col("sku_new").is_in(codes[0]["sku"].implode())
        )
        .sort("sku", "sku_new")
    )
    if lost_in_first:
        pairs = pairs.filter(pl.col("sku").str.len_chars() < pl.col("sku_new").str.len_chars())
    if not pairs.height:
        return
    old_code, new_code = pairs.row(0)[0], pairs.row(0)[2]
    lost = 1 if len(new_code) < len(old_code) else 0
    spelled = (old_code, new_code)
    raise StockplanError(
        phrase(
            "error.sku_spelling",
            where=place(paths[lost], None, "sku"),
            sku=spelled[lost],
            other=spelled[1 - lost],
            other_where=paths[1 - lost]
            if isinstance(paths[1 - lost], dict)
            else str(paths[1 - lost]),
            fix=both(sku_difference(spelled[lost], spelled[1 - lost])),
            more=both("reading.sku_more", count=pairs.height) if pairs.height > 1 else "",
        )
    )


def previous_risk(path: Path) -> tuple[pl.DataFrame, str | None]:
    """(risk table, planning date) of an earlier plan, to compare this run's risk with."""
    tables, record = read_plan(path)
    risk = plan_table(tables, "risk", path)
    if "risk_level" not in risk.columns:
        raise StockplanError(
            phrase(
                "error.plan_no_column", path=str(path), table=_table("risk"), columns="risk_level"
            )
        )
    return risk, (record or {}).get("planning_date")


def written_like(
    plan: Path, tables: dict[str, pl.DataFrame], table: str, lang: str = "en"
) -> dict[str, pl.DataFrame]:
    """`tables` written the way `plan` was (same file type or folder format) into a temporary
    folder and read back by `read_plan`: what the plan's files would hold for them."""
    import tempfile

    from stockplan.io.writers import output_plan, write_files

    fmt = None
    if plan.is_dir():
        kinds = {p.suffix.lstrip(".") for p in plan.iterdir() if not p.name.endswith(RUN_JSON)}
        fmt = "xlsx" if (plan / "stockplan.xlsx").is_file() else "csv"
        fmt = next((k for k in ("xlsx", "csv", "json", "parquet") if k in kinds), fmt)
    with tempfile.TemporaryDirectory(prefix="stockplan-verify-") as folder:
        target = Path(folder) / ("plan" if plan.is_dir() else plan.name)
        write_files(output_plan(tables, target, fmt, table), lang=lang)
        again, _ = read_plan(target)
    return again
