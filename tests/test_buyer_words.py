"""What a buyer reads in the written plan: overdue lines, money with its unit and never a
false 0, what ABC ranks by, numbers as the sheets print them, percentages, one word per
concept in Chinese, and CSV files Excel on Chinese Windows opens."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from conftest import AS_OF
from typer.testing import CliRunner

from stockplan import i18n
from stockplan.cli import app

runner = CliRunner()
BOM = b"\xef\xbb\xbf"


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _calendar_line(**overrides: object) -> dict:
    line = {
        "sku": "011491",
        "location": "WH-GZ",
        "order_qty": 24.0,
        "order_date": dt.date(2026, 11, 23),
        "order_by": dt.date(2026, 11, 20),
        "reason": "position 34 below reorder point 265.9: need 231.9 to reach 265.9",
        "open_lead_time_days": 14.0,
        "lead_time_days": 14.0,
        "closure_days": 0.0,
        "closure_note": None,
        "closure_cover_days": 0.0,
    }
    return line | overrides


# --- 1. overdue lines ----------------------------------------------------------------


def test_a_line_whose_order_by_date_has_passed_says_by_how_many_days_and_to_order_today():
    from stockplan.calendar import calendar_reason

    lines = pl.DataFrame(
        [
            _calendar_line(),  # 2026-11-23 - 2026-11-20: 3 days late
            _calendar_line(sku="ON-TIME", order_by=dt.date(2026, 11, 23)),
            _calendar_line(
                sku="NO-ORDER",
                order_qty=0.0,
                reason="no order: position 9 not below reorder point 5",
            ),
        ]
    )
    reasons = dict(zip(*calendar_reason(lines).select("sku", "reason"), strict=True))
    assert reasons["011491"] == (
        "overdue by 3 days: order today; position 34 below reorder point 265.9: need 231.9 "
        "to reach 265.9"
    )
    assert reasons["ON-TIME"] == lines["reason"][1]  # on the day itself: not late
    assert reasons["NO-ORDER"] == lines["reason"][2]
    assert i18n.unknown_clauses(reasons["011491"]) == []
    assert i18n.render_reason(reasons["011491"], "zh").startswith("已逾期 3 天：请今天下单；")


def test_explain_says_the_order_by_date_is_already_past():
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.config import Policy
    from stockplan.reorder import plan_orders
    from stockplan.report import explain_lines

    frame = pl.DataFrame([plan_row()], schema_overrides=NULLABLE_NUMBERS)
    order = plan_orders(frame, Policy(), dt.date(2026, 11, 23), 7).row(0, named=True)
    order |= {"order_by": dt.date(2026, 11, 20), "open_lead_time_days": 5.1}
    en = [line for line in explain_lines(order, None, "cycle", "CNY") if "order by" in line]
    zh = [line for line in explain_lines(order, None, "cycle", "CNY", "zh") if "最晚" in line]
    # whole open days: the calendar rounds 5.1 to 5 (`leadtime.whole_days`)
    assert en[0].startswith("order by 2026-11-20: already 3 days past, order today")
    assert "(5 open days of the supplier" in en[0]
    assert zh[0].startswith("最晚下单日期 2026-11-20：已过去 3 天，请今天下单")
    assert "供应商 5 个工作日" in zh[0] and "5.1" not in zh[0]


def test_the_planned_lines_say_overdue_exactly_where_order_by_is_before_the_order_date(
    small_shop: Path, tmp_path: Path
):
    out = tmp_path / "orders.csv"
    assert _run("plan", "-c", str(small_shop), "-o", str(out), "--all", "-q").exit_code == 0
    orders = pl.read_csv(out, try_parse_dates=True, schema_overrides={"sku": pl.String})
    late = orders.filter((pl.col("order_by") < pl.col("order_date")) & (pl.col("order_qty") > 0))
    assert late.height > 0  # A-100 at WH1: 35 on hand at 10 a day, 14 days to deliver
    for row in late.iter_rows(named=True):
        days = (row["order_date"] - row["order_by"]).days
        unit = "day" if days == 1 else "days"
        assert row["reason"].startswith(f"overdue by {days} {unit}: order today; ")
    others = orders.join(late, on=["sku", "location"], how="anti")
    assert not others["reason"].str.contains("overdue").any()


def test_one_day_overdue_or_closed_reads_in_the_singular_and_renders_in_chinese():
    from stockplan.calendar import calendar_reason
    from stockplan.i18n import render_reason

    lines = pl.DataFrame(
        {
            "order_date": [dt.date(2026, 11, 23)] * 2,
            "order_by": [dt.date(2026, 11, 22), dt.date(2026, 11, 20)],
            "order_qty": [10.0, 10.0],
            "reason": ["position 4 below reorder point 9: need 5 to reach 14"] * 2,
            "closure_days": [1.0, 2.0],
            "closure_note": ["holiday", "holiday"],
            "open_lead_time_days": [5.0, 5.0],
            "lead_time_days": [6.0, 7.0],
            "closure_cover_days": [0.0, 0.0],
        }
    )
    one, three = calendar_reason(lines)["reason"].to_list()
    assert one.startswith("overdue by 1 day: order today; ")
    assert "; supplier closed 1 day (holiday) before arrival" in one
    assert three.startswith("overdue by 3 days: order today; ")
    assert "; supplier closed 2 days (holiday) before arrival" in three
    assert render_reason(one, "zh").startswith("已逾期 1 天：请今天下单；")
    assert "供应商到货前停工 1 天（holiday）" in render_reason(one, "zh")


# --- 2. a missing cost is never 0 -------------------------------------------------------


def _orders(values: list[float | None], suppliers: list[str | None]) -> pl.DataFrame:
    n = len(values)
    return pl.DataFrame(
        {
            "sku": [f"S{i}" for i in range(n)],
            "location": ["WH"] * n,
            "supplier": suppliers,
            "order_qty": [10.0] * n,
            "order_value": values,
            "risk_level": ["high"] * n,
        },
        schema_overrides={"order_value": pl.Float64, "supplier": pl.String},
    )


def _summary(tmp_path: Path, orders: pl.DataFrame, lang: str) -> list[tuple]:
    from stockplan.io.writers import write_files

    path = tmp_path / f"plan-{lang}.xlsx"
    info = {"as_of": AS_OF, "version": "x", "currency": "CNY"}
    write_files({path: ({"orders": orders}, "xlsx")}, lang=lang, info=info)
    sheet = openpyxl.load_workbook(path)[i18n.table_title("summary", lang)]
    return [tuple(c for c in row if c is not None) for row in sheet.iter_rows(values_only=True)]


def test_the_summary_says_missing_not_0_when_no_ordered_line_has_a_cost(tmp_path: Path):
    rows = _summary(tmp_path, _orders([None, None, None], ["Acme", None, None]), "zh")
    assert ("采购金额（元）", "缺失") in rows
    assert ("缺成本的采购行", 3) in rows
    # per supplier: the blank supplier is named, its value is missing, not 0
    assert ("未指定", 2, 20, "缺失", 2, 2) in rows
    assert ("Acme", 1, 10, "缺失", 1, 1) in rows
    orders = openpyxl.load_workbook(tmp_path / "plan-zh.xlsx")["采购建议"]
    totals = next(r for r in orders.iter_rows(values_only=True) if r[0] == "合计")
    assert "缺失" in totals and 0 not in totals


def test_the_summary_totals_the_known_costs_and_counts_the_lines_left_out(tmp_path: Path):
    rows = _summary(tmp_path, _orders([100.5, None, 20.25], ["Acme", None, "Acme"]), "en")
    assert ("order value (CNY)", 120.75, "1 line without a cost, not counted") in rows
    assert ("Acme", 2, 20, 120.75, 0, 2) in rows
    assert ("(none)", 1, 10, "n/a", 1, 1) in rows


def test_a_summed_total_is_money_to_the_cent(tmp_path: Path):
    from stockplan.io.writers import write_files

    # 27071.08 + 46957.52 + 19060.83 is 93089.43000000001 in floating point, and Excel
    # shows all 16 digits of it (the sample's excess total read 241075.7899999999)
    values = [27071.08, 46957.52, 19060.83]
    assert f"{sum(values):.16g}" == "93089.43000000001"
    excess = pl.DataFrame({"sku": ["A", "B", "C"], "excess_qty": [1.0] * 3, "excess_value": values})
    path = tmp_path / "x.xlsx"
    write_files({path: ({"excess": excess}, "xlsx")})
    sheet = openpyxl.load_workbook(path)["excess"]
    totals = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "total")
    assert totals[-1] == 93089.43


# --- 3. what ABC ranks by ----------------------------------------------------------------


def test_annual_value_of_an_item_without_revenue_price_or_cost_is_marked_units():
    from stockplan.config import Classify
    from stockplan.segmentation import classify_demand

    weeks = [AS_OF - dt.timedelta(weeks=w) for w in range(1, 21)]
    history = pl.DataFrame(
        {
            "sku": ["A001"] * 20 + ["B002"] * 20,
            "location": ["WH"] * 40,
            "period_start": weeks * 2,
            "demand": [5.0] * 40,
            "revenue": [None] * 40,
        },
        schema_overrides={"revenue": pl.Float64},
    )
    prices = pl.DataFrame({"sku": ["B002"], "unit_value": [3.0]})
    classes = classify_demand(history, AS_OF, "week", Classify(), prices)
    rows = {r["sku"]: r for r in classes.to_dicts()}
    assert rows["A001"]["annual_value"] == 100.0 and rows["A001"]["abc_basis"] == "units"
    assert rows["B002"]["annual_value"] == 300.0 and rows["B002"]["abc_basis"] == "value"
    assert i18n.value("abc_basis", "units", "zh") == "数量（无价格或成本）"
    assert i18n.header("abc_basis", "zh") == "ABC依据"


# --- 4. numbers as the reasons print them -------------------------------------------------


def test_excess_and_transfer_reasons_print_whole_numbers_without_point_zero():
    from stockplan.excess import excess_stock

    rows = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["WH"],
            "on_hand": [5154.0],
            "on_order": [0.0],
            "allocated": [0.0],
            "backorders": [0.0],
            "transfer_qty": [0.0],
            "inventory_position": [5154.0],
            "order_up_to": [3286.0],
            "forecast_per_day": [10.0],
            "unit_cost": [2.5],
            "demand_pattern": ["smooth"],
        }
    )
    last_sale = pl.DataFrame(
        {"sku": ["A"], "location": ["WH"], "last_sale_date": [AS_OF - dt.timedelta(days=1)]}
    )
    reason = excess_stock(rows, last_sale, 30.0, AS_OF)["reason"][0]
    assert reason == "position 5154 above order-up-to 3286 plus 30 days of demand"


def test_a_below_that_rounds_to_a_tie_shows_the_decimals_that_tell_them_apart():
    from stockplan.reorder import fmt_apart

    frame = pl.DataFrame({"p": [5.96, 0.0, 5.994, 34.0], "r": [6.04, 118.6, 5.996, 265.9]})
    shown = frame.select(*fmt_apart(pl.col("p"), pl.col("r"))).rows()
    assert shown == [("5.96", "6.04"), ("0", "118.6"), ("5.99", "6"), ("34", "265.9")]


def test_a_diff_cause_that_prints_as_zero_is_left_out():
    from stockplan.diff import CAUSE_LABELS, causes_text

    parts = dict.fromkeys(CAUSE_LABELS, 0.0) | {
        "due_to_constraints": -0.05,  # printed at 1 decimal: -0.0, once "constraints -0"
        "due_to_demand": 42.0,
        "due_to_lead_time": -3.04,
    }
    text = pl.DataFrame({k: [v] for k, v in parts.items()}).select(causes_text()).item()
    assert text == "demand +42; lead time -3"


def test_working_days_in_a_closure_reason_are_the_whole_days_the_calendar_counted():
    from stockplan.calendar import calendar_reason

    line = _calendar_line(
        order_by=dt.date(2026, 11, 23),
        open_lead_time_days=5.1,
        lead_time_days=12.1,  # 5.1 open days + 7 closed
        closure_days=7.0,
        closure_note="春节",
    )
    reason = calendar_reason(pl.DataFrame([line]))["reason"][0]
    assert reason.endswith(
        "; supplier closed 7 days (春节) before arrival: lead time 5 open days is 12 days"
    )
    assert "供应商到货前停工 7 天（春节）：5 个工作日的提前期实为 12 天" in i18n.render_reason(
        reason, "zh"
    )


def test_money_in_chinese_texts_carries_its_unit_and_two_decimals():
    assert i18n.money(47462.4, "CNY", "zh") == "47,462.40 元"
    assert i18n.money(47462.4, "CNY", "en") == "47,462.40 CNY"
    assert i18n.money(5.0, "USD", "zh") == "5.00 USD"
    assert i18n.money(None, "CNY", "zh") == "缺失"
    cut = (
        "budget: 10 of 20 funded, the next 10 units (2373.12) did not fit the 1.14 left after "
        "lines protecting more sales per unit of money (this one 0.5 per 1 spent)"
    )
    zh = i18n.render_reason(cut, "zh", "CNY")
    assert "（2373.12 元）" in zh and "剩余的 1.14 元" in zh and "每花 1 元保护 0.5" in zh
    assert i18n.render_reason(cut, "en", "CNY") == cut  # English keeps the canonical text


def test_explain_writes_the_order_value_with_two_decimals_and_its_unit():
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.config import Policy
    from stockplan.reorder import plan_orders
    from stockplan.report import explain_lines

    frame = pl.DataFrame([plan_row(unit_cost=427.589)], schema_overrides=NULLABLE_NUMBERS)
    order = plan_orders(frame, Policy(), AS_OF, 7).row(0, named=True)
    order["order_value"] = 47462.4
    en = next(line for line in explain_lines(order, None, "cycle", "CNY") if line[:6] == "order ")
    zh = next(
        line for line in explain_lines(order, None, "cycle", "CNY", "zh") if "建议采购" in line
    )
    assert "= 47,462.40 CNY," in en
    assert "金额 47,462.40 元，" in zh


# --- 5. percentages in workbooks -----------------------------------------------------------


def test_targets_service_levels_and_fill_rates_have_a_percent_format_in_xlsx(tmp_path: Path):
    from stockplan.io.writers import write_files

    simulation = pl.DataFrame(
        {
            "policy": ["stockplan"],
            "target": [0.95],
            "fill_rate": [0.985],
            "cycle_service_level": [0.94],
            "rule_fill_rate_compared": [0.9],
        }
    )
    write_files(
        {
            tmp_path / "s.xlsx": ({"simulation": simulation}, "xlsx"),
            tmp_path / "s.csv": ({"simulation": simulation}, "csv"),
        },
        lang="zh",
    )
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx")["策略模拟"]
    header = [c.value for c in sheet[1]]
    for name, fraction in (("目标", 0.95), ("周期服务水平", 0.94), ("满足率", 0.985)):
        cell = sheet.cell(2, header.index(name) + 1)
        assert (cell.value, cell.number_format) == (fraction, "0.0%"), name
    csv = pl.read_csv(tmp_path / "s.csv")
    assert csv["目标"][0] == 0.95 and csv["周期服务水平"][0] == 0.94  # CSV keeps fractions


# --- 6. the HTML report ---------------------------------------------------------------------


def test_report_money_is_in_wan_in_chinese_and_in_k_and_m_in_english():
    from stockplan.report_html import _money

    assert _money(990_000, "CNY", "zh") == "99.0 万元"
    assert _money(8_123, "CNY", "zh") == "8,123 元"
    assert _money(123_000_000, "CNY", "zh") == "1.2 亿元"
    assert _money(990_000, "CNY", "en") == "990.0k CNY"
    assert _money(8_123, "CNY", "en") == "8.1k CNY"
    assert _money(56_000, "CNY", "en") == "56.0k CNY"
    assert _money(1_250_000, "USD", "en") == "1.2M USD"
    assert _money(812, "CNY", "en") == "812 CNY"


def test_report_renders_commands_as_code_not_backticks():
    from test_report_html import _tables

    from stockplan.report_html import html_report

    tables, plan_rows = _tables()
    for lang in ("en", "zh"):
        page = html_report(tables, plan_rows, AS_OF, "CNY", 10, None, lang)
        assert "`" not in page
        assert "<code>stockplan report --simulate</code>" in page


# --- 7. one word per concept -----------------------------------------------------------------


def _chinese_texts() -> list[str]:
    texts = [e["zh"] for e in i18n.MESSAGES.values()]
    texts += [e["zh"] for e in i18n.HEADERS.values()] + [e["zh"] for e in i18n.TABLES.values()]
    texts += [e["zh"] for e in i18n.REASONS.values()]
    texts += [r for _, r in i18n._NOTE_PHRASES if isinstance(r, str)]
    return texts + [r for _, r in i18n._STAGE_PHRASES]


@pytest.mark.parametrize("word", ["盘点", "序列", "未获资金", "最低订货金额", "高风险项数"])
def test_no_chinese_text_uses_a_retired_word(word: str):
    assert not [t for t in _chinese_texts() if word in t]


def test_each_concept_has_one_chinese_name_in_sheets_and_explain():
    zh = i18n.MESSAGES
    assert (
        i18n.header("review_days", "zh") == "订货周期(天)"
        and "订货周期 R" in (zh["explain.supplier"]["zh"])
    )
    assert i18n.header("sigma_lead_time_demand", "zh").startswith("提前期需求标准差")
    assert zh["explain.sigma"]["zh"].startswith("提前期需求标准差 σ_LTD")
    assert i18n.header("sigma_e", "zh").startswith("回测误差")
    assert "回测误差 σ_e" in zh["explain.demand"]["zh"]
    assert i18n.header("min_order_value", "zh") == "起订金额"
    assert i18n.table_title("large_orders", "zh") in zh["title.large_orders"]["zh"]
    assert i18n.header("high_risk", "zh") == zh["summary.high_risk"]["zh"] == "高缺货风险商品数"
    assert i18n.header("promised_service", "zh") in i18n.header("unreachable_promised", "zh")
    assert i18n.header("forecast", "zh") == "每期预测量"
    # every header still reads back to its column
    assert i18n.canonical_column("订货周期(天)") == "review_days"


def test_explain_names_the_bucket_of_the_backtest_error():
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.config import Policy
    from stockplan.reorder import plan_orders
    from stockplan.report import explain_lines

    frame = pl.DataFrame([plan_row(sigma_e=4.47)], schema_overrides=NULLABLE_NUMBERS)
    order = plan_orders(frame, Policy(), AS_OF, 7).row(0, named=True)
    zh = explain_lines(order, None, "cycle", "CNY", "zh", bucket="week")
    assert any("回测误差 σ_e 4.47（每周）" in line for line in zh)
    day = explain_lines(order, None, "cycle", "CNY", "en", bucket="day")
    assert any("backtest error σ_e 4.47 per day" in line for line in day)


# --- 8. CSV for Excel on Chinese Windows ------------------------------------------------------


def test_chinese_csv_files_start_with_a_bom_and_every_plan_reader_accepts_it(
    small_shop: Path, tmp_path: Path
):
    zh, en, plain = tmp_path / "zh", tmp_path / "en", tmp_path / "plain"
    for folder, *options in ((zh, "--lang", "zh"), (en,), (plain, "--lang", "zh", "--no-bom")):
        result = _run("plan", "-c", str(small_shop), "-o", str(folder), "--all", "-q", *options)
        assert result.exit_code == 0, result.output
    assert (zh / "orders.csv").read_bytes().startswith(BOM + "商品编码".encode())
    assert (zh / "risk.csv").read_bytes().startswith(BOM)
    assert not (en / "orders.csv").read_bytes().startswith(BOM)
    assert not (plain / "orders.csv").read_bytes().startswith(BOM)
    piped = _run("plan", "-c", str(small_shop), "-o", "-", "-q", "--lang", "zh")
    assert piped.exit_code == 0 and not piped.stdout_bytes.startswith(BOM)
    asked = _run("plan", "-c", str(small_shop), "-o", "-", "-q", "--lang", "zh", "--bom")
    assert asked.stdout_bytes.startswith(BOM)
    # diff, verify and --previous read a plan with and without a BOM alike
    same = _run("diff", str(zh / "orders.csv"), str(plain / "orders.csv"), "-o", "-")
    assert same.exit_code == 0, same.output
    changes = pl.read_csv(same.stdout_bytes)
    assert changes.height == 0  # one plan, two encodings: nothing changed
    verified = _run("verify", str(zh))
    assert verified.exit_code == 0, verified.output
    previous = _run(
        "risk", "-c", str(small_shop), "--previous", str(zh / "risk.csv"),
        "--fail-on-risk", "new-high", "-o", "-", "-q",
    )  # fmt: skip
    assert previous.exit_code == 0, previous.output


def test_simulate_in_chinese_writes_stock_values_in_yuan_and_targets_as_percentages(
    small_shop: Path, tmp_path: Path
):
    config = yaml.safe_load(small_shop.read_text())
    config["simulate"] = {"targets": [0.9, 0.95], "periods": 8}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "simulation.xlsx"
    result = _run("simulate", "-c", str(small_shop), "-o", str(out), "--lang", "zh")
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "库存金额" in line]
    assert said and all(re.search(r"库存金额 [\d,]+ 元", line) for line in said), said
    assert all(re.search(r"只需 [\d,]+ 元", line) for line in said if "只需" in line), said
    sheet = openpyxl.load_workbook(out)["策略模拟"]
    header = [c.value for c in sheet[1]]
    targets = [sheet.cell(r, header.index("目标") + 1) for r in (2, 3)]
    assert [(c.value, c.number_format) for c in targets] == [(0.9, "0.0%"), (0.95, "0.0%")]


def test_the_report_says_the_order_value_is_missing_when_no_line_has_a_cost():
    from test_report_html import _tables

    from stockplan.report_html import html_report

    tables, plan_rows = _tables()
    uncosted = plan_rows.with_columns(pl.lit(None, pl.Float64).alias("order_value"))
    assert uncosted.filter(pl.col("order_qty") > 0).height > 0
    page = html_report(tables, uncosted, AS_OF, "CNY", 10, None, "zh")
    figure = re.search(r"([^<>]+)</[^>]+>\s*<[^>]+>采购金额<", page)
    assert figure and figure[1] == "缺失", page[:3000]


@pytest.mark.parametrize(
    ("earlier", "column"),
    [
        ("盘点周期(天)", "review_days"),
        ("预测误差σ", "sigma_e"),
        ("提前期需求σ", "sigma_lead_time_demand"),
        ("最低订货金额", "min_order_value"),
        ("预测量", "forecast"),
        ("高风险项数", "high_risk"),
        ("序列数", "series"),
    ],
)
def test_a_plan_written_with_the_earlier_chinese_headers_still_reads_back(
    earlier: str, column: str, tmp_path: Path
):
    # last week's plan, written before one word per concept, is read by diff, verify and
    # --previous: `diff` said "the orders table lacks review_days"
    from stockplan.i18n import canonical_column, canonical_frame, canonical_table

    assert canonical_column(earlier) == column
    assert canonical_frame(pl.DataFrame({"商品编码": ["A"], earlier: [1.0]})).columns == [
        "sku",
        column,
    ]
    assert canonical_table("大额订单") == "large_orders"
