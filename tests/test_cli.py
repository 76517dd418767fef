"""The command line, end to end on a small shop: outputs parsed back, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.reorder import ORDER_COLUMNS
from stockplan.risk import RISK_COLUMNS

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_version_and_fast_help():
    result = _run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("stockplan ")
    # --help must not import the heavy stack
    code = (
        "import sys; from stockplan.cli import app; "
        "print('statsforecast' in sys.modules, 'polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _set(config_path: Path, section: str, **values: object) -> None:
    config = yaml.safe_load(config_path.read_text())
    config.setdefault(section, {}).update(values)
    config_path.write_text(yaml.safe_dump(config))


def test_plan_writes_orders_and_risk_csv_with_contract_columns(small_shop: Path, tmp_path: Path):
    _set(small_shop, "transfers", enabled=False)
    out = tmp_path / "out"
    result = _run("plan", "-c", str(small_shop), "-o", str(out), "--all")
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    risk = pl.read_csv(out / "risk.csv", schema_overrides={"sku": pl.String})
    assert orders.columns[: len(ORDER_COLUMNS)] == ORDER_COLUMNS
    assert risk.columns == [*RISK_COLUMNS, "name", "as_of"]  # names and the planning date follow
    assert sorted(orders["sku"].unique().to_list()) == ["007", "A-100"]  # leading zeros kept
    assert orders.height == 3  # --all: every sku x location (numbers: tests/test_plan_numbers.py)


def test_only_rows_to_order_without_all(shared_small_shop: Path, tmp_path: Path):
    target = tmp_path / "orders.csv"
    assert _run("plan", "-c", str(shared_small_shop), "-o", str(target)).exit_code == 0
    orders = pl.read_csv(target)
    assert orders.height > 0 and (orders["order_qty"] > 0).all()


def test_xlsx_has_a_sheet_per_table_and_json_parses(shared_small_shop: Path, tmp_path: Path):
    import openpyxl

    xlsx = tmp_path / "plan.xlsx"
    assert _run("plan", "-c", str(shared_small_shop), "-o", str(xlsx)).exit_code == 0
    workbook = openpyxl.load_workbook(xlsx)
    assert workbook.sheetnames[0] == "summary"
    assert {"orders", "risk"} <= set(workbook.sheetnames)
    sheet = workbook["orders"]
    # the buyer's decision columns lead; every contract column is still in the sheet
    lead = ["sku", "name", "location", "supplier", "order_qty", "order_value", "order_date"]
    header = [c.value for c in sheet[1]]
    assert header[: len(lead)] == lead and set(ORDER_COLUMNS) <= set(header)
    assert sheet.freeze_panes == "A2"
    (table,) = sheet.tables.values()  # written as an Excel table: filter buttons on the header
    assert table.autoFilter.ref == table.ref and table.ref.startswith("A1:")
    assert sheet["G2"].number_format == "yyyy-mm-dd"  # order_date
    assert sheet["F2"].number_format == "#,##0.00"  # order_value
    back = pl.read_excel(xlsx, sheet_name="risk")
    assert set(RISK_COLUMNS) <= set(back.columns)

    target = tmp_path / "risk.json"
    assert (
        _run("plan", "-c", str(shared_small_shop), "-o", str(target), "--table", "risk").exit_code
        == 0
    )
    records = json.loads(target.read_text())
    assert {r["sku"] for r in records} == {"A-100", "007"}
    assert set(records[0]) == {*RISK_COLUMNS, "name", "as_of"}


def test_stdout_is_clean_csv_and_logs_go_to_stderr(small_shop: Path):
    result = _run("plan", "-c", str(small_shop), "-o", "-")
    assert result.exit_code == 0
    orders = pl.read_csv(io.StringIO(result.stdout))
    assert orders.columns[: len(ORDER_COLUMNS)] == ORDER_COLUMNS
    assert "stockplan:" in result.stderr and "stockplan:" not in result.stdout


def test_quiet_prints_nothing_on_stderr(small_shop: Path):
    result = _run("plan", "-c", str(small_shop), "-o", "-", "--quiet")
    assert result.exit_code == 0 and result.stderr == ""


def test_validate_checks_without_writing(small_shop: Path):
    before = set(small_shop.parent.iterdir())
    result = _run("validate", "-c", str(small_shop))
    assert result.exit_code == 0 and "valid" in result.stderr
    assert set(small_shop.parent.iterdir()) == before


def _assert_user_error(result, *fragments: str) -> None:
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stockplan: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("file", "content", "fragments"),
    [
        (
            "sales.csv",
            "date,sku,warehouse\n2025-01-06,A-100,WH1\n",
            ["sales.csv", "missing required column 'quantity'"],
        ),
        (
            "sales.csv",
            "date,sku,qty\n2025-01-06,A-100,1\n06/01/2025 noon,A-100,2\n",
            ["sales.csv, row 3, column 'date'"],
        ),
        (
            "stock.csv",
            "sku,location,on_hand\nA-100,WH1,4\nZZ-9,WH1,1\n",
            ["stock.csv, row 3, column 'sku': 'ZZ-9' is not in the products table"],
        ),
    ],
)
def test_bad_inputs_fail_in_one_line_and_write_nothing(
    small_shop, tmp_path, file, content, fragments
):
    (small_shop.parent / file).write_text(content, encoding="utf-8")
    target = tmp_path / "plan.xlsx"
    result = _run("plan", "-c", str(small_shop), "-o", str(target))
    _assert_user_error(result, *fragments)
    assert not target.exists()
    assert list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".*")) == []


def test_config_typo_names_the_key(small_shop: Path):
    config = yaml.safe_load(small_shop.read_text())
    config["policy"] = {"review_dayz": 7}
    small_shop.write_text(yaml.safe_dump(config))
    _assert_user_error(_run("validate", "-c", str(small_shop)), "unknown key 'policy.review_dayz'")


def test_config_bad_value_names_the_key(small_shop: Path):
    config = yaml.safe_load(small_shop.read_text())
    config["policy"] = {"service_level": 1.5}
    small_shop.write_text(yaml.safe_dump(config))
    _assert_user_error(_run("plan", "-c", str(small_shop)), "key 'policy.service_level'", "1.5")


def test_missing_config_file(tmp_path: Path):
    _assert_user_error(_run("plan", "-c", str(tmp_path / "none.yaml")), "config file not found")


def test_usage_error_exits_2(small_shop: Path):
    assert runner.invoke(app, ["plan", "--no-such-option"]).exit_code == 2


def test_fail_on_risk_exits_3_when_high_risk_exists(shared_small_shop: Path, tmp_path: Path):
    # 007 has 3 on hand, ~0.5 a day, nothing on order and a 14-day lead time: high risk
    result = _run(
        "plan",
        "-c",
        str(shared_small_shop),
        "-o",
        str(tmp_path / "o.csv"),
        "--fail-on-risk",
        "high",
    )
    assert result.exit_code == 3
    assert (tmp_path / "o.csv").exists()  # the plan is still written for the buyer


def test_init_recognises_exports_and_writes_a_config_that_validates(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "销售明细.csv").write_text(
        "单据日期,商品编码,仓库,销售数量\n2025-09-01,A-1,WH1,4\n2025-09-08,A-1,WH1,5\n",
        encoding="utf-8",
    )
    (exports / "inventory.csv").write_bytes(
        "商品编码,仓库,现存量,货位\nA-1,WH1,7,B1\n".encode("gbk")
    )
    (exports / "notes.txt").write_text("nothing to see\n", encoding="utf-8")
    result = _run("init", str(exports))
    assert result.exit_code == 0, result.output
    assert "销售明细.csv: sales (单据日期 -> date" in result.stderr
    assert "not recognised: 货位" in result.stderr
    assert "notes.txt: not recognised" in result.stderr
    config = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))
    assert config["inputs"] == {"sales": "销售明细.csv", "stock": "inventory.csv"}
    assert _run("validate", "-c", str(exports / "stockplan.yaml")).exit_code == 0
    # never silently overwrites
    again = _run("init", str(exports), "-q")
    _assert_user_error(again, "already exists (use --force")
    assert _run("init", str(exports), "--force").exit_code == 0


def test_a_file_whose_name_holds_glob_characters_is_read_as_that_file(tmp_path: Path):
    """`stock[2025-10].csv`: init wrote it into the config, and validate then read the name
    as a glob of Parquet files ("no Parquet files in this dataset"), exit 1."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "sales.csv").write_text(
        "date,sku,location,qty\n2025-09-01,A-1,WH1,4\n2025-09-08,A-1,WH1,5\n", encoding="utf-8"
    )
    (exports / "stock[2025-10].csv").write_text(
        "sku,location,on_hand\nA-1,WH1,7\n", encoding="utf-8"
    )
    assert _run("init", str(exports), "-q").exit_code == 0
    config = exports / "stockplan.yaml"
    assert yaml.safe_load(config.read_text(encoding="utf-8"))["inputs"] == {
        "sales": "sales.csv",
        "stock": "stock[2025-10].csv",
    }
    result = _run("validate", "-c", str(config))
    assert result.exit_code == 0, result.output
    out = tmp_path / "plan.csv"
    result = _run("plan", "-c", str(config), "--all", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    plan = pl.read_csv(out)
    assert plan.select("sku", "location", "on_hand").rows() == [("A-1", "WH1", 7)]


def test_init_skips_a_plan_workbook_stockplan_wrote_under_any_name(tmp_path: Path):
    """A workbook carries its run record as the `run` sheet, not a `.run.json` beside it:
    init read `plan.xlsx` as the suppliers table, and validate then read the summary."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "sales.csv").write_text(
        "date,sku,location,qty\n2025-09-01,A-1,WH1,4\n2025-09-08,A-1,WH1,5\n", encoding="utf-8"
    )
    (exports / "stock.csv").write_text("sku,location,on_hand\nA-1,WH1,7\n", encoding="utf-8")
    assert _run("init", str(exports), "-q").exit_code == 0
    config = str(exports / "stockplan.yaml")
    for name, lang in (("plan.xlsx", "en"), ("采购计划.xlsx", "zh")):
        written = _run("plan", "-c", config, "--all", "--lang", lang, "-o", str(exports / name))
        assert written.exit_code == 0, written.output
    result = _run("init", str(exports), "--force", "--lang", "en")
    assert result.exit_code == 0, result.output
    for name in ("plan.xlsx", "采购计划.xlsx"):
        assert (
            f"stockplan: warning: {name}: a plan stockplan wrote (it has its run record sheet "
            "'run'), not an export; skipped" in result.stderr.splitlines()
        ), result.stderr
    inputs = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))["inputs"]
    assert inputs == {"sales": "sales.csv", "stock": "stock.csv"}
    chinese = _run("init", str(exports), "--force", "--lang", "zh")
    said = "采购计划.xlsx：这是 stockplan 写出的计划（带有 运行记录工作表 run），"
    said += "不是导出文件；已跳过"
    assert said in chinese.stderr, chinese.stderr


def test_init_looks_into_subfolders_but_not_hidden_ones_its_own_plans_or_too_deep(
    tmp_path: Path,
):
    """Exports filed by ERP and month (`kingdee/2025-10/即时库存.csv`) were not seen: init
    looked at the top folder only. Hidden folders, Excel's lock files, a plan stockplan
    wrote (a folder with its run.json) and anything more than 3 folders down are not
    exports; a file at the top comes before one in a subfolder for the same table."""
    exports = tmp_path / "exports"
    month = exports / "kingdee" / "2025-10"
    month.mkdir(parents=True)
    (exports / "销售明细.csv").write_text(
        "单据日期,商品编码,仓库,销售数量\n2025-09-01,A-1,WH1,4\n", encoding="utf-8"
    )
    (month / "即时库存.csv").write_text("商品编码,仓库,现存量\nA-1,WH1,7\n", encoding="utf-8")
    (month / "销售出库.csv").write_text(
        "单据日期,商品编码,仓库,实发数量\n2025-09-02,A-1,WH1,3\n", encoding="utf-8"
    )
    deep = exports / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    (deep / "products.csv").write_text("sku,unit_cost\nA-1,2\n", encoding="utf-8")
    (deep.parent / "suppliers.csv").write_text("supplier,lead_time_days\nS,14\n", encoding="utf-8")
    for hidden in (exports / ".stockplan-cache", exports / "_temporary"):
        hidden.mkdir()
        (hidden / "products.csv").write_text("sku,unit_cost\nA-1,2\n", encoding="utf-8")
    (exports / "~$销售明细.xlsx").write_bytes(b"\x00lock")
    plan = exports / "out"
    plan.mkdir()
    (plan / "run.json").write_text("{}", encoding="utf-8")
    (plan / "stock.csv").write_text("sku,location,on_hand\nA-1,WH1,99\n", encoding="utf-8")
    result = _run("init", str(exports))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert (
        "stockplan: kingdee/2025-10/即时库存.csv: stock (商品编码 -> sku, 仓库 -> location, "
        "现存量 -> on_hand)" in lines
    )
    assert (
        "stockplan: warning: kingdee/2025-10/销售出库.csv: also looks like sales; using "
        "销售明细.csv" in lines
    )
    assert (
        "stockplan: warning: out/: a plan stockplan wrote (it has its run.json), not an "
        "export; skipped" in lines
    )
    assert "stockplan: a/b/c/suppliers.csv: suppliers (supplier, lead_time_days)" in lines
    assert not any("products" in line or "~$" in line for line in lines), result.stderr
    config = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))
    assert config["inputs"] == {
        "sales": "销售明细.csv",
        "stock": "kingdee/2025-10/即时库存.csv",
        "suppliers": "a/b/c/suppliers.csv",
    }
    assert _run("validate", "-c", str(exports / "stockplan.yaml")).exit_code == 0
    chinese = _run("init", str(exports), "--force", "--lang", "zh")
    assert (
        "out/：这是 stockplan 写出的计划（带有 run.json），不是导出文件；已跳过" in chinese.stderr
    )


def test_init_reads_a_folder_of_parquet_parts_as_one_table_and_one_file_per_table_as_files(
    tmp_path: Path,
):
    """Part files with the same columns (hive `location=` folders too) are one table, the
    folder; a folder holding sales.parquet and stock.parquet is two exports."""
    exports = tmp_path / "exports"
    for location in ("WH1", "WH2"):
        part = exports / "sales_parts" / f"location={location}"
        part.mkdir(parents=True)
        for day in (1, 2):
            pl.DataFrame(
                {"date": [f"2025-09-0{day}"], "sku": ["A-1"], "quantity": [3]}
            ).write_parquet(part / f"part-{day}.parquet")
    (exports / "sales_parts" / "_SUCCESS").write_text("", encoding="utf-8")  # a writer's marker
    tables = exports / "parquet"
    tables.mkdir()
    pl.DataFrame(
        {"sku": ["A-1", "A-1"], "location": ["WH1", "WH2"], "on_hand": [5, 6]}
    ).write_parquet(tables / "stock.parquet")
    pl.DataFrame({"sku": ["A-1"], "unit_cost": [2.0]}).write_parquet(tables / "products.parquet")
    result = _run("init", str(exports))
    assert result.exit_code == 0, result.output
    assert "stockplan: sales_parts/: sales (date, sku, quantity, location)" in result.stderr
    config = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))
    assert config["inputs"] == {
        "sales": "sales_parts",
        "stock": "parquet/stock.parquet",
        "products": "parquet/products.parquet",
    }
    planned = _run("plan", "-c", str(exports / "stockplan.yaml"), "-o", "-", "-q", "--all")
    assert planned.exit_code == 0, planned.output
    orders = pl.read_csv(io.StringIO(planned.stdout))
    assert sorted(orders["location"].to_list()) == ["WH1", "WH2"]


def test_init_quotes_a_header_so_it_cannot_write_a_setting_into_the_config(tmp_path: Path):
    # YAML reads U+2028 / U+2029 / NEL as line breaks: a header carrying one ended its
    # comment line and turned formula escaping off
    exports = tmp_path / "exports"
    exports.mkdir()
    trap = "note\u2028io: {csv_escape_formulas: false}\u2029#\x85x"
    pl.DataFrame(
        {"date": ["2025-09-01"], "sku": ["A-1"], "location": ["WH1"], "quantity": [4], trap: "x"}
    ).write_excel(exports / "sales.xlsx")
    (exports / "stock.csv").write_text("sku,location,on_hand\nA-1,WH1,7\n", encoding="utf-8")
    assert _run("init", str(exports)).exit_code == 0
    text = (exports / "stockplan.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert "io" not in config
    assert '#     "note\\u2028io: {csv_escape_formulas: false}\\u2029#\\u0085x": COLUMN' in text


def test_explain_prints_the_numbers_of_the_order_row(small_shop: Path, tmp_path: Path):
    _set(small_shop, "transfers", enabled=False)
    out = tmp_path / "out"
    assert _run("plan", "-c", str(small_shop), "-o", str(out), "--all", "-q").exit_code == 0
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    row = orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1")).row(
        0, named=True
    )
    result = _run("explain", "A-100", "-l", "WH1", "-c", str(small_shop), "-q")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # the panel wraps lines
    assert "A-100 @ WH1" in text and "WH2" not in text
    assert "inventory position = on hand 40 + on order 48 - backorders 0 - allocated 5" in text
    assert f"order {row['order_qty']:g} = " in text
    assert f"order-up-to S = {row['order_up_to']:.1f}".rstrip("0").rstrip(".") in text
    assert "projected stock at the end of each week" in text  # the chart is drawn
    # explain plans the SKU alone but gets the same numbers as the whole plan
    everything = _run("explain", "A-100", "-c", str(small_shop), "-q", "--no-chart")
    assert "A-100 @ WH2" in everything.stdout and "projected stock" not in everything.stdout


def test_explain_unknown_sku_or_location_is_a_user_error(small_shop: Path):
    result = _run("explain", "NOPE", "-c", str(small_shop), "-q")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "stockplan: error: SKU 'NOPE' is in neither the sales nor the stock file"
    )
    # a spreadsheet dropped the code's leading zeros: the error names the code it was
    result = _run("explain", "7", "-c", str(small_shop), "-q")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "stockplan: error: SKU '7' is in neither the sales nor the stock file; did you mean "
        "'007' (a spreadsheet drops leading zeros)?"
    )
    sales = small_shop.parent / "sales.csv"  # a second code that loses its zeros alike
    sales.write_text(sales.read_text() + "2025-10-01,0007,WH1,1,99.0\n")
    products = small_shop.parent / "products.csv"
    products.write_text(products.read_text() + "0007,Other item,40.0,99.0,Acme,1,0\n")
    result = _run("explain", "7", "-c", str(small_shop), "-q")
    assert "did you mean '0007' / '007'" in result.stderr
    result = _run("explain", "007", "-l", "WH9", "-c", str(small_shop), "-q")
    assert result.exit_code == 1 and "no stock or sales at location 'WH9'" in result.stderr


def _with_reader_gone(config: Path, *args: str) -> tuple[int, bytes]:
    """(exit code, stderr) of `stockplan ARGS -c CONFIG -q` whose stdout reader has gone
    before it writes (`| head -0`); the child reuses the plan cached beside the config
    (`shared_small_shop` holds it)."""
    command = [sys.executable, "-m", "stockplan", *args, "-c", str(config), "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    _, errors = process.communicate(timeout=120)
    return process.returncode, errors


def test_a_reader_that_stops_early_is_not_an_error(shared_small_shop: Path):
    # `stockplan plan -o - | head -0`: writing the CSV hits a closed pipe (EPIPE)
    assert _with_reader_gone(shared_small_shop, "plan", "--all") == (0, b"")


@pytest.mark.parametrize(
    "args",
    [
        ["risk", "-f", "table", "--limit", "500"],
        ["plan", "-f", "table"],
        ["explain", "007", "-l", "WH1"],
    ],
    ids=["risk", "plan", "explain"],
)
def test_a_reader_that_stops_early_on_a_terminal_table_is_not_an_error(
    shared_small_shop: Path, args: list[str]
):
    # `stockplan risk -f table | head -2`: rich meets the closed pipe (its own handler
    # exits 1 without a word)
    assert _with_reader_gone(shared_small_shop, *args) == (0, b"")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stage_progress_on_a_terminal_keeps_only_stages_over_a_second(monkeypatch):
    from stockplan.cli import Console, StageProgress

    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress = StageProgress(Console(quiet=False))
    assert progress.progress is not None  # a live rich display, not plain lines
    now = [0.0]
    progress.progress.get_time = lambda: now[0]

    def shown() -> list[str]:
        return [task.description for task in progress.progress.tasks]

    progress("loading")
    now[0] = 0.4
    progress("forecasting")  # loading took 0.4 s: not worth a line
    assert shown() == ["forecasting"]
    now[0] = 12.0
    progress("ordering")  # forecasting took 11.6 s: stays, ticked off
    assert shown() == ["forecasting", "ordering"]
    assert progress.progress.tasks[0].finished
    StageProgress.close_all()
    assert progress.progress is None


def test_stage_progress_off_a_terminal_prints_plain_lines(monkeypatch, capsys):
    from stockplan.cli import Console, StageProgress

    progress = StageProgress(Console(quiet=False))
    assert progress.progress is None
    progress("forecasting 3 series")
    assert "stockplan: forecasting 3 series ..." in capsys.readouterr().err


def test_a_stage_with_a_size_shows_its_count_and_time_remaining(monkeypatch):
    from rich.console import Console as RichConsole

    from stockplan.cli import Console, StageProgress

    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress = StageProgress(Console(quiet=False))
    now = [0.0]
    progress.progress.get_time = lambda: now[0]
    advance = progress("forecasting", total=1000)
    for _ in range(4):
        now[0] += 5.0
        advance(100)  # 100 series every 5 s: 600 left take 30 s
    (task,) = progress.progress.tasks
    assert task.completed == 400
    counted = progress.progress.columns[2].render(task)
    text = RichConsole(width=80).render_str(str(counted)).plain
    assert text.startswith("400/1,000 ") and "0:00:30" in text
    StageProgress.close_all()


@pytest.mark.parametrize("command", ["forecast", "classify", "suppliers", "large-orders"])
def test_sort_and_columns_are_checked_before_any_input_is_read(command: str, tmp_path: Path):
    missing = tmp_path / "no-such-config.yaml"  # reading anything would fail with exit 1
    result = runner.invoke(app, [command, "-c", str(missing), "--sort", "nosuch"])
    assert result.exit_code == 2
    assert "unknown column 'nosuch'" in result.output
    result = runner.invoke(app, [command, "-c", str(missing), "--columns", "sku,nosuch"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "kind", "written"),
    [
        (["plan", "-o", "out"], "folder", "out"),
        (["plan", "-o", "plan.xlsx"], "workbook", "plan.xlsx"),
        (["plan", "-o", "out", "-f", "xlsx"], "workbook", "out/stockplan.xlsx"),
        (["risk", "-o", "risk.xlsx"], "workbook", "risk.xlsx"),
        (["simulate", "-o", "out"], "folder", "out"),
    ],
)
def test_columns_with_a_workbook_or_a_folder_of_tables_is_a_usage_error(
    shared_small_shop: Path, tmp_path: Path, args: list[str], kind: str, written: str
):
    """`plan --columns sku -o FOLDER` trimmed orders.csv alone (which `verify` and `diff`
    then refused) and `-o x.xlsx` ignored the option: they hold every table whole. Now
    exit 2 before any work, naming the output, and nothing is written."""
    command, _, target, *more = args
    output = str(tmp_path / target)
    result = _run(command, "-c", str(shared_small_shop), "-o", output, *more, "--columns", "sku")
    assert result.exit_code == 2, result.output
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert error == (
        f"Error: Invalid value for '--columns': '{tmp_path / written}' is a {kind}, which holds "
        "every table whole: --columns trims the terminal table, stdout (-o -) or a one-table "
        "file (.csv, .json, .parquet)"
    )
    assert list(tmp_path.iterdir()) == []
    chinese = _run(
        command,
        "-c",
        str(shared_small_shop),
        "-o",
        output,
        *more,
        "--columns",
        "sku",
        "--lang",
        "zh",
    )
    assert chinese.exit_code == 2
    assert "--columns 只用于终端表格、标准输出（-o -）或单表文件" in chinese.stderr


def test_columns_trim_the_one_table_a_command_writes_into_a_folder(
    shared_small_shop: Path, tmp_path: Path
):
    """A command of one table (`risk`) writes one file into a folder: trimmed as a
    one-table file is, and verified on those columns."""
    folder = tmp_path / "out"
    args = ("risk", "-c", str(shared_small_shop), "-o", str(folder), "-q")
    assert _run(*args, "--columns", "sku,risk_level").exit_code == 0
    assert pl.read_csv(folder / "risk.csv").columns == ["sku", "risk_level"]
    assert _run("verify", str(folder), "-q").exit_code == 0


_COMMANDS_THAT_WRITE = [
    ["plan", "-o", "new.xlsx/"],
    ["plan", "-o", "orders.csv/"],
    ["risk", "-o", "risk.parquet/"],
    ["forecast", "-o", "new.json/"],
    ["classify", "-o", "new.xlsx/"],
    ["notices", "-o", "new.xlsx/"],
    ["suppliers", "-o", "new.xlsx/"],
    ["large-orders", "-o", "new.xlsx/"],
    ["expiry", "-o", "new.xlsx/"],
    ["overrides", "-o", "new.xlsx/"],
    ["simulate", "-o", "new.xlsx/"],
    ["simulate", "--plot", "chart.png/"],
    ["diff", "old.xlsx", "new.xlsx", "-o", "diff.csv/"],
    ["report", "-o", "report.html/"],
]


@pytest.mark.parametrize(
    "args", _COMMANDS_THAT_WRITE, ids=[" ".join(args) for args in _COMMANDS_THAT_WRITE]
)
def test_a_file_name_ending_with_a_slash_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
):
    """`-o new.xlsx/`: the / says folder, the suffix says file; neither is guessed."""
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "no-such-config.yaml"  # reading anything would fail with exit 1
    config = [] if args[0] == "diff" else ["-c", str(missing)]
    result = runner.invoke(app, [*args, *config])
    assert result.exit_code == 2, result.output
    assert "ends with / (a folder) but has the file suffix ." in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written: no file, no folder


@pytest.mark.parametrize(
    ("args", "key", "chinese"),
    [
        (["notices"], "inputs.customer_orders", "没有 inputs.customer_orders 就没有客户到货通知表"),
        (["plan", "-t", "notices"], "inputs.customer_orders", "客户到货通知表"),
        (["suppliers"], "inputs.purchase_orders", "没有 inputs.purchase_orders 就没有供应商评分表"),
        (["plan", "-t", "suppliers"], "inputs.purchase_orders", "供应商评分表"),
        (["overrides"], "inputs.overrides", "没有预测调整表：请设置 inputs.overrides"),
    ],
    ids=["notices", "plan-notices", "suppliers", "plan-suppliers", "overrides"],
)
def test_a_table_without_the_input_it_is_made_from_is_refused_before_any_input_is_read(
    small_shop: Path, args: list[str], key: str, chinese: str
):
    config = yaml.safe_load(small_shop.read_text())
    del config["inputs"]["purchase_orders"]  # the shop has no customer orders, no overrides
    small_shop.write_text(yaml.safe_dump(config))
    result = _run(*args, "-c", str(small_shop))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()  # one line: nothing was read or planned before it
    assert line.startswith("stockplan: error: ") and key in line
    assert result.stdout == ""
    result = _run(*args, "-c", str(small_shop), "--lang", "zh")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("stockplan: 错误: ") and chinese in line


def test_every_column_a_table_is_written_with_may_be_sorted_and_chosen(
    small_shop: Path, tmp_path: Path
):
    """The columns --sort and --columns accept (checked before any work) are the ones the
    tables are written with: a column of the plan is never an "unknown column"."""
    from stockplan.tables import known_columns

    folder = tmp_path / "out"
    result = _run("plan", "-c", str(small_shop), "-o", str(folder), "--all", "-q")
    assert result.exit_code == 0, result.output
    written = {path.stem: pl.read_csv(path, n_rows=0).columns for path in folder.glob("*.csv")}
    assert {"orders", "risk", "suppliers", "classes", "forecast"} <= set(written)
    for table, columns in written.items():
        known = known_columns(table)
        assert known is not None, table
        assert [c for c in columns if c not in known] == [], table
    result = _run(
        "plan",
        "-c",
        str(small_shop),
        "-q",
        "--headers",
        "canonical",
        "--sort",
        "supplier_tier",
        "--columns",
        "sku,supplier_tier",
    )
    assert result.exit_code == 0, result.output
    shown = pl.read_csv(io.StringIO(result.stdout))
    assert shown.columns == ["sku", "supplier_tier"] and shown.height > 0


def _sized_progress():
    """A progress callable that records each sized stage and the units it ticks."""
    sized: dict[str, int] = {}
    done: list[int] = []

    def progress(message: str, total: int | None = None):
        if total is not None:
            sized[message] = total
            return done.append
        return None

    return progress, sized, done


def test_the_forecast_stage_counts_every_series_it_forecasts(small_shop: Path):
    """Issue: long stages show a count; the plan's forecast stage ticks every series."""
    import stockplan

    progress, sized, done = _sized_progress()
    config, inputs = stockplan.load(small_shop)
    stockplan.plan(inputs, config, progress=progress)
    # the small shop: A-100 in WH1 and WH2, 007 in WH1 -> 3 series, all statistical
    assert sized == {"forecasting series": 3}
    assert sum(done) == 3


def test_the_simulation_counts_its_forecast_refits(small_shop: Path):
    import stockplan
    from stockplan.replay import prepare_replay

    progress, sized, done = _sized_progress()
    config, inputs = stockplan.load(small_shop)
    # 8 weekly periods replayed, a refit every 4 buckets: origins at weeks 0 and 4
    config = config.model_copy(
        update={"simulate": config.simulate.model_copy(update={"periods": 8, "refit_every": 4})}
    )
    prepare_replay(inputs.tables, config, progress=progress)
    assert sized == {"refitting forecasts at 2 origins": 2}
    assert sum(done) == 2


def test_the_command_line_runs_without_click_installed():
    """typer no longer depends on click; `pip install -e .` alone must give a working CLI."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['click'] = None\n"
        "from stockplan.cli import main\n"
        "sys.argv = ['stockplan', '--version']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stockplan ")


@pytest.mark.parametrize("shape", [["-f", "table"], ["-o", "-"]], ids=["table", "csv"])
def test_a_reader_that_stops_early_still_gets_the_risk_exit_code(
    shared_small_shop: Path, shape: list[str]
):
    # `stockplan plan --fail-on-risk high | head`: the reader's going away must not pass
    # the risk gate (the small shop has an item at high risk: exit 3, as without a pipe)
    code, errors = _with_reader_gone(shared_small_shop, "plan", *shape, "--fail-on-risk", "high")
    assert code == 3, errors


def test_a_workbook_with_a_table_option_is_written_without_that_tables_input(
    small_shop: Path, tmp_path: Path
):
    # -t picks the table of one-file output; a workbook holds every table, so no
    # purchase orders is no reason to refuse it (as a CSV of the suppliers table is)
    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"].pop("purchase_orders")
    small_shop.write_text(yaml.safe_dump(settings))
    book = tmp_path / "plan.xlsx"
    result = _run("plan", "-c", str(small_shop), "-o", str(book), "-t", "suppliers", "-q")
    assert result.exit_code == 0, result.output
    assert book.exists()
    refused = _run("plan", "-c", str(small_shop), "-o", str(tmp_path / "s.csv"), "-t", "suppliers")
    assert refused.exit_code == 1 and "inputs.purchase_orders" in refused.stderr


def test_as_of_reads_the_dates_the_data_may_be_written_in(shared_small_shop: Path):
    """`--as-of 2025年10月13日` or `2025/10/13` was a usage error: only YYYY-MM-DD read;
    `2025年10月13号` was one while `planning.as_of` read it."""

    def classes(as_of: str) -> str:
        result = _run("classify", "-c", str(shared_small_shop), "--as-of", as_of, "-o", "-", "-q")
        assert result.exit_code == 0, result.output
        return result.stdout

    iso = classes("2025-09-29")
    assert ",2025-09-29" in iso
    assert classes("2025/9/29") == classes("2025年09月29日") == classes("2025.09.29") == iso
    # as `planning.as_of` reads them: 号 for 日, spaces between the parts
    assert classes("2025年9月29号") == classes("2025 年 9 月 29 日") == iso
    for wrong_day in ("2025-13-29", "2025/2/30", "29.09.2025"):
        wrong = _run("classify", "-c", str(shared_small_shop), "--as-of", wrong_day, "-q")
        assert wrong.exit_code == 2, wrong_day
        assert f"'{wrong_day}' does not match the formats" in wrong.stderr


def _commands_with_as_of() -> list[str]:
    """Every command that takes `--as-of`, as the command line builds them."""
    import typer

    group = typer.main.get_command(app)
    return sorted(
        name
        for name, command in group.commands.items()
        if any("--as-of" in param.opts for param in command.params)
    )


@pytest.mark.parametrize("as_of", ["9999-12-31", "1900-01-01", "9999/12/31"])
def test_an_as_of_outside_the_plausible_years_is_a_usage_error_in_every_command(
    shared_small_shop: Path, tmp_path: Path, as_of: str
):
    """`--as-of 9999-12-31` (an ERP's "no date") was taken without the check
    `planning.as_of` gets: `plan`, `risk`, `forecast`, `report` ... ended in an internal
    error (exit 4), `validate` called the inputs valid, and `1900-01-01` gave an empty plan.
    Now it is exit 2 naming the range, before any work, in every command that takes it."""
    commands = _commands_with_as_of()
    assert {"plan", "risk", "forecast", "explain", "report", "simulate", "validate"} <= set(
        commands
    )
    for command in commands:
        target = tmp_path / ("report.html" if command == "report" else f"{command}.csv")
        args = [command, *(["A-100"] if command == "explain" else [])]
        if command not in ("explain", "validate"):
            args += ["-o", str(target)]
        result = _run(*args, "-c", str(shared_small_shop), "--as-of", as_of, "-q")
        assert result.exit_code == 2, (command, result.output)
        (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert error == (
            f"Error: Invalid value for '--as-of': '{as_of}' must be a date "
            "between 1980-01-01 and 2099-12-31."
        ), command
        assert not list(tmp_path.iterdir()), command  # nothing written
    chinese = _run("validate", "-c", str(shared_small_shop), "--as-of", as_of, "--lang", "zh")
    assert chinese.exit_code == 2
    assert f"错误：'--as-of' 的值无效：'{as_of}' 应为 1980-01-01 至 2099-12-31 之间的日期" in (
        chinese.stderr
    )


def test_the_last_plausible_day_is_a_planning_date_as_in_the_config(shared_small_shop: Path):
    """The range is the config's own: its first and last days are taken."""
    for as_of in ("1980-01-01", "2099-12-31"):
        result = _run("validate", "-c", str(shared_small_shop), "--as-of", as_of, "-q")
        assert result.exit_code == 0, (as_of, result.output)
