"""Budget cap, supplier minimum order value, excess stock and transfers on hand-built rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockplan.config import Policy, SkuPolicy, Transfers, parse_config
from stockplan.errors import StockplanError
from stockplan.excess import excess_stock
from stockplan.plan import plan_orders, switch_to_backup
from stockplan.purchasing import apply_budget, flag_minimum_order_value, supplier_orders
from stockplan.transfers import plan_transfers

AS_OF = dt.date(2025, 3, 3)


def _orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "supplier": ["S1", "S1", "S2"],
            "order_qty": [10.0, 24.0, 5.0],
            "unit_cost": [10.0, 5.0, 20.0],
            "order_value": [100.0, 120.0, 100.0],
            "pack_size": [1.0, 6.0, 1.0],
            "moq": [None, None, None],
            "order_up_to": [20.0, 30.0, 10.0],
            "inventory_position": [10.0, 6.0, 5.0],
            "order_date": [AS_OF] * 3,
            "expected_arrival": [AS_OF + dt.timedelta(days=7)] * 3,
            "reason": ["r"] * 3,
        },
        schema_overrides={"moq": pl.Float64},
    )


def _risk() -> pl.DataFrame:
    # revenue at risk per money: A 50/100 = 0.5, B 240/120 = 2.0, C 10/100 = 0.1
    return pl.DataFrame(
        {"sku": ["A", "B", "C"], "location": ["W"] * 3, "revenue_at_risk": [50.0, 240.0, 10.0]}
    )


def test_budget_funds_most_revenue_protected_per_money_first():
    # budget 190: B (120) first, then A needs 100 but 70 remain -> 7 units; C gets nothing
    out = {r["sku"]: r for r in apply_budget(_orders(), _risk(), 190.0).to_dicts()}
    assert out["B"]["order_qty"] == 24 and out["B"]["reason"] == "r"
    assert out["A"]["order_qty"] == 7 and out["A"]["order_value"] == 70
    assert out["A"]["reason"] == "r; cut from 10.0 by the budget"
    assert out["C"]["order_qty"] == 0 and "not funded" in out["C"]["reason"]
    assert sum(r["order_value"] for r in out.values()) <= 190


def test_budget_cut_keeps_whole_packs_and_no_budget_changes_nothing():
    # budget 100 with B first: 100 / (5 * 6) = 3 packs -> 18 units
    out = {r["sku"]: r for r in apply_budget(_orders(), _risk(), 100.0).to_dicts()}
    assert out["B"]["order_qty"] == 18
    assert apply_budget(_orders(), _risk(), None).equals(_orders())


def test_supplier_below_minimum_order_value_is_flagged_not_inflated():
    suppliers = pl.DataFrame({"supplier": ["S1", "S2"], "moq_value": [200.0, 500.0]})
    summary = supplier_orders(_orders(), suppliers)
    rows = {r["supplier"]: r for r in summary.to_dicts()}
    assert (rows["S1"]["lines"], rows["S1"]["order_value"], rows["S1"]["meets_minimum"]) == (
        2,
        220.0,
        True,
    )
    assert rows["S2"]["meets_minimum"] is False
    flagged = flag_minimum_order_value(_orders(), summary)
    c = flagged.filter(pl.col("sku") == "C").row(0, named=True)
    assert c["order_qty"] == 5
    assert c["reason"].endswith("supplier total 100.0 is below its minimum order value 500.0")
    assert flagged.filter(pl.col("sku") == "A")["reason"][0] == "r"


def test_excess_and_dead_stock():
    rows = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "on_hand": [500.0, 50.0, 80.0],
            "on_order": [0.0] * 3,
            "inventory_position": [500.0, 50.0, 80.0],
            "order_up_to": [200.0, 100.0, 0.0],
            "forecast_per_day": [5.0, 5.0, 0.0],
            "unit_cost": [2.0, 2.0, 3.0],
            "demand_pattern": ["smooth", "smooth", "dead"],
        }
    )
    last_sale = pl.DataFrame(
        {
            "sku": ["A", "C"],
            "location": ["W", "W"],
            "last_sale_date": [AS_OF, AS_OF - dt.timedelta(days=120)],
        }
    )
    out = {r["sku"]: r for r in excess_stock(rows, last_sale, 30, AS_OF).to_dicts()}
    # A: 500 - (200 + 30 * 5) = 150 excess, 300 tied up; B is short, not excess
    assert (out["A"]["excess_qty"], out["A"]["excess_value"]) == (150.0, 300.0)
    assert "B" not in out
    # C: no sale for 120 days, all 80 on hand are dead stock
    assert (out["C"]["excess_qty"], out["C"]["excess_value"]) == (80.0, 240.0)
    assert out["C"]["reason"] == "dead stock: no sale for 120 days"


def test_transfers_match_several_donors_and_receivers():
    rows = pl.DataFrame(
        {
            "sku": ["A"] * 4,
            "location": ["D1", "D2", "R1", "R2"],
            "on_hand": [130.0, 60.0, 0.0, 10.0],
            "allocated": [0.0] * 4,
            "backorders": [0.0] * 4,
            "inventory_position": [130.0, 60.0, 0.0, 10.0],
            "reorder_point": [50.0, 50.0, 50.0, 50.0],
            "order_up_to": [50.0, 50.0, 70.0, 40.0],
            "forecast_per_day": [1.0] * 4,
        }
    )
    # surplus: D1 80, D2 10 (total 90); need: R1 70, R2 30 (total 100)
    # R1 takes 70 from D1; R2 takes D1's last 10 and D2's 10 -> 20 of its 30
    moves = plan_transfers(rows, Transfers()).select("from_location", "to_location", "quantity")
    assert sorted(moves.rows()) == [("D1", "R1", 70.0), ("D1", "R2", 10.0), ("D2", "R2", 10.0)]
    # min 15: D2's 10 is no donor and D1 -> R2 would move 10: only D1 -> R1 stays
    big = plan_transfers(rows, Transfers(min_qty=15)).select("from_location", "to_location")
    assert big.rows() == [("D1", "R1")]
    assert plan_transfers(rows, Transfers(enabled=False)).height == 0


@pytest.mark.parametrize("budget", [0.5, 1e9])
def test_budget_extremes(budget):
    out = apply_budget(_orders(), _risk(), budget)
    total = out["order_value"].sum()
    assert total == (0 if budget < 1 else 320)


def _plan_rows() -> pl.DataFrame:
    """Three series, each 10 / day over L + R = 21 days, position 100, sigma 0."""
    rows = []
    for sku, abc, xyz in (("P1", "A", "X"), ("P2", "C", "Z"), ("P3", "C", "X")):
        rows.append(
            {
                "sku": sku,
                "location": "W",
                "supplier": "S",
                "on_hand": 100.0,
                "allocated": 0.0,
                "backorders": 0.0,
                "on_order": 0.0,
                "inventory_position": 100.0,
                "forecast_per_day": 10.0,
                "demand_protection": 210.0,
                "sigma_e": 0.0,
                "lead_time_days": 14.0,
                "lead_time_std_days": 0.0,
                "lead_time_source": "default",
                "abc": abc,
                "xyz": xyz,
                "demand_pattern": "smooth",
                "model": "AutoETS",
                "unit_cost": 10.0,
                "moq": None,
                "pack_size": None,
                "max_order": None,
                "product_service_level": None,
                "inactive": False,
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "moq": pl.Float64,
            "pack_size": pl.Float64,
            "max_order": pl.Float64,
            "product_service_level": pl.Float64,
        },
    )


def test_policy_type_and_service_level_by_class_and_sku():
    # EOQ = sqrt(2 * 50 * 3650 / (0.25 * 10)) = 382.1; d R = 70
    policy = Policy(
        types={"C": "sq", "CZ": "ss"},
        service_levels={"C": 0.9},
        skus={"P3": SkuPolicy(service_level=0.99)},
    )
    out = plan_orders(_plan_rows(), policy, AS_OF, 7).sort("sku")
    kinds = dict(zip(out["sku"], out["policy_type"], strict=True))
    assert kinds == {"P1": "rs", "P2": "ss", "P3": "sq"}  # pair class beats ABC class
    levels = dict(zip(out["sku"], out["service_level"], strict=True))
    assert levels == {"P1": 0.95, "P2": 0.9, "P3": 0.99}
    qty = dict(zip(out["sku"], out["order_qty"], strict=True))
    assert qty["P1"] == 110  # rs: S = 210 (sigma 0) - 100
    assert qty["P2"] == round(210 + 382.1 - 100)  # ss: up to s + EOQ
    assert qty["P3"] == 382  # sq: one EOQ lifts 100 above s = 210


def test_sku_codes_must_be_quoted_in_yaml():
    with pytest.raises(StockplanError, match="must be quoted"):
        parse_config(
            {"inputs": {"sales": "s.csv", "stock": "k.csv"}, "policy": {"skus": {10000: {}}}}
        )


def test_backup_supplier_when_the_preferred_one_delivers_after_the_stockout():
    orders = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            "supplier": ["Slow", "Slow"],
            "order_qty": [50.0, 50.0],
            "lead_time_days": [42.0, 42.0],
            "expected_arrival": [AS_OF + dt.timedelta(days=42)] * 2,
        }
    )
    risk = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            # F runs out in 10 days, before Slow can deliver; G lasts past day 42
            "stockout_date": [AS_OF + dt.timedelta(days=10), AS_OF + dt.timedelta(days=60)],
        }
    )
    backups = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            "supplier": ["Fast", "Fast"],
            "lead_time_days": [7.0, 7.0],
        }
    )
    late = switch_to_backup(orders, risk, backups)
    assert late["sku"].to_list() == ["F"]
    assert late["preferred_supplier"][0] == "Slow"
