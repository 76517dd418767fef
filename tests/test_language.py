"""The sheet in the buyer's language: catalogue, item names, XLSX layout, 80-column tables,
options checked before any work."""

from __future__ import annotations

import datetime as dt
import io
import re
import string
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from conftest import planned_shop
from rich.console import Console
from typer.testing import CliRunner

from stockplan import i18n
from stockplan.cli import app
from stockplan.config import Notices
from stockplan.diff import DIFF_COLUMNS
from stockplan.excess import EXCESS_COLUMNS
from stockplan.items import item_names, sort_by_urgency
from stockplan.large_orders import LARGE_ORDER_COLUMNS
from stockplan.notices import NOTICE_COLUMNS, restock_notices
from stockplan.purchasing import PO_SUMMARY_COLUMNS
from stockplan.reorder import ORDER_COLUMNS, ORDER_DETAIL_COLUMNS
from stockplan.report import terminal_table
from stockplan.risk import RISK_COLUMNS
from stockplan.tables import (
    CLASS_COLUMNS,
    FORECAST_COLUMNS,
    SIMULATION_TABLE_COLUMNS,
    SUPPLIER_COLUMNS,
)
from stockplan.transfers import TRANSFER_COLUMNS

runner = CliRunner()


def _run(*args: str, **env: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env=env or None)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- the catalogue -------------------------------------------------------------------


@pytest.mark.parametrize(
    "catalogue",
    [i18n.MESSAGES, i18n.HEADERS, i18n.TABLES, i18n.REASONS],
    ids=["messages", "headers", "tables", "reasons"],
)
def test_every_catalogue_key_has_both_languages_with_the_same_fields(catalogue):
    for key, entry in catalogue.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        assert all(entry[lang].strip() for lang in i18n.LANGUAGES), key
        # a reason's Chinese may add {u}, the unit of an amount of money (` 元`)
        unit = {"u"} if catalogue is i18n.REASONS else set()
        assert _fields(entry["en"]) == _fields(entry["zh"]) - unit, key


def test_every_word_value_has_both_languages():
    for column, values in i18n.VALUES.items():
        for canonical, entry in values.items():
            assert set(entry) == set(i18n.LANGUAGES), (column, canonical)
            assert entry["en"] == canonical  # English is the canonical value


def test_every_output_column_has_a_chinese_header_and_no_two_share_one():
    columns = {
        *ORDER_COLUMNS,
        *ORDER_DETAIL_COLUMNS,
        *RISK_COLUMNS,
        *TRANSFER_COLUMNS,
        *EXCESS_COLUMNS,
        *PO_SUMMARY_COLUMNS,
        *NOTICE_COLUMNS,
        *DIFF_COLUMNS,
        *LARGE_ORDER_COLUMNS,
        *SIMULATION_TABLE_COLUMNS,
        *FORECAST_COLUMNS,
        *CLASS_COLUMNS,
        *SUPPLIER_COLUMNS,
        "name",
        "as_of",
        "key",  # the run sheet
        "value",
    }
    missing = [c for c in columns if i18n.header(c, "zh") == c]
    assert missing == []
    zh = [i18n.header(c, "zh") for c in columns]
    assert len(zh) == len(set(zh))
    assert all(i18n.canonical_column(i18n.header(c, "zh")) == c for c in columns)


def test_a_reason_is_rendered_clause_by_clause_with_its_numbers():
    reason = (
        "position 12 below reorder point 199.6: need 187.6 to reach 250; raised to MOQ 240; "
        "rounded up to packs of 12"
    )
    assert i18n.render_reason(reason, "zh") == (
        "库存位置 12 低于再订货点 199.6：需 187.6 补至最高库存 250；按最小起订量提高到 240；"
        "按包装数 12 向上取整"
    )
    assert i18n.render_reason(reason, "en") == reason  # canonical stays as it is
    backup = (
        "no order: position 50 not below reorder point 40 with the backup supplier B instead "
        "of A: stock runs out about 2025-01-09, A would deliver 2025-01-20"
    )
    assert i18n.unknown_clauses(backup) == []
    assert i18n.render_reason(backup, "zh") == (
        "不订货：库存位置 50 不低于再订货点 40（改用备用供应商 B（代替 A）：约 2025-01-09 缺货，"
        "A 要到 2025-01-20 才能到货）"
    )
    assert i18n.unknown_clauses("something new; raised to MOQ 5") == ["something new"]
    # a name holding the separator stays inside its clause
    named = "WH; GZ is below its reorder point (1 < 2); WH; SH holds 3 above its order-up-to"
    assert i18n.clauses(named) == [
        "WH; GZ is below its reorder point (1 < 2)",
        "WH; SH holds 3 above its order-up-to",
    ]
    assert i18n.render_reason(named, "zh") == "WH; GZ 低于再订货点（1 < 2）；WH; SH 超出最高库存 3"


def test_names_holding_the_clause_separator_stay_whole_in_chinese_reasons(
    small_shop: Path, tmp_path: Path
):
    # a warehouse, a supplier and a backup supplier whose names hold "; " (and "；"): WH; 1
    # is short (40 on hand, 10 a day) and WH2 has 500, so a transfer names both
    # warehouses; Acme; Ltd delivers in 14 days, after WH; 1 runs out, so the order goes
    # to Fast；Co and says which replaces which
    folder = small_shop.parent
    for name in ("sales.csv", "stock.csv", "purchase_orders.csv", "products.csv"):
        text = (folder / name).read_text().replace("WH1", "WH; 1")
        (folder / name).write_text(text.replace("Acme", "Acme; Ltd"))
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(backup_supplier=pl.lit("Fast；Co")).write_csv(folder / "products.csv")
    pl.DataFrame({"supplier": ["Acme; Ltd", "Fast；Co"], "lead_time_days": [14, 2]}).write_csv(
        folder / "suppliers.csv"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["planning"]["language"] = "zh"
    small_shop.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "plan"
    result = _run("plan", "-c", str(small_shop), "-o", f"{out}/", "--all", "-q")
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"商品编码": pl.String})
    transfers = pl.read_csv(out / "transfers.csv", schema_overrides={"商品编码": pl.String})
    backup = orders.filter(pl.col("供应商") == "Fast；Co")["原因"].to_list()
    moved = transfers["原因"].to_list()
    assert backup and moved
    for reason in backup:
        assert "改用备用供应商 Fast；Co（代替 Acme; Ltd）" in reason
        assert "Acme; Ltd 要到 " in reason
    for reason in moved:
        assert reason.startswith("WH; 1 低于再订货点（")
        assert "；WH2 超出最高库存 " in reason
    # no English clause left: only the names and numbers are Latin
    for reason in backup + moved:
        words = re.sub(r"WH; 1|WH2|Acme; Ltd|Fast；Co", "", reason)
        assert not re.search(r"[A-Za-z]", words), reason


def test_error_messages_keep_names_and_translate_the_words():
    text = "sales.csv, row 12, column 'qty': 'abc' is not a number"
    assert i18n.render_error(text, "zh") == "sales.csv, 第 12 行, 列 'qty': 'abc' 不是数字"
    own = "data/row 5/sales.csv, row 3, column 'unit price': 'O'Brien row 2' is not a number"
    assert i18n.render_error(own, "zh") == (
        "data/row 5/sales.csv, 第 3 行, 列 'unit price': 'O'Brien row 2' 不是数字"
    )
    written = "cannot write /srv/row 5/plan.xlsx: the disk is full; nothing was written"
    assert i18n.render_error(written, "zh").startswith("无法写入：/srv/row 5/plan.xlsx: ")
    config = "stockplan.yaml: key 'policy.service_level': Input should be less than 1"
    assert i18n.render_error(config, "zh").startswith(
        "stockplan.yaml：配置项 'policy.service_level'："
    )
    assert i18n.render_error(text, "en") == text
    named = "duplicate_sales.csv: file is empty"  # a file name is never translated
    assert i18n.render_error(named, "zh") == "duplicate_sales.csv：文件为空"


def test_chinese_errors_keep_file_names_with_a_drive_letter_or_a_server_share():
    render = i18n.render_error
    assert render(r"C:\exports\row 5.csv: file not found", "zh") == (
        r"C:\exports\row 5.csv：找不到文件"
    )
    own = "C:/ex/row 5.csv, row 3, column 'qty': 'abc' is not a number"
    assert render(own, "zh") == "C:/ex/row 5.csv, 第 3 行, 列 'qty': 'abc' 不是数字"
    assert render(r"d:\ex\row 5.csv, row 3, column 'qty': 'abc' is not a number", "zh") == (
        r"d:\ex\row 5.csv, 第 3 行, 列 'qty': 'abc' 不是数字"
    )
    assert render(r"\\server\share\row 5.csv: file not found", "zh") == (
        r"\\server\share\row 5.csv：找不到文件"
    )
    assert render("//server/share/row 5.csv: file not found", "zh") == (
        "//server/share/row 5.csv：找不到文件"
    )


def test_the_tables_read_are_named_in_chinese_with_their_config_key(zh_shop: Path):
    result = _run("validate", "-c", str(zh_shop))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "stockplan: 已读取：销售（sales）630 行，库存（stock）3 行，商品档案（products）2 行，"
        "供应商档案（suppliers）1 行，采购单（purchase_orders）2 行"
    )
    english = _run("validate", "-c", str(zh_shop), "--lang", "en")
    assert english.stderr.splitlines()[0] == (
        "stockplan: loaded sales 630, stock 3, products 2, suppliers 1, purchase_orders 2 rows"
    )


def test_stage_progress_lines_in_chinese():
    assert i18n.render_stage("forecasting 659 series", "zh") == "预测 659 个商品×仓库"
    assert i18n.render_stage("forecasting 659 series", "en") == "forecasting 659 series"
    assert i18n.render_stage("a new stage", "zh") == "a new stage"


def test_every_progress_line_the_package_prints_has_a_chinese_rendering():
    """Each `say("...")` stage line in the package's source (f-string fields filled with
    a number; a `say(counted_text("..."))` line with 2 and with 1, its nouns then in the
    singular) renders in Chinese; a new stage line without a phrase fails here."""
    package = Path(i18n.__file__).parent
    literal = re.compile(r'(?<![.\w])say\(\s*(counted_text\(\s*)?f?"([^"]*)"')
    found = [
        (bool(counted), text)
        for path in package.rglob("*.py")
        for counted, text in literal.findall(path.read_text(encoding="utf-8"))
    ]
    lines = {re.sub(r"\{[^}]*\}", "2", text) for _, text in found} | {
        i18n.counted_text(text, **dict.fromkeys(re.findall(r"\{(\w+)\}", text), 1))
        for counted, text in found
        if counted
    }
    assert "switching 1 order to a faster backup supplier" in lines
    assert "bootstrapping lead-time demand" in lines  # the scan finds the pipeline's lines
    assert len(lines) >= 12
    untranslated = sorted(line for line in lines if i18n.render_stage(line, "zh") == line)
    assert untranslated == []
    assert i18n.render_stage("planning 30 series in 4 partitions on dask", "zh") == (
        "在 dask 上分 4 个分区计划 30 个商品×仓库"
    )


# --- item names and urgency ------------------------------------------------------------


def test_item_names_come_from_products_then_stock_then_sales():
    products = pl.DataFrame({"sku": ["A", "B"], "name": ["Apple", " "]})
    stock = pl.DataFrame({"sku": ["B", "C"], "name": ["Banana", "Cherry"]})
    sales = pl.DataFrame({"sku": ["C", "D", "D"], "name": ["cherry (sales)", "Date", "Dates"]})
    names = item_names({"products": products, "stock": stock, "sales": sales})
    assert dict(names.iter_rows()) == {
        "A": "Apple",
        "B": "Banana",  # a blank product name does not hide the stock export's
        "C": "Cherry",
        "D": "Date",  # the first name of a code in a file
    }


def test_orders_are_sorted_by_risk_then_order_by_date():
    frame = pl.DataFrame(
        {
            "sku": ["a", "b", "c", "d"],
            "location": ["W"] * 4,
            "risk_level": ["low", "high", None, "high"],
            "order_date": [dt.date(2025, 1, 1), dt.date(2025, 1, 9), dt.date(2025, 1, 1)]
            + [dt.date(2025, 1, 2)],
            "expected_arrival": [dt.date(2025, 2, 1)] * 4,
            "order_value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert sort_by_urgency(frame, "orders")["sku"].to_list() == ["d", "b", "a", "c"]
    # with the order-by date each line carries (the last day to order it in time): within
    # a risk level the overdue line first, then the one due soonest, whatever the day the
    # line is placed; a line with no order-by date (nothing runs out) last
    frame = frame.with_columns(
        pl.Series("order_by", [None, dt.date(2024, 12, 20), None, dt.date(2024, 12, 28)]),
        pl.lit(dt.date(2025, 1, 1)).alias("order_date"),
    )
    assert sort_by_urgency(frame, "orders")["sku"].to_list() == ["b", "d", "a", "c"]


# --- terminal tables -------------------------------------------------------------------


def _render(frame: pl.DataFrame, name: str, width: int, lang: str, limit: int = 8):
    shown = terminal_table(frame, name, "t", width=width, limit=limit, lang=lang)
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(shown.table)
    return shown, console.export_text().splitlines()


def _orders_frame() -> pl.DataFrame:
    n = 6
    return pl.DataFrame(
        {
            "sku": [f"0100{i:02d}-LONGCODE" for i in range(n)],
            "name": ["保温杯 500ml 不锈钢 双层真空 大容量"] * n,
            "location": ["WH-SHANGHAI"] * n,
            "supplier": ["Pearl River Trading"] * n,
            "order_qty": [21292.0, 1.0, 240.0, 12.0, 1000000.0, 7.0],
            "order_value": [1234567.891, None, 88.5, 0.0, 12.0, 3.25],
            "order_date": [dt.date(2026, 12, 26)] * n,
            "expected_arrival": [dt.date(2027, 1, 9)] * n,
            "risk_level": ["high", "high", "medium", "low", "low", None],
            "inventory_position": [-12.5, 3.0, 4.0, 5.0, 6.0, 7.0],
            "reorder_point": [199.6, 1.0, 2.0, 3.0, 4.0, 5.0],
            "safety_stock": [40.2, 1.0, 2.0, 3.0, 4.0, 5.0],
            "order_up_to": [250.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "reason": [
                "position -12.5 below reorder point 199.6: need 262.5 to reach 250; "
                "rounded up to packs of 12"
            ]
            * n,
        }
    )


def _risk_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["010007", "010014", "010099"],
            "name": ["Mug", None, "Tea"],
            "location": ["WH-BJ", "WH-GZ", "WH-SH"],
            "on_hand": [0.0, 12.0, 503.0],
            "on_order": [96.0, 0.0, 0.0],
            "days_of_cover": [-3.0, 1.5, 120.0],
            "stockout_date": [dt.date(2026, 11, 23), dt.date(2026, 11, 25), None],
            "next_receipt_date": [dt.date(2026, 11, 29), None, None],
            "stockout_probability": [0.9991, 0.4321, 0.0],
            "expected_shortage": [25.1, 3.0, 0.0],
            "revenue_at_risk": [20124.75, None, 0.0],
            "risk_level": ["high", "medium", "low"],
            "restock_eta": [dt.date(2026, 11, 29), None, None],
        }
    )


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("table", ["orders", "risk"])
def test_terminal_table_fits_and_never_splits_a_number_date_or_code(table, lang, width):
    frame = _orders_frame() if table == "orders" else _risk_frame()
    shown, lines = _render(frame, table, width, lang)
    assert all(len(line) <= width for line in lines)  # ASCII cells; CJK counted below
    from rich.cells import cell_len

    assert all(cell_len(line) <= width for line in lines)
    body = [line for line in lines if any(sku in line for sku in frame["sku"])]
    assert len(body) == min(frame.height, 8)  # one line per row: codes never wrap
    for row, line in zip(frame.head(8).iter_rows(named=True), body, strict=True):
        for column in shown.shown:
            value = row[column]
            if isinstance(value, dt.date):
                assert value.isoformat() in line
            elif isinstance(value, float) and column not in ("days_of_cover",):
                if column in ("stockout_probability",):
                    text = f"{value:.1%}"
                elif column in ("order_value", "revenue_at_risk"):
                    text = f"{value:,.2f}"
                else:
                    text = f"{value:,.1f}".removesuffix(".0")
                assert text in line or f"{value:,.1f}" in line, (column, text, line)
            elif column in ("sku", "location", "supplier"):
                assert value in line
    for line in lines:  # no date or long number broken at the edge of a line
        assert not re.search(r"\b\d{4}-\d{0,1}$|\b\d{1,3},$|\d\.$", line.rstrip())
    if width == 80:
        assert shown.hidden  # detail columns dropped on a narrow terminal ...
        assert any(i18n.header(shown.hidden[0], lang) in note for note in shown.notes)
        assert "sku" in shown.shown and "risk_level" in shown.shown
    else:
        assert shown.hidden == []  # ... and all shown on a wide one


def test_terminal_formats_missing_cost_percentages_and_cover():
    shown, lines = _render(_risk_frame(), "risk", 200, "en")
    text = "\n".join(lines)
    assert "99.9%" in text and "43.2%" in text  # probabilities as percentages
    row = next(line for line in lines if "010007" in line)
    # days of cover as in the sheet: -3 is three days of demand already owed
    assert " -3.0 " in row + " " and " 0.0 " not in row + " "
    gz = next(line for line in lines if "010014" in line)
    assert "n/a" in gz  # a missing revenue is missing, not 0
    _, zh = _render(_risk_frame(), "risk", 200, "zh")
    assert any("缺失" in line for line in zh) and any("高" in line for line in zh)


def test_terminal_shows_the_top_rows_and_counts_the_rest():
    shown, lines = _render(_orders_frame(), "orders", 200, "en", limit=2)
    assert shown.more_rows == 4 and "4 more rows" in shown.notes[0]
    assert sum("LONGCODE" in line for line in lines) == 2


# --- the command line, end to end ------------------------------------------------------


def _in_chinese(shop: Path) -> Path:
    """The small shop's config set to Chinese, transfers off."""
    config = yaml.safe_load(shop.read_text())
    config["planning"] = {"language": "zh"}
    config["transfers"] = {"enabled": False}
    shop.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return shop


@pytest.fixture(scope="module")
def zh_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Chinese small shop, planned once for the module: for tests that only read it."""
    return planned_shop(tmp_path_factory.mktemp("zh_shop"), _in_chinese)


def test_chinese_csv_parses_back_with_chinese_headers_values_and_reasons(
    zh_shop: Path, tmp_path: Path
):
    target = tmp_path / "orders.csv"
    result = _run("plan", "-c", str(zh_shop), "-o", str(target), "--all", "-q")
    assert result.exit_code == 0, result.output
    back = pl.read_csv(target, schema_overrides={"商品编码": pl.String})
    assert back.columns[:5] == ["商品编码", "仓库", "供应商", "建议采购量", "采购金额"]
    assert {"再订货点", "安全库存", "商品名称", "风险等级", "计划日期"} <= set(back.columns)
    rows = {(r["商品编码"], r["仓库"]): r for r in back.to_dicts()}
    assert rows[("A-100", "WH1")]["商品名称"] == "Steady item"
    assert rows[("007", "WH1")]["商品名称"] == "Slow item"
    assert set(back["风险等级"]) <= {"高", "中", "低"}
    assert rows[("A-100", "WH2")]["原因"].startswith("不订货：库存位置 500 不低于再订货点")
    assert (back["计划日期"] == "2025-10-13").all()
    # the same run for scripts: canonical headers and values
    canonical = tmp_path / "canonical.csv"
    args = ("plan", "-c", str(zh_shop), "-o", str(canonical), "--all", "-q")
    assert _run(*args, "--headers", "canonical").exit_code == 0
    machine = pl.read_csv(canonical, schema_overrides={"sku": pl.String})
    assert machine.columns[: len(ORDER_COLUMNS)] == ORDER_COLUMNS
    assert set(machine["risk_level"]) <= {"high", "medium", "low"}


def test_json_and_parquet_keep_canonical_names_in_chinese(zh_shop: Path, tmp_path: Path):
    for suffix in ("json", "parquet"):
        target = tmp_path / f"risk.{suffix}"
        assert _run("risk", "-c", str(zh_shop), "-o", str(target), "-q").exit_code == 0
        frame = pl.read_json(target) if suffix == "json" else pl.read_parquet(target)
        assert frame.columns == [*RISK_COLUMNS, "name", "as_of"]
        assert set(frame["risk_level"]) <= {"high", "medium", "low"}


def test_chinese_xlsx_leads_with_decisions_and_opens_on_a_summary(zh_shop: Path, tmp_path: Path):
    target = tmp_path / "plan.xlsx"
    result = _run("plan", "-c", str(zh_shop), "-o", str(target), "-q")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:3] == ["汇总", "采购建议", "缺货风险"]
    assert {"调拨", "超储"} <= set(book.sheetnames)
    for name in ("缺货风险", "调拨", "超储"):  # the name next to the code on every item sheet
        assert [c.value for c in book[name][1]][:2] == ["商品编码", "商品名称"]
    sheet = book["采购建议"]
    header = [c.value for c in sheet[1]]
    assert header[:11] == [
        "商品编码",
        "商品名称",
        "仓库",
        "供应商",
        "建议采购量",
        "采购金额",
        "下单日期",
        "最晚下单日期",
        "预计到货",
        "风险等级",
        "原因",
    ]
    # the technical columns follow, grouped one level deep and collapsed
    technical = header.index("再订货点") + 1
    (group,) = [d for d in sheet.column_dimensions.values() if d.min <= technical <= d.max]
    assert group.outlineLevel == 1 and group.hidden
    assert group.min == header.index("原因") + 2  # every column after the reason
    reason = openpyxl.utils.get_column_letter(header.index("原因") + 1)
    assert sheet[f"{reason}2"].alignment.wrap_text
    # a totals row under the table: the sum of the quantities above it
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    *lines, totals = rows
    qty = header.index("建议采购量")
    assert totals[0] == "合计"
    assert totals[qty] == pytest.approx(sum(r[qty] for r in lines))
    assert all(r[header.index("商品名称")] in ("Steady item", "Slow item") for r in lines)
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if r[0]}
    assert summary["计划日期"].date() == dt.date(2025, 10, 13)
    assert summary["stockplan 版本"]
    assert summary["配置文件"] == str(zh_shop)
    assert summary["输入 销售（sales）"].endswith("sales.csv")
    assert summary["采购行数"] == len(lines)
    assert isinstance(summary["高缺货风险商品数"], int)


def test_as_of_sets_the_planning_date_of_every_output(small_shop: Path, tmp_path: Path):
    target = tmp_path / "orders.csv"
    args = ("plan", "-c", str(small_shop), "-o", str(target), "--all", "--as-of", "2025-09-01")
    result = _run(*args)
    assert result.exit_code == 0, result.output
    back = pl.read_csv(target, try_parse_dates=True)
    assert (back["as_of"] == dt.date(2025, 9, 1)).all()
    assert (back["order_date"] == dt.date(2025, 9, 1)).all()
    assert "plan as of 2025-09-01" in result.stderr


def test_terminal_table_through_the_command_at_80_columns(zh_shop: Path):
    result = _run("risk", "-c", str(zh_shop), "-f", "table", "-q", COLUMNS="80")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "缺货风险（计划日期 2025-10-13）" in result.stdout
    from rich.cells import cell_len

    assert all(cell_len(line) <= 80 for line in lines)
    assert sum("A-100" in line for line in lines) == 2  # one line per warehouse


def test_limit_sort_and_columns_shape_the_output(small_shop: Path):
    result = _run(
        "risk", "-c", str(small_shop), "-q", "--sort", "on_hand:desc", "--columns", "sku,on_hand"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "sku,on_hand"
    assert [int(line.split(",")[1]) for line in lines[1:]] == [500, 40, 3]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("-t", "ordres"), "orders"),  # the choices are listed
        (("-o", "plan.txt"), ".xlsx"),
        (("-f", "json"), "stdout"),
        (("-o", "x.csv", "-f", "json"), "suffix"),
        (("--lang", "fr"), "zh"),
        (("--as-of", "2025-13-01"), "%Y-%m-%d"),
        (("--sort", "ordr_qty"), "order_qty"),
        (("--limit", "0"), "1"),
    ],
)
def test_bad_option_values_exit_2_before_any_work(small_shop: Path, args, expected):
    result = _run("plan", "-c", str(small_shop), *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "loaded" not in result.output  # nothing was read or computed


def test_errors_in_chinese(tmp_path: Path):
    result = _run("plan", "-c", str(tmp_path / "missing.yaml"), "--lang", "zh")
    assert result.exit_code == 1
    assert result.stderr.startswith("stockplan: 错误: ") and "找不到配置文件" in result.stderr


def test_user_values_that_read_like_rows_or_columns_stay_as_written_in_errors(
    small_shop: Path,
):
    # the sales file is called "row 5.csv", its 3rd line (row 4 with the header) holds the
    # quantity "column 3", and after that is mended a sale of the unknown SKU "row 12"
    folder = small_shop.parent
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    (folder / "sales.csv").unlink()
    config = yaml.safe_load(small_shop.read_text())
    config["inputs"]["sales"] = "row 5.csv"
    small_shop.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    bad_qty = sales.with_columns(pl.col("qty").cast(pl.String))
    bad_qty[2, "qty"] = "column 3"
    bad_qty.write_csv(folder / "row 5.csv")
    path = folder / "row 5.csv"
    english = _run("plan", "-c", str(small_shop), "-q", "--lang", "en")
    chinese = _run("plan", "-c", str(small_shop), "-q", "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1
    assert (
        english.stderr
        == f"stockplan: error: {path}, row 4, column 'qty' (quantity): 'column 3' is not a number\n"
    )
    assert (
        chinese.stderr
        == f"stockplan: 错误: {path}，第 4 行，列 'qty'（quantity）：'column 3' 不是数字\n"
    )
    unknown = sales.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("row 12")).otherwise("sku").alias("sku")
    )
    unknown.write_csv(path)
    english = _run("plan", "-c", str(small_shop), "-q", "--lang", "en")
    chinese = _run("plan", "-c", str(small_shop), "-q", "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1
    assert english.stderr.startswith(
        f"stockplan: error: {path}, row 4, column 'sku': 'row 12' is not in the products table "
        "(1 unknown SKU in sales)"
    )
    assert chinese.stderr.startswith(
        f"stockplan: 错误: {path}，第 4 行，列 'sku'：'row 12' "
        "不在商品档案中（销售（sales）中共 1 个未知商品）"
    )


def test_explain_in_chinese_names_the_item(zh_shop: Path):
    result = _run("explain", "A-100", "-c", str(zh_shop), "-l", "WH1", "--no-chart", "-q")
    assert result.exit_code == 0, result.output
    assert "A-100 @ WH1（计划日期 2025-10-13）: Steady item" in result.stdout
    for word in ("库存位置", "安全库存", "再订货点", "建议采购", "缺货风险"):
        assert word in result.stdout


def test_init_writes_chinese_when_the_headers_are_chinese(tmp_path: Path):
    for folder, sales_header, stock_header in (
        ("zh", "单据日期,商品编码,仓库,销售数量", "商品编码,仓库,现存量"),
        ("en", "date,sku,location,quantity", "sku,location,on_hand"),
    ):
        exports = tmp_path / folder
        exports.mkdir()
        (exports / "sales.csv").write_text(
            f"{sales_header}\n2025-09-01,A-1,WH1,4\n", encoding="utf-8"
        )
        (exports / "stock.csv").write_text(f"{stock_header}\nA-1,WH1,7\n", encoding="utf-8")
        assert _run("init", str(exports), "-q").exit_code == 0
        config = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))
        assert config["planning"].get("language", "en") == folder


def test_notices_fill_the_configured_template_with_names():
    orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [0.0],
            "allocated": [0.0],
            "order_qty": [10.0],
            "expected_arrival": [dt.date(2025, 3, 10)],
        }
    )
    open_po = pl.DataFrame(
        schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
    )
    backlog = pl.DataFrame(
        {"order_id": ["SO1", None], "sku": ["A", "A"], "location": ["W", "W"]}
        | {"quantity": [4.0, 20.0], "file_row": [2, 3]}
    )
    names = pl.DataFrame({"sku": ["A"], "name": ["保温杯"]})
    default = restock_notices(backlog, orders, open_po, dt.date(2025, 3, 3), names=names, lang="zh")
    assert default["message"].to_list() == [
        "订单 SO1：A 保温杯 × 4，预计发货日期 2025-03-10",
        "订单 第 3 行：A 保温杯 × 20 暂无库存或在途货源，预计到货日期待确认，我们会尽快通知您",
    ]
    own = restock_notices(
        backlog,
        orders,
        open_po,
        dt.date(2025, 3, 3),
        Notices(template="您好，{name}（{sku}）{quantity} 件预计到货 {date}"),
        names=names,
        lang="zh",
    )
    assert own["message"][0] == "您好，保温杯（A）4 件预计到货 2025-03-10"


def test_explain_stops_the_progress_display_before_printing(small_shop: Path, monkeypatch):
    zh_shop = _in_chinese(small_shop)  # planned here: the progress display runs
    import rich.console

    from stockplan import cli

    events: list[str] = []
    close_all = cli.StageProgress.close_all.__func__
    print_ = rich.console.Console.print

    def closing(cls) -> None:
        events.append("close")
        close_all(cls)

    def printing(self, *args, **kwargs) -> None:
        events.append("print")
        print_(self, *args, **kwargs)

    monkeypatch.setattr(cli.StageProgress, "close_all", classmethod(closing))
    monkeypatch.setattr(rich.console.Console, "print", printing)
    result = _run("explain", "007", "-c", str(zh_shop), "--no-chart", "-q")
    assert result.exit_code == 0, result.output
    assert "print" in events and events.index("close") < events.index("print")


def test_technical_word_values_render_in_chinese_and_read_back():
    from stockplan.io.writers import localise

    frame = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "date": [dt.date(2026, 1, 5), dt.date(2026, 1, 6)],
            "treatment": ["covered", "make_to_order"],
            "ltd_method": ["bootstrap_days", "parametric"],
        }
    )
    shown = localise(frame, "large_orders", "zh")
    assert shown.columns == ["商品编码", "日期", "处理方式", "提前期需求方法"]
    assert shown.rows() == [
        ("A", dt.date(2026, 1, 5), "计入备货", "按日抽样"),
        ("B", dt.date(2026, 1, 6), "按单采购", "参数分布"),
    ]
    back = i18n.canonical_frame(shown)
    assert back.columns == frame.columns
    assert back["treatment"].to_list() == ["covered", "make_to_order"]
    assert back["ltd_method"].to_list() == ["bootstrap_days", "parametric"]
    policies = pl.DataFrame({"policy_type": ["rs", "ss", "sq"]})
    shown = localise(policies, "orders", "zh")
    assert shown["补货策略"].to_list() == [
        "(R,S) 定期补货至最高库存",
        "(s,S) 最低最高",
        "(s,Q) 定量",
    ]
    assert i18n.canonical_frame(shown).equals(policies)


def test_simulation_policy_names_render_in_chinese_with_their_weeks():
    from stockplan.history_replay import BUYERS
    from stockplan.io.writers import localise

    rule = "baseline: reorder at 1.5 weeks, up to 3 weeks"
    assert i18n.value("policy", rule, "zh") == "经验法则：低于 1.5 周用量时补货，补至 3 周用量"
    assert i18n.value("policy", rule, "en") == rule
    frame = pl.DataFrame({"policy": ["stockplan", rule, BUYERS], "fill_rate": [0.9, 0.8, 0.7]})
    shown = localise(frame, "simulation", "zh")
    assert shown.columns == ["策略", "满足率"]
    assert shown["策略"].to_list() == [
        "本工具策略",
        "经验法则：低于 1.5 周用量时补货，补至 3 周用量",
        "采购员实际（采购历史）",
    ]
    title = i18n.message(
        "title.simulation", "zh", as_of="2026-11-23", measure="周期服务水平", unmet="流失"
    )
    assert title == "策略模拟（计划日期 2026-11-23；目标：周期服务水平；缺货需求按流失计）"
    assert i18n.canonical_frame(shown).equals(frame)  # read back as scripts wrote it


def test_simulate_in_chinese_names_the_policies_and_the_unmet_demand(small_shop: Path):
    # two targets and two rule-of-thumb scales, not the default five and ten: the words
    # are those of every row, and on the small shop the rule at 1.5 x (3 / 6 weeks) serves
    # between the two targets, so one line compares it with the policy
    config = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    config["simulate"] = {"targets": [0.9, 0.99], "baseline_scales": [1.0, 1.5]}
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = _run("simulate", "-c", str(small_shop), "--lang", "zh", "-o", "-")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(io.StringIO(result.stdout))
    assert table.columns[:3] == ["策略", "目标", "满足率"]
    assert "本工具策略" in table["策略"].to_list()
    rules = [p for p in table["策略"].to_list() if p != "本工具策略"]
    rule = r"经验法则：低于 [\d.]+ 周用量时补货，补至 [\d.]+ 周用量"
    assert rules and all(re.fullmatch(rule, p) for p in rules)
    said = [line for line in result.stderr.splitlines() if "经验法则" in line]
    assert said  # the lines comparing the policy with the rule of thumb
    assert not any(re.search(r"fill rate|rule of thumb|target \d|baseline", s) for s in said)
    # the terminal table's title: words of the settings, not of the numbers, so a replay
    # of four weeks, one target and one rule of thumb shows it
    config["simulate"] = {"targets": [0.9], "baseline_scales": [1.0], "periods": 4}
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")
    shown = _run("simulate", "-c", str(small_shop), "--lang", "zh", "-f", "table")
    assert "缺货需求按流失计" in shown.stdout  # the title says the unmet demand in words


def test_every_note_of_the_plan_renders_in_chinese_from_the_functions_that_write_it():
    from stockplan.large_orders import outsized_note
    from stockplan.partitioned import part_files_note
    from stockplan.purchasing import budget_note_from
    from stockplan.reorder import (
        master_data_note_from,
        stale_stock_note,
        unreachable_service_note_from,
    )
    from stockplan.supplier_rules import part_load_note

    stock = pl.DataFrame(
        {
            "sku": ["A", "B", "A"],
            "location": ["W", "W", "W"],
            "date": [dt.date(2026, 1, 5), dt.date(2026, 1, 5), dt.date(2026, 1, 12)],
        }
    )
    sums = pl.DataFrame(
        {
            "cut": [2],
            "dropped": [1],
            "lines": [5],
            "value": [900.0],
            "asked": [1500.0],
            "added": [200.0],
            "added_lines": [2],
            "from_none": [1],
        }
    )
    counts = pl.DataFrame({"demand_pattern": ["lumpy", "erratic"], "len": [12, 3]})
    notes = {
        "budget": budget_note_from(sums, 1000.0),
        "zero": stale_stock_note(stock, "zero"),
        "keep": stale_stock_note(stock, "keep"),
        "master": master_data_note_from([(3, ["X1", "X2"])]),
        "service": unreachable_service_note_from([(counts, ["L1", "E1"])]),
        "parts": part_files_note(40, "forecast/, history/"),
        "large": outsized_note(
            pl.DataFrame(
                {
                    "sku": ["A"],
                    "location": ["W"],
                    "quantity": [5000.0],
                    "date": [dt.date(2026, 1, 5)],
                    "other_units": [900.0],
                }
            ),
            "sales",
            covered=True,
        ),
        "customer": outsized_note(
            pl.DataFrame(
                {"sku": ["A"], "location": ["W"], "quantity": [5000.0], "other_units": [900.0]}
            ),
            "customer_orders",
            covered=False,
        ),
        "loads": part_load_note(
            pl.DataFrame(
                {"supplier": ["华东食品", "S2"], "loads": [0.52, 2.4], "load_note": ["n", "n"]}
            )
        ),
    }
    chinese = {key: i18n.render_note(note, "zh") for key, note in notes.items()}
    assert chinese["budget"] == (
        "预算 1,000.00：订单合计 900.00，共 5 行，申请 1,500.00；2 行被削减，1 行未获预算"
        "（原因列有说明）；预算之后补足、提前订货或整柜在 2 行上增加 200.00（其中 1 行原本"
        "不订货）"
    )
    assert chinese["large"] == (
        "销售（sales）：1 行各自超过该商品一年的其他销量"
        "（最大：A @ W，5,000，2026-01-05，一年仅 900）；"
        "备货目标会覆盖它们（policy.large_orders: cover）：请核对，或设 "
        "policy.large_orders: make_to_order"
    )
    assert chinese["zero"] == "库存：1 个商品不在所在仓库最新的库存快照中，按现存量 0 计：B@W"
    assert chinese["service"].startswith(
        "服务水平：15 个商品的可承诺服务水平低于目标（块状 12, 波动 3；例如 L1, E1）"
    )
    for key, text in chinese.items():  # codes, config keys and folder names aside
        words = re.sub(r"(planning|policy)\.\w+(: \w+)?|forecast/|history/|（\w+）", "", text)
        assert not re.search(r"[a-z]{3,}", words), (key, text)
        assert i18n.render_note(notes[key], "en") == notes[key]


_COUNTED_PLURAL = re.compile(
    r"(?<![\d.,])1 (?:order )?(?:"
    + "|".join(("items", "lines", "rows", "cells", "days", "SKUs", "units", "workbooks"))
    + r")\b"
)


def test_a_count_of_one_says_its_noun_in_the_singular_in_english_and_chinese_is_unchanged():
    message = i18n.message
    assert message("risk_exit", hits=1, level="high", code=3) == (
        "1 item at high stockout risk or worse: exit 3"
    )
    assert message("risk_exit", hits=2, level="high", code=3) == (
        "2 items at high stockout risk or worse: exit 3"
    )
    assert message("risk.news_high", count=1, code=3) == (
        "1 item newly at high stockout risk since --previous: exit 3"
    )
    assert message("risk.news_higher", count=11, code=3).startswith("11 items at a higher ")
    summary = {"as_of": "2026-03-02", "value": "5.00", "currency": "CNY"}
    assert message("plan_summary", lines=1, high=0, **summary) == (
        "plan as of 2026-03-02: 1 order line, value 5.00 CNY; 0 items at high stockout risk"
    )
    assert message("verify.cells_differ", table="risk", column="on_hand", count=1, cells="x") == (
        "risk.on_hand: 1 cell differs (x)"
    )
    assert message("summary.not_counted", count=1) == "1 line without a cost, not counted"
    # a count written with a format spec is read as written: 1.5 days stay days
    assert message("explain.window", days=1.5, mu="15") == "demand over L + R = 1.5 days: 15"
    assert message("explain.window", days=1, mu="10") == "demand over L + R = 1 day: 10"
    # Chinese has no plural: the same text whatever the count
    assert message("risk_exit", "zh", hits=1, level="高", code=3) == (
        "1 个商品缺货风险为高或更高：退出码 3"
    )
    # no English message says "1 items", "1 rows", ... with its fields at 1
    for key, entry in i18n.MESSAGES.items():
        fields = dict.fromkeys(_fields(entry["en"]), 1)
        assert not _COUNTED_PLURAL.search(message(key, **fields)), key
