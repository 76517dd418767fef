"""The visual report: a self-contained page whose every chart renders in a real browser.

The browser test needs Chromium from the system packages (`apt-get install -y chromium`);
it is marked `browser` and fails with that instruction when Chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.report_html import CHART_IDS, COLORS, html_report

AS_OF = dt.date(2025, 3, 3)


class _Charts(HTMLParser):
    """Each svg id -> number of drawn marks (bars, dots, lines) inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, int] = {}
        self.current: str | None = None
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "svg":
            self.current = dict(attrs).get("id")
            self.marks[self.current or ""] = 0
        elif self.current and tag in ("rect", "circle", "polyline", "line"):
            self.marks[self.current] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.current = None


def _charts(page: str) -> _Charts:
    parser = _Charts()
    parser.feed(page)
    return parser


def _tables() -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    risk = pl.DataFrame(
        {
            "sku": ["<b>X</b>", "B", "C"],
            "location": ["W"] * 3,
            "days_of_cover": [2.0, 30.0, 5.0],
            "stockout_date": [AS_OF + dt.timedelta(days=2), None, AS_OF + dt.timedelta(days=5)],
            "revenue_at_risk": [100.0, 0.0, 900.0],
            "risk_level": ["high", "low", "medium"],
        }
    )
    plan_rows = pl.DataFrame(
        {
            "sku": ["<b>X</b>", "B", "C"],
            "location": ["W"] * 3,
            "abc": ["A", "B", "A"],
            "forecast_per_day": [10.0, 1.0, 2.0],
            "safety_stock": [40.0, 5.0, 8.0],
            "review_days": [7.0] * 3,
            "order_qty": [50.0, 0.0, 10.0],
            "order_value": [500.0, 0.0, 100.0],
        }
    )
    excess = pl.DataFrame(
        {
            "sku": ["B", "D"],
            "location": ["W", "W"],
            "excess_value": [300.0, 120.0],
            "reason": ["position 40 above order-up-to 12 plus 30 days", "dead stock: never sold"],
        }
    )
    suppliers = pl.DataFrame(
        {
            "supplier": ["Acme", "Beta"],
            "receipts": [10, 4],
            "lead_time_mean_days": [14.0, 30.0],
            "lead_time_std_days": [2.0, None],
            "on_time_rate": [0.9, None],
            "supplier_tier": ["strategic", "unrated"],
        }
    )
    return {"risk": risk, "excess": excess, "suppliers": suppliers}, plan_rows


SIMULATION = pl.DataFrame(
    {
        "policy": ["stockplan"] * 3 + ["baseline"] * 3,
        "fill_rate": [0.9, 0.95, 0.98, 0.85, 0.92, 0.96],
        "avg_inventory_value": [1000.0, 1300.0, 1800.0, 1200.0, 1900.0, 2900.0],
    }
)


def test_every_chart_is_an_inline_svg_and_the_page_loads_nothing_remote():
    tables, plan_rows = _tables()
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10, SIMULATION)
    charts = _charts(page)
    assert list(charts.marks) == list(CHART_IDS)
    assert all(charts.marks[c] > 0 for c in CHART_IDS), charts.marks
    assert not charts.tags & {"script", "link", "img", "iframe", "object"}
    assert not re.search(r"https?:|src=|url\(", page)
    assert "&lt;b&gt;X&lt;/b&gt;" in page and "<b>X</b>" not in page  # codes are escaped


def test_value_at_risk_lists_the_top_items_largest_first_with_stockout_dates():
    tables, plan_rows = _tables()
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10)
    chart = page.split('id="chart-value-at-risk"')[1].split("</svg>")[0]
    labels = re.findall(r'text-anchor="end" font-size="12">([^<]+)</text>', chart)
    # B has nothing at risk; C (900) before X (100)
    assert labels == ["C @ W", "&lt;b&gt;X&lt;/b&gt; @ W"]
    assert "900 CNY · out 2025-03-08" in chart


def test_cover_by_class_compares_median_cover_with_the_policy_target():
    tables, plan_rows = _tables()
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10)
    chart = page.split('id="chart-cover-by-class"')[1].split("</svg>")[0]
    values = re.findall(r'text-anchor="middle">([\d,.]+)</text>', chart)
    # A: cover median(2, 5) = 3.5 -> "4"; target median(40/10 + 3.5, 8/2 + 3.5) = 7.5 -> "8"
    # B: cover 30; target 5/1 + 3.5 = 8.5 -> "8" (half to even)
    assert values == ["4", "8", "30", "8"]


def test_empty_tables_still_give_every_chart_with_a_reason():
    tables, plan_rows = _tables()
    empty = {name: frame.clear() for name, frame in tables.items()}
    page = html_report(empty, plan_rows.clear(), AS_OF, "CNY", 10)
    assert list(_charts(page).marks) == list(CHART_IDS)
    assert "no item has revenue at risk" in page and "no simulation in this report" in page


def test_the_english_page_keeps_its_chart_labels_for_screen_readers():
    tables, plan_rows = _tables()
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10, SIMULATION)
    labels = re.findall(r'<svg id="([^"]+)"[^>]*aria-label="([^"]+)"', page)
    assert dict(labels)["chart-supplier-on-time"] == "supplier on-time rate"
    assert dict(labels)["chart-value-at-risk"] == "revenue at risk of the top 2 items"
    assert '<html lang="en">' in page


def test_the_page_in_chinese_renders_every_title_and_label_with_the_numbers_kept():
    tables, plan_rows = _tables()
    page = html_report(tables, plan_rows, AS_OF, "CNY", 10, SIMULATION, lang="zh")
    assert list(_charts(page).marks) == list(CHART_IDS)
    assert '<html lang="zh-CN">' in page
    assert "<h1>库存报告（计划日期 2025-03-03）</h1>" in page
    for title in (
        "风险销售额：最高的商品",
        "各 ABC 分类的库存可售天数与目标",
        "服务水平与库存（模拟）",
    ):
        assert f"<h2>{title}</h2>" in page
    chart = page.split('id="chart-value-at-risk"')[1].split("</svg>")[0]
    assert "900 元 · 2025-03-08 缺货" in chart  # the number and date kept
    cover = page.split('id="chart-cover-by-class"')[1].split("</svg>")[0]
    assert re.findall(r'text-anchor="middle">([\d,.]+)</text>', cover) == ["4", "8", "30", "8"]
    # no English text is left between the tags, codes and names aside
    visible = re.sub(r"<style>.*?</style>|<[^>]+>", "\n", page, flags=re.S)
    english = [
        line.strip()
        for line in visible.splitlines()
        if re.search(r"[A-Za-z]{3,}", re.sub(r"stockplan|CNY|ABC|@ W|Acme|Beta", "", line))
    ]
    assert english == []
    assert "Acme (战略)" in page  # the supplier's name kept, its tier rendered
    empty = {name: frame.clear() for name, frame in tables.items()}
    page = html_report(empty, plan_rows.clear(), AS_OF, "CNY", 10, lang="zh")
    assert "没有商品有风险销售额" in page and "本报告没有模拟" in page


def _kpis(page: str) -> dict[str, str]:
    """The headline boxes: label -> figure."""
    boxes = re.findall(r'<div class="kpi"><b>([^<]*)</b><span>([^<]*)</span></div>', page)
    return {label: figure for figure, label in boxes}


def test_the_headline_order_value_says_the_lines_it_leaves_out_without_a_cost():
    tables, plan_rows = _tables()
    # C (10 ordered) has no cost: the value is X's 500 alone, and the page says so
    plan_rows = plan_rows.with_columns(
        pl.when(pl.col("sku") == "C")
        .then(None)
        .otherwise(pl.col("order_value"))
        .alias("order_value")
    )
    kpis = _kpis(html_report(tables, plan_rows, AS_OF, "CNY", 10))
    assert kpis["order lines this week"] == "2"
    assert kpis["order value (1 line without a cost, not counted)"] == "500 CNY"
    kpis = _kpis(html_report(tables, plan_rows, AS_OF, "CNY", 10, lang="zh"))
    assert kpis["采购金额（1 行缺成本，未计入）"] == "500 元"
    # every line with a cost: the label alone; none with one: missing, not 0
    assert _kpis(html_report(*_tables(), AS_OF, "CNY", 10))["order value"] == "600 CNY"
    unknown = plan_rows.with_columns(pl.lit(None, pl.Float64).alias("order_value"))
    assert _kpis(html_report(tables, unknown, AS_OF, "CNY", 10))["order value"] == "n/a"


def test_report_command_writes_the_page_and_refuses_other_suffixes(
    small_shop: Path, tmp_path: Path
):
    runner = CliRunner()
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert list(_charts(target.read_text(encoding="utf-8")).marks) == list(CHART_IDS)
    chinese = tmp_path / "report_zh.html"
    args = ["report", "-c", str(small_shop), "-o", str(chinese), "--lang", "zh"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "<h2>供应商准时率</h2>" in chinese.read_text(encoding="utf-8")
    wrong = tmp_path / "report.txt"
    result = runner.invoke(app, ["report", "-c", str(small_shop), "-o", str(wrong)])
    assert result.exit_code == 2 and not wrong.exists()  # a usage error, before any work
    assert "use a .html name" in result.output


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.fail(
        "Chromium is needed for the browser test: apt-get update && apt-get install -y chromium "
        '(or deselect it with -m "not browser")'
    )


def _browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.browser
def test_report_renders_in_headless_chromium_with_every_chart_visible(
    small_shop: Path, tmp_path: Path
):
    from PIL import Image

    stock = small_shop.parent / "stock.csv"  # WH2 holds far more than it needs: overstock
    stock.write_text(stock.read_text().replace("A-100,WH2,500", "A-100,WH2,3000"))
    config, inputs = stockplan.load(small_shop)
    result = stockplan.plan(inputs, config)
    page = tmp_path / "report.html"
    page.write_text(
        html_report(result.tables, result.plan_rows, result.as_of, "CNY", 10, SIMULATION),
        encoding="utf-8",
    )
    # the console check catches a page error (so it can fail) ...
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>missingFunction()</script></body></html>")
    assert _console_errors(_browse(broken, tmp_path / "profile0", "--dump-dom").stderr)
    # ... and the report has none; the rendered DOM holds every chart with its marks
    dom = _browse(page, tmp_path / "profile1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_errors(dom.stderr) == []
    charts = _charts(dom.stdout)
    assert list(charts.marks) == list(CHART_IDS)
    assert all(charts.marks[c] > 0 for c in CHART_IDS), charts.marks

    shot = tmp_path / "report.png"
    run = _browse(page, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,1800")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1800)
    colors = image.getcolors(maxcolors=1 << 20)
    counts = {rgb: n for n, rgb in colors}
    painted = sum(n for rgb, n in counts.items() if rgb != (255, 255, 255))
    assert painted > 0.02 * 1280 * 1800  # not a blank page
    # each chart's own colour is on screen: every chart was drawn inside the screenshot
    for name, hex_color in COLORS.items():
        rgb = tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
        if name != "dead":  # the small shop has overstock but no dead stock
            assert counts.get(rgb, 0) >= 20, f"{name} ({hex_color}) not visible in the screenshot"


def test_report_with_simulate_draws_the_replayed_trade_off(small_shop: Path, tmp_path: Path):
    config = yaml.safe_load(small_shop.read_text())
    config["simulate"] = {"periods": 8, "targets": [0.9, 0.98], "baseline_scales": [1.0, 2.0]}
    small_shop.write_text(yaml.safe_dump(config))
    target = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", "-c", str(small_shop), "-o", str(target), "--simulate", "-q"]
    )
    assert result.exit_code == 0, result.output
    chart = target.read_text(encoding="utf-8").split('id="chart-simulation"')[1]
    chart = chart.split("</svg>")[0]
    # two targets for the policy and two scales for the baseline: four points, two lines
    assert chart.count('class="mark"') == 4 and chart.count("<polyline") == 2


def test_a_long_code_is_shortened_and_its_warehouse_kept_in_chart_labels():
    from stockplan.report_html import _item_label

    code = "SKU-2026-WINTER-COLLECTION-0001"
    one, two = _item_label(code, "WH-SH"), _item_label(code, "WH-BJ")
    assert one != two and one.endswith(" @ WH-SH") and two.endswith(" @ WH-BJ")
    assert len(one) == 26 and one.startswith("SKU-2026-WINTER-C") and "…" in one
    assert _item_label("A-100", "WH1") == "A-100 @ WH1"
    # a short code leaves the room to the warehouses' names
    assert _item_label("A-1", "Warehouse-Shanghai") == "A-1 @ Warehouse-Shanghai"
    assert _item_label("A-1", "Warehouse-Shanghai-Pudong-North") == "A-1 @ Warehouse-Shanghai-…"


def test_the_trade_off_note_says_what_the_replays_wrote_off():
    from stockplan.report_html import simulation_chart

    simulation = pl.DataFrame(
        {
            "policy": [
                "stockplan",
                "stockplan",
                "baseline: reorder at 2 weeks, up to 4 weeks",
                "baseline: reorder at 4 weeks, up to 8 weeks",
            ],
            "target": [0.95, 0.9, None, None],
            "fill_rate": [0.96, 0.91, 0.88, 0.94],
            "avg_inventory_value": [15000.0, 12000.0, 16000.0, 21000.0],
            "expired_value": [800.0, 1234.0, 300.0, 2100.0],
        }
    )
    english = simulation_chart(simulation, "CNY", "en").note
    assert english.endswith(
        "Written off unsold, at cost: policy 90% 1.2k CNY, 95% 800 CNY; "
        "rule of thumb 300 CNY – 2.1k CNY."
    )
    chinese = simulation_chart(simulation, "CNY", "zh").note
    assert chinese.endswith(
        "过期未售出报废（成本）：策略 90% 1,234 元，95% 800 元；经验法则 300 元 – 2,100 元。"
    )
    # nothing expired (no shelf life): the note is the chart's usual one
    unspoilt = simulation.with_columns(pl.lit(0.0).alias("expired_value"))
    assert "Written off" not in simulation_chart(unspoilt, "CNY", "en").note
    assert (
        simulation_chart(unspoilt, "CNY", "en").note
        == simulation_chart(simulation.drop("expired_value"), "CNY", "en").note
    )


def test_value_at_risk_lists_one_item_equal_at_two_warehouses_by_warehouse_whatever_the_order():
    """Ties of revenue at risk are broken by sku and location: by sku alone one item equal
    at two warehouses came out in the order the risk rows came in, and with more of them
    than the chart shows, `head` kept whichever came first."""
    from stockplan.report_html import value_at_risk_charts

    risk = pl.DataFrame(
        {
            "sku": ["A"] * 4 + ["B"],
            "location": ["W3", "W1", "W4", "W2", "W1"],
            "stockout_date": [AS_OF + dt.timedelta(days=d) for d in (4, 2, 5, 3, 9)],
            "revenue_at_risk": [500.0] * 4 + [900.0],
        }
    )
    labels = set()
    for seed in range(6):
        shuffled = risk.sample(fraction=1.0, shuffle=True, seed=seed)
        bars = value_at_risk_charts(shuffled, 4, "CNY")[0].svg
        labels.add(tuple(re.findall(r'text-anchor="end" font-size="12">([^<]+)</text>', bars)))
    assert labels == {("B @ W1", "A @ W1", "A @ W2", "A @ W3")}
