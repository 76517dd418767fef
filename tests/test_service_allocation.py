"""A demand pattern's fill-rate target met in aggregate at the least stock value
(`policy.service_allocation: pattern`, Silver, Pyke & Thomas ch. 7).

Expected numbers come from scipy (normal loss, root finder) or a brute-force search
written out here, never from the code under test.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from scipy import integrate, optimize, stats

from stockplan.config import Policy
from stockplan.lead_time_demand import CALIBRATION_GRID, LeadTimeDemand
from stockplan.policy import protection_levels, service_at_level
from stockplan.reorder import unreachable_service_note
from stockplan.service_allocation import (
    allocate_levels,
    allocate_pattern_service,
    knob_stocks,
    order_cycle_share,
)


def _loss(k: np.ndarray) -> np.ndarray:
    """Standard normal loss G(k) = phi(k) - k (1 - Phi(k)), from scipy."""
    return stats.norm.pdf(k) - k * stats.norm.sf(k)


def test_allocation_meets_the_aggregate_fill_rate_at_the_textbook_optimum():
    # Three items, normal lead-time demand, Q = 70 units per review each, fill rate 0.99
    # over the three together: E[short] = sum sigma_i G(k_i) = 0.01 * 210 = 2.1 units.
    # Minimising sum c_i sigma_i k_i subject to that, the Lagrangian's condition is
    # c_i = lambda (1 - Phi(k_i)): P(stockout)_i = c_i / lambda (Silver et al. ch. 7).
    sigma = np.array([10.0, 20.0, 30.0])
    cost = np.array([1.0, 8.0, 3.0])
    allowed = 0.01 * 3 * 70.0

    def short(lam: float) -> float:
        k = stats.norm.isf(cost / lam)
        return float((sigma * _loss(k)).sum()) - allowed

    lam = optimize.brentq(short, cost.max() * 1.0001, 1e7)
    k_opt = stats.norm.isf(cost / lam)  # 2.12, 1.09, 1.63 (lambda = 58.3)
    k = np.arange(-1.0, 4.0, 0.001)
    stock = sigma[:, None] * k[None, :]  # S - mu
    shortage = sigma[:, None] * _loss(k)[None, :]
    level, expected = allocate_levels(cost, stock, shortage, np.zeros(3, int), np.array([allowed]))
    np.testing.assert_allclose(level / sigma, k_opt, atol=0.005)
    assert expected.sum() == pytest.approx(allowed, rel=1e-6)
    assert 1.0 - (sigma * _loss(level / sigma)).sum() / 210.0 >= 0.99 - 1e-6
    # the same fill rate promised by each item alone: G(k_i) = 0.01 * 70 / sigma_i
    k_each = np.array([optimize.brentq(lambda x, t=t: _loss(x) - t, -5, 8) for t in 0.7 / sigma])
    each_value = (cost * sigma * k_each).sum()  # k = 1.09, 1.42, 1.60: 382.1 against 342.9
    assert (cost * level).sum() < each_value - 20.0
    # the dear item gives up service, the cheap ones carry it
    assert k_opt[1] < k_each[1] and k_opt[0] > k_each[0]


def test_each_group_gets_its_own_price():
    # Two groups of one item each: each must meet its own budget, whatever the other does.
    k = np.arange(-1.0, 4.0, 0.001)
    stock = np.vstack([10.0 * k, 10.0 * k])
    shortage = np.vstack([10.0 * _loss(k), 10.0 * _loss(k)])
    level, _ = allocate_levels(
        np.array([1.0, 50.0]), stock, shortage, np.array([0, 1]), np.array([0.5, 2.0])
    )
    # one item per group: G(k) = budget / sigma, k from scipy's root finder
    expected = [optimize.brentq(lambda x, t=t: _loss(x) - t, -5, 8) for t in (0.05, 0.2)]
    np.testing.assert_allclose(level / 10.0, expected, atol=0.002)


def _three_items(
    allocation: str | None,
    measure: str = "fill_rate",
    moq: list[float | None] | None = None,
    target: float = 0.95,
    curve_top: float = 1.0,
    **policy: float | None,
) -> pl.DataFrame:
    """Three smooth (R, S) items, d = 10 a day, L = R = 7 (mu = 140, Q = 70), sigma_LTD
    = sqrt(14) x 2 / 4 / 6, unit costs 1 / 5 / 2, target 0.95 of `measure`, whose
    pattern's backtest curves are the identity (service q at quantile level q), so the
    target's one knob is the level 0.95 for every item; `curve_top`: the curves never
    above it (service min(q, top) at level q)."""
    frame = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "forecast_per_day": [10.0] * 3,
            "demand_protection": [140.0] * 3,
            "sigma_day": [2.0, 4.0, 6.0],
            "lead_time_days": [7.0] * 3,
            "lead_time_std_days": [0.0] * 3,
            "review_days": [7.0] * 3,
            "service_level": [target] * 3,
            "demand_pattern": ["smooth"] * 3,
            "unit_cost": [1.0, 5.0, 2.0],
        }
    )
    if moq is not None:
        frame = frame.with_columns(pl.Series("moq", moq, dtype=pl.Float64))
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.zeros((3, 1), dtype=np.float32),
        review=np.zeros((3, 1), dtype=np.float32),
        mean_day=np.full(3, np.nan),  # no draws: the parametric normal sets S
        days=np.zeros(3, dtype=int),
        methods={"smooth": "parametric"},
        calibration={"smooth": (np.minimum(CALIBRATION_GRID, curve_top),) * 2},
    )
    settings = Policy(service_measure=measure, **policy)
    if allocation is not None:
        settings = Policy(service_measure=measure, service_allocation=allocation, **policy)
    return protection_levels(frame, settings, None, ltd)


def test_pattern_allocation_meets_the_target_in_aggregate_at_less_stock_value():
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    cost = np.array([1.0, 5.0, 2.0])
    q = CALIBRATION_GRID
    z = stats.norm.ppf(q)
    each = _three_items("item")
    # one knob for the pattern: every item at z(0.95), each promising the target
    np.testing.assert_allclose(
        each["reorder_point"], 140.0 + stats.norm.ppf(0.95) * sigma, atol=1e-6
    )
    np.testing.assert_allclose(each["promised_service"], 0.95)
    # The shortage an item's level is scored at: its own sigma G(z) plus its demand Q = 70
    # times what the pattern's backtest curve (fill q at level q) shows beyond the three
    # own shortages at that level, e(q) = (1 - q) - sum sigma G(z) / 210; the pattern's one
    # knob 0.95 allows sum = (1 - 0.95) 210 = 10.5 units.
    own = sigma[:, None] * _loss(z)[None, :]
    unseen = np.maximum((1.0 - q) - own.sum(axis=0) / 210.0, 0.0)
    short = own + 70.0 * unseen[None, :]
    assert short[:, 9].sum() == pytest.approx(10.5)  # the level 0.95 for all three
    # brute force over the 15 levels per item: the cheapest choice within 10.5 units
    best = min(
        (float((cost * sigma * z[list(c)]).sum()), c)
        for c in itertools.product(range(z.size), repeat=3)
        if sum(short[i, c[i]] for i in range(3)) <= 10.5 + 1e-9
    )
    out = _three_items("pattern")
    level = out["reorder_point"].to_numpy()
    value = float((cost * (level - 140.0)).sum())
    # A (cheap, narrow) up to 0.995, C at 0.95, B (dear) between the levels 0.90 and 0.93;
    # safety stock value 192.45 against 209.25 with one level for all, and no more than the
    # best choice of grid levels (B between two levels, on the hull between them)
    np.testing.assert_allclose(level[[0, 2]], 140.0 + sigma[[0, 2]] * z[[13, 9]])
    assert 140.0 + sigma[1] * z[7] < level[1] < 140.0 + sigma[1] * z[8]
    assert value == pytest.approx(192.455, abs=1e-3) and value <= best[0] + 1e-9
    assert float((cost * (each["reorder_point"].to_numpy() - 140.0)).sum()) == pytest.approx(
        209.2523, abs=1e-3
    )
    # each item's own promise 1 - short / 70; together (equal Q) the target exactly
    promised = out["promised_service"].to_numpy()
    np.testing.assert_allclose(promised[[0, 2]], 1.0 - short[[0, 2], [13, 9]] / 70.0)
    assert promised[1] < 0.95 and promised.mean() == pytest.approx(0.95)
    assert out["service_note"].str.contains("held over the demand pattern's items").all()
    np.testing.assert_allclose(out["safety_stock"], level - 140.0)


def test_a_per_item_floor_keeps_every_item_within_its_shortfall_of_the_target():
    # The same three items, with no item's promise allowed below 0.95 - shortfall. The
    # brute force over the 15 levels per item, now among the levels whose promise
    # 1 - short / 70 meets the floor, bounds the allocation's stock value from below.
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    cost = np.array([1.0, 5.0, 2.0])
    q = CALIBRATION_GRID
    z = stats.norm.ppf(q)
    own = sigma[:, None] * _loss(z)[None, :]
    unseen = np.maximum((1.0 - q) - own.sum(axis=0) / 210.0, 0.0)
    short = own + 70.0 * unseen[None, :]
    free = _three_items("pattern", allocation_max_shortfall=None)
    # without a floor the dear item B is left furthest below the target
    assert free["promised_service"][1] < 0.935
    for shortfall in (0.015, 0.0):
        out = _three_items("pattern", allocation_max_shortfall=shortfall)
        promised = out["promised_service"].to_numpy()
        # each item's floor: min(target - shortfall, its promise at the one level 0.95)
        floor = np.minimum(0.95 - shortfall, 1.0 - short[:, 9] / 70.0)
        assert (promised >= floor - 1e-9).all()
        assert promised.mean() == pytest.approx(0.95)  # the pattern's target still held
        level = out["reorder_point"].to_numpy()
        value = float((cost * (level - 140.0)).sum())
        best = min(
            float((cost * sigma * z[list(c)]).sum())
            for c in itertools.product(range(z.size), repeat=3)
            if sum(short[i, c[i]] for i in range(3)) <= 10.5 + 1e-9
            and all(1.0 - short[i, c[i]] / 70.0 >= floor[i] - 1e-9 for i in range(3))
        )
        assert value <= best + 1e-9
        if shortfall == 0.0:  # a floor at the target is the one level for every item
            np.testing.assert_allclose(level, 140.0 + stats.norm.ppf(0.95) * sigma, atol=1e-6)
        else:  # between the free allocation and one level for all
            assert 192.455 < value < 209.2523
    # between two grid levels (0.94, 0.96 on the identity curve) the one level for all is
    # among each item's choices too: with any floor the allocation costs no more than it
    for target in (0.94, 0.96):
        one = _three_items("item", target=target)["reorder_point"].to_numpy()
        for shortfall in (0.0, 0.05, None):
            out = _three_items("pattern", target=target, allocation_max_shortfall=shortfall)
            held = out["reorder_point"].to_numpy()
            assert float((cost * held).sum()) <= float((cost * one).sum()) + 1e-9


def test_cycle_targets_are_not_allocated():
    frame = _three_items("item")
    # the same rows under cycle service with the key set: one level for every item
    settings = Policy(service_measure="cycle", service_allocation="pattern")
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.zeros((3, 1), dtype=np.float32),
        review=np.zeros((3, 1), dtype=np.float32),
        mean_day=np.full(3, np.nan),
        days=np.zeros(3, dtype=int),
        methods={"smooth": "parametric"},
        calibration={"smooth": (CALIBRATION_GRID.copy(), CALIBRATION_GRID.copy())},
    )
    base = frame.drop(
        "sigma_lead_time_demand", "safety_stock", "reorder_point", "order_up_to",
        "order_cycle_qty", "eoq", "ltd_method", "promised_service", "service_note",
    )  # fmt: skip
    out = protection_levels(base, settings, None, ltd)
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    np.testing.assert_allclose(
        out["reorder_point"], 140.0 + stats.norm.ppf(0.95) * sigma, atol=1e-6
    )


def test_levels_from_the_draws_are_the_conditional_quantiles_and_the_steps_beyond():
    # four equally likely draws of (D_L, D_R): T = 2, 4, 6, 8, every one with D_R > 0; the
    # alpha-quantile of T is the ceil(4 alpha)-th smallest: 4 at 0.3 and 0.5, 6 at 0.6 to
    # 0.75, 8 from 0.8; beyond the top S = 8 + c x 5 (mu over L + R) rounded up
    frame = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "lead_time_days": [3.0],
            "review_days": [2.0],
            "demand_protection": [5.0],
        }
    )
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.array([[0.0, 2.0, 4.0, 6.0]], dtype=np.float32),
        review=np.array([[2.0, 2.0, 2.0, 2.0]], dtype=np.float32),
        mean_day=np.array([1.0]),
        days=np.array([100]),
    )
    one = np.array([True])
    grid = knob_stocks(frame, ltd, 20, np.array([5.0]), np.array([1.0]), one, ~one, "demand")
    expected = [4, 4, 6, 6, 6] + [8] * 10 + [10, 11, 13, 18, 23]
    np.testing.assert_array_equal(grid[0], expected)


def test_fill_rate_targets_are_allocated_over_the_pattern_by_default():
    assert Policy().allocation_max_shortfall == 0.05
    # the default plan's setting: the levels of `service_allocation: pattern` with the
    # per-item floor 0.05, not the one level z(0.95) for all three (`item`)
    default = _three_items(None)
    np.testing.assert_array_equal(
        default["reorder_point"],
        _three_items("pattern", allocation_max_shortfall=0.05)["reorder_point"],
    )
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    one_level = 140.0 + stats.norm.ppf(0.95) * sigma
    np.testing.assert_allclose(_three_items("item")["reorder_point"], one_level)
    assert not np.allclose(default["reorder_point"], one_level)


def test_the_plan_summary_does_not_count_allocated_items_as_unreachable():
    # B and C promise 0.907 and 0.948 by the allocation, not because 0.95 is out of reach:
    # no summary line; the same rows with the per-item note are counted
    out = _three_items("pattern")
    assert (out["promised_service"].to_numpy()[1:] < 0.95).all()
    assert unreachable_service_note(out) is None
    alone = out.with_columns(pl.lit("").alias("service_note"))
    assert unreachable_service_note(alone).startswith(
        "service: 2 items are promised less than their service target"
    )


def test_a_pattern_whose_backtest_never_reached_the_target_says_each_item_falls_short():
    # The pattern's backtest never filled more than 0.85 of demand at any level, so no
    # allocation meets 0.95 over its items: its budget is the shortage of its largest
    # level, 0.15 of the demand over the three, and each item is short of its target
    # because the pattern is, not because the allocation held it there. Beyond the level
    # 0.85 the pooled curve is flat (more stock bought no fill there), so the levels are
    # no higher than the top quantile's, mu + z(0.999) sigma, and the three together
    # promise the curve's 0.85 (equal Q: the mean of their promises).
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    out = _three_items("pattern", curve_top=0.85)
    top = 140.0 + sigma * stats.norm.ppf(CALIBRATION_GRID[-1])
    assert (out["reorder_point"].to_numpy() <= top + 1e-6).all()
    assert out["promised_service"].mean() == pytest.approx(0.85)
    assert (
        out["service_note"]
        .str.starts_with(
            "target above the demand pattern's backtest: no level reached fill rate 95.0%"
        )
        .all()
    )
    assert not out["service_note"].str.contains("held over the demand pattern's items").any()
    # the plan's summary counts all three as promised less than their target
    assert unreachable_service_note(out).startswith(
        "service: 3 items are promised less than their service target (smooth 3;"
    )
    # a target the curve reaches (0.85 itself) is the allocation's, as before
    met = _three_items("pattern", curve_top=0.85, target=0.85)
    assert met["service_note"].str.contains("held over the demand pattern's items").all()
    assert unreachable_service_note(met) is None


def test_cycle_allocation_meets_the_stockout_budget_at_the_textbook_optimum():
    # Three items, normal lead-time demand, S = mu + k sigma, one review period for all:
    # the expected stockout cycles per review are sum P(T_i > S_i) = sum (1 - Phi(k_i)),
    # at most 3 x 0.05 = 0.15 (cycle service 0.95 over the three). Minimising
    # sum c_i sigma_i k_i subject to that, the Lagrangian's condition is
    # c_i = lambda phi(k_i) / sigma_i (Silver et al. ch. 7, stockout occasions):
    # phi(k_i) = c_i sigma_i / lambda, k_i on its upper branch.
    sigma = np.array([10.0, 20.0, 30.0])
    cost = np.array([1.0, 8.0, 3.0])
    allowed = 0.15

    def k_at(lam: float) -> np.ndarray:
        return np.sqrt(-2.0 * np.log(cost * sigma * np.sqrt(2.0 * np.pi) / lam))

    lam = optimize.brentq(
        lambda x: float(stats.norm.sf(k_at(x)).sum()) - allowed,
        (cost * sigma).max() * np.sqrt(2.0 * np.pi) * 1.0001,
        1e9,
    )
    k_opt = k_at(lam)
    np.testing.assert_allclose(stats.norm.pdf(k_opt) * lam, cost * sigma, rtol=1e-9)
    k = np.arange(0.0, 4.0, 0.001)
    stock = sigma[:, None] * k[None, :]
    stockouts = np.broadcast_to(stats.norm.sf(k), (3, k.size))
    level, expected = allocate_levels(cost, stock, stockouts, np.zeros(3, int), np.array([allowed]))
    np.testing.assert_allclose(level / sigma, k_opt, atol=0.005)
    assert expected.sum() == pytest.approx(allowed, rel=1e-6)
    assert stats.norm.sf(level / sigma).sum() <= allowed + 1e-6
    # one level for all: z(0.95) = 1.645 each
    equal = float((cost * sigma).sum() * stats.norm.ppf(0.95))
    assert (cost * level).sum() < equal - 10.0
    # the cheap, narrow item is served more, the dear wide one less
    assert k_opt[0] > stats.norm.ppf(0.95) > k_opt[1]


def _three_items_cycle(allocation: str) -> pl.DataFrame:
    """The three items of `_three_items` at cycle-service target 0.95."""
    return _three_items(allocation, "cycle")


def test_cycle_targets_are_allocated_over_the_pattern_as_stockout_cycles():
    sigma = np.sqrt(14.0) * np.array([2.0, 4.0, 6.0])
    cost = np.array([1.0, 5.0, 2.0])
    z = stats.norm.ppf(CALIBRATION_GRID)
    # P(T > S) at each grid level for each item: 1 - q (the identity curve adds nothing
    # beyond the items' own); the pattern's one knob 0.95 allows 3 x 0.05 = 0.15 stockouts
    out_of_stock = np.broadcast_to(stats.norm.sf(z), (3, z.size))
    best = min(
        (float((cost * sigma * z[list(c)]).sum()), c)
        for c in itertools.product(range(z.size), repeat=3)
        if sum(out_of_stock[i, c[i]] for i in range(3)) <= 0.15 + 1e-9
    )
    equal_value = float((cost * sigma).sum() * stats.norm.ppf(0.95))  # 203.9
    out = _three_items_cycle("pattern_all")
    level = out["reorder_point"].to_numpy()
    value = float((cost * (level - 140.0)).sum())
    assert value <= best[0] + 1e-9 and value < equal_value - 5.0
    # each item promises its own cycle service; the stockout cycles sum to the budget
    promised = out["promised_service"].to_numpy()
    assert (1.0 - promised).sum() == pytest.approx(0.15, abs=1e-9)
    # the items at a grid level promise Phi(k) there, from scipy
    k = (level - 140.0) / sigma
    on_grid = np.isclose(k[:, None], z[None, :], atol=1e-9).any(axis=1)
    assert on_grid.sum() >= 2
    np.testing.assert_allclose(promised[on_grid], stats.norm.cdf(k[on_grid]), atol=1e-9)
    # the dear item (B) is served less than the target, the cheap narrow one (A) more
    assert promised[1] < 0.95 < promised[0]
    assert out["service_note"].str.contains("cycle service 95.0% held over").all()
    # 'pattern' leaves cycle targets at one level per pattern
    same = _three_items_cycle("pattern")["reorder_point"].to_numpy()
    np.testing.assert_allclose(same, 140.0 + stats.norm.ppf(0.95) * sigma, atol=1e-6)


def test_cycle_allocation_counts_stockouts_in_review_periods_with_demand():
    # Two items, four equally likely draws of (D_L, D_R) each, mu = 5 over L + R = 5 days
    # (the draws' scale). A: T = 2, 4, 6, 8, every draw with D_R > 0, so
    # P(T > S) = 0.5 / 0.25 / 0 at S = 4 / 6 / 8. B: D_R > 0 in half its draws (w = 0.5),
    # T = 4 or 8 there: P(T > 4 | D_R > 0) = 0.5, i.e. 0.25 stockout cycles per review.
    # A cycle curve at 1 adds nothing beyond the items' own. Start: A at 6, B at 8, i.e.
    # 0.25 stockout cycles per review; the same count at less stock: A at 8, B at 4
    # (value 12 against 14). Counted per review period instead (w = 1), B at 4 would
    # cost 0.5 and break the budget.
    frame = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "lead_time_days": [3.0, 3.0],
            "review_days": [2.0, 2.0],
            "demand_protection": [5.0, 5.0],
            "demand_pattern": ["erratic", "erratic"],
            "service_level": [0.95, 0.95],
        }
    )
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.array([[0.0, 2.0, 4.0, 6.0], [0.0, 2.0, 4.0, 6.0]], dtype=np.float32),
        review=np.array([[2.0, 2.0, 2.0, 2.0], [0.0, 2.0, 0.0, 2.0]], dtype=np.float32),
        mean_day=np.array([1.0, 1.0]),
        days=np.array([100, 100]),
        methods={"erratic": "bootstrap_block"},
        calibration={"erratic": (np.ones(CALIBRATION_GRID.size), np.ones(CALIBRATION_GRID.size))},
    )
    both = np.array([True, True])
    stock, _, capped, promised = allocate_pattern_service(
        frame, ltd, both, np.full(2, 5.0), np.full(2, 1.0), np.full(2, 2.0), ~both, both,
        np.array([1.0, 1.0]), np.full(2, 100.0), "none", np.array([6.0, 8.0]),
        service_at_level, "cycle",
    )  # fmt: skip
    np.testing.assert_allclose(stock, [8.0, 4.0])
    np.testing.assert_allclose(promised, [1.0, 0.5])  # B: P(T <= 4 | D_R > 0)
    assert not capped.any()
    # the stockout cycles per review are the budget's: 0 x 1 + (1 - 0.5) x 0.5 = 0.25
    assert float(((1.0 - promised) * np.array([1.0, 0.5])).sum()) == pytest.approx(0.25)
    # A floor of 0.95 - 0.05 per item: B may not fall below 0.90, reached on its grid's
    # hull 80 % of the way from 4 (0.5) to 8 (1.0), at 7.2 with 0.1 x 0.5 = 0.05 stockout
    # cycles; A's floor is the 0.75 its starting level gives (min(target - shortfall, its
    # promise there)), and the 0.20 left of the budget puts A 20 % of the way from 6
    # (0.25) to 8 (0), at 6.4: value 13.6 against 14 at the start.
    for shortfall, expected in ((0.05, [6.4, 7.2]), (0.45, [8.0, 4.0])):
        stock, _, _, promised = allocate_pattern_service(
            frame, ltd, both, np.full(2, 5.0), np.full(2, 1.0), np.full(2, 2.0), ~both, both,
            np.array([1.0, 1.0]), np.full(2, 100.0), "none", np.array([6.0, 8.0]),
            service_at_level, "cycle", shortfall,
        )  # fmt: skip
        np.testing.assert_allclose(stock, expected)
        assert promised.min() >= min(0.95 - shortfall, 0.75) - 1e-9


def test_a_review_periods_normal_shortage_leaves_out_what_the_lead_time_alone_left_short():
    # (R, S) with L = R = 10 days, d = 1: mu = 20 over L + R with sigma 4, mu_L = 10 with
    # sigma_L 3, S = 12, Q = d R = 10. The review period's own shortage is
    # E[(D_L+R - S)^+] - E[(D_L - S)^+], each integral taken here by scipy's quadrature:
    # about 8.03 - 0.45 = 7.58 units, fill 0.242 (0.197 with the first term alone).
    def short(mean: float, sd: float, level: float) -> float:
        return integrate.quad(
            lambda x: (x - level) * stats.norm.pdf(x, mean, sd), level, mean + 12 * sd
        )[0]

    expected = 1.0 - (short(20.0, 4.0, 12.0) - short(10.0, 3.0, 12.0)) / 10.0
    frame = pl.DataFrame({"sku": ["A"], "location": ["W"]})
    args = (frame, np.array([12.0]), np.array([20.0]), np.array([4.0]), np.array([10.0]))
    rest = (np.array([False]), None, np.array([False]))
    _, fill = service_at_level(*args, *rest, (np.array([10.0]), np.array([3.0])))
    _, first_term = service_at_level(*args, *rest)
    assert fill[0] == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.242, abs=1e-3)
    assert first_term[0] == pytest.approx(1.0 - short(20.0, 4.0, 12.0) / 10.0, abs=1e-6)


def test_an_item_ordering_several_review_periods_at_once_promises_its_shortage_once_per_order():
    # B's MOQ of 280 is four review periods' demand (Q = 70): it orders every fourth
    # review and runs short only in the period after each order, so its promise counts
    # the chosen level's shortage a quarter as often, 1 - 0.25 (1 - promise without MOQ);
    # A and C (no MOQ) and every level are as without it
    plain = _three_items("pattern")
    with_moq = _three_items("pattern", moq=[None, 280.0, None])
    np.testing.assert_array_equal(with_moq["reorder_point"], plain["reorder_point"])
    before, after = plain["promised_service"].to_numpy(), with_moq["promised_service"].to_numpy()
    assert after[1] == pytest.approx(1.0 - 0.25 * (1.0 - before[1]))
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])
    # and its note says why it promises more than its level alone
    notes = with_moq["service_note"].to_list()
    assert notes[1].endswith(
        "; an order covers about 4.0 review periods' demand (MOQ or pack), so it runs short "
        "at most once per order"
    )
    assert "an order covers" not in notes[0] + notes[2]
    # the smallest order as `round_order_quantity` places it: the MOQ in whole packs, at
    # least one pack (MOQ 30 in packs of 24 orders 48, eight periods of 6)
    frame = pl.DataFrame({"moq": [None, 10.0, 0.0, 30.0], "pack_size": [24.0, None, 1.0, 24.0]})
    np.testing.assert_allclose(
        order_cycle_share(frame, np.array([6.0, 2.0, 3.0, 6.0])), [0.25, 0.2, 1.0, 0.125]
    )
