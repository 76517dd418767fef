"""What a Chinese buyer reads on an 80-column terminal: headers wrapped between words, the
width used for the columns that say something, days of cover as in the sheet, explain's
lines and charts, and the simulate and alert wording."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import polars as pl
import yaml
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from stockplan import i18n
from stockplan.cli import app
from stockplan.report import explain_chart, explain_lines, simulate_pattern_lines, terminal_table

runner = CliRunner()


def _run(*args: str, **env: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env=env or None)


def _render(frame: pl.DataFrame, name: str, lang: str = "zh", width: int = 80):
    shown = terminal_table(frame, name, "t", width=width, lang=lang)
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(shown.table)
    for note in shown.notes:
        console.print(note, highlight=False)
    return shown, console.export_text()


def _headers(shown) -> dict[str, str]:
    """Each shown column's header as rendered (lines joined by |)."""
    return {
        column: str(c.header).replace("\n", "|")
        for column, c in zip(shown.shown, shown.table.columns, strict=True)
    }


def _suppliers() -> pl.DataFrame:
    """The sample's scorecard: five suppliers, every one of tier standard."""
    return pl.DataFrame(
        {
            "supplier": ["Global Import Ltd", "Huadong Foods", "Northern Household"]
            + ["Pearl River Trading", "Yiwu Goods Co"],
            "receipts": [2886, 2147, 2984, 2411, 5365],
            "lead_time_mean_days": [41.9, 5.0, 14.0, 10.0, 21.0],
            "lead_time_std_days": [7.7, 1.0, 3.0, 2.0, 4.9],
            "on_time_rate": [0.532, 0.697, 0.565, 0.599, 0.536],
            "fill_rate": [0.989, 0.990, 0.987, 0.987, 0.989],
            "quantity_fill_rate": [0.989, 0.991, 0.986, 0.986, 0.990],
            "supplier_tier": ["standard"] * 5,
        }
    )


# --- 1. Chinese headers wrap between words ----------------------------------------------


def test_chinese_headers_wrap_between_words_never_inside_one():
    orders = pl.DataFrame(
        {
            "sku": ["011491", "010630"],
            "name": ["Beverage item 214", "Snacks item 91"],
            "location": ["WH-GZ", "WH-BJ"],
            "order_qty": [240.0, 109.0],
            "order_value": [47462.4, 13557.42],
            "expected_arrival": [dt.date(2026, 11, 28), dt.date(2026, 11, 29)],
            "risk_level": ["high", "medium"],
        }
    )
    shown, text = _render(orders, "orders")
    # before: 建议采购|量 (a header cut after four characters)
    assert _headers(shown)["order_qty"] in ("建议采购量", "建议|采购量")
    assert "建议采购\n" not in text.replace(" ", "")
    shown, text = _render(_suppliers(), "suppliers")
    headers = _headers(shown)
    # before: 平均提前|期(天) and 提前期标|准差(天)
    assert headers["lead_time_mean_days"] in (
        "平均提前期(天)",
        "平均提前期|(天)",
        "平均|提前期|(天)",
    )
    assert headers["lead_time_std_days"] in (
        "提前期标准差(天)",
        "提前期标准差|(天)",
        "提前期|标准差|(天)",
    )
    for line in headers["lead_time_mean_days"].split("|"):  # rich draws them as they are
        assert line in text
    risk = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "risk_level": ["high", "low"],
            "location": ["W1", "W2"],
            "stockout_date": [dt.date(2026, 11, 23), None],
        }
    )
    shown, _ = _render(risk, "risk")
    assert _headers(shown)["stockout_date"] in (
        "预计缺货日期",
        "预计|缺货日期",
    )  # not 预计缺货日|期
    diff = pl.DataFrame(
        {
            "sku": ["010861", "011848"],
            "location": ["WH-SH", "WH-BJ"],
            "change": ["changed", "appeared"],
            "old_order_qty": [2244.0, 0.0],
            "new_order_qty": [2784.0, 380.0],
        }
    )
    shown, _ = _render(diff, "diff")
    assert _headers(shown)["old_order_qty"] in (
        "原建议采购量",
        "原建议|采购量",
    )  # not 原建议采|购量


def test_a_chinese_header_is_on_one_line_when_the_terminal_has_room():
    shown, text = _render(_suppliers(), "suppliers", width=120)
    assert set(_headers(shown).values()) >= {"平均提前期(天)", "提前期标准差(天)", "数量满足率"}
    assert "平均提前期(天)" in text


# --- 2. the width goes to the columns that say something --------------------------------


def test_suppliers_show_every_rate_at_80_columns_and_name_the_tier_all_share():
    shown, text = _render(_suppliers(), "suppliers")
    # before: 70 cells wide, 数量满足率 and 供应商等级 hidden
    assert "quantity_fill_rate" in shown.shown and "99.1%" in text
    assert "supplier_tier" not in shown.shown and shown.hidden == []
    assert "各行相同，未列出：供应商等级 普通" in text
    assert all(cell_len(line) <= 80 for line in text.splitlines())


def test_diff_shows_the_causes_and_leaves_out_an_empty_note():
    diff = pl.DataFrame(
        {
            "sku": ["010861", "011848"],
            "location": ["WH-SH", "WH-BJ"],
            "change": ["changed", "appeared"],
            "old_order_qty": [2244.0, 0.0],
            "new_order_qty": [2784.0, 380.0],
            "causes": [
                "config -151.2; demand +417.3; lead time +159.6; safety stock +110.8; "
                "constraints +3.4",
                "lead time +199.3; safety stock +180.4; constraints +0.3",
            ],
            "note": ["", ""],
        }
    )
    shown, text = _render(diff, "diff")
    # before: causes hidden at 80 columns, an empty 备注 column shown
    assert "causes" in shown.shown and "note" not in shown.shown and shown.hidden == []
    assert "备注" not in text and "变化原因" in text
    # a cause stays with its number: lines break between two causes
    flat = [line.strip() for line in text.splitlines()]
    assert any(line.endswith("需求 +417.3；") or "需求 +417.3；" in line for line in flat)
    assert not any(line.endswith("需求") for line in flat)
    assert all(cell_len(line) <= 80 for line in text.splitlines())


def test_simulation_shows_stock_and_stockout_days_not_a_constant_days_column():
    rule = "baseline: reorder at 2 weeks, up to 4 weeks"
    simulation = pl.DataFrame(
        {
            "policy": ["stockplan", "stockplan", rule],
            "target": [0.9, 0.95, None],
            "fill_rate": [0.957, 0.975, 0.683],
            "cycle_service_level": [0.904, 0.946, 0.609],
            "stockout_days": [2500, 1297, 17520],
            "avg_inventory_value": [1_450_000.0, 1_725_000.0, 964_000.0],
            "orders_placed": [8400, 8399, 2841],
            "avg_inventory_units": [41000.0, 48000.0, 30000.0],
            "unmet_units": [18000.0, 12511.0, 150000.0],
            "series": [625, 625, 625],
            "days": [182, 182, 182],
        }
    )
    shown, text = _render(simulation, "simulation")
    # before: 天数 182 shown on every row while 平均库存金额 and 缺货天数 were hidden
    assert {"avg_inventory_value", "stockout_days"} <= set(shown.shown)
    assert "days" not in shown.shown and "series" not in shown.shown
    assert "天数 182" in text and "商品×仓库数 625" in text
    assert "本工具策略" in text and "stockplan" not in text  # before: the policy row read stockplan
    assert "1,725,000.00" in text and "17,520" in text


# --- 3. days of cover as in the sheet ---------------------------------------------------


def test_days_of_cover_is_negative_as_in_the_sheet_and_never_minus_zero():
    risk = pl.DataFrame(
        {
            "sku": ["010112", "010147", "010099"],
            "risk_level": ["high", "high", "low"],
            "location": ["WH-BJ", "WH-SH", "WH-SH"],
            "days_of_cover": [-38.99, -0.04, 120.0],
        }
    )
    _, text = _render(risk, "risk", lang="en", width=120)
    rows = {line.split()[0]: line for line in text.splitlines() if line[:6].isdigit()}
    # the sheet shows -38.99 (#,##0.00): 39 days of demand already owed (before: 0)
    assert " -39.0" in rows["010112"]
    assert " 0.0" in rows["010147"] and "-0.0" not in rows["010147"]
    assert " 120.0" in rows["010099"]


# --- 4. explain's charts ------------------------------------------------------------------


def _chart_inputs():
    history = pl.DataFrame({"demand": [float(70 + (i * 7) % 60) for i in range(52)]})
    forecast = pl.DataFrame(
        {"forecast": [130.0] * 13, "lo": [95.0] * 13, "hi": [155.0] * 13},
    )
    # 240 ordered, 132 sold a week: 266 at the start, down to -1,700 without the order
    projection = pl.DataFrame(
        {
            "projected_stock": [266.0 - 132 * w + (240 if w >= 1 else 0) for w in range(13)],
            "projected_without_order": [266.0 - 165 * w for w in range(13)],
        }
    )
    order = {"reorder_point": 265.9, "safety_stock": 36.8}
    return history, projection, forecast, order


def test_explain_chart_axes_read_whole_numbers_not_scientific_notation():
    history, projection, forecast, order = _chart_inputs()
    charts = explain_chart(history, projection, forecast, order, 80, "week", "zh")
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", drawing) for _, drawing in charts]
    for drawing in plain:
        assert not re.search(r"\d\.\de\d", drawing)  # before: 2.7e2, -1.2e3
    labels = [
        found.group(1)
        for line in plain[1].splitlines()
        if (found := re.match(r"^\s*([^\s┤┼│├┌└]+)[┤┼]", line))
    ]
    assert "-1,500" in labels and "0" in labels  # thousands with a separator
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*", label) for label in labels), labels
    bottom = plain[1].splitlines()[-1].split()
    assert bottom == ["0", "2", "4", "6", "8", "10", "12"]  # weeks from now, whole


def test_explain_chart_titles_are_chinese_lines_outside_an_ascii_canvas():
    history, projection, forecast, order = _chart_inputs()
    charts = explain_chart(history, projection, forecast, order, 80, "week", "zh")
    (demand_lines, demand), (stock_lines, stock) = charts
    assert demand_lines == [
        "每周需求：历史与预测（横轴：距今周数）",
        "0 左侧：历史；0 起：预测；点：预测上下限",
    ]
    assert stock_lines[0] == "每周末预计库存（低于 0 即缺货）"
    assert "再订货点" in stock_lines[1] and "安全库存" in stock_lines[1]
    for drawing in (demand, stock):  # no word inside the canvas, so nothing to misalign
        assert "demand" not in drawing and "projected" not in drawing
        assert not any(unicodedata.east_asian_width(ch) in "WF" for ch in drawing)
        lines = re.sub(r"\x1b\[[0-9;]*m", "", drawing).splitlines()
        assert {cell_len(line) for line in lines} == {80}  # every row as wide as the next
    english = explain_chart(history, projection, forecast, order, 80, "week", "en")
    assert english[1][0][0] == "projected stock at the end of each week (below 0: short)"


# --- 5. explain's lines ------------------------------------------------------------------


def _order(**changes) -> dict:
    row = {
        "sku": "011491",
        "location": "WH-GZ",
        "supplier": "Huadong Foods",
        "lead_time_days": 5.1,
        "lead_time_std_days": 1.0,
        "lead_time_source": "sku_history",
        "review_days": 7.0,
        "policy_type": "rs",
        "demand_pattern": "smooth",
        "abc": "A",
        "xyz": "X",
        "model": "AutoTheta",
        "forecast_per_day": 3.75,
        "sigma_e": 4.47,
        "on_hand": 47.0,
        "on_order": 0.0,
        "backorders": 0.0,
        "allocated": 6.0,
        "transfer_qty": 0.0,
        "inventory_position": 41.0,
        # k = 11.1 / 6.94 = 1.60 (z of 94.5 %); mu = 56.6 - 11.1 = 45.5
        "safety_stock": 11.1,
        "reorder_point": 56.6,
        "order_up_to": 56.6,
        "sigma_lead_time_demand": 6.94,
        "service_level": 0.98,
        "order_qty": 24.0,
        "order_value": 4746.24,
        "expected_arrival": dt.date(2026, 11, 28),
        "reason": "position 41 below reorder point 56.6: need 15.6 to reach 56.6",
    }
    return row | changes


def test_explain_safety_stock_line_reads_as_k_times_sigma():
    zh = explain_lines(_order(), None, "cycle", "CNY", "zh")
    assert "安全库存 = k × σ_LTD = 1.60 × 6.94 = 11.1（周期服务水平 98.0%）" in zh
    en = explain_lines(_order(), None, "cycle", "CNY", "en")
    assert "safety stock = k × σ_LTD = 1.60 × 6.94 = 11.1 (cycle service level 98.0%)" in en
    assert any("补货策略 (R,S) 定期补货至最高库存" in line for line in zh)


def test_explain_names_a_missing_cost_and_supplier_in_words():
    zh = explain_lines(_order(order_value=None, supplier=None), None, "cycle", "CNY", "zh")
    assert zh[0].startswith("供应商：未指定；提前期 L = 5.1 天")  # before: 供应商 -：
    order = next(line for line in zh if line.startswith("建议采购"))
    assert order.startswith("建议采购 24，金额：缺单位成本，预计到货 2026-11-28：")  # 金额 缺失 CNY
    en = explain_lines(_order(order_value=None, supplier=None), None, "cycle", "CNY", "en")
    assert en[0].startswith("supplier: none given; lead time L = 5.1 days")
    assert any(line.startswith("order 24 = value n/a (no unit cost), arriving") for line in en)


def test_explain_a_zero_order_has_no_arrival_and_no_double_colon():
    nothing = _order(
        order_qty=0.0,
        order_value=0.0,
        inventory_position=133.0,
        reason="no order: position 133 not below reorder point 48.2",
    )
    zh = explain_lines(nothing, None, "cycle", "CNY", "zh")
    # before: 建议采购 0，金额 0 CNY，预计到货 2026-11-28：不订货：…
    assert "不订货：库存位置 133 不低于再订货点 48.2" in zh
    assert not any("预计到货" in line or "：不订货" in line for line in zh)
    en = explain_lines(nothing, None, "cycle", "CNY", "en")
    assert "no order: position 133 not below reorder point 48.2" in en
    assert not any("arriving" in line for line in en)
    cut = _order(order_qty=0.0, order_value=0.0)  # zero for another reason: said in brackets
    zh = explain_lines(cut, None, "cycle", "CNY", "zh")
    assert "建议采购 0（库存位置 41 低于再订货点 56.6：需 15.6 补至最高库存 56.6）" in zh


def test_explain_risk_line_shows_negative_cover_as_the_sheet():
    risk = {
        "risk_level": "high",
        "stockout_probability": 1.0,
        "stockout_date": dt.date(2026, 11, 23),
        "days_of_cover": -38.99,
        "next_receipt_date": None,
    }
    en = explain_lines(_order(), risk, "cycle", "CNY", "en")
    assert any("days of cover -39," in line for line in en)  # before: 0
    risk["days_of_cover"] = -0.04
    zh = explain_lines(_order(), risk, "cycle", "CNY", "zh")
    assert any("可售天数 0，" in line for line in zh)


# --- 6. simulate, alerts and expiry in Chinese --------------------------------------------


def test_simulate_says_nothing_for_patterns_without_demand():
    rule = "baseline: reorder at 2 weeks, up to 4 weeks"
    by_pattern = pl.DataFrame(
        {
            "demand_pattern": ["smooth", "dead"],
            "policy": [rule, rule],
            "target": [None, None],
            "fill_rate": [0.97, 0.0],
            "avg_inventory_value": [4_469_827.0, 0.0],
            "policy_inventory_at_same_fill": [1_372_305.0, 0.0],
        },
        schema_overrides={"target": pl.Float64},
    )
    lines = simulate_pattern_lines(by_pattern, "zh")
    # before: 呆滞，…：满足率 0.0%，库存金额 0；策略达到同一满足率只需 0
    assert lines == [
        "平稳，经验法则：低于 2 周用量时补货，补至 4 周用量：满足率 97.0%，库存金额 4,469,827；"
        "策略达到同一满足率只需 1,372,305"
    ]


def test_simulate_title_says_the_target_and_lost_demand_in_words():
    title = i18n.message(
        "title.simulation",
        "zh",
        as_of="2026-11-23",
        measure=i18n.message("measure.cycle", "zh"),
        unmet=i18n.message("unmet.lost", "zh"),
    )
    assert title == "策略模拟（计划日期 2026-11-23；目标：周期服务水平；缺货需求按流失计）"


def test_worse_and_expiry_messages_read_in_chinese(small_shop: Path, tmp_path: Path):
    config = yaml.safe_load(small_shop.read_text())
    config["planning"] = {"language": "zh"}
    small_shop.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    last = tmp_path / "last_week_risk.csv"
    pl.DataFrame(
        {"sku": ["A-100", "A-100"], "location": ["WH1", "WH2"], "risk_level": ["high"] * 2}
    ).write_csv(last)
    out = str(tmp_path / "risk.csv")
    result = _run(
        "risk", "-c", str(small_shop), "-o", out, "--fail-on-risk", "worse", "--previous", str(last)
    )
    assert result.exit_code == 3
    assert "1 个商品的缺货风险等级比上次计划（--previous）升高：退出码 3" in result.stderr
    result = _run("expiry", "-c", str(small_shop), "-q")
    assert result.exit_code == 1
    assert "库存文件缺少“有效期至”列，无法生成过期风险表" in result.stderr


def test_a_yes_no_column_reads_in_words_not_true():
    orders = pl.DataFrame(
        {
            "supplier": ["Global Import Ltd", "Huadong Foods", "Yiwu Goods Co"],
            "lines": [46, 44, 12],
            "meets_minimum": [True, True, False],
        }
    )
    _, text = _render(orders, "supplier_orders")
    assert "是" in text and "否" in text and "True" not in text  # before: True / False
    _, text = _render(orders.head(2), "supplier_orders")
    assert "各行相同，未列出：达到起订金额 是" in text


def test_a_plan_written_with_the_earlier_policy_word_still_reads_back():
    earlier = pl.DataFrame({"补货策略": ["(R,S) 定期补至", "(R,S) 定期补货至最高库存"]})
    assert i18n.canonical_frame(earlier)["policy_type"].to_list() == ["rs", "rs"]
