"""`simulate` holds an item with a shelf life by receipt: the oldest units sell first and
units that reach their sellable days are written off, counted as waste and no longer on
hand. Numbers worked out by hand (convention in `shelf_stock`: a unit received on day r
with U = shelf_life_days - sell_by_days sells on days r .. r + U - 1 and is written off at
the start of day r + U, before that day's sales)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_simulate_caps import _add_perishable, _replay, _row

from stockplan.history_replay import replay_receipts
from stockplan.replay import Replay, metrics, replay_policies, replay_policy, rule_of_thumb
from stockplan.shelf_stock import ShelfStock


def _case(on_hand: float, demand: list[float], lead: int, usable: float | None) -> Replay:
    """One item at unit cost 2, 56 days of history selling 3 a day before the replay."""
    days = len(demand)
    return Replay(
        series=pl.DataFrame({"sku": ["A"], "location": ["W"], "unit_cost": [2.0]}).with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("moq", "pack_size", "max_order")
        ),
        start=dt.date(2025, 1, 6),
        demand=np.hstack([np.full((1, 56), 3.0), np.array([demand], dtype=float)]),
        review_days=7,
        lead_draws=np.full((1, days // 7 + 1), lead),
        initial_stock=np.array([on_hand]),
        levels=[],
        usable_days=None if usable is None else np.array([usable]),
    )


def _no_orders(review: int, day: int, position: np.ndarray) -> np.ndarray:
    return np.zeros_like(position)


def test_stock_past_its_sellable_days_is_written_off_by_hand():
    # shelf life 5, sell-by 1: U = 4 sellable days; 20 on hand received on day 0, demand 3
    # a day, no orders. Days 0-3 sell 3 each (12), day 4 writes off the 8 left before
    # selling, so days 4-6 are short: 9 unmet. End-of-day stock 17 14 11 8 0 0 0.
    result = metrics(replay_policy(_case(20.0, [3.0] * 7, 5, usable=5 - 1), _no_orders, False))
    assert result["expired_units"] == 8.0
    assert result["expired_value"] == 16.0  # at unit cost 2
    assert result["unmet_units"] == 9.0
    assert result["fill_rate"] == pytest.approx(12 / 21)
    assert result["avg_inventory_units"] == pytest.approx((17 + 14 + 11 + 8) / 7)
    assert result["avg_inventory_value"] == pytest.approx(2 * (17 + 14 + 11 + 8) / 7)
    # without a shelf life the same stock never expires: 20 sold, 1 short on day 6
    kept = metrics(replay_policy(_case(20.0, [3.0] * 7, 5, usable=None), _no_orders, False))
    assert kept["expired_units"] == 0.0 and kept["unmet_units"] == 1.0


def test_the_older_receipt_sells_first():
    # U = 4; 6 on hand from day 0, 4 more arrive on day 1 (ordered on day 0), 2 sold a day.
    # Oldest first: day 0 old 4; day 1 old 2 + new 4; day 2 new 4; days 3, 4: new 2, 0;
    # days 5, 6 short; nothing expires. (Newest first would sell the new 4 on days 1-2 and
    # leave 2 of the old lot to be written off on day 4.) End of day: 4 6 4 2 0 0 0.
    orders = iter([np.array([4.0]), np.array([0.0])])
    case = _case(6.0, [2.0] * 7, 1, usable=4)
    result = metrics(replay_policy(case, lambda r, d, p: next(orders), False))
    assert result["expired_units"] == 0.0
    assert result["unmet_units"] == 4.0
    assert result["avg_inventory_units"] == pytest.approx((4 + 6 + 4 + 2) / 7)
    # the lots themselves: 5 from day 0 and 10 from day 2, 7 taken on day 3
    shelf = ShelfStock(np.array([4.0]), np.array([5.0]), n_days=30)
    shelf.receive(2, np.array([10.0]))
    shelf.take(3, np.array([7.0]))
    assert shelf.lots[0, 0] == 0.0 and shelf.lots[0, 2] == 8.0
    assert shelf.expire(4).tolist() == [0.0]  # the day-0 lot was sold out
    assert shelf.expire(6).tolist() == [8.0]


def test_the_rule_of_thumb_wastes_what_it_over_orders_by_hand():
    # 3 a day over the last 56 days: reorder at 14 days (42), up to 28 days (84); U = 4,
    # lead time 2, 20 on hand. Day 0: position 20 -> order 64, arrives day 2; old lot sells
    # days 0-3 (3 each, 8 left), written off day 4; the new 64 sell 3 on days 4, 5 and 58
    # are written off on day 6 (short). Day 7: position 0 -> order 84, arrives day 9; days
    # 7, 8 short; sells 3 on days 9-12, 72 written off on day 13 (short).
    rule = rule_of_thumb(_case(20.0, [3.0] * 14, 2, usable=4), 14.0, 28.0)
    result = metrics(replay_policy(_case(20.0, [3.0] * 14, 2, usable=4), rule, False))
    assert result["orders_placed"] == 2
    assert result["expired_units"] == 8 + 58 + 72
    assert result["expired_value"] == 2 * (8 + 58 + 72)
    assert result["unmet_units"] == 4 * 3
    # the buyers' replay writes off the same receipts the same way
    receipts = np.zeros((1, 14))
    receipts[0, 2], receipts[0, 9] = 64.0, 84.0
    buyers = replay_receipts(
        np.full((1, 14), 3.0), receipts, np.array([20.0]), np.array([2.0]), 7, False,
        usable_days=np.array([4.0]),
    )  # fmt: skip
    assert buyers["expired_units"] == 8 + 58 + 72
    assert buyers["unmet_units"] == 12.0


def test_backorders_take_the_oldest_units_and_expired_units_are_not_on_hand():
    # U = 2, backorders: 0 on hand, 4 short on days 0-1 (2 a day); 10 arrive day 2 (lead 2):
    # 4 backordered then 2 sold, 4 left; day 3: 2 sold, 2 left; day 4 (= 2 + 2) written off.
    orders = iter([np.array([10.0]), np.array([0.0])])
    case = _case(0.0, [2.0] * 7, 2, usable=2)
    result = metrics(replay_policy(case, lambda r, d, p: next(orders), True))
    assert result["expired_units"] == 2.0
    assert result["avg_inventory_units"] == pytest.approx((4 + 2) / 7)


def test_simulate_reports_waste_per_policy_and_pattern_on_the_small_shop(small_shop: Path):
    """F-1 (6 a day, 5 - 2 = 3 sellable days) is replayed with its waste: every rule of
    thumb holds weeks of it and writes units off; the policy, capped at what sells before
    expiry and counting only what sells before it in its position, writes off less than
    every rule and serves better than each. The other items have no shelf life; the waste
    splits by pattern without loss."""
    _add_perishable(small_shop)
    case, config = _replay(small_shop)
    assert case.usable_days is not None
    f1 = _row(case, "F-1", "WH1")
    assert case.usable_days[f1] == 3.0
    assert np.isnan(np.delete(case.usable_days, f1)).all()
    out = replay_policies(case, config)
    simulation, by_pattern = out["simulation"], out["simulation_by_pattern"]
    rules = simulation.filter(pl.col("policy").str.starts_with("baseline"))
    assert (rules["expired_units"] > 0).all()
    assert rules["expired_value"].to_list() == pytest.approx(
        (2.0 * rules["expired_units"]).to_list()
    )
    policy = simulation.filter(pl.col("policy") == "stockplan")
    assert (rules["expired_units"] > policy["expired_units"][0]).all()
    assert (rules["fill_rate"] < policy["fill_rate"][0]).all()
    summed = by_pattern.group_by("policy", "target").agg(pl.col("expired_units").sum())
    joined = simulation.join(summed, on=["policy", "target"], nulls_equal=True, suffix="_p")
    assert joined["expired_units"].to_list() == pytest.approx(joined["expired_units_p"].to_list())


def test_simulate_prints_and_writes_the_waste_in_english_and_chinese(
    small_shop: Path, tmp_path: Path
):
    """The printed lines give each row's written-off units and value as the CSV has them,
    split by pattern; the Chinese lines say the same."""
    import yaml
    from typer.testing import CliRunner

    from stockplan.cli import app
    from stockplan.report import simulate_waste_lines

    _add_perishable(small_shop)
    config = yaml.safe_load(small_shop.read_text())
    config["simulate"] = {"targets": [0.95], "periods": 8, "refit_every": 4}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "simulation.csv"
    result = CliRunner().invoke(app, ["simulate", "-c", str(small_shop), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out)
    assert table.columns[-3:] == ["expired_units", "expired_value", "as_of"]
    wasted = table.filter(pl.col("expired_units") > 0)
    assert wasted.height == table.height  # F-1 is written off under every policy
    said = [line for line in result.stderr.splitlines() if "expired unsold" in line]
    assert len(said) == wasted.height
    rule = wasted.filter(pl.col("policy").str.contains("at 2 weeks, up to 4 weeks")).row(
        0, named=True
    )
    line = next(s for s in said if s.startswith(f"stockplan: {rule['policy']}: "))
    assert f"{rule['expired_units']:,.0f} units expired unsold" in line
    assert f"{rule['expired_value']:,.0f} CNY at cost" in line
    assert f"(by pattern: smooth {rule['expired_units']:,.0f})" in line
    by_pattern = table.with_columns(pl.lit("smooth").alias("demand_pattern"))
    zh = simulate_waste_lines(
        table.filter(pl.col("policy") == "stockplan"), by_pattern, "zh", "CNY"
    )
    units = table.filter(pl.col("policy") == "stockplan")["expired_units"][0]
    assert zh == [
        f"本工具策略 95%：{units:,.0f} 件过期未售出报废，成本 {2 * units:,.0f} 元"
        f"（按需求模式：平稳 {units:,.0f}）"
    ]


def test_lots_match_a_lot_by_lot_count_over_many_receipts():
    """Random receipts and demand for items of 0 to 9 sellable days (and one without a
    shelf life) over 60 days, the ring of lots wrapping round many times: the replay's
    waste, lost sales and stock are those of a plain list of lots per item, sold oldest
    first and written off on the day they reach their sellable days."""
    rng = np.random.default_rng(7)
    usable = np.array([0.0, 1.0, 3.0, 9.0, np.nan])
    n_series, n_days = usable.size, 60
    receipts = rng.integers(0, 12, (n_series, n_days)) * (rng.random((n_series, n_days)) < 0.3)
    demand = rng.integers(0, 5, (n_series, n_days)).astype(float)
    initial = np.array([5.0, 7.0, 9.0, 11.0, 13.0])
    got = replay_receipts(
        demand, receipts.astype(float), initial, np.ones(n_series), 7, False, None, usable
    )
    expired = unmet = stock = 0.0
    for s in range(n_series):
        lots = [[0, initial[s]]]  # [receipt day, units], oldest first
        for day in range(n_days):
            if receipts[s, day]:
                lots.append([day, float(receipts[s, day])])
            if not np.isnan(usable[s]):
                expired += sum(q for r, q in lots if day - r >= usable[s])
                lots = [[r, q] for r, q in lots if day - r < usable[s]]
            want = demand[s, day]
            for lot in lots:
                sold = min(lot[1], want)
                lot[1] -= sold
                want -= sold
            unmet += want
            stock += sum(q for _, q in lots)
    assert got["expired_units"] == pytest.approx(expired)
    assert got["unmet_units"] == pytest.approx(unmet)
    assert got["avg_inventory_units"] == pytest.approx(stock / n_days)
