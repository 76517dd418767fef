"""Plans a buyer edited by hand, and files that are not stockplan's own, read by `diff`,
`verify` and `init`: one line naming the file (row and column where there is one), never
a traceback, and no answer that the edit made wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _record(config_file: Path, **entries: object) -> dict:
    record = {
        "stockplan_version": "0.1.0",
        "command": "plan",
        "options": {"all": True, "table": "orders", "lang": "en"},
        "planning_date": "2025-11-03",
        "config": {"path": str(config_file), "size_bytes": 1, "sha256": "0"},
        "inputs": {},
    }
    return {k: v for k, v in (record | entries).items() if v is not None}


@pytest.mark.parametrize(
    ("entries", "key", "problem", "zh"),
    [
        ({"planning_date": None}, "planning_date", "missing", "缺失"),
        (
            {"planning_date": "23.11.2025"},
            "planning_date",
            "'23.11.2025' is not a date",
            "不是日期",
        ),
        ({"config": {"size_bytes": 1}}, "config.path", "missing", "缺失"),
    ],
)
def test_a_run_record_with_an_entry_deleted_or_retyped_is_named_not_a_crash(
    small_shop: Path, tmp_path: Path, entries: dict, key: str, problem: str, zh: str
):
    plan = tmp_path / "orders.csv"
    pl.DataFrame({"sku": ["A-100"], "location": ["WH1"], "order_qty": [24]}).write_csv(plan)
    record = _record(small_shop, **entries)
    (tmp_path / "orders.csv.run.json").write_text(json.dumps(record), encoding="utf-8")
    result = _invoke("verify", str(plan))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"stockplan: error: {plan}: run record, {key}: {problem}")
    result = _invoke("verify", str(plan), "--lang", "zh")
    assert result.exit_code == 1 and f"运行记录的 {key}：" in result.stderr and zh in result.stderr


def test_a_planning_date_excel_saved_as_a_date_cell_is_read_as_that_date(
    small_shop: Path, tmp_path: Path
):
    """Retyped in the run sheet, 2025-11-03 becomes a date cell: the same planning date."""
    book = openpyxl.Workbook()
    orders = book.active
    orders.title = "orders"
    orders.append(["sku", "location", "order_qty"])
    orders.append(["A-100", "WH1", 24])
    run = book.create_sheet("run")
    run.append(["key", "value"])
    for key, value in (
        ("command", "plan"),
        ("options.table", "orders"),
        ("planning_date", dt.datetime(2025, 11, 3)),
        ("config.path", str(small_shop)),
        ("config.sha256", "0"),
    ):
        run.append([key, value])
    plan = tmp_path / "plan.xlsx"
    book.save(plan)
    result = _invoke("verify", str(plan), "-q")
    # re-run as of 2025-11-03: the config changed (its checksum) and the cells differ,
    # said as such, not an internal error
    assert result.exit_code == 6, result.output
    assert "internal error" not in result.stderr
    assert "input changed: config" in result.stderr


ORDER_COLUMNS = {
    "sku": ["007", "A-100"],
    "location": ["WH1", "WH1"],
    "order_qty": [24.0, 48.0],
    "on_hand": [3.0, 40.0],
    "on_order": [0.0, 0.0],
    "backorders": [0.0, 0.0],
    "inventory_position": [3.0, 40.0],
    "lead_time_days": [14.0, 14.0],
    "review_days": [7.0, 7.0],
    "safety_stock": [5.0, 20.0],
    "order_up_to": [27.0, 230.0],
    "service_level": [0.95, 0.95],
}


def _write_plan(target: Path, orders: pl.DataFrame | None = None) -> Path:
    from stockplan.io.writers import output_plan, write_files

    frame = pl.DataFrame(ORDER_COLUMNS) if orders is None else orders
    write_files(output_plan({"orders": frame}, target, None, "orders"))
    return target


def _rows(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _rewrite(sheet, rows: list[list]) -> None:
    sheet.delete_rows(1, sheet.max_row)
    for row in rows:
        sheet.append(row)


@pytest.mark.parametrize("label", ["total", "TOTAL", "Total:", "合计", "合 计"])
def test_a_totals_row_is_not_an_order_line_wherever_the_buyer_moved_the_columns(
    tmp_path: Path, label: str
):
    """The buyer moves order_qty to the front (the written totals row's label now stands
    under sku) and adds a totals row of their own: neither is an item that appeared."""
    before = _write_plan(tmp_path / "old.xlsx")
    after = _write_plan(tmp_path / "new.xlsx")
    book = openpyxl.load_workbook(after)
    sheet = book["orders"]
    rows = [r for r in _rows(sheet) if any(v is not None for v in r)]
    header = rows[0]
    moved = [header.index("order_qty")] + [
        i for i in range(len(header)) if header[i] != "order_qty"
    ]
    rows = [[r[i] for i in moved] for r in rows]
    rows[1][0] = 30  # 007: 24 -> 30
    rows.append([30 + 48, label] + [None] * (len(header) - 2))
    _rewrite(sheet, rows)
    book.save(after)
    result = _invoke("diff", str(before), str(after), "-o", str(tmp_path / "diff.csv"))
    assert result.exit_code == 0, result.output
    assert "0 appeared, 0 vanished, 1 changed" in result.stderr
    diff = pl.read_csv(tmp_path / "diff.csv", schema_overrides={"sku": pl.String})
    assert diff.select("sku", "change", "old_order_qty", "new_order_qty").rows() == [
        ("007", "changed", 24, 30)
    ]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_order_line_copied_by_the_buyer_is_refused_naming_both_rows(tmp_path: Path, suffix: str):
    """007 at WH1 split into two lines (24 and 999): read as the first alone, the diff
    called the plan unchanged."""
    before = _write_plan(tmp_path / f"old{suffix}")
    copied = pl.DataFrame(ORDER_COLUMNS)
    copied = pl.concat([copied, copied.head(1).with_columns(pl.lit(999.0).alias("order_qty"))])
    after = _write_plan(tmp_path / f"new{suffix}", copied)
    out = tmp_path / "diff.csv"
    result = _invoke("diff", str(before), str(after), "-o", str(out))
    assert result.exit_code == 1, result.output
    where = f"{after} (orders)" if suffix == ".xlsx" else str(after)
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {where}, row 4, column 'sku': '007' at 'WH1' is listed twice "
        "(also row 2): a plan has one line per sku and location; put the quantities in one line"
    ]
    assert not out.exists()
    result = _invoke("diff", str(before), str(after), "--lang", "zh")
    assert result.exit_code == 1 and "出现两次（另见第 2 行）" in result.stderr


def test_codes_that_lost_their_leading_zeros_in_a_spreadsheet_are_named_not_diffed(
    tmp_path: Path,
):
    """orders.csv opened in a spreadsheet and saved: 007 became 7. Diffed as written, 007
    vanished and an item 7 appeared with the same 24."""
    before = _write_plan(tmp_path / "old.csv")
    after = tmp_path / "new.csv"
    pl.DataFrame(ORDER_COLUMNS).with_columns(pl.col("sku").replace({"007": "7"})).write_csv(after)
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {after}, column 'sku': '7' is '007' in {before}, with its leading "
        "zeros: a spreadsheet read the code as a number; format the SKU column as text and "
        "enter the codes with their zeros"
    ]
    # two items 7 and 007 that both plans list are two items, left alone
    both_codes = pl.concat(
        [
            pl.DataFrame(ORDER_COLUMNS),
            pl.DataFrame(ORDER_COLUMNS).head(1).with_columns(pl.lit("7").alias("sku")),
        ]
    )
    result = _invoke(
        "diff",
        str(_write_plan(tmp_path / "a.csv", both_codes)),
        str(_write_plan(tmp_path / "b.csv", both_codes)),
    )
    assert result.exit_code == 0, result.output
    assert "0 appeared, 0 vanished, 0 changed" in result.stderr


def test_a_decimal_code_that_lost_its_last_zero_in_a_spreadsheet_is_named_not_diffed(
    tmp_path: Path,
):
    """A code 1.10 held as a number is 1.1 after the save: diffed as written, 1.10 vanished
    and an item 1.1 appeared with the same 24, so the buyer read a new item and a dropped
    one where nothing changed."""
    decimal = pl.DataFrame(ORDER_COLUMNS).with_columns(pl.col("sku").replace({"007": "1.10"}))
    before = _write_plan(tmp_path / "old.csv", decimal)
    after = tmp_path / "new.csv"
    decimal.with_columns(pl.col("sku").replace({"1.10": "1.1"})).write_csv(after)
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {after}, column 'sku': '1.1' is '1.10' in {before}, the same "
        "number: a spreadsheet held the code as a number, which drops the zeros at the end "
        "of its decimals (1.10 becomes 1.1); format the SKU column as text and enter the "
        "codes as they are written"
    ]
    result = _invoke("diff", str(before), str(after), "--lang", "zh")
    assert result.exit_code == 1 and "数值相同" in result.stderr, result.stderr


def test_a_refusal_of_two_chinese_plans_is_said_in_chinese_without_lang(tmp_path: Path):
    """diff speaks the later plan's language when --lang is not given: its refusals too."""
    from stockplan.io.writers import output_plan, write_files

    orders = pl.DataFrame(ORDER_COLUMNS)
    before, after = tmp_path / "old.csv", tmp_path / "new.csv"
    write_files(output_plan({"orders": orders}, before, None, "orders"), lang="zh")
    lost = orders.with_columns(pl.col("sku").replace({"007": "7"}))
    write_files(output_plan({"orders": lost}, after, None, "orders"), lang="zh")
    assert "建议采购量" in after.read_text(encoding="utf-8-sig")
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {after}，列 'sku'：'7' 在 {before} 中写作 '007'，带前导零：电子表格把"
        "编码当成了数字；请把商品编码列设为文本格式，并带前导零录入"
    ]


def _saved_by_a_spreadsheet(path: Path, encoding: str, delimiter: str) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    rows[1][rows[0].index("建议采购量")] = "30"  # 007: 24 -> 30
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))


@pytest.mark.parametrize(("encoding", "delimiter"), [("gbk", ","), ("utf-8", ";")])
def test_a_chinese_plan_csv_saved_as_gbk_or_with_semicolons_is_read(
    tmp_path: Path, encoding: str, delimiter: str
):
    """A spreadsheet on a Chinese system saves CSV as GBK; elsewhere with `;`. The plan
    read as UTF-8 and `,` lost its headers: "the orders table has no sku or location"."""
    from stockplan.io.writers import output_plan, write_files

    plans = []
    for name in ("old", "new"):
        target = tmp_path / name / "orders.csv"
        target.parent.mkdir()
        write_files(
            output_plan({"orders": pl.DataFrame(ORDER_COLUMNS)}, target, None, "orders"), lang="zh"
        )
        plans.append(target)
    _saved_by_a_spreadsheet(plans[1], encoding, delimiter)
    result = _invoke("diff", str(plans[0]), str(plans[1]), "--lang", "en", "--headers", "canonical")
    assert result.exit_code == 0, result.output
    assert "0 appeared, 0 vanished, 1 changed" in result.stderr
    assert "007,WH1,changed,24,30" in result.stdout


def test_a_plan_csv_cut_short_is_refused_naming_its_last_row(tmp_path: Path):
    before = _write_plan(tmp_path / "old.csv")
    after = _write_plan(tmp_path / "new.csv")
    text = after.read_text(encoding="utf-8-sig")
    after.write_text(text[: text.rindex("WH1") + 3], encoding="utf-8")  # cut in the last line
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 1, result.output
    width = len(ORDER_COLUMNS)
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {after}, row 3: has 2 fields where the header has {width}"
    ]


def test_decimal_commas_in_a_plan_saved_with_semicolons_keep_their_decimals(tmp_path: Path):
    """A spreadsheet where the decimal sign is a comma saves 0.95 as `0,95` and 27.5 as
    `27,5`: read as thousands marks they were 95 and 275, and the diff blamed the service
    level and the demand for a change the buyer never made."""
    before = _write_plan(tmp_path / "old.csv")
    after = tmp_path / "new.csv"
    frame = pl.DataFrame(ORDER_COLUMNS).with_columns(
        pl.col("order_up_to").replace({27.0: 27.5}), pl.col("order_qty").replace({24.0: 30.0})
    )
    text = frame.with_columns(
        pl.col(pl.Float64).cast(pl.String).str.replace(".", ",", literal=True)
    )
    text.write_csv(after, separator=";")
    result = _invoke("diff", str(before), str(after), "-o", str(tmp_path / "diff.csv"))
    assert result.exit_code == 0, result.output
    diff = pl.read_csv(tmp_path / "diff.csv", schema_overrides={"sku": pl.String})
    # 007: f = (27.5 - 5) / 21 (was 22 / 21): demand +0.5; the rest of the +6 is constraints
    row = diff.row(0, named=True)
    assert (row["sku"], row["new_order_qty"]) == ("007", 30)
    assert (row["due_to_config"], row["due_to_demand"], row["due_to_constraints"]) == (0, 0.5, 5.5)


def test_an_order_quantity_on_a_line_whose_sku_was_cleared_is_refused(tmp_path: Path):
    before = _write_plan(tmp_path / "old.xlsx")
    after = _write_plan(tmp_path / "new.xlsx")
    book = openpyxl.load_workbook(after)
    sheet = book["orders"]
    sheet.cell(3, 1).value = None  # A-100's sku cleared; its 48 kept
    sheet.cell(sheet.max_row + 2, 2).value = "checked by Li"  # a note: no order
    book.save(after)
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {after} (orders), row 3, column 'sku': empty value in a required column"
    ]
    sheet.cell(3, 1).value = "A-100"
    book.save(after)
    result = _invoke("diff", str(before), str(after))
    assert result.exit_code == 0, result.output
    assert "0 appeared, 0 vanished, 0 changed" in result.stderr


def test_init_says_why_a_file_is_not_recognised_in_chinese(tmp_path: Path):
    (tmp_path / "sales.csv").write_bytes(b"")
    (tmp_path / "report.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    (tmp_path / "stock.csv").write_bytes(b"\x00\x01junk" * 100)
    result = _invoke("init", str(tmp_path), "--lang", "zh")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "stockplan: 警告: report.csv：未识别（未找到任何表的必需列）" in lines
    assert any(
        line.startswith("stockplan: 警告: sales.csv：未识别（") and "文件为空" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("stockplan: 警告: stock.csv：未识别（") and "二进制" in line
        for line in lines
    )
    assert not any(w in result.stderr for w in ("required columns", "file is empty", "binary file"))


@pytest.mark.parametrize(
    ("entries", "key"),
    [({"inputs": "sales.csv"}, "inputs"), ({"inputs": {"sales": "sales.csv"}}, "inputs.sales")],
)
def test_a_run_json_group_retyped_as_text_is_named(
    small_shop: Path, tmp_path: Path, entries: dict, key: str
):
    plan = tmp_path / "orders.csv"
    pl.DataFrame({"sku": ["A-100"], "location": ["WH1"], "order_qty": [24]}).write_csv(plan)
    (tmp_path / "orders.csv.run.json").write_text(json.dumps(_record(small_shop, **entries)))
    result = _invoke("verify", str(plan))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        f"stockplan: error: {plan}: run record, {key}: 'sales.csv' is not a group of entries; "
        "write the plan again with `stockplan plan -o`"
    )


def test_rows_of_a_dated_table_are_named_with_the_date_as_the_sheet_shows_it():
    from stockplan.reproduce import compare_table

    plan = pl.DataFrame(
        {
            "sku": ["007", "007"],
            "location": ["WH1", "WH1"],
            "period_start": ["2026-11-23 00:00:00", "2026-11-30 00:00:00"],
            "forecast": ["3", "4"],
        }
    )
    rerun = plan.head(1).with_columns(pl.lit("5").alias("forecast"))
    assert compare_table("forecast", plan, rerun) == [
        "forecast: 1 row only in the plan (007 WH1 2026-11-30)",
        "forecast.forecast: 1 cell differs (007 WH1 2026-11-23: 3 in the plan, 5 re-run)",
    ]


def test_a_line_deleted_from_a_plan_written_with_all_is_not_told_to_use_all(tmp_path: Path):
    plans = []
    for name, frame in (
        ("old", pl.DataFrame(ORDER_COLUMNS)),
        ("new", pl.DataFrame(ORDER_COLUMNS).tail(1)),
    ):
        plan = _write_plan(tmp_path / f"{name}.csv", frame)
        record = {"planning_date": "2025-11-03", "options": {"all": True, "lang": "en"}}
        (tmp_path / f"{name}.csv.run.json").write_text(json.dumps(record), encoding="utf-8")
        plans.append(plan)
    out = tmp_path / "diff.csv"
    result = _invoke("diff", *map(str, plans), "-o", str(out))
    assert result.exit_code == 0, result.output
    diff = pl.read_csv(out, schema_overrides={"sku": pl.String})
    assert diff.select("sku", "change", "note").rows() == [
        (
            "007",
            "vanished",
            "no line in the new plan, written with --all: an item no longer planned, or a line "
            "deleted from it",
        )
    ]


def test_a_table_deleted_from_a_plan_is_a_difference():
    from stockplan.reproduce import compare_plans

    risk = pl.DataFrame({"sku": ["007"], "location": ["WH1"], "risk_level": ["high"]})
    orders = pl.DataFrame({"sku": ["007"], "location": ["WH1"], "order_qty": ["24"]})
    assert compare_plans({"risk": risk}, {"orders": orders, "risk": risk}) == [
        "orders: the re-run writes this table, the plan does not have it"
    ]
