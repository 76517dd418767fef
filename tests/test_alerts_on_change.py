"""Alerts on change: `--previous PLAN` with `--fail-on-risk new-high / worse` and `--notify`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import yaml
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.notify import build_alert

runner = CliRunner()
# the small shop at 2025-10-13: 007 @ WH1 high; A-100 @ WH1 (refilled by a transfer from
# WH2) and A-100 @ WH2 low


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _frame(levels: dict[tuple[str, str], str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [k[0] for k in levels],
            "location": [k[1] for k in levels],
            "risk_level": list(levels.values()),
        }
    )


def _previous(folder: Path, levels: dict[tuple[str, str], str]) -> Path:
    path = folder / "last_week_risk.csv"
    _frame(levels).write_csv(path)
    return path


def _levels(frame: pl.DataFrame) -> dict[tuple[str, str], str]:
    return {(r["sku"], r["location"]): r["risk_level"] for r in frame.iter_rows(named=True)}


def test_news_counts_only_items_new_or_at_a_higher_level_than_before(small_shop: Path):
    config, inputs = stockplan.load(small_shop)
    risk = stockplan.plan(inputs, config).risk
    now = _levels(risk)
    assert now[("007", "WH1")] == "high"
    assert now[("A-100", "WH1")] == "low" and now[("A-100", "WH2")] == "low"
    high = ["high"]  # --fail-on-risk new-high
    # the same plan as the previous one: nothing is new, although an item is high
    assert stockplan.risk_news(risk, risk, high).height == 0
    # last week 007 was only medium and A-100 @ WH1 high: one item is news
    last = _frame({("007", "WH1"): "medium", ("A-100", "WH1"): "high"})
    assert _levels(stockplan.risk_news(risk, last, high)) == {("007", "WH1"): "high"}
    # both already high last week: no news
    last = _frame({("007", "WH1"): "high", ("A-100", "WH1"): "high"})
    assert stockplan.risk_news(risk, last, high).height == 0
    worse = ["high", "medium"]  # --fail-on-risk worse
    same = _frame({("007", "WH1"): "high", ("A-100", "WH1"): "high", ("A-100", "WH2"): "low"})
    assert stockplan.risk_news(risk, same, worse).height == 0
    # A-100 @ WH2 was high and is low now: better is not news; 007 absent before: new
    last = _frame({("A-100", "WH1"): "high", ("A-100", "WH2"): "high"})
    assert _levels(stockplan.risk_news(risk, last, worse)) == {("007", "WH1"): "high"}


def test_new_high_exits_3_when_an_item_is_news_and_0_against_the_same_plan(
    small_shop: Path, tmp_path: Path
):
    out = str(tmp_path / "plan.xlsx")
    assert _invoke("plan", "-c", str(small_shop), "-o", out, "-q").exit_code == 0
    # the same plan as the previous one, read back from the workbook: nothing is new
    again = str(tmp_path / "again.xlsx")
    args = ["plan", "-c", str(small_shop), "-o", again, "--fail-on-risk"]
    assert _invoke(*args, "new-high", "--previous", out).exit_code == 0
    last = _previous(tmp_path, {("007", "WH1"): "medium", ("A-100", "WH1"): "high"})
    result = _invoke(*args, "new-high", "--previous", str(last))
    assert result.exit_code == 3
    assert "1 item newly at high stockout risk since --previous: exit 3" in result.stderr


def test_worse_exits_3_naming_the_count_of_items_at_a_higher_level(
    small_shop: Path, tmp_path: Path
):
    out = str(tmp_path / "risk.csv")
    args = ["risk", "-c", str(small_shop), "-o", out, "--fail-on-risk", "worse", "--previous"]
    last = _previous(tmp_path, {("A-100", "WH1"): "high", ("A-100", "WH2"): "high"})
    result = _invoke(*args, str(last))
    assert result.exit_code == 3
    assert "1 item at a higher stockout risk level than in --previous" in result.stderr


def test_new_high_without_previous_is_refused_before_planning(small_shop: Path, tmp_path: Path):
    out = tmp_path / "plan.csv"
    result = _invoke("plan", "-c", str(small_shop), "-o", str(out), "--fail-on-risk", "new-high")
    assert result.exit_code == 2  # a usage error, like any other bad option
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--fail-on-risk': new-high needs --previous PLAN"
    )
    assert not out.exists()


def _risk() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["S1", "S2", "S3", "S4"],
            "location": "WH1",
            "stockout_date": [dt.date(2025, 10, 15), None, dt.date(2025, 10, 20), None],
            "risk_level": ["high", "high", "high", "low"],
        }
    )


def test_the_alert_lists_only_new_or_worsened_high_items_and_says_which():
    previous = pl.DataFrame(
        {"sku": ["S1", "S2", "S4"], "location": "WH1", "risk_level": ["high", "medium", "high"]}
    )
    alert = build_alert(
        _risk(), None, None, dt.date(2025, 10, 13), "/srv/plan.xlsx", previous=previous,
        previous_as_of="2025-10-06",
    )  # fmt: skip
    assert alert.high_risk == 2
    assert alert.text == (
        "stockplan: 2 items newly at high stockout risk since the plan of 2025-10-06 "
        "(plan as of 2025-10-13)\n\n"
        "S2 @ WH1: may run out before the next delivery, order nothing (see the plan's reason)"
        " (was medium)\n"
        "S3 @ WH1: out of stock 2025-10-20, order nothing (see the plan's reason) (new)\n"
        "Plan: /srv/plan.xlsx"
    )
    zh = build_alert(
        _risk(), None, None, dt.date(2025, 10, 13), "x", language="zh", previous=previous,
        previous_as_of="2025-10-06",
    )  # fmt: skip
    assert (
        zh.title
        == "stockplan：自 2025-10-06 的计划以来新增 2 个缺货风险高的商品（计划日期 2025-10-13）"
    )
    assert zh.lines[0].endswith("（原为中风险）") and zh.lines[1].endswith("（新增）")


def test_notify_with_previous_sends_only_the_news(small_shop: Path, tmp_path: Path, monkeypatch):
    import stockplan.notify

    sent = []
    monkeypatch.setattr(stockplan.notify, "send", lambda config, name, alert: sent.append(alert))
    config = yaml.safe_load(small_shop.read_text())
    config["notify"] = {"channels": {"buyers": {"type": "wecom", "webhook": "https://x/y"}}}
    small_shop.write_text(yaml.safe_dump(config))
    last = _previous(tmp_path, {("007", "WH1"): "medium", ("A-100", "WH1"): "high"})
    out = str(tmp_path / "plan.xlsx")
    args = ["plan", "-c", str(small_shop), "-o", out, "--notify", "buyers", "--previous"]
    assert _invoke(*args, str(last)).exit_code == 0
    (alert,) = sent
    assert alert.high_risk == 1
    assert alert.lines[0] == ("007 Slow item @ WH1: out of stock 2025-10-20, order 10 (was medium)")
    # nothing new: no message at all
    last = _previous(tmp_path, {("007", "WH1"): "high", ("A-100", "WH1"): "high"})
    result = _invoke(*args, str(last))
    assert result.exit_code == 0 and len(sent) == 1
    assert "no item newly at high stockout risk: no alert sent" in result.stderr


def test_a_previous_risk_table_that_lost_its_leading_zeros_is_refused_not_news(
    small_shop: Path, tmp_path: Path
):
    """Last week's risk.csv opened in a spreadsheet and saved: 007 became 7. Compared as
    written, 007 was absent last week, so it was 'newly at high risk' (exit 3, and '(new)'
    in the alert) although it was high then too; `diff` already refused such a file."""
    last = _previous(tmp_path, {("7", "WH1"): "high", ("A-100", "WH1"): "low"})
    for command, out in [("plan", "this_week.xlsx"), ("risk", "risk.csv")]:
        target = tmp_path / out
        args = [command, "-c", str(small_shop), "-o", str(target), "--previous", str(last)]
        result = _invoke(*args, "--fail-on-risk", "new-high")
        assert result.exit_code == 1, result.stderr
        assert result.stderr.strip().splitlines()[-1] == (
            f"stockplan: error: {last}, column 'sku': '7' is '007' in this run's risk table, "
            "with its leading zeros: a spreadsheet read the code as a number; format the SKU "
            "column as text and enter the codes with their zeros"
        )
        assert not target.exists()

    def plan_against(previous: Path, *args: str):
        out = tmp_path / "again.xlsx"
        return _invoke(
            "plan", "-c", str(small_shop), "-q", "-o", str(out), "--previous", str(previous), *args
        )

    result = plan_against(last, "--lang", "zh")
    assert result.exit_code == 1 and "本次运行的缺货风险表" in result.stderr, result.stderr
    # a previous plan that lists both 7 and 007 has two items: compared as it is
    both_codes = _previous(tmp_path, {("7", "WH1"): "high", ("007", "WH1"): "high"})
    result = plan_against(both_codes, "--fail-on-risk", "new-high")
    assert result.exit_code == 0, result.stderr
