"""Typical ERP exports (tests/erp_exports/, written by make_exports.py) planned end to end.

Each system's folder holds a stock and a sales export as the system writes them: title rows,
totals / subtotal rows, units in headers, GBK CSV, legacy .xls, a hidden stale sheet.
`init` must map them, `stockplan.load` read them and `stockplan.plan` give the order lines
computed below (the command line once, for its wiring).

Hand calculation. Every item sells d units every day for 16 weeks, so the weekly forecast
is 7d with no error in the backtest; the forecast spread then falls back to the Poisson
floor sigma_e = sqrt(7d) per week. Lead time 14 days (lead_time.default_days) plus review
7 days protect L + R = 3 weeks:

    order_up_to = 21 d + z_0.95 * sqrt(3 * 7 d),   z_0.95 = 1.6449
    order_qty   = order_up_to - on_hand, rounded half up, when on_hand <= order_up_to
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from scipy.stats import norm
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.i18n import render_error

EXPORTS = Path(__file__).resolve().parent / "erp_exports"
Z95 = norm.ppf(0.95)


def _order(per_day: int, on_hand: int) -> int:
    up_to = 21 * per_day + Z95 * math.sqrt(21 * per_day)
    return math.floor(up_to - on_hand + 0.5) if on_hand <= up_to else 0


# system -> {(sku, location): (units per day, on hand)} as make_exports.py writes them
CASES = {
    # 01.001: 210 + 23.84 - 50 = 183.84 -> 184; 01.002: 76.06 < 200 -> 0
    "kingdee": {("01.001", "成品仓"): (10, 50), ("01.002", "成品仓"): (3, 200)},
    # 0101@总仓: 278.11 - 60 -> 218; 0101@门店仓: 99.08 < 100 -> 0; 0102: 52.66 - 10 -> 43
    "u8": {("0101", "总仓"): (12, 60), ("0101", "门店仓"): (4, 100), ("0102", "总仓"): (2, 10)},
    # SP0001: 144.46 - 20 -> 124; SP0002: 28.54 < 30 -> 0
    "guanjiapo": {("SP0001", "主仓库"): (6, 20), ("SP0002", "主仓库"): (1, 30)},
    # P-1001: 121.86 - 0 -> 122; P-1002: 184.5 < 500 -> 0
    "jiandaoyun": {("P-1001", "深圳仓"): (5, 0), ("P-1002", "深圳仓"): (8, 500)},
}
EXPECTED_TABLES = {
    "kingdee": {"sales": "销售出库单.xlsx", "stock": "即时库存.xlsx"},
    "u8": {"sales": "销售出库单列表.xls", "stock": "现存量查询.xls"},
    "guanjiapo": {"sales": "销售明细.csv", "stock": "库存状况.csv"},
    "jiandaoyun": {"sales": "出库记录.xlsx", "stock": "库存台账.xlsx"},
}


def test_hand_calculation_matches_the_comments():
    assert _order(10, 50) == 184 and _order(3, 200) == 0
    assert (_order(12, 60), _order(4, 100), _order(2, 10)) == (218, 0, 43)
    assert (_order(6, 20), _order(1, 30), _order(5, 0), _order(8, 500)) == (124, 0, 122, 0)


@pytest.mark.parametrize("system", sorted(CASES))
def test_erp_export_is_mapped_validated_and_planned(system: str, tmp_path: Path):
    folder = tmp_path / system
    shutil.copytree(EXPORTS / system, folder)
    runner = CliRunner()

    init = runner.invoke(app, ["init", str(folder)])
    assert init.exit_code == 0, init.output
    config = folder / "stockplan.yaml"
    written = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert written["inputs"] == EXPECTED_TABLES[system]

    assert written["planning"]["language"] == "zh"  # init saw Chinese headers
    # the exports end in late September: the default holiday calendar would stretch the lead
    # time over 国庆 (tested in test_supplier_orders.py); the hand calculation above has none
    written["calendars"] = {"public_holidays": "none"}
    config.write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    settings, inputs = stockplan.load(config)
    # the 合计 / 小计 / Total lines were dropped, and said so, in the buyer's language too
    assert any("totals row" in warning for warning in inputs.warnings)
    for warning in inputs.warnings:  # the file's name and its own label as they are
        chinese = render_error(warning, "zh")
        words = re.sub(r"\S+\.(xlsx|xls|csv)|（[^）]*）|`[^`]*`", "", chinese)
        assert not re.search(r"[A-Za-z]{3,}", words), chinese
    orders = stockplan.plan(inputs, settings).orders
    got = {(r["sku"], r["location"]): r["order_qty"] for r in orders.iter_rows(named=True)}
    expected = {key: _order(*values) for key, values in CASES[system].items()}
    assert got == expected  # no 合计 / 小计 / Total item, and every quantity as computed


def test_validate_and_plan_on_an_export_say_totals_were_dropped_and_write_orders(tmp_path: Path):
    """The command-line wiring once: validate prints the warning, plan writes the file with
    the headers asked for."""
    folder = tmp_path / "kingdee"
    shutil.copytree(EXPORTS / "kingdee", folder)
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    config = folder / "stockplan.yaml"
    validate = runner.invoke(app, ["validate", "-c", str(config)])
    assert validate.exit_code == 0, validate.output
    assert "行合计行" in validate.stderr and "totals row" not in validate.stderr  # init: zh
    out = tmp_path / "orders.csv"
    args = ["plan", "-c", str(config), "--all", "-o", str(out), "-q", "--headers", "canonical"]
    plan = runner.invoke(app, args)
    assert plan.exit_code == 0, plan.output
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    assert sorted(orders["sku"]) == ["01.001", "01.002"] and "order_qty" in orders.columns
    # the export has no unit costs: the summary says the value is missing, never 0
    buying = orders.filter(pl.col("order_qty") > 0).height
    plan = runner.invoke(app, ["plan", "-c", str(config), "-o", str(tmp_path / "again.csv")])
    assert plan.exit_code == 0, plan.output
    said = f"{buying} 条采购建议，金额缺失（均缺单位成本）"
    assert buying > 0 and said in plan.stderr and "金额 0.00" not in plan.stderr


def test_hidden_stale_sheet_is_not_read(tmp_path: Path):
    """Kingdee's stock workbook has a hidden first sheet with 9999 on hand for 01.001."""
    from stockplan.config import InputFile
    from stockplan.io.readers import read_table

    notes: list[str] = []
    stock = read_table("stock", InputFile(path=EXPORTS / "kingdee" / "即时库存.xlsx"), {}, notes)
    assert stock["on_hand"].to_list() == [50.0, 200.0]
    assert any("first visible" in n and "上周" in n for n in notes)


def test_u8_warehouse_code_or_name_follows_identify_by():
    from stockplan.config import InputFile
    from stockplan.io.readers import read_table

    spec = InputFile(path=EXPORTS / "u8" / "现存量查询.xls")
    by_name = read_table("stock", spec, {}, identify_by="name")
    by_code = read_table("stock", spec, {}, identify_by="code")
    assert by_name["location"].to_list() == ["总仓", "总仓", "门店仓"]
    assert by_code["location"].to_list() == ["01", "01", "02"]
