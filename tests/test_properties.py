"""Property-based tests of policy invariants (hypothesis)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from stockplan.config import Policy
from stockplan.policy import protection_levels, round_order_quantity
from stockplan.reorder import plan_orders

AS_OF = dt.date(2025, 3, 3)
quantity = st.floats(min_value=0, max_value=1e5, allow_nan=False)
maybe = st.one_of(st.none(), st.floats(min_value=1, max_value=500, allow_nan=False))
whole = st.one_of(st.none(), st.integers(min_value=1, max_value=48).map(float))
policies = st.builds(
    Policy,
    type=st.sampled_from(["rs", "ss", "sq"]),
    service_measure=st.sampled_from(["cycle", "fill_rate"]),
    review_days=st.sampled_from([1.0, 7.0, 14.0]),
)


def _round(raw: float, moq, pack, max_order) -> float:
    frame = pl.DataFrame(
        {"raw": [raw], "moq": [moq], "pack": [pack], "max": [max_order]},
        schema=dict.fromkeys(("raw", "moq", "pack", "max"), pl.Float64),
    )
    return frame.select(
        round_order_quantity(pl.col("raw"), pl.col("moq"), pl.col("pack"), pl.col("max"))
    ).item()


@given(raw=st.floats(min_value=-100, max_value=1e5, allow_nan=False), moq=maybe, pack=whole)
def test_orders_are_whole_packs_at_least_moq(raw, moq, pack):
    q = _round(raw, moq, pack, None)
    assert q >= 0
    if q > 0:
        assert abs(q / (pack or 1) - round(q / (pack or 1))) < 1e-6
        assert q >= (moq or 0) - 1e-9
        assert q >= raw - 0.5 - 1e-9  # never less than the need (rounded half up)
    else:
        assert raw < 0.5


@given(raw=quantity, pack=whole, max_order=st.floats(min_value=1, max_value=1e4))
def test_orders_never_exceed_max_order(raw, pack, max_order):
    q = _round(raw, None, pack, max_order)
    assert q <= max_order + 1e-9


def _series(on_hand: float, alpha: float, pattern: str, d: float, sigma: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "supplier": ["S"],
            "on_hand": [on_hand],
            "allocated": [0.0],
            "backorders": [0.0],
            "on_order": [0.0],
            "inventory_position": [on_hand],
            "forecast_per_day": [d],
            "demand_protection": [d * 21],
            "sigma_e": [sigma],
            "lead_time_days": [14.0],
            "lead_time_std_days": [2.0],
            "lead_time_source": ["default"],
            "abc": ["A"],
            "xyz": ["X"],
            "demand_pattern": [pattern],
            "model": ["AutoETS"],
            "unit_cost": [5.0],
            "moq": [None],
            "pack_size": [6.0],
            "max_order": [None],
            "product_service_level": [alpha],
            "inactive": [False],
        },
        schema_overrides={"moq": pl.Float64, "max_order": pl.Float64},
    )


demand = st.floats(min_value=0.01, max_value=500)
spread = st.floats(min_value=0, max_value=300)
patterns = st.sampled_from(["smooth", "erratic", "intermittent", "lumpy"])


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(min_value=0.51, max_value=0.995),
    gap=st.floats(min_value=0, max_value=0.4),
    policy=policies,
    pattern=patterns,
    d=demand,
    sigma=spread,
)
def test_higher_service_level_never_lowers_safety_stock(low, gap, policy, pattern, d, sigma):
    high = min(low + gap, 0.999)

    def safety(alpha: float) -> float:
        frame = _series(0.0, alpha, pattern, d, sigma).with_columns(
            pl.lit(policy.review_days).alias("review_days"),
            (pl.col("sigma_e") / 7**0.5).alias("sigma_day"),
            pl.col("product_service_level").alias("service_level"),
        )
        return protection_levels(frame, policy)["safety_stock"][0]

    assert safety(high) >= safety(low) - 1e-9


@settings(max_examples=60, deadline=None)
@given(
    stock=st.floats(min_value=0, max_value=5000),
    extra=st.floats(min_value=0, max_value=5000),
    policy=policies,
    pattern=patterns,
    d=demand,
    sigma=spread,
)
def test_more_stock_never_raises_the_order(stock, extra, policy, pattern, d, sigma):
    def order(on_hand: float) -> float:
        return plan_orders(_series(on_hand, 0.95, pattern, d, sigma), policy, AS_OF, 7)[
            "order_qty"
        ][0]

    assert order(stock + extra) <= order(stock) + 1e-9
