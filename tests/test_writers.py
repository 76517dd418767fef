"""Outputs a buyer opens: no formula from data, no NaN/inf, shared modes, atomic, clear errors."""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import resource
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.errors import StockplanError
from stockplan.io import writers

runner = CliRunner()
HOSTILE = {
    "A-100": ("=cmd|' /C calc'!A0", '=HYPERLINK("http://x","click")'),
    "007": ("@SUM(1+1)", "+Acme\tCo"),
}


def _products_with_formulas(config: Path) -> None:
    folder = config.parent
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products = products.with_columns(
        pl.col("sku").replace_strict({k: v[0] for k, v in HOSTILE.items()}).alias("name"),
        pl.col("sku").replace_strict({k: v[1] for k, v in HOSTILE.items()}).alias("supplier"),
    )
    products.write_csv(folder / "products.csv")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["planning"]["unknown_sku"] = "warn"
    del data["inputs"]["suppliers"]  # the suppliers file only knows "Acme"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_text_from_data_is_never_a_formula_or_link_in_xlsx(small_shop: Path, tmp_path: Path):
    import openpyxl

    _products_with_formulas(small_shop)
    target = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target), "--all"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.coordinate for c in cells if c.hyperlink is not None] == []
    orders = book["orders"]
    header = [c.value for c in orders[1]]
    suppliers = {
        row[header.index("sku")]: row[header.index("supplier")]
        for row in orders.iter_rows(min_row=2, values_only=True)
        if row[header.index("sku")] != "total"  # the sheet's totals row
    }
    assert suppliers == {"A-100": HOSTILE["A-100"][1], "007": HOSTILE["007"][1]}  # text as is


def test_csv_neutralises_formula_text_but_keeps_negative_numbers():
    frame = pl.DataFrame(
        {
            "sku": ["=1+1", "+49", "-A", "@x", "\tx", "\rx", "A=1", "-"],
            "delta": [-3.5, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, -5.25],
        }
    )
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"escape-{os.getpid()}.csv"
    try:
        writers.write_csv(frame, path)
        back = pl.read_csv(path)
    finally:
        path.unlink(missing_ok=True)
    assert back["sku"].to_list() == ["'=1+1", "'+49", "'-A", "'@x", "'\tx", "'\rx", "A=1", "'-"]
    assert back["delta"].dtype == pl.Float64
    assert back["delta"].to_list() == [-3.5, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, -5.25]


def test_csv_formula_escaping_can_be_turned_off_for_machines(small_shop: Path):
    _products_with_formulas(small_shop)
    data = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    data["io"] = {"csv_escape_formulas": False}
    small_shop.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", "-", "--all", "-q"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(result.stdout.encode(), schema_overrides={"sku": pl.String})
    assert set(orders["supplier"]) == {HOSTILE["A-100"][1], HOSTILE["007"][1]}


def _no_demand_shop(folder: Path) -> Path:
    """One selling item, one whose sales lines are all 0, one with stock and no sales."""
    start = dt.date(2025, 1, 6)
    lines = ["date,sku,location,qty"]
    for day in range(280):
        date = start + dt.timedelta(days=day)
        lines.append(f"{date},A-1,WH1,{5 + day % 3}")
        if day % 7 == 0:
            lines.append(f"{date},ZERO,WH1,0")
    (folder / "sales.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "stock.csv").write_text(
        "sku,location,on_hand\nA-1,WH1,10\nZERO,WH1,5\nSTOCK-ONLY,WH1,7\n", encoding="utf-8"
    )
    config = folder / "config.yaml"
    config.write_text(
        "inputs: {sales: sales.csv, stock: stock.csv}\nforecast: {backtest_windows: 2}\n",
        encoding="utf-8",
    )
    return config


def _finite_or_missing(value: object) -> bool:
    return not (isinstance(value, float) and not math.isfinite(value))


def test_items_without_demand_write_no_nan_or_inf_in_any_format(tmp_path: Path):
    """Class `none` (no positive net demand: all-zero lines, returns only, or stock without
    sales): adi / cv are undefined and days of cover infinite, written as empty cells."""
    import openpyxl

    settings, inputs = stockplan.load(_no_demand_shop(tmp_path))
    plan = stockplan.plan(inputs, settings)  # planned once, written in every format
    zero = plan.classes.filter(pl.col("sku") == "ZERO")
    assert zero["demand_pattern"].to_list() == ["none"]
    xlsx = tmp_path / "plan.xlsx"
    plan.write(xlsx, all_rows=True)
    for fmt in ("csv", "json", "parquet"):
        plan.write(tmp_path / fmt, fmt, all_rows=True)

    classes = pl.read_csv(tmp_path / "csv" / "classes.csv", infer_schema=False)
    # every item the plan has a row for has its class row: the one never sold too, classed
    # as its order row is (none, C, Z), with no bucket of history
    orders = pl.read_csv(tmp_path / "csv" / "orders.csv", infer_schema=False)
    assert sorted(classes["sku"]) == sorted(orders["sku"]) == ["A-1", "STOCK-ONLY", "ZERO"]
    unsold = classes.filter(pl.col("sku").is_in(["ZERO", "STOCK-ONLY"])).sort("sku")
    assert unsold.select("demand_pattern", "abc", "xyz").rows() == [("none", "C", "Z")] * 2
    assert unsold["n_periods"].to_list() == ["0", "40"]  # STOCK-ONLY: no bucket at all
    for column in ("adi", "cv2", "cv"):  # undefined: empty cells, not 0
        assert unsold[column].to_list() == [None, None], column
    assert plan.classes.filter(pl.col("sku") == "STOCK-ONLY")["cv2"].to_list() == [None]
    # `classify` gives the plan's classes table
    assert_frame_equal(stockplan.classify(inputs, settings), plan.classes)
    for path in (tmp_path / "csv").glob("*.csv"):
        text = path.read_text(encoding="utf-8").lower()
        assert "nan" not in text and "inf" not in text.replace("info", ""), path.name
    for path in (tmp_path / "json").glob("*.json"):
        if path.name == "run.json":  # the run record, not a table
            continue
        rows = json.loads(path.read_text(encoding="utf-8"))  # NaN / Infinity would parse
        assert all(_finite_or_missing(v) for row in rows for v in row.values()), path.name
    for path in (tmp_path / "parquet").glob("*.parquet"):
        frame = pl.read_parquet(path)
        for name, dtype in frame.schema.items():
            if dtype.is_float():
                assert frame[name].drop_nulls().is_finite().all(), (path.name, name)
    book = openpyxl.load_workbook(xlsx)
    values = [c.value for s in book.worksheets for row in s.iter_rows() for c in row]
    assert all(_finite_or_missing(v) for v in values)
    assert not any(isinstance(v, str) and v.startswith("#") for v in values)  # no #NUM!


def test_finite_turns_nan_and_inf_into_missing_values():
    frame = pl.DataFrame({"x": [1.5, float("nan"), float("inf"), -float("inf"), None]})
    assert writers.finite(frame)["x"].to_list() == [1.5, None, None, None, None]


def _one_table() -> dict[Path, tuple[dict[str, pl.DataFrame], str]]:
    return {"orders": pl.DataFrame({"sku": ["A"], "order_qty": [3]})}


def test_new_file_follows_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path: Path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "orders.csv"
        writers.write_files({target: (_one_table(), "csv")})
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # 0666 less umask 022
        os.umask(0o002)
        shared = tmp_path / "plan.xlsx"
        writers.write_files({shared: (_one_table(), "xlsx")})
        assert stat.S_IMODE(shared.stat().st_mode) == 0o664
        target.chmod(0o640)
        writers.write_files({target: (_one_table(), "csv")})
        assert stat.S_IMODE(target.stat().st_mode) == 0o640  # replaced: mode kept
    finally:
        os.umask(old)


def test_temp_file_of_a_killed_run_is_removed_by_the_next_run(tmp_path: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".orders.csv.{dead.pid}.k1ll3d.tmp"
    stale.write_bytes(b"half a file")
    alive = tmp_path / f".orders.csv.{os.getppid()}.running.tmp"  # another run still writing
    alive.write_bytes(b"in progress")
    writers.write_files({tmp_path / "orders.csv": (_one_table(), "csv")})
    assert not stale.exists()
    assert alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "orders.csv"]


@pytest.mark.parametrize("name", ["plan.xlsx", "orders.json"])
def test_full_disk_is_one_line_and_exit_1_with_nothing_written(
    shared_small_shop: Path, tmp_path: Path, name: str
):
    """A file-size limit makes every write past 2 kB fail as a full disk would (polars'
    JSON writer alone used to cut the file silently and exit 0). The child reuses the plan
    cached beside the shared shop, so only writing happens under the limit."""
    out, config = tmp_path / "out", str(shared_small_shop)
    out.mkdir()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000))
        target = {str(out / name)!r}
        sys.argv = ["stockplan", "plan", "-c", {config!r}, "-o", target, "--all", "-q"]
        from stockplan.cli import main
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stockplan: error: cannot write"), done.stderr
    assert list(out.iterdir()) == []
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY  # child only


def test_xlsxwriter_file_create_error_is_a_user_error(
    shared_small_shop: Path, tmp_path: Path, monkeypatch
):
    from xlsxwriter import Workbook
    from xlsxwriter.exceptions import FileCreateError

    def full_disk(workbook):
        workbook.fileclosed = True  # as xlsxwriter marks a workbook it gave up on
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(Workbook, "close", full_disk)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "plan.xlsx"
    result = runner.invoke(app, ["plan", "-c", str(shared_small_shop), "-o", str(target), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: cannot write {target}: the disk is full; nothing was written"
    ]
    assert list(out.iterdir()) == []


def test_output_path_that_is_an_existing_folder(shared_small_shop: Path, tmp_path: Path):
    folder_named_like_file = tmp_path / "plan.xlsx"
    folder_named_like_file.mkdir()
    result = runner.invoke(
        app, ["plan", "-c", str(shared_small_shop), "-o", str(folder_named_like_file)]
    )
    assert result.exit_code == 1
    assert "is an existing folder, not a .xlsx file" in result.stderr
    assert list(folder_named_like_file.iterdir()) == []

    dotted = tmp_path / "reports.2025"  # an existing folder with a dot is a folder
    dotted.mkdir()
    result = runner.invoke(app, ["plan", "-c", str(shared_small_shop), "-o", str(dotted), "-q"])
    assert result.exit_code == 0, result.output
    assert (dotted / "orders.csv").exists()


@pytest.mark.parametrize("table", ["sales", "stock"])
def test_input_that_is_a_fifo_is_refused_not_waited_for(small_shop: Path, table: str):
    fifo = small_shop.parent / f"{table}.fifo"
    os.mkfifo(fifo)
    data = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    data["inputs"][table] = fifo.name
    small_shop.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "stockplan", "validate", "-c", str(small_shop)],
        capture_output=True,
        text=True,
        timeout=60,  # a read of the FIFO would block for ever
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"stockplan: error: {fifo}: is not a regular file (a pipe, socket or device); "
        "export to a file"
    ]


def test_an_existing_folder_named_like_a_file_is_refused_before_any_planning(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    from stockplan import pipeline

    def no_planning(*args, **kwargs):
        raise AssertionError("the plan was computed")

    monkeypatch.setattr(pipeline, "demand_stage", no_planning)  # every plan's first stage
    for command, name in (("plan", "plan.xlsx"), ("risk", "risk.csv")):
        folder = tmp_path / name
        folder.mkdir()
        result = runner.invoke(app, [command, "-c", str(small_shop), "-o", str(folder), "-q"])
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().splitlines() == [
            f"stockplan: error: {folder}: is an existing folder, not a {folder.suffix} file; "
            "remove it or choose another name"
        ]
        assert list(folder.iterdir()) == []
    assert not (small_shop.parent / ".stockplan-cache").exists()  # nothing planned or kept


def test_text_longer_than_an_excel_cell_is_refused_not_cut(tmp_path: Path):
    frame = pl.DataFrame({"sku": ["A", "B" * 40_000]})
    target = tmp_path / "plan.xlsx"
    with pytest.raises(StockplanError, match=r"table orders, row 3, column 'sku'.*40,000"):
        writers.write_files({target: ({"orders": frame}, "xlsx")})
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_messages_escape_control_characters():
    error = StockplanError("stock.csv, row 3: '\x1b]0;owned\x07\x1b[31mred\x9b' bad")
    assert str(error) == "stock.csv, row 3: '\\x1b]0;owned\\x07\\x1b[31mred\\x9b' bad"


def test_messages_and_terminal_tables_show_invisible_characters_escaped(small_shop: Path):
    # a code copied with a zero-width space: "'A-100' is not in the products table" read
    # as nonsense where A-100 is a product; the hidden character is now shown
    error = StockplanError("stock.csv, row 2: 'A-100\u200b' and '\ufeffB\u00ad\u2060C\u200e'")
    assert str(error) == "stock.csv, row 2: 'A-100\\u200b' and '\\ufeffB\\xad\\u2060C\\u200e'"
    frame = pl.DataFrame({"sku": ["A-100\u200b", "B"]})
    assert writers.escape_controls(frame)["sku"].to_list() == ["A-100\\u200b", "B"]
    stock = small_shop.parent / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH1", "A-100\u200b,WH1"), encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", "-", "-q"])
    assert result.exit_code == 1
    assert "'A-100\\u200b' is not in the products table" in result.output


def test_terminal_table_shows_control_characters_escaped():
    frame = pl.DataFrame({"sku": ["A", "\x1b]0;owned\x07B"], "qty": [1, 2]})
    assert writers.escape_controls(frame)["sku"].to_list() == ["A", "\\x1b]0;owned\\x07B"]
    clean = pl.DataFrame({"sku": ["A"]})
    assert writers.escape_controls(clean).equals(clean)


def test_terminal_plan_and_warnings_never_carry_raw_escape_sequences(small_shop: Path):
    folder = small_shop.parent
    (folder / "stock.csv").write_text(
        "sku,location,on_hand\nA-100,WH1,40\n\x1b]0;owned\x07X\x1b[2J,WH1,1\n", encoding="utf-8"
    )
    data = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    data["planning"]["unknown_sku"] = "warn"
    small_shop.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-f", "table", "--all"])
    assert result.exit_code == 0, result.output
    assert "\\x1b]0;owned\\x07X" in result.stderr  # the unknown-SKU warning, escaped
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout


def test_names_that_look_like_markup_are_shown_as_written_in_tables_and_panels(
    small_shop: Path,
):
    # a name is data: '[/]' closed nothing and crashed the table (exit 4); '[link=...]'
    # became a clickable link; a bidi override reversed the rest of the line
    products = small_shop.parent / "products.csv"
    text = products.read_text(encoding="utf-8")
    products.write_text(
        text.replace("Steady item", "bad close [/] tag [link=file:///etc/passwd]x[/link]").replace(
            "Slow item", "[bold red]RED[/] \u202eRTL"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["plan", "-c", str(small_shop), "-f", "table", "--all", "--columns", "sku,name"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "bad close [/] tag" in result.stdout
    assert "[bold red]RED[/] \\u202e" in result.stdout
    assert "\u202e" not in result.stdout
    shown = runner.invoke(app, ["explain", "A-100", "-c", str(small_shop), "--no-chart"])
    assert shown.exit_code == 0, shown.output
    assert "bad close [/] tag [link=file:///etc/passwd]x" in shown.stdout


def test_a_text_shaped_like_rich_string_xml_is_written_as_text(tmp_path: Path):
    # xlsxwriter writes '<r>...</r>' unescaped as rich-string XML: '<r></t></r>' made the
    # workbook unreadable, '<r>evil</r>' read back as ''
    frame = pl.DataFrame({"sku": ["<r></t></r>", "<r>evil</r>", "A"], "n": [1, 2, 3]})
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"excess": frame}, "xlsx")})
    back = pl.read_excel(target, sheet_name=writers.sheet_name("excess", "en"))
    assert back["sku"].to_list() == ["<r></t></r>", "<r>evil</r>", "A"]


def test_a_supplier_shaped_like_rich_string_xml_keeps_the_summary_sheet_readable(
    small_shop: Path, tmp_path: Path
):
    for name in ("products.csv", "suppliers.csv"):
        path = small_shop.parent / name
        path.write_text(path.read_text().replace("Acme", "<r></t></r>"))
    target = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 0, result.output
    summary = pl.read_excel(target, sheet_name="summary", has_header=False)
    assert "<r></t></r>" in summary.to_series(0).to_list()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_and_total_order_quantities_are_whole_numbers_as_on_the_orders_sheet(
    shared_small_shop: Path, tmp_path: Path, lang: str
):
    import openpyxl

    from stockplan.i18n import header

    target = tmp_path / "plan.xlsx"
    argv = ["plan", "-c", str(shared_small_shop), "--lang", lang, "-o", str(target)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    summary = book[writers.sheet_name("summary", lang)]
    quantities, column = [], None
    for row in summary.iter_rows():
        texts = [cell.value for cell in row]
        if header("order_qty", lang) in texts:  # a block's header row
            column = texts.index(header("order_qty", lang))
        elif column is not None and isinstance(texts[column], int | float):
            quantities.append(row[column])
        else:
            column = None
    assert len(quantities) >= 2  # a supplier and a location at least
    assert {cell.number_format for cell in quantities} == {"#,##0;[Red]-#,##0"}
    orders = book[writers.sheet_name("orders", lang)]
    names = [cell.value for cell in orders[1]]
    column = names.index(header("order_qty", lang))
    total = orders[orders.max_row]
    assert total[0].value == header("total", lang)
    assert total[column].number_format == orders[2][column].number_format == "#,##0;[Red]-#,##0"
    assert total[column].value == sum(cell.value for cell in quantities) / 2


def _small_orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["=1+1", "-3", "", None],
            "supplier": ["Acme", "@SUM(1)", "Bolt", "Acme"],
            "order_qty": [12, 0, 5, 7],
            "order_value": [30.5, None, 2.25, 1e6],
            "order_date": [dt.date(2026, 1, 5), None, dt.date(1999, 12, 31), dt.date(2026, 3, 2)],
            "inactive": [True, False, None, True],
        }
    )


def _sheet_features(path: Path) -> dict:
    """What a buyer gets per sheet: cells (value, type, number format, bold), the Excel
    tables (name, ref, filter, column names, style), frozen panes, column widths."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {
        sheet.title: {
            "cells": [
                [(c.value, c.data_type, c.number_format, c.font.b) for c in row]
                for row in sheet.iter_rows()
            ],
            "tables": [
                (
                    t.name,
                    t.ref,
                    t.autoFilter.ref,
                    [c.name for c in t.tableColumns],
                    t.tableStyleInfo.name,
                    t.totalsRowCount,
                )
                for t in sheet.tables.values()
            ],
            "freeze": sheet.freeze_panes,
            "widths": {k: (d.width, d.hidden) for k, d in sheet.column_dimensions.items()},
        }
        for sheet in book.worksheets
    }


def test_a_small_sheet_is_an_excel_table_over_its_rows_and_its_cells_keep_their_types(
    tmp_path: Path,
):
    import zipfile

    import openpyxl

    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"orders": _small_orders()}, "xlsx")})
    with zipfile.ZipFile(target) as book:  # the rows come from the one-pass XML writer
        assert 't="inlineStr"' in book.read("xl/worksheets/sheet1.xml").decode()
    sheet = openpyxl.load_workbook(target)["orders"]
    header = [c.value for c in sheet[1]]
    assert header == ["sku", "supplier", "order_qty", "order_value", "order_date", "inactive"]
    (table,) = sheet.tables.values()
    # the table covers the header and the 4 rows; the totals row below it stays outside
    assert table.ref == table.autoFilter.ref == "A1:F5" and not table.totalsRowCount
    assert [c.name for c in table.tableColumns] == header  # else Excel 'repairs' the file
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0] == ("=1+1", "Acme", 12, 30.5, dt.datetime(2026, 1, 5), True)
    assert rows[1] == ("-3", "@SUM(1)", 0, None, None, False)
    assert rows[2][0] is None and rows[2][4] == dt.datetime(1999, 12, 31)  # '' is an empty cell
    assert rows[4] == ("total", None, 24, 1000032.75, None, None)
    assert sheet["A2"].data_type == "s" and sheet["B2"].data_type == "s"  # text, no formula
    assert sheet["D2"].number_format == "#,##0.00" and sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].number_format == "#,##0;[Red]-#,##0"
    assert sheet.freeze_panes == "A2"


def test_the_one_pass_rows_and_the_per_cell_writer_give_the_same_workbook(
    tmp_path: Path, monkeypatch
):
    tables = {"orders": _small_orders(), "excess": _small_orders().head(0)}
    monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", 10**9)  # polars' write_excel, per cell
    writers.write_files({tmp_path / "cells.xlsx": (tables, "xlsx")})
    monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", 0)
    writers.write_files({tmp_path / "rows.xlsx": (tables, "xlsx")})
    rows = _sheet_features(tmp_path / "rows.xlsx")
    assert rows == _sheet_features(tmp_path / "cells.xlsx")
    assert [t[:2] for t in rows["orders"]["tables"] + rows["excess"]["tables"]] == [
        ("Frame0", "A1:F5"),
        ("Frame1", "A1:F2"),  # an empty table keeps one empty row
    ]
    # two names alike in their first 31 characters: the same refusal from both writers
    frame = pl.DataFrame({"sku": ["A", "B", "C"], "order_qty": [24, 1, 2]})
    same = {"x" * 40: frame, "x" * 35: frame}
    errors = []
    for cells in (10**9, 0):
        monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", cells)
        with pytest.raises(StockplanError) as caught:
            writers.write_files({tmp_path / "same.xlsx": (same, "xlsx")})
        errors.append(str(caught.value).replace(str(tmp_path), "DIR"))
    assert errors[0] == errors[1]
    assert (
        f"table {'x' * 40!r} and table {'x' * 35!r} would both be the sheet {'x' * 31!r}"
        in (errors[0])
    )
    assert not (tmp_path / "same.xlsx").exists()
    # a sheet name is compared in any case, and the summary sheet's name is taken too
    for clash in ({"Orders": frame, "orders": frame}, {"summary": frame}):
        with pytest.raises(StockplanError, match="would both be the sheet"):
            writers.write_files({tmp_path / "clash.xlsx": (clash, "xlsx")}, info={})
        assert not (tmp_path / "clash.xlsx").exists()
