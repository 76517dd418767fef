"""What the report says must be true: excess stock without a cost is never shown as 0 or
as "no excess"."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.report_html import html_report

runner = CliRunner()
AS_OF = dt.date(2025, 10, 13)


class Robot:
    """A local robot webhook: keeps the JSON bodies it is sent, answers errcode 0."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.sizes: list[int] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                robot.sizes.append(len(raw))
                robot.bodies.append(json.loads(raw.decode("utf-8")))
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    server = Robot()
    yield server
    server.close()


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


def _report_tables(excess_value: list[float | None], reason: list[str]):
    risk = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "days_of_cover": [200.0],
            "stockout_date": [None],
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
