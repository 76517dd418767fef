"""The replay's per-review policy work done in fewer, wider calls gives the very same
floating-point numbers as the one-column-at-a-time code it replaced.

Each reference below is the earlier code written out here (scipy.stats' normal, the
count distributions on every row, one column of levels per call, 200 bisections), and
the comparisons are bit for bit (`np.testing.assert_array_equal`), not approximate:
`simulate` must write the same file as before.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    LeadTimeDemand,
    discrete_cdf,
    discrete_quantile,
    expected_shortage,
    own_service_at_stock,
    service_at_stock,
)
from stockplan.policy import normal_loss, normal_pdf, service_at_level
from stockplan.service_allocation import allocate_levels, knob_of_stock, knob_stocks

RNG = np.random.default_rng(20261127)


def _reference_normal_loss(k):
    k = np.asarray(k, dtype=float)
    return stats.norm.pdf(k) - k * stats.norm.sf(k)


def _reference_normal_shortage(level, mean, sigma):
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.clip(np.nan_to_num((level - mean) / sigma), -40.0, 40.0)
        return np.where(sigma > 0, sigma * _reference_normal_loss(k), np.maximum(mean - level, 0.0))


def _reference_service_at_level(level, mu, sigma, cycle_qty, discrete, lead=None):
    """`service_at_level` as it was (normal and count distributions, no draws)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(sigma > 0, (level - mu) / sigma, np.where(level >= mu, np.inf, -np.inf))
        cycle = stats.norm.cdf(k)
        lost = _reference_normal_shortage(level, mu, sigma)
        if lead is not None:
            lost = lost - _reference_normal_shortage(level, *lead)
        fill = np.where(cycle_qty > 0, np.clip(1.0 - lost / cycle_qty, 0.0, 1.0), 1.0)
    if discrete.any():
        counted = discrete_cdf(level, mu, np.maximum(sigma**2, mu))
        cycle = np.where(discrete & (mu > 0), counted, cycle)
    return cycle, fill


def _reference_service_at_stock(lead, review, stock, backorder):
    lead, review = lead.astype(float), review.astype(float)
    s = np.asarray(stock, dtype=float)
    hits = review > 0
    covered = ((lead + review) <= s[:, None] + 1e-9) & hits
    count = hits.sum(axis=1)
    cycle = np.where(count > 0, covered.sum(axis=1) / np.maximum(count, 1), 1.0)
    demand = review.mean(axis=1)
    if backorder:
        short = np.maximum(lead + review - s[:, None], 0.0) - np.maximum(lead - s[:, None], 0.0)
    else:
        short = np.maximum(review - np.maximum(s[:, None] - lead, 0.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(demand > 0, 1.0 - short.mean(axis=1) / demand, 1.0)
    return cycle, fill


def _rows(n: int) -> dict[str, np.ndarray]:
    """Per-row figures with the awkward cases: tiny and huge means, variance equal to
    the mean (Poisson) and just above it, no spread, no demand, no cycle quantity."""
    mu = np.concatenate(
        [[1e-9, 0.0, 0.3, 2.0, 5.0, 5.0, 40.0, 1e4, 7.0, 3.0], RNG.gamma(1.0, 20.0, n - 10)]
    )
    sigma = np.concatenate(
        [[1.0, 0.0, 0.1, np.sqrt(2.0), np.sqrt(5.0), np.sqrt(5.0 * 1.00005), 9.0, 300.0, 0.0,
          1.0], RNG.gamma(2.0, 3.0, n - 10)]
    )  # fmt: skip
    discrete = np.concatenate([[True] * 8, [False, True], RNG.random(n - 10) < 0.4])
    cycle_qty = np.concatenate([[0.0], RNG.gamma(2.0, 5.0, n - 1)])
    return {"mu": mu, "sigma": sigma, "discrete": discrete, "cycle_qty": cycle_qty}


def _levels(mu: np.ndarray, sigma: np.ndarray, k: int) -> np.ndarray:
    """[rows, k] levels around each mean, whole units and fractions, ties on integers."""
    z = np.linspace(-3.0, 6.0, k)[None, :]
    level = mu[:, None] + z * np.maximum(sigma, 1.0)[:, None]
    level[:, ::3] = np.round(level[:, ::3])  # whole units: the count cdf's steps
    level[0, 0] = np.inf
    level[1, 1] = -np.inf
    return level


def test_the_normal_loss_without_scipys_checks_is_scipys_to_the_last_bit():
    hand = np.array(
        [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 5e-324, 8.0, -8.0, 37.5, 40.0, -40.0,
         1e10, -1e10, 1e300, np.inf, -np.inf, np.nan]
    )  # fmt: skip
    random = np.concatenate([RNG.normal(0.0, 3.0, 20_000), RNG.uniform(-45.0, 45.0, 5_000)])
    for k in (hand, random, random.reshape(50, 500)):
        with np.errstate(invalid="ignore", over="ignore"):
            np.testing.assert_array_equal(normal_loss(k), _reference_normal_loss(k))
            np.testing.assert_array_equal(normal_pdf(k), stats.norm.pdf(k))
    assert normal_loss(1.0) == _reference_normal_loss(1.0)


def test_service_at_a_table_of_levels_is_each_column_as_the_earlier_code_gave_it():
    n, k = 200, 21
    rows = _rows(n)
    mu, sigma, discrete, qty = rows["mu"], rows["sigma"], rows["discrete"], rows["cycle_qty"]
    lead = (mu * 0.6, sigma * 0.8)
    level = _levels(mu, sigma, k)
    frame = pl.DataFrame({"sku": [f"s{i}" for i in range(n)], "location": ["W"] * n})
    none = np.zeros(n, dtype=bool)
    for with_lead in (None, lead):
        wide = service_at_level(frame, level, mu, sigma, qty, discrete, None, none, with_lead)
        assert wide[0].shape == wide[1].shape == (n, k)
        for j in range(k):
            expected = _reference_service_at_level(level[:, j], mu, sigma, qty, discrete, with_lead)
            column = service_at_level(
                frame, level[:, j], mu, sigma, qty, discrete, None, none, with_lead
            )
            for got in (column, (wide[0][:, j], wide[1][:, j])):
                np.testing.assert_array_equal(got[0], expected[0])
                np.testing.assert_array_equal(got[1], expected[1])


def _draws(n: int, draws: int = 300) -> tuple[pl.DataFrame, LeadTimeDemand]:
    """Rows with bootstrap draws: integer and fractional days, review periods without
    demand, one series without draws and one without history."""
    keys = pl.DataFrame({"sku": [f"s{i}" for i in range(n)], "location": ["W"] * n})
    lead = RNG.poisson(RNG.gamma(1.0, 6.0, (n, 1)), (n, draws)).astype(np.float32)
    review = (RNG.poisson(2.0, (n, draws)) * (RNG.random((n, draws)) < 0.5)).astype(np.float32)
    lead[::7] += RNG.random((len(range(0, n, 7)), draws)).astype(np.float32)
    mean_day = (lead.mean(axis=1) + review.mean(axis=1)) / 10.0
    mean_day[3] = np.nan
    frame = keys.with_columns(
        pl.Series("lead_time_days", np.full(n, 7.0)),
        pl.Series("review_days", np.full(n, 3.0)),
        pl.Series("demand_protection", mean_day * 10.0 * RNG.uniform(0.5, 2.0, n)),
    )
    ltd = LeadTimeDemand(keys.slice(1), lead[1:], review[1:], mean_day[1:], np.full(n - 1, 200))
    return frame, ltd


def test_the_draws_service_at_a_table_of_stocks_is_each_column_as_before():
    n, k = 60, 20
    frame, ltd = _draws(n)
    stock = RNG.uniform(0.0, 40.0, (n, k))
    stock[:, ::4] = np.round(stock[:, ::4])  # ties with whole draws
    for backorder in (False, True):
        table = service_at_stock(ltd.lead, ltd.review, stock[1:], backorder)
        for j in range(k):
            expected = _reference_service_at_stock(ltd.lead, ltd.review, stock[1:, j], backorder)
            column = service_at_stock(ltd.lead, ltd.review, stock[1:, j], backorder)
            for got in (column, (table[0][:, j], table[1][:, j])):
                np.testing.assert_array_equal(got[0], expected[0])
                np.testing.assert_array_equal(got[1], expected[1])
            short = expected_shortage(ltd.lead.astype(float), ltd.review, stock[1:, j], backorder)
            demand = ltd.review.astype(float).mean(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                np.testing.assert_array_equal(
                    np.where(demand > 0, 1.0 - short / demand, 1.0), expected[1]
                )
    own = own_service_at_stock(frame, ltd, stock)
    assert own[0].shape == (n, k)
    assert np.isnan(own[0][[0, 3]]).all()  # no draws, no history
    for j in range(k):
        column = own_service_at_stock(frame, ltd, stock[:, j])
        np.testing.assert_array_equal(own[0][:, j], column[0])
        np.testing.assert_array_equal(own[1][:, j], column[1])


def test_knobs_of_a_table_of_stocks_are_each_columns_knobs():
    n = 300
    grid = np.sort(RNG.gamma(2.0, 10.0, (n, 20)), axis=1)
    grid[:10, 5:9] = grid[:10, 5:6]  # flat stretches
    grid[10:20, 7] -= 3.0  # a dip the running maximum removes
    knobs = np.linspace(0.3, 4.0, 20)
    stock = np.concatenate(
        [grid[:, ::2], grid[:, ::3] + 1e-10, RNG.uniform(-5.0, 120.0, (n, 6))], axis=1
    )
    table = knob_of_stock(stock, grid, knobs)
    for j in range(stock.shape[1]):
        np.testing.assert_array_equal(table[:, j], knob_of_stock(stock[:, j], grid, knobs))


def test_knob_stocks_count_distributions_only_on_their_rows_as_on_all():
    n = 120
    rows = _rows(n)
    mu, sigma, discrete = rows["mu"], rows["sigma"], rows["discrete"]
    frame, ltd = _draws(n)
    none = np.zeros(n, dtype=bool)
    got = knob_stocks(frame, ltd, CALIBRATION_GRID.size, mu, sigma, none, discrete, "none")
    q = np.broadcast_to(CALIBRATION_GRID, (n, CALIBRATION_GRID.size))
    normal = mu[:, None] + stats.norm.ppf(q) * sigma[:, None]
    counted = discrete_quantile(q, mu[:, None], np.maximum(sigma**2, mu)[:, None])
    np.testing.assert_array_equal(got, np.where(discrete[:, None], counted, normal))


def _reference_allocate_levels(cost, stock, shortage, group, budget):
    """`allocate_levels` with all of its 200 bisections."""
    cost = np.asarray(cost, dtype=float)[:, None]
    groups = budget.size
    value = cost * stock
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.diff(value, axis=1) / -np.diff(shortage, axis=1)
    price = np.where(np.isfinite(price) & (price > 0), price, 0.0)
    top = np.log(max(float(price.max(initial=0.0)), 1e-12) * 4.0)
    low, high = np.full(groups, top - 80.0), np.full(groups, top)
    rows = np.arange(stock.shape[0])

    def total(log_price):
        pick = np.argmin(value + np.exp(log_price)[group][:, None] * shortage, axis=1)
        return pick, np.bincount(group, shortage[rows, pick], minlength=groups)

    for _ in range(200):
        mid = (low + high) / 2.0
        ok = total(mid)[1] <= budget
        high, low = np.where(ok, mid, high), np.where(ok, low, mid)
    above, short_above = total(high)
    below, short_below = total(low)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = (short_below - budget) / (short_below - short_above)
    theta = np.where(short_below > short_above, np.clip(theta, 0.0, 1.0), 1.0)[group]
    s_below, s_above = stock[rows, below], stock[rows, above]
    e_below, e_above = shortage[rows, below], shortage[rows, above]
    return s_below + theta * (s_above - s_below), e_below + theta * (e_above - e_below)


def test_the_allocations_bisection_stopped_once_its_bracket_is_fixed_gives_the_same_levels():
    for case in range(30):
        n, levels, groups = int(RNG.integers(2, 60)), int(RNG.integers(2, 22)), 1 + case % 4
        stock = np.sort(RNG.gamma(2.0, 10.0, (n, levels)), axis=1)
        shortage = np.sort(RNG.gamma(1.0, 3.0, (n, levels)), axis=1)[:, ::-1].copy()
        if case % 3 == 0:  # ties: equal costs, repeated levels and shortages
            stock[:, 1] = stock[:, 0]
            shortage[:, -2:] = shortage[:, -1:]
        cost = np.ones(n) if case % 5 == 0 else RNG.gamma(1.0, 5.0, n)
        group = RNG.integers(0, groups, n)
        group[:groups] = np.arange(groups)
        at_top = np.bincount(group, shortage[:, -1], minlength=groups)
        at_bottom = np.bincount(group, shortage[:, 0], minlength=groups)
        budget = at_top + RNG.uniform(-0.2, 1.2, groups) * (at_bottom - at_top)
        got = allocate_levels(cost, stock, shortage, group, budget)
        expected = _reference_allocate_levels(cost, stock, shortage, group, budget)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
