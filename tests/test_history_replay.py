"""`simulate --baseline history`: the company's own purchase orders replayed next to the policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.history_replay import BUYERS, buyer_receipts, replay_receipts

START = dt.date(2025, 1, 6)


def test_receipts_replay_counts_lost_sales_inventory_and_cycles_by_hand():
    # 5 in stock, demand 3 a day for 9 days then 0; 12 received on day 2, 6 on day 7
    demand = np.array([[3.0] * 9 + [0.0]])
    receipts = np.zeros((1, 10))
    receipts[0, 2], receipts[0, 7] = 12.0, 6.0
    result = replay_receipts(
        demand, receipts, np.array([5.0]), np.array([2.0]), review_days=7, backorder=False
    )
    # end of day: 2 0 | +12: 9 6 3 0 0 | +6: 3 0 0; short on day 1 (1 of 3 lost) and day 6 (3)
    ends = [2, 0, 9, 6, 3, 0, 0, 3, 0, 0]
    assert result["unmet_units"] == 4
    assert result["fill_rate"] == pytest.approx(23 / 27)
    assert result["stockout_days"] == 2
    assert result["avg_inventory_units"] == pytest.approx(sum(ends) / 10)
    assert result["avg_inventory_value"] == pytest.approx(2 * sum(ends) / 10)
    # cycle days 0-6 had a stockout, cycle days 7-9 had demand and none
    assert result["cycle_service_level"] == 0.5


def test_the_buyers_cycles_are_each_series_own_review_period():
    # two series with nothing in stock: 3 wanted on day 3 (lost), 12 received on day 8,
    # 3 wanted on day 10 (served). Reviewed every 7 days the first has two cycles with
    # demand, days 0-6 short and 7-13 not; reviewed every 14 days (its supplier's R) the
    # second has one, days 0-13, short: 1 of 3 cycles without a stockout (2 of 4 with
    # both on 7 days)
    demand = np.zeros((2, 14))
    demand[:, 3] = demand[:, 10] = 3.0
    receipts = np.zeros((2, 14))
    receipts[:, 8] = 12.0
    args = (demand, receipts, np.zeros(2), np.ones(2))
    own = replay_receipts(*args, review_days=np.array([7, 14]), backorder=False)
    assert own["cycle_service_level"] == pytest.approx(1 / 3)
    weekly = replay_receipts(*args, review_days=7, backorder=False)
    assert weekly["cycle_service_level"] == pytest.approx(2 / 4)
    assert own["fill_rate"] == weekly["fill_rate"] == pytest.approx(0.5)


def test_only_lines_ordered_in_the_window_count_and_arrive_on_their_received_date():
    series = pl.DataFrame({"sku": ["A"], "location": ["W"]})
    lines = pl.DataFrame(
        {
            "po_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "sku": ["A", "A", "A", "A", "B", "A"],
            "location": "W",
            "quantity": [50.0, 10.0, 7.0, 9.0, 4.0, 5.0],
            "received_quantity": [50.0, 8.0, None, None, 4.0, None],
            "order_date": [START + dt.timedelta(days=k) for k in (-1, 0, 1, 4, 0, 3)],
            "received_date": [
                START + dt.timedelta(days=2),  # P1 ordered before the window: not ours
                START + dt.timedelta(days=2),  # P2: 8 of 10 received on day 2
                None,  # P3: still open
                START + dt.timedelta(days=24),  # P4: received after the window ends
                START + dt.timedelta(days=1),  # P5: a series not replayed
                START + dt.timedelta(days=6),  # P6: 5 on day 6
            ],
        }
    )
    receipts, placed = buyer_receipts(lines, series, START, 10)
    expected = np.zeros((1, 10))
    expected[0, 2], expected[0, 6] = 8.0, 5.0
    assert np.array_equal(receipts, expected)
    assert placed == 4  # P2, P3, P4, P6


def _eight_weeks_at_two_targets(small_shop: Path) -> None:
    config = yaml.safe_load(small_shop.read_text())
    config["simulate"] = {"targets": [0.9, 0.95], "periods": 8}
    small_shop.write_text(yaml.safe_dump(config))


def test_simulate_puts_your_buyers_next_to_the_policy_on_the_same_days(small_shop: Path):
    _eight_weeks_at_two_targets(small_shop)
    config, inputs = stockplan.load(small_shop)
    table = stockplan.simulate(inputs, config, baselines=("history",)).simulation
    assert table["policy"].to_list() == ["stockplan", "stockplan", BUYERS]
    buyers = table.filter(pl.col("policy") == BUYERS).row(0, named=True)
    policy = table.filter(pl.col("policy") == "stockplan")
    assert (policy["days"] == buyers["days"]).all() and (policy["series"] == buyers["series"]).all()
    # the two purchase orders of the small shop (A-100 @ WH1, 2025-09-20 and 2025-10-01)
    # fall inside the 8 weeks replayed
    assert buyers["orders_placed"] == 2
    assert 0 < buyers["fill_rate"] <= 1 and buyers["unmet_units"] >= 0


def test_simulate_command_writes_the_buyers_row_and_the_tradeoff_chart(
    small_shop: Path, tmp_path: Path
):
    """The command-line wiring of `--baseline history` and `--plot`."""
    _eight_weeks_at_two_targets(small_shop)
    out, png = tmp_path / "simulation.csv", tmp_path / "tradeoff.png"
    args = ["simulate", "-c", str(small_shop), "-o", str(out), "--plot", str(png), "-q"]
    result = CliRunner().invoke(app, [*args, "--baseline", "history"])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out)["policy"].to_list() == ["stockplan", "stockplan", BUYERS]
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_history_baseline_without_purchase_orders_is_one_line(small_shop: Path, tmp_path: Path):
    config = yaml.safe_load(small_shop.read_text())
    del config["inputs"]["purchase_orders"]
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "simulation.csv"
    result = CliRunner().invoke(
        app, ["simulate", "-c", str(small_shop), "-o", str(out), "--baseline", "history", "-q"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "stockplan: error: --baseline history needs inputs.purchase_orders (your PO history)"
    )
    assert not out.exists()
    args = ["simulate", "-c", str(small_shop), "-o", str(out), "--baseline", "history", "-q"]
    result = CliRunner().invoke(app, [*args, "--lang", "zh"])
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr.strip() == (
        "stockplan: 错误: --baseline history 需要 inputs.purchase_orders（你的采购订单历史）"
    )
