"""Reproducible plans: the run record a plan carries and `stockplan verify`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan import __version__
from stockplan.cli import app
from stockplan.config import parse_config
from stockplan.io.runrecord import describe_inputs

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sheet(path: Path, name: str) -> dict[str, object]:
    rows = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    assert rows[0] == ("key", "value")
    return dict(rows[1:])


def test_a_workbook_plan_records_version_config_inputs_date_and_seed_and_verifies(
    small_shop: Path, tmp_path: Path
):
    folder = small_shop.parent
    plan = tmp_path / "plan.xlsx"
    assert _invoke("plan", "-c", str(small_shop), "-o", str(plan), "--all").exit_code == 0
    run = _sheet(plan, "run")
    assert run["stockplan_version"] == __version__
    assert run["planning_date"] == "2025-10-13"
    assert str(run["seed"]) == "0"
    assert (run["command"], run["options.all"], run["options.table"]) == ("plan", "true", "orders")
    assert run["config.path"] == str(small_shop.resolve())
    assert run["config.sha256"] == _sha(small_shop)
    for name in ("sales", "stock", "products", "suppliers", "purchase_orders"):
        path = folder / f"{name}.csv"
        assert run[f"inputs.{name}.path"] == str(path.resolve())
        assert str(run[f"inputs.{name}.size_bytes"]) == str(path.stat().st_size)
        assert run[f"inputs.{name}.sha256"] == _sha(path)

    result = _invoke("verify", str(plan))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith(f"{plan}: reproduced: same inputs, every number matches")

    stock = folder / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH1,40", "A-100,WH1,10"))
    result = _invoke("verify", str(plan))
    assert result.exit_code == 6
    lines = result.stderr.splitlines()
    assert f"stockplan: input changed: inputs.stock: {stock.resolve()} changed" in "\n".join(lines)
    assert not any("inputs.sales" in line for line in lines)
    assert "stockplan: differs: orders.on_hand: 1 cell differs (A-100 WH1: 40" in result.stderr
    assert lines[-1] == f"stockplan: {plan}: NOT reproduced: exit 6"


def test_a_folder_plan_has_run_json_and_verify_names_an_edited_number(
    shared_small_shop: Path, tmp_path: Path
):
    out = tmp_path / "plan"
    assert (
        _invoke("plan", "-c", str(shared_small_shop), "-o", str(out), "-q", "--bom").exit_code == 0
    )
    assert _invoke("verify", str(out), "-q").exit_code == 0  # the BOM is not a difference
    record = json.loads((out / "run.json").read_text())
    assert record["inputs"]["stock"]["sha256"] == _sha(shared_small_shop.parent / "stock.csv")
    assert record["options"] == {
        "all": False,
        "table": "orders",
        "lang": "en",
        "headers": "language",
    }
    orders = pl.read_csv(out / "orders.csv", infer_schema=False)
    first = orders["order_qty"][0]
    orders.with_columns(pl.col("order_qty").replace({first: "999"})).write_csv(out / "orders.csv")
    result = _invoke("verify", str(out))
    assert result.exit_code == 6
    assert f"orders.order_qty: 1 cell differs ({orders['sku'][0]} {orders['location'][0]}: " in (
        result.stderr
    )
    assert f": 999 in the plan, {first} re-run" in result.stderr
    assert "input changed" not in result.stderr


def _columns_moved_in_a_spreadsheet(plan: Path) -> None:
    """Every table of a folder or workbook plan with its columns in reverse order, as a
    buyer drags them in a spreadsheet and saves: the same cells under the same headers."""
    if plan.is_dir():
        for path in plan.glob("*.csv"):
            table = pl.read_csv(path, infer_schema=False)
            table.select(reversed(table.columns)).write_csv(path)
        return
    book = openpyxl.load_workbook(plan)
    for sheet in book.worksheets:
        if sheet.title in ("summary", "run"):
            continue
        rows = [list(row)[::-1] for row in sheet.iter_rows(values_only=True)]
        sheet.delete_rows(1, sheet.max_row)
        for row in rows:
            sheet.append(row)
    book.save(plan)


@pytest.mark.parametrize("name", ["plan", "plan.xlsx"])
def test_a_plan_whose_columns_a_buyer_moved_is_reproduced_and_an_edited_column_named(
    shared_small_shop: Path, tmp_path: Path, name: str
):
    plan = tmp_path / name
    assert _invoke("plan", "-c", str(shared_small_shop), "-o", str(plan), "-q").exit_code == 0
    _columns_moved_in_a_spreadsheet(plan)
    result = _invoke("verify", str(plan))
    assert result.exit_code == 0, result.stderr
    assert "reproduced: same inputs, every number matches" in result.stderr
    # the buyer renames one column and adds a column of notes: the renamed one is a
    # difference, named; the notes are said plainly and not compared
    if plan.is_dir():
        orders = pl.read_csv(plan / "orders.csv", infer_schema=False)
        orders = orders.rename({"safety_stock": "SS"}).with_columns(buyer_notes=pl.lit("ok"))
        orders.write_csv(plan / "orders.csv")
    else:
        book = openpyxl.load_workbook(plan)
        sheet = book["orders"]
        header = [cell.value for cell in sheet[1]]
        sheet.cell(1, header.index("safety_stock") + 1, "SS")
        sheet.cell(1, len(header) + 1, "buyer_notes")
        book.save(plan)
    result = _invoke("verify", str(plan))
    assert result.exit_code == 6
    assert (
        "differs: orders: the columns differ (not in the plan, deleted or renamed: safety_stock)"
    ) in result.stderr
    assert (
        "note: orders: SS, buyer_notes: not a column stockplan writes (added to the plan), "
        "not compared"
    ) in result.stderr
    zh = _invoke("verify", str(plan), "--lang", "zh")
    assert "提示：采购建议：SS、buyer_notes：不是 stockplan 写出的列（在计划中添加），未比较" in (
        zh.stderr
    )


def test_a_single_csv_plan_has_its_record_beside_it_and_stdout_has_none(
    shared_small_shop: Path, tmp_path: Path
):
    out = tmp_path / "risk.csv"
    assert _invoke("risk", "-c", str(shared_small_shop), "-o", str(out), "-q").exit_code == 0
    record = json.loads((tmp_path / "risk.csv.run.json").read_text())
    assert (record["command"], record["options"]["table"]) == ("risk", "risk")
    assert _invoke("verify", str(out), "-q").exit_code == 0
    # nothing written beside the earlier output nor beside the config
    folders = (tmp_path, shared_small_shop.parent)
    before = [sorted(p.name for p in folder.iterdir()) for folder in folders]
    assert _invoke("plan", "-c", str(shared_small_shop), "-o", "-", "-q").exit_code == 0
    assert [sorted(p.name for p in folder.iterdir()) for folder in folders] == before


def test_a_plan_trimmed_by_columns_records_them_and_is_reproduced(
    shared_small_shop: Path, tmp_path: Path
):
    """`plan --columns sku,location,order_qty -o orders.csv` was "NOT reproduced" (exit 6,
    the columns differ): the record did not say the table was trimmed. It now keeps the
    columns (canonical, also when named in Chinese) and `verify` trims its re-run alike,
    still naming a number a buyer changed."""
    out = tmp_path / "orders.csv"
    chosen = "sku,仓库,order_qty"  # a translated name is recorded as the column it names
    args = ("plan", "-c", str(shared_small_shop), "--all", "--columns", chosen, "-o", str(out))
    assert _invoke(*args, "-q").exit_code == 0
    assert pl.read_csv(out).columns == ["sku", "location", "order_qty"]
    record = json.loads((tmp_path / "orders.csv.run.json").read_text())
    assert record["options"]["columns"] == ["sku", "location", "order_qty"]
    result = _invoke("verify", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith(f"{out}: reproduced: same inputs, every number matches")
    edited = pl.read_csv(out, schema_overrides={"sku": pl.String})
    edited.with_columns(pl.col("order_qty") + 1).write_csv(out)
    changed = _invoke("verify", str(out), "-q")
    assert changed.exit_code == 6
    assert "differs: orders.order_qty: " in changed.stderr and "columns differ" not in (
        changed.stderr
    )


def test_a_run_record_whose_columns_are_no_list_of_names_is_refused(
    shared_small_shop: Path, tmp_path: Path
):
    out = tmp_path / "risk.csv"
    args = ("risk", "-c", str(shared_small_shop), "--columns", "sku,risk_level", "-o", str(out))
    assert _invoke(*args, "-q").exit_code == 0
    beside = tmp_path / "risk.csv.run.json"
    record = json.loads(beside.read_text())
    beside.write_text(json.dumps(record | {"options": record["options"] | {"columns": "sku"}}))
    result = _invoke("verify", str(out))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: error: {out}: run record, options.columns: 'sku' is not a list of "
        "column names; write the plan again with `stockplan plan -o`"
    )


def test_a_plan_without_a_record_cannot_be_verified(tmp_path: Path):
    pl.DataFrame({"sku": ["A"], "location": ["W"], "order_qty": [1]}).write_csv(
        tmp_path / "orders.csv"
    )
    result = _invoke("verify", str(tmp_path / "orders.csv"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: error: {tmp_path / 'orders.csv'}: no run record (`stockplan plan -o` "
        "writes one into a workbook or a folder, and beside a single table file as "
        "FILE.run.json)"
    )


def test_naming_the_run_record_instead_of_the_plan_says_which_to_name(tmp_path: Path):
    """`verify orders.csv.run.json` read the record as a table and said `no run record`."""
    orders = tmp_path / "orders.csv"
    pl.DataFrame({"sku": ["A"], "location": ["W"], "order_qty": [1]}).write_csv(orders)
    record = tmp_path / "orders.csv.run.json"
    record.write_text(json.dumps({"command": "plan"}), encoding="utf-8")
    for command in (["verify", str(record)], ["diff", str(record), str(orders)]):
        result = _invoke(*command)
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            f"stockplan: error: {record}: this is a plan's run record: name the plan file "
            f"({orders}), not its record"
        )
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "run.json").write_text("{}", encoding="utf-8")
    result = _invoke("verify", str(folder / "run.json"), "--lang", "zh")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: 错误: {folder / 'run.json'}：这是计划的运行记录：请给出计划文件夹"
        f"（{folder}），而不是它的运行记录"
    )
    # a Chinese plan's record is refused in Chinese without --lang
    pl.DataFrame({"商品编码": ["A"], "仓库": ["W"], "建议采购量": [1]}).write_csv(orders)
    result = _invoke("verify", str(record))
    assert result.stderr.startswith(f"stockplan: 错误: {record}：这是计划的运行记录")


def test_a_chinese_plan_printed_to_stdout_is_refused_in_chinese_without_lang(tmp_path: Path):
    pl.DataFrame({"商品编码": ["A"], "仓库": ["W"], "建议采购量": [1]}).write_csv(
        tmp_path / "stdout.csv"
    )
    result = _invoke("verify", str(tmp_path / "stdout.csv"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: 错误: {tmp_path / 'stdout.csv'}：没有运行记录（`stockplan plan -o` "
        "会把运行记录写进工作簿或文件夹，单个表格文件则写在旁边的 FILE.run.json）"
    )
    english = _invoke("verify", str(tmp_path / "stdout.csv"), "--lang", "en")
    assert english.stderr.startswith("stockplan: error: ")


def test_differing_cells_are_named_as_the_sheets_show_them_in_both_languages():
    from stockplan.i18n import say
    from stockplan.reproduce import compare_plans

    plan = pl.DataFrame(
        {
            "sku": ["010007"],
            "location": ["WH-BJ"],
            "stockout_date": ["2026-12-17 00:00:00"],
            "risk_level": ["low"],
            "restock_eta": [None],
        }
    )
    rerun = pl.DataFrame(
        {
            "sku": ["010007"],
            "location": ["WH-BJ"],
            "stockout_date": ["2026-11-24 00:00:00"],
            "risk_level": ["high"],
            "restock_eta": ["2026-12-03 00:00:00"],
        }
    )
    lines = compare_plans({"risk": plan, "orders": plan}, {"risk": rerun})
    assert lines[:3] == [
        "risk.stockout_date: 1 cell differs (010007 WH-BJ: 2026-12-17 in the plan, "
        "2026-11-24 re-run)",
        "risk.risk_level: 1 cell differs (010007 WH-BJ: low in the plan, high re-run)",
        "risk.restock_eta: 1 cell differs (010007 WH-BJ: empty in the plan, 2026-12-03 re-run)",
    ]
    assert [say(line, "zh") for line in lines] == [
        "缺货风险·预计缺货日期：1 个单元格不一致"
        "（010007 WH-BJ：计划中 2026-12-17，重算 2026-11-24）",
        "缺货风险·风险等级：1 个单元格不一致（010007 WH-BJ：计划中 低，重算 高）",
        "缺货风险·补货到货日期：1 个单元格不一致（010007 WH-BJ：计划中 空，重算 2026-12-03）",
        "采购建议：重算没有产生这张表",
    ]
    fewer = compare_plans({"risk": plan}, {"risk": rerun.with_columns(sku=pl.lit("9"))})
    assert [say(line, "zh") for line in fewer] == [
        "缺货风险：1 行只在计划中（010007 WH-BJ）",
        "缺货风险：1 行只在重算中（9 WH-BJ）",
    ]
    moved = compare_plans({"risk": plan}, {"risk": plan.select(reversed(plan.columns))})
    assert moved == []  # columns are matched by name
    deleted = compare_plans({"risk": plan.drop("risk_level")}, {"risk": plan})
    assert deleted == ["risk: the columns differ (not in the plan, deleted or renamed: risk_level)"]
    assert say(deleted[0], "zh") == "缺货风险：列不一致（计划中没有（已删除或改名）：风险等级）"


def test_a_database_input_is_recorded_masked_with_its_query_hash_and_cannot_be_proven(
    tmp_path: Path,
):
    start = dt.date(2025, 1, 6)
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (day text, code text, qty integer)")
        connection.executemany(
            "INSERT INTO sales VALUES (?, ?, ?)",
            [((start + dt.timedelta(days=i)).isoformat(), "000123", 4) for i in range(120)],
        )
    pl.DataFrame({"sku": ["000123"], "on_hand": [7]}).write_csv(tmp_path / "stock.csv")
    query = "SELECT day AS date, code AS sku, qty AS quantity FROM sales"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "inputs": {
                    "sales": {"url": "sqlite:///shop.db", "query": query},
                    "stock": "stock.csv",
                },
                "forecast": {"backtest_windows": 1},
            }
        )
    )
    plan = tmp_path / "plan.xlsx"
    assert _invoke("plan", "-c", str(config), "-o", str(plan), "-q").exit_code == 0
    run = _sheet(plan, "run")
    assert run["inputs.sales.url"] == f"sqlite:///{tmp_path.as_posix()}/shop.db"
    assert run["inputs.sales.query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    result = _invoke("verify", str(plan))
    assert result.exit_code == 7
    assert (
        "stockplan: cannot be proven unchanged (a database): inputs.sales (sqlite:///"
        in result.stderr
    )
    assert "every number matches, but a database input cannot be proven unchanged" in (
        result.stderr
    )

    # a server's password never reaches the record
    server = parse_config(
        {
            "inputs": {
                "sales": {"url": "postgresql://odoo:s3cret@db:5432/odoo", "table": "sale"},
                "stock": {"url": "postgresql://odoo:s3cret@db:5432/odoo", "query": "SELECT 1"},
            }
        }
    )
    described = describe_inputs(server)
    assert described["sales"] == {"url": "postgresql://odoo:***@db:5432/odoo", "table": "sale"}
    assert described["stock"]["query_sha256"] == hashlib.sha256(b"SELECT 1").hexdigest()
    assert "s3cret" not in json.dumps(described)


def test_a_parquet_folder_verifies_with_full_precision_floats(
    shared_small_shop: Path, tmp_path: Path
):
    out = tmp_path / "plan"
    args = ["plan", "-c", str(shared_small_shop), "-o", str(out), "-f", "parquet", "-q"]
    assert _invoke(*args).exit_code == 0
    assert (out / "run.json").is_file() and (out / "orders.parquet").is_file()
    result = _invoke("verify", str(out))
    assert result.exit_code == 0, result.stderr


def test_cells_compare_as_text_and_numbers_within_a_relative_1e_9():
    from stockplan.reproduce import compare_table

    plan = pl.DataFrame(
        {"sku": ["A", "B"], "sigma_e": ["0.8660392823354719", "2"], "model": ["ETS", "Naive"]}
    )
    same = plan.with_columns(pl.Series("sigma_e", ["0.866039282335472", "2.0"]))
    assert compare_table("orders", plan, same) == []
    moved = plan.with_columns(
        pl.Series("sigma_e", ["0.8660393", "2"]), pl.Series("model", ["ETS", "Croston"])
    )
    assert compare_table("orders", plan, moved) == [
        "orders.sigma_e: 1 cell differs (A: 0.8660392823354719 in the plan, 0.8660393 re-run)",
        "orders.model: 1 cell differs (B: Naive in the plan, Croston re-run)",
    ]


def test_a_chinese_workbook_reads_back_canonical_and_verifies(
    shared_small_shop: Path, tmp_path: Path
):
    from stockplan.io.planfiles import read_plan

    plan = tmp_path / "计划.xlsx"
    args = ("plan", "-c", str(shared_small_shop), "-o", str(plan), "--all", "-q", "--lang", "zh")
    assert _invoke(*args).exit_code == 0
    tables, record = read_plan(plan)
    orders = tables["orders"]
    assert {"sku", "location", "order_qty", "risk_level"} <= set(orders.columns)
    assert "total" not in orders["sku"].to_list() and "合计" not in orders["sku"].to_list()
    assert set(tables["risk"]["risk_level"]) <= {"high", "medium", "low"}
    assert record["options"]["lang"] == "zh"
    result = _invoke("verify", str(plan))
    assert result.exit_code == 0, result.stderr
    same = _invoke("diff", str(plan), str(plan), "-o", str(tmp_path / "diff.csv"), "-q")
    assert same.exit_code == 0, same.stderr


def test_verify_speaks_the_language_the_plan_was_written_in(small_shop: Path, tmp_path: Path):
    out = tmp_path / "plan"
    args = ("plan", "-c", str(small_shop), "-o", str(out), "-q", "--lang", "zh")
    assert _invoke(*args).exit_code == 0
    result = _invoke("verify", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == f"stockplan: {out}：已复现：输入相同，每个数字都一致"
    result = _invoke("verify", str(out), "--lang", "en")
    assert result.stderr.splitlines()[-1] == (
        f"stockplan: {out}: reproduced: same inputs, every number matches"
    )
    stock = small_shop.parent / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH1,40", "A-100,WH1,10"))
    result = _invoke("verify", str(out))
    assert result.exit_code == 6
    assert (
        f"stockplan: 输入已变：库存（inputs.stock）：{stock.resolve()} 已改变（SHA-256 不同；"
        in (result.stderr)
    )
    assert (
        "stockplan: 不一致：缺货风险·现存量：1 个单元格不一致（A-100 WH1：计划中 40，重算 10）"
        in (result.stderr)
    )
    assert "risk." not in result.stderr and "on_hand" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"stockplan: {out}：未能复现：退出码 6"


def test_a_chinese_plan_with_customer_notices_is_reproduced(small_shop: Path, tmp_path: Path):
    """The notices' texts are written in the plan's language: the re-run makes them in it."""
    folder = small_shop.parent
    (folder / "customer_orders.csv").write_text(
        "order_no,customer,sku,warehouse,qty,order_date,promised_date\n"
        "SO1,C1,A-100,WH1,60,2025-10-08,2025-10-14\n"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["inputs"]["customer_orders"] = "customer_orders.csv"
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "plan"
    assert (
        _invoke("plan", "-c", str(small_shop), "-o", str(out), "-q", "--lang", "zh").exit_code == 0
    )
    notices = pl.read_csv(out / "notices.csv")
    assert notices["通知内容"][0].startswith("订单 SO1：")
    result = _invoke("verify", str(out), "-q")
    assert result.exit_code == 0, result.stderr


def test_rows_are_matched_by_item_not_by_place():
    # one item's risk moved up the list: the same rows in another order, and one cell
    # changed, is one difference at that item (it was every cell of the rows that moved)
    from stockplan.reproduce import compare_table

    plan = pl.DataFrame(
        {"sku": ["A", "B", "C"], "location": ["W"] * 3, "on_hand": [5.0, 503.0, 7.0]}
    )
    rerun = pl.DataFrame(
        {"sku": ["B", "A", "C"], "location": ["W"] * 3, "on_hand": [403.0, 5.0, 7.0]}
    )
    assert compare_table("risk", plan, rerun) == [
        "risk.on_hand: 1 cell differs (B W: 503 in the plan, 403 re-run)"
    ]
    fewer = rerun.filter(pl.col("sku") != "C").vstack(
        pl.DataFrame({"sku": ["D"], "location": ["W"], "on_hand": [1.0]})
    )
    assert compare_table("risk", plan, fewer) == [
        "risk: 1 row only in the plan (C W)",
        "risk: 1 row only in the re-run (D W)",
        "risk.on_hand: 1 cell differs (B W: 503 in the plan, 403 re-run)",  # still told
    ]
    from stockplan.i18n import render_error

    assert render_error("verify: risk: 1 row only in the re-run (D W)", "zh") == (
        "verify: risk：1 行只在重算中（D W）"
    )
    # a changed supplier is a changed cell of the same item, not a row gone and one new
    supplied = plan.with_columns(supplier=pl.lit("S"))
    assert compare_table("orders", supplied, supplied.with_columns(supplier=pl.lit("T"))) == [
        "orders.supplier: 3 cells differ (A W: S in the plan, T re-run; B W: S in the plan, "
        "T re-run; C W: S in the plan, T re-run)"
    ]
