"""What the alerts and the report say must be true: why an item at high risk gets no order,
an alert that fits a robot's size limit by whole items, and excess stock without a cost
that is never shown as 0 or as "no excess"."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import yaml
from conftest import Robot
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import Notify
from stockplan.notify import DINGTALK_MAX_BYTES, WECOM_MAX_BYTES, build_alert, send
from stockplan.report_html import html_report

runner = CliRunner()
AS_OF = dt.date(2025, 10, 13)


def _shop(folder: Path, robot: Robot, extra: dict, products: str, files: dict[str, str]) -> Path:
    """One item A1 at WH1 selling 12 and 8 on alternate days from 2025-06-02 to the day
    before the planning date 2025-10-13 (10 a day), 5 on hand; `products` its product row
    (after the header `sku,name,supplier,moq,unit_cost`), `files` more inputs by key."""
    days = (AS_OF - dt.date(2025, 6, 2)).days
    sales = ["date,sku,location,quantity"] + [
        f"{dt.date(2025, 6, 2) + dt.timedelta(days=i)},A1,WH1,{12 if i % 2 == 0 else 8}"
        for i in range(days)
    ]
    (folder / "sales.csv").write_text("\n".join(sales) + "\n")
    (folder / "stock.csv").write_text("sku,location,on_hand\nA1,WH1,5\n")
    (folder / "products.csv").write_text(f"sku,name,supplier,moq,unit_cost\n{products}\n")
    inputs = {"sales": "sales.csv", "stock": "stock.csv", "products": "products.csv"}
    for key, text in files.items():
        (folder / f"{key}.csv").write_text(text)
        inputs[key] = f"{key}.csv"
    config = {
        "inputs": inputs,
        "planning": {"as_of": AS_OF.isoformat()},
        "forecast": {"backtest_windows": 2},
        "notify": {"channels": {"buyers": {"type": "wecom", "webhook": f"{robot.url}/send"}}},
        **extra,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _plan_and_alert(config: Path, out: Path, robot: Robot, *extra: str) -> tuple[str, dict, dict]:
    """Plan with --all and --notify buyers: (the alert's item line, the order row, the
    risk row), the rows parsed back from the written CSV files."""
    args = ["plan", "-c", str(config), "-o", str(out), "--all", "--notify", "buyers", *extra]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    content = robot.bodies[-1]["markdown"]["content"].splitlines()
    (item,) = [line for line in content if line.startswith("- A1 ")]
    order = pl.read_csv(out / "orders.csv", infer_schema=False).row(0, named=True)
    risk = pl.read_csv(out / "risk.csv", infer_schema=False).row(0, named=True)
    return item, order, risk


def test_an_item_the_budget_left_unfunded_is_not_said_to_be_on_order(tmp_path: Path, robot: Robot):
    # 10 a day over lead time 14 + review 7 and a little safety stock: order-up-to 216,
    # position 5, need 211; the MOQ's first 100 units cost 100 x 10 = 1,000, more than the
    # budget of 500: nothing is funded, nothing is on order, no restock is coming
    config = _shop(tmp_path, robot, {"purchasing": {"budget": 500}}, "A1,Cup,Acme,100,10", {})
    item, order, risk = _plan_and_alert(config, tmp_path / "plan", robot)
    assert (order["order_qty"], order["on_order"]) == ("0", "0")
    assert "not funded by the budget" in order["reason"]
    assert (risk["risk_level"], risk["on_order"], risk["restock_eta"]) == ("high", "0", None)
    assert (
        item == "- A1 Cup @ WH1: out of stock 2025-10-14, order nothing (not funded by the budget)"
    )
    # the plan written without --all leaves the line out of its orders: the alert still knows
    args = ["plan", "-c", str(config), "-o", str(tmp_path / "zh"), "--notify", "buyers"]
    assert runner.invoke(app, [*args, "--lang", "zh"], catch_exceptions=False).exit_code == 0
    lines = robot.bodies[-1]["markdown"]["content"].splitlines()
    assert "- A1 Cup @ WH1：预计 2025-10-14 缺货，建议采购 无（预算不足，未下单）" in lines


def test_an_item_deferred_to_its_suppliers_minimum_says_so(tmp_path: Path, robot: Robot):
    # 211 x 10 = 2,110 is below Acme's minimum of 100,000 and `defer` waits a cycle
    config = _shop(
        tmp_path,
        robot,
        {"purchasing": {"minimum_order_value": "defer"}},
        "A1,Cup,Acme,,10",
        {"suppliers": "supplier,moq_value\nAcme,100000\n"},
    )
    item, order, risk = _plan_and_alert(config, tmp_path / "plan", robot)
    assert (order["order_qty"], order["on_order"], risk["restock_eta"]) == ("0", "0", None)
    assert item == (
        "- A1 Cup @ WH1: out of stock 2025-10-14, order nothing "
        "(deferred to reach the supplier's minimum)"
    )


def test_an_item_with_a_purchase_order_coming_says_how_much_and_when(tmp_path: Path, robot: Robot):
    # an open PO of 40 due 2025-10-20; position 45, need 171, the MOQ's 100 units (1,000)
    # do not fit the budget of 500: not funded, and the 40 on order are said with their day
    config = _shop(
        tmp_path,
        robot,
        {"purchasing": {"budget": 500}},
        "A1,Cup,Acme,100,10",
        {
            "purchase_orders": "po_id,sku,location,supplier,quantity,order_date,expected_date\n"
            "P1,A1,WH1,Acme,40,2025-10-10,2025-10-20\n"
        },
    )
    item, order, risk = _plan_and_alert(config, tmp_path / "plan", robot)
    assert (order["order_qty"], order["on_order"], risk["restock_eta"]) == ("0", "40", "2025-10-20")
    assert item == (
        "- A1 Cup @ WH1: out of stock 2025-10-14, order nothing "
        "(not funded by the budget; 40 on order, due 2025-10-20)"
    )


def test_why_nothing_is_ordered_comes_from_the_rows_in_both_languages():
    risk = pl.DataFrame(
        {
            "sku": ["T1", "P1", "U1"],
            "location": "WH1",
            "stockout_date": [dt.date(2025, 10, 15)] * 3,
            "risk_level": "high",
            "on_order": [0.0, 25.0, 0.0],
            "next_receipt_date": [dt.date(2025, 10, 18), dt.date(2025, 10, 14), None],
            "restock_eta": [dt.date(2025, 10, 18), None, None],
        }
    )
    orders = pl.DataFrame(
        {
            "sku": ["T1", "P1", "U1"],
            "location": "WH1",
            "order_qty": 0.0,
            # words like the budget's clause that no template wrote are no clause of it
            "reason": ["position 5 above reorder point 3", "", "inactive; not funded by budget"],
        }
    )
    en = build_alert(risk, orders, None, AS_OF, "/srv/plan.xlsx")
    assert en.items == [
        # a transfer in on the road (restock_eta, no PO): its day
        "T1 @ WH1: out of stock 2025-10-15, order nothing (restock due 2025-10-18)",
        # a PO arriving before the stockout: its units and its day
        "P1 @ WH1: out of stock 2025-10-15, order nothing (25 on order, due 2025-10-14)",
        "U1 @ WH1: out of stock 2025-10-15, order nothing (see the plan's reason)",
    ]
    zh = build_alert(risk, orders, None, AS_OF, "/srv/plan.xlsx", language="zh")
    assert [line.split("建议采购 ")[1] for line in zh.items] == [
        "无（预计 2025-10-18 补货）",
        "无（在途 25，预计 2025-10-14 到货）",
        "无（原因见计划）",
    ]


def _long_alert(count: int, language: str = "zh", name_repeat: int = 1):
    """`count` items at high risk, each named with 19 Chinese characters (57 bytes) times
    `name_repeat` and 第NN款, ordering 120; notify.top = count."""
    risk = pl.DataFrame(
        {
            "sku": [f"SKU{i:03d}" for i in range(count)],
            "location": "WH1",
            "stockout_date": [dt.date(2025, 10, 14)] * count,
            "risk_level": "high",
        }
    )
    name = "加厚不锈钢真空保温杯大容量户外运动水壶" * name_repeat
    products = pl.DataFrame(
        {"sku": risk["sku"], "name": [f"{name}第{i:02d}款" for i in range(count)]}
    )
    orders = pl.DataFrame({"sku": risk["sku"], "location": "WH1", "order_qty": 120.0})
    where = "/srv/share/计划-2025-10-13.xlsx"
    return build_alert(risk, orders, products, AS_OF, where, top=count, language=language)


def test_a_wecom_alert_fits_4096_bytes_by_whole_items_and_keeps_more_and_the_plan(
    robot: Robot,
):
    alert = _long_alert(50)
    # the markdown's lines in UTF-8: the heading "### stockplan：50 个商品缺货风险高（计划日期
    # 2025-10-13）" 72 bytes, each item "- SKU000 <name> @ WH1：预计 2025-10-14 缺货，建议采购
    # 120" 126, the more line "- ……另有 19 个" 21, a blank line, the plan's "计划文件：/srv/
    # share/计划-2025-10-13.xlsx" 48, joined by k + 3 newlines: 144 + 127 k <= 4,096 for
    # k = 31 (4,081 bytes), not for 32 (4,208)
    lines = alert.markdown.splitlines()
    assert [len(line.encode()) for line in (lines[0], lines[1], lines[-1])] == [72, 126, 48]
    assert len("- ……另有 19 个".encode()) == 21
    assert 144 + 127 * 31 <= WECOM_MAX_BYTES < 144 + 127 * 32
    channels = {"buyers": {"type": "wecom", "webhook": f"{robot.url}/cgi-bin/webhook/send"}}
    send(Notify.model_validate({"top": 50, "channels": channels}), "buyers", alert)
    content = robot.bodies[0]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES
    sent = content.splitlines()
    assert sent[0] == "### stockplan：50 个商品缺货风险高（计划日期 2025-10-13）"
    assert len(content.encode("utf-8")) == 144 + 127 * 31
    assert sent[1:32] == [f"- {line}" for line in alert.items[:31]]  # whole, in order
    assert sent[32:] == ["- ……另有 19 个", "", "计划文件：/srv/share/计划-2025-10-13.xlsx"]
    # the alert itself still lists all 50 (e-mail has no such limit)
    assert len(alert.items) == 50 and alert.hidden == 0


def test_a_dingtalk_alert_fits_its_20000_byte_request_and_a_short_one_is_sent_whole(
    robot: Robot,
):
    channels = {"managers": {"type": "dingtalk", "webhook": f"{robot.url}/robot/send?x=1"}}
    config = Notify.model_validate({"top": 100, "channels": channels})
    short = _long_alert(50)  # 144 + 127 x 50 = 6,494 bytes: every item is sent
    send(config, "managers", short)
    assert robot.bodies[0]["markdown"]["text"] == short.markdown
    # 100 items named with 5 x 19 Chinese characters, in English: the heading 70 bytes, each
    # item 344, "- ... and NN more" 17, "Plan: ..." 39; in the JSON body each newline is
    # 2 bytes and the rest of the payload 128: 128 + 70 + 344 k + 17 + 39 + 2 (k + 3)
    # = 260 + 346 k <= 20,000 for k = 57 (19,982 bytes), not for 58
    long = _long_alert(100, language="en", name_repeat=5)
    assert len(long.markdown.encode()) == 34_611 > DINGTALK_MAX_BYTES
    send(config, "managers", long)
    assert robot.sizes[1] == 260 + 346 * 57 <= DINGTALK_MAX_BYTES < 260 + 346 * 58
    text = robot.bodies[1]["markdown"]["text"].splitlines()
    assert text[1:58] == [f"- {line}" for line in long.items[:57]]
    assert text[58:] == ["- ... and 43 more", "", long.written]
    assert robot.bodies[1]["markdown"]["title"] == long.title


def _report_tables(excess_value: list[float | None], reason: list[str]):
    risk = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "days_of_cover": [200.0],
            "stockout_date": [None],
            "expected_shortage": [0.0],
            "revenue_at_risk": [None],
            "risk_level": ["low"],
        },
        schema_overrides={"stockout_date": pl.Date, "revenue_at_risk": pl.Float64},
    )
    plan_rows = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "abc": ["A"],
            "forecast_per_day": [10.0],
            "safety_stock": [6.0],
            "review_days": [7.0],
            "order_qty": [0.0],
            "order_value": [None],
        },
        schema_overrides={"order_value": pl.Float64},
    )
    count = len(excess_value)
    excess = pl.DataFrame(
        {
            "sku": [f"E{i}" for i in range(count)],
            "location": ["W"] * count,
            "excess_qty": [1483.0, 40.0, 7.0][:count],
            "excess_value": excess_value,
            "reason": reason,
        },
        schema_overrides={"excess_value": pl.Float64},
    )
    suppliers = pl.DataFrame(
        schema={
            "supplier": pl.String,
            "receipts": pl.Int64,
            "lead_time_mean_days": pl.Float64,
            "lead_time_std_days": pl.Float64,
            "on_time_rate": pl.Float64,
        }
    )
    return {"risk": risk, "excess": excess, "suppliers": suppliers}, plan_rows


def _kpis(page: str) -> dict[str, str]:
    boxes = re.findall(r'<div class="kpi"><b>([^<]*)</b><span>([^<]*)</span></div>', page)
    return {label: figure for figure, label in boxes}


def _excess_section(page: str) -> str:
    return re.search(r"<section><h2>[^<]*</h2><p>[^<]*</p><svg id=\"chart-excess\".*?</section>",
                     page, re.S)[0]  # fmt: skip


def test_excess_without_a_cost_is_never_zero_nor_no_excess_in_the_report():
    over = "position 2000 above order-up-to 216 plus 30 days"
    # one line of 1,483 units, no unit cost: its value is unknown, not 0
    tables, plan_rows = _report_tables([None], [over])
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10)
    assert _kpis(page)["excess and dead stock"] == "n/a"
    section = _excess_section(page)
    assert "overstock n/a, dead stock 0 CNY (grey). 1 line without a cost, not counted." in section
    assert "no excess or dead stock" not in section
    assert "1,483 units, no cost" in section and section.count('class="bar"') == 1
    zh = html_report(tables, plan_rows, AS_OF, "CNY", 10, lang="zh")
    assert _kpis(zh)["超储与呆滞库存"] == "缺失"
    assert "超储 缺失，呆滞 0 元（灰色）。1 行缺成本，未计入。" in _excess_section(zh)
    assert "没有超储或呆滞库存" not in zh and "1,483 件，缺成本" in zh
    # 300 known, dead stock 120 known, one line without a cost: 420 and the line said
    tables, plan_rows = _report_tables(
        [300.0, None, 120.0], [over, over, "dead stock: no sale since 2025-01-02"]
    )
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10)
    assert _kpis(page)["excess and dead stock (1 line without a cost, not counted)"] == "420 CNY"
    section = _excess_section(page)
    assert "overstock 300 CNY, dead stock 120 CNY (grey). 1 line without a cost" in section
    assert section.count('class="bar"') == 2  # the two lines with a value, by value
    zh = html_report(tables, plan_rows, AS_OF, "CNY", 10, lang="zh")
    assert _kpis(zh)["超储与呆滞库存（1 行缺成本，未计入）"] == "420 元"


def test_revenue_at_risk_without_a_price_is_never_zero_nor_no_revenue_at_risk():
    """revenue_at_risk = expected_shortage x unit_price: a line short 60 units without a
    price has an unknown value, not 0; a line without a shortage risks nothing."""
    tables, plan_rows = _report_tables([300.0], ["position 2000 above order-up-to"])
    risk = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "days_of_cover": [2.0, 3.0, 90.0],
            "stockout_date": [AS_OF + dt.timedelta(days=2), AS_OF + dt.timedelta(days=3), None],
            "expected_shortage": [60.0, 40.0, 0.0],
            "revenue_at_risk": [None, 40.0 * 25.0, None],  # B priced 25, A and C not
            "risk_level": ["high", "high", "low"],
        }
    )
    page = html_report({**tables, "risk": risk}, plan_rows, AS_OF, "CNY", 10)
    label = "revenue at risk (1 line short without a price, not counted)"
    assert _kpis(page)[label] == "1.0k CNY", _kpis(page)
    zh = html_report({**tables, "risk": risk}, plan_rows, AS_OF, "CNY", 10, lang="zh")
    assert "1 行缺货但缺售价，未计入" in zh
    unpriced = risk.with_columns(pl.lit(None, pl.Float64).alias("revenue_at_risk"))
    page = html_report({**tables, "risk": unpriced}, plan_rows, AS_OF, "CNY", 10)
    assert _kpis(page)["revenue at risk"] == "n/a", _kpis(page)
    assert "no item has revenue at risk" not in page
    assert "2 items short without a price: give them a unit_price to value them" in page
    nothing_short = risk.with_columns(pl.lit(0.0).alias("expected_shortage"))
    page = html_report({**tables, "risk": nothing_short}, plan_rows, AS_OF, "CNY", 10)
    assert _kpis(page)["revenue at risk"] == "0 CNY", _kpis(page)


def test_report_command_on_a_shop_without_costs_does_not_say_no_excess(
    tmp_path: Path, robot: Robot
):
    # 2,000 on hand of an item selling 10 a day and no unit cost: excess_qty 1,483 (the
    # stock above order-up-to plus 30 days of demand), excess_value empty
    config = _shop(tmp_path, robot, {}, "A1,Cup,Acme,,", {})
    (tmp_path / "stock.csv").write_text("sku,location,on_hand\nA1,WH1,2000\n")
    out = tmp_path / "excess.csv"
    args = ["plan", "-c", str(config), "-o", str(out), "-t", "excess"]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    excess = pl.read_csv(out, infer_schema=False).row(0, named=True)
    assert (excess["excess_qty"], excess["excess_value"]) == ("1483", None)
    page_path = tmp_path / "report.html"
    args = ["report", "-c", str(config), "-o", str(page_path)]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    page = page_path.read_text(encoding="utf-8")
    assert _kpis(page)["excess and dead stock"] == "n/a"
    assert "0 CNY excess" not in page and "no excess or dead stock" not in page
    assert "1,483 units, no cost" in _excess_section(page)
