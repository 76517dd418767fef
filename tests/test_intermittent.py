"""Lead-time demand for lumpy items, large one-off orders: small hand-checkable cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.config import Policy
from stockplan.large_orders import large_order_lines, without_large_orders
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    LeadTimeDemand,
    backtest_calibration,
    bootstrap_lead_time_demand,
    cycle_service_level_stock,
    daily_demand,
    discrete_quantile,
    empirical_order_up_to,
    expected_shortage,
    fill_rate_stock,
    history_windows,
    recalibrated_level,
    window_lead_time_demand,
)

KEYS = pl.DataFrame({"sku": ["A"], "location": ["W"]})


def test_cycle_stock_is_the_conditional_quantile_given_demand_in_the_review():
    # ten draws of (D_L, D_R); only the six with D_R > 0 count: T = 2, 3, 5, 6, 9, 20
    lead = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], dtype=float)
    review = np.array([[2, 2, 0, 0, 1, 1, 0, 0, 1, 11]], dtype=float)
    # sorted conditioned T: 2 3 5 6 9 20; 0.5 * 6 = 3 -> third -> 5; 0.9 * 6 = 5.4 -> 6th -> 20
    assert cycle_service_level_stock(lead, review, np.array([0.5]))[0] == 5
    assert cycle_service_level_stock(lead, review, np.array([0.9]))[0] == 20
    assert cycle_service_level_stock(lead, review, np.array([0.8]))[0] == 9


def test_empirical_loss_by_hand_for_lost_sales_and_backorders():
    lead = np.array([[4.0, 0.0]])
    review = np.array([[3.0, 10.0]])
    # S = 6, lost sales: draw 1 starts the cycle with 2, short 1; draw 2 with 6, short 4
    assert expected_shortage(lead, review, np.array([6.0]), backorder=False)[0] == 2.5
    # backorders: (T - S)^+ - (D_L - S)^+ = (7 - 6) - 0 and (10 - 6) - 0
    assert expected_shortage(lead, review, np.array([6.0]), backorder=True)[0] == 2.5
    # fill = 1 - short / E[D_R] = 1 - 2.5 / 6.5; the level for that fill is 6
    beta = np.array([1 - 2.5 / 6.5])
    assert fill_rate_stock(lead, review, beta)[0] == pytest.approx(6.0, abs=1 / 32)


def test_bootstrap_of_a_constant_history_gives_exact_lead_time_demand():
    daily = np.full((1, 60), 2.0)
    ltd = bootstrap_lead_time_demand(KEYS, daily, np.array([14.0]), np.array([0.0]), 7, 200)
    assert np.all(ltd.lead == 28) and np.all(ltd.review == 14)
    block = window_lead_time_demand(KEYS, daily, np.array([14.0]), np.array([0.0]), 7, 200)
    assert np.all(block.lead == 28) and np.all(block.review == 14)


def test_bootstrap_of_one_selling_day_in_ten_matches_the_binomial_compound():
    # a day sells 5 units with chance 0.1, else nothing: D over 21 days = 5 x Binomial(21, 0.1)
    daily = np.zeros((1, 100))
    daily[0, ::10] = 5.0
    ltd = bootstrap_lead_time_demand(KEYS, daily, np.array([14.0]), np.array([0.0]), 7, 20000)
    total = ltd.lead[0] + ltd.review[0]
    q90 = np.quantile(total, 0.9)
    assert q90 == 5 * stats.binom.ppf(0.9, 21, 0.1)
    assert total.mean() == pytest.approx(5 * 21 * 0.1, rel=0.03)


def test_daily_demand_leaves_days_before_the_first_sale_and_censored_days_unmeasured():
    sales = pl.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "location": ["W"] * 3,
            "date": [dt.date(2025, 1, 3), dt.date(2025, 1, 3), dt.date(2025, 1, 5)],
            "quantity": [4.0, -1.0, 2.0],
        }
    )
    excluded = pl.DataFrame(
        {"sku": ["A"], "location": ["W"], "date": [dt.date(2025, 1, 4)], "reason": ["stockout"]}
    )
    matrix = daily_demand(sales, KEYS, dt.date(2025, 1, 1), 6, excluded)
    np.testing.assert_array_equal(matrix[0], [np.nan, np.nan, 3.0, np.nan, 2.0, 0.0])


def test_empirical_order_up_to_scales_the_draws_to_the_forecast_level():
    lead = np.array([[10.0] * 4], dtype=np.float32)
    review = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    ltd = LeadTimeDemand(KEYS, lead, review, np.array([0.6]), np.array([100]), {"lumpy": "x"})
    frame = KEYS.with_columns(
        pl.lit(25.2).alias("demand_protection"),  # twice the history's 0.6 x 21 days
        pl.lit(14.0).alias("lead_time_days"),
        pl.lit(7.0).alias("review_days"),
        pl.lit(0.75).alias("service_level"),
        pl.lit("lumpy").alias("demand_pattern"),
    )
    # 0.75-quantile of T = 11, 12, 13, 14 is 13; doubled: 26
    assert empirical_order_up_to(frame, ltd, "cycle")[0] == 26


def test_recalibration_picks_the_quantile_that_delivered_the_target():
    achieved = np.interp(CALIBRATION_GRID, [0.0, 1.0], [0.0, 0.9])  # delivers 0.9 x level
    # target 0.81 was delivered by level 0.9; 0.9 only at the top of the grid
    assert recalibrated_level(np.array([0.81]), achieved)[0] == pytest.approx(0.9)
    assert recalibrated_level(np.array([0.95]), achieved)[0] == CALIBRATION_GRID[-1]


def _windows(n: int, first: dt.date, origins: list[int], rate: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [str(i) for i in range(n) for _ in origins],
            "location": ["W"] * (n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for _ in range(n) for o in origins],
            "rate_per_day": [rate] * (n * len(origins)),
        }
    )


def _keys(n: int, pattern: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": [pattern] * n}
    )


def test_backtest_of_a_steady_item_covers_every_window():
    # 2 a day, every day: T = 2 x 21 = 42 in every draw and every window
    first = dt.date(2024, 1, 1)
    daily = np.full((60, 500), 2.0)
    windows = _windows(60, first, [400, 428, 456], 2.0)
    result, _ = backtest_calibration(
        _keys(60, "smooth"), daily, first, windows, np.full(60, 14.0), np.zeros(60), 7, 364
    )
    cycle, fill = result["block"]["smooth"]
    assert np.all(cycle == 1.0) and np.all(fill == 1.0)


def test_backtest_scores_a_forecast_as_stale_as_the_levels_will_live_with_it():
    # 2 a day until day 520, then 4 a day; the forecast made at day 400 says 2 a day, so
    # every draw and every level is T = 2 x (14 + 7) = 42. Fresh, the window 400..420
    # sells 42: always served. Used for 126 more days (a review every 7: ages 0, 7, ..., 126,
    # 19 windows), the windows starting at 400 + age hold day 520 or later when
    # 421 + age > 520, i.e. ages 105, 112, 119, 126: 15 of 19 cycles served at every level.
    first = dt.date(2024, 1, 1)
    daily = np.where(np.arange(600) < 520, 2.0, 4.0)[None, :].repeat(60, axis=0)
    windows = _windows(60, first, [400], 2.0)
    args = (_keys(60, "smooth"), daily, first, windows, np.full(60, 14.0), np.zeros(60), 7, 364)
    fresh, _ = backtest_calibration(*args)
    stale, _ = backtest_calibration(*args, forecast_age_days=126)
    assert np.all(fresh["block"]["smooth"][0] == 1.0)
    assert np.allclose(stale["block"]["smooth"][0], 15 / 19)


def test_series_without_backtest_windows_get_weekly_origins_at_their_history_mean():
    # A: unmeasured days 0-9, 2 a day on days 10-29, 4 a day on days 30-49; no backtest
    # windows. Origins every 7 days back from day 43: 43, 36, 29 have >= 14 measured days
    # before them (33, 26, 19), 22 and 15 do not. Rate = mean of the measured days before:
    # 43: (20 x 2 + 13 x 4) / 33; 36: (20 x 2 + 6 x 4) / 26; 29: 19 x 2 / 19 = 2.
    # With 14 days of history, origin 43 sees days 29-42: (1 x 2 + 13 x 4) / 14.
    # B already has a backtest window: left alone.
    first = dt.date(2024, 1, 1)
    row = np.where(np.arange(50) < 30, 2.0, 4.0)
    row[:10] = np.nan
    daily = np.vstack([row, np.full(50, 1.0)])
    keys = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"]})
    backtest = _windows(2, first, [20], 1.0).filter(pl.col("sku") == "1")
    backtest = backtest.with_columns(pl.lit("B").alias("sku"))
    made = history_windows(keys, daily, first, backtest, 364, 7, 14).sort("origin")
    assert made["sku"].to_list() == ["A"] * 3
    assert made["origin"].to_list() == [first + dt.timedelta(days=d) for d in (29, 36, 43)]
    assert np.allclose(made["rate_per_day"].to_numpy(), [2.0, 64 / 26, 92 / 33])
    short = history_windows(keys, daily, first, backtest, 14, 7, 14).sort("origin")
    assert short["rate_per_day"][-1] == pytest.approx(54 / 14)


def test_history_window_spread_comes_only_from_the_weeks_before_its_origin():
    # 1 a day on days 0-55 except day 30, which sells 100: weeks (7-day buckets) from day 0
    # sum 7, 7, 7, 7, 106, 7, 7, 7. Origins every 7 days back from day 49, kept with >= 14
    # measured days: 14, 21, ..., 49. The spread at an origin is that of the weeks before it
    # (forecast.py for a short series: max(sample std, sqrt(mean)) per week, / sqrt(7)):
    # origins 14-28 see only weeks of 7: std 0, sqrt(7) / sqrt(7) = 1 a day, whatever
    # day 30 sold; origin 35 sees 7, 7, 7, 7, 106, origin 42 one week more, 49 two more.
    first = dt.date(2024, 1, 1)
    row = np.full(56, 1.0)
    row[30] = 100.0
    keys = pl.DataFrame({"sku": ["A"], "location": ["W"]})
    none = pl.DataFrame(
        schema={
            "sku": pl.String,
            "location": pl.String,
            "origin": pl.Date,
            "rate_per_day": pl.Float64,
        }
    )
    made = history_windows(keys, row[None, :], first, none, 364, 7, 14).sort("origin")
    assert made["origin"].to_list() == [first + dt.timedelta(days=d) for d in range(14, 50, 7)]
    week = np.sqrt(7.0)
    spread = [np.std([7] * 4 + [106] + [7] * k, ddof=1) / week for k in (0, 1, 2)]
    assert np.allclose(made["sigma_day"].to_numpy(), [1, 1, 1, *spread])
    # with 14 days of history origin 49 sees only weeks 5 and 6 (7, 7): 1 a day again
    short = history_windows(keys, row[None, :], first, none, 14, 7, 14).sort("origin")
    assert short["sigma_day"][-1] == pytest.approx(1.0)


def test_a_history_window_is_scored_with_its_own_spread_not_the_whole_history_one():
    # 2 a day before day 400 (the forecast: 2 a day), 3 a day from it: T = 3 x 21 = 63
    # against mu = 2 x 21 = 42. The normal level covers it when 42 + z sqrt(21) s >= 63,
    # z >= sqrt(21) / s: with the window's own spread s = 1 a day z >= 4.58, above every
    # grid level (never served); with the whole-history spread s = 10, z >= 0.458, i.e.
    # served from level Phi(0.458) = 0.677 up.
    n, first = 60, dt.date(2024, 1, 1)
    daily = np.where(np.arange(500) < 400, 2.0, 3.0)[None, :].repeat(n, axis=0)
    windows = _windows(n, first, [400], 2.0)
    args = (_keys(n, "smooth"), daily, first)
    rest = (np.full(n, 14.0), np.zeros(n), 7, 364)
    own = windows.with_columns(pl.lit(1.0).alias("sigma_day"))
    scored, _ = backtest_calibration(*args, own, *rest, sigma_day=np.full(n, 10.0))
    assert np.all(scored["parametric"]["smooth"][0] == 0.0)
    whole, _ = backtest_calibration(*args, windows, *rest, sigma_day=np.full(n, 10.0))
    expected = stats.norm.cdf(np.sqrt(21) / 10) <= CALIBRATION_GRID
    assert np.array_equal(whole["parametric"]["smooth"][0], expected.astype(float))


def test_backtest_on_a_stationary_lumpy_generator_is_calibrated_at_the_true_level():
    # a day sells with chance 0.2, one of 1, 2, 3 or 20 units: 1.3 units a day on average.
    # With the forecast at that true level, the day bootstrap's quantiles hold their level.
    rng = np.random.default_rng(1)
    n, days = 150, 700
    sizes = rng.choice([1.0, 2.0, 3.0, 20.0], (n, days))
    daily = np.where(rng.random((n, days)) < 0.2, sizes, 0.0)
    first = dt.date(2024, 1, 1)
    windows = _windows(n, first, list(range(380, 660, 28)), 1.3)
    result, _ = backtest_calibration(
        _keys(n, "lumpy"), daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364, 400
    )
    cycle, fill = result["days"]["lumpy"]
    at = np.interp([0.9, 0.95], CALIBRATION_GRID, cycle)
    assert abs(at[0] - 0.9) <= 0.03 and abs(at[1] - 0.95) <= 0.03, at
    assert np.all(np.diff(fill) >= -0.01)


def _sales_lines(quantities: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"] * len(quantities),
            "location": ["W"] * len(quantities),
            "date": [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(len(quantities))],
            "quantity": quantities,
            "order_id": [f"o{i}" for i in range(len(quantities))],
            "customer": ["c1"] * len(quantities),
        }
    )


def test_large_order_rule_flags_lines_above_k_times_the_median_line():
    # median of 2, 3, 3, 4, 40, 31 is 3.5; k = 10 -> lines above 35 are large: only the 40
    sales = _sales_lines([2, 3, 3, 4, 40, 31])
    large = large_order_lines(sales, dt.date(2025, 2, 1), Policy())
    assert large["quantity"].to_list() == [40]
    assert large["usual_line_qty"].to_list() == [3.5]
    assert large["treatment"].to_list() == ["covered"]
    too_few = large_order_lines(sales, dt.date(2025, 2, 1), Policy(large_order_min_lines=7))
    assert too_few.height == 0


def test_make_to_order_takes_the_large_lines_out_of_the_demand():
    sales = _sales_lines([2, 3, 3, 4, 40, 31])
    settings = Policy(large_orders="make_to_order")
    large = large_order_lines(sales, dt.date(2025, 2, 1), settings)
    assert large["treatment"].to_list() == ["make_to_order"]
    kept = without_large_orders(sales, large)
    assert kept["quantity"].sum() == 2 + 3 + 3 + 4 + 31
    on_day = kept.filter(pl.col("date") == dt.date(2025, 1, 5))["quantity"].sum()
    assert on_day == 0


def _dead_history(demand: list[float]) -> pl.DataFrame:
    start = dt.date(2024, 1, 1)
    return pl.DataFrame(
        {
            "sku": ["A"] * len(demand),
            "location": ["W"] * len(demand),
            "period_start": [start + dt.timedelta(weeks=i) for i in range(len(demand))],
            "demand": demand,
        }
    )


def test_dead_rule_zero_for_a_silent_weekly_seller_tsb_decay_for_a_lumpy_one():
    from stockplan.config import Forecast
    from stockplan.forecast import forecast_demand

    classes = pl.DataFrame({"sku": ["A"], "location": ["W"], "demand_pattern": ["dead"]})
    # sold 4 every week for 10 weeks, then 13 empty: p = 1, (1 - 1)^13 = 0 < 0.05 -> Zero
    weekly = _dead_history([4.0] * 10 + [0.0] * 13)
    forecast, summary = forecast_demand(weekly, classes, "week", Forecast(), 4)
    assert summary["model"].to_list() == ["Zero"]
    assert forecast["forecast"].to_list() == [0.0] * 4
    # sold 8 one week in eight (10 sales in 73 weeks), then 13 empty weeks:
    # p = 10 / 73, (1 - p)^13 = 0.147 >= 0.05 -> TSB's forecast p_t x z_t
    demand = [8.0 if i % 8 == 0 else 0.0 for i in range(73)] + [0.0] * 13
    forecast, summary = forecast_demand(_dead_history(demand), classes, "week", Forecast(), 4)
    probability, size = 1.0, 8.0  # TSB recursion, alpha 0.1, started at the first bucket
    for d in demand[1:]:
        probability += 0.1 * ((d > 0) - probability)
        size += 0.1 * (d - size) if d > 0 else 0.0
    assert summary["model"].to_list() == ["TSBDecay"]
    assert forecast["forecast"].to_list() == pytest.approx([probability * size] * 4)


def test_band_widens_with_the_horizon_at_the_measured_rate():
    from stockplan.forecast import band_widening

    d1, d2 = dt.date(2025, 1, 6), dt.date(2025, 1, 13)
    steps = pl.DataFrame(
        {
            "unique_id": [1, 1, 1, 1],
            "cutoff": [dt.date(2024, 12, 30)] * 2 + [dt.date(2025, 1, 6)] * 2,
            "ds": [d1, d2, d2, d2 + dt.timedelta(days=7)],
            "error": [1.0, 2.0, -1.0, -2.0],
        }
    )
    # mse per step ahead: 1 and 4 (mean 2.5); beyond, +3 per step: 7, 10
    ratio = band_widening(steps, 4)["band_ratio"].to_list()
    assert ratio == pytest.approx([(m / 2.5) ** 0.5 for m in (1, 4, 7, 10)])


def test_replay_metrics_per_pattern_count_only_that_patterns_series():
    from stockplan.replay import metrics

    totals = {
        "served": np.array([9.0, 1.0]),
        "demand": np.array([10.0, 4.0]),
        "unmet": np.array([1.0, 3.0]),
        "stockout_days": np.array([1.0, 2.0]),
        "inventory_value": np.array([70.0, 7.0]),  # summed over the days counted
        "inventory_units": np.array([35.0, 7.0]),
        "orders": np.array([2.0, 1.0]),
        "cycles": np.array([2.0, 1.0]),
        "cycles_ok": np.array([1.0, 0.0]),
        "days": np.array([7.0, 7.0]),
        "expired_units": np.array([0.0, 0.0]),
        "expired_value": np.array([0.0, 0.0]),
    }
    first = metrics(totals, np.array([True, False]))
    assert first["fill_rate"] == 0.9 and first["cycle_service_level"] == 0.5
    assert first["avg_inventory_value"] == 10.0 and first["orders_placed"] == 2
    both = metrics(totals)
    assert both["fill_rate"] == 10 / 14 and both["avg_inventory_value"] == 11.0


def test_day_bootstrap_draws_each_series_only_from_its_own_days():
    # A sells 1 a day, B 1000 a day: any pick outside a series' own days would show
    keys = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"]})
    daily = np.vstack([np.full(40, 1.0), np.full(40, 1000.0)])
    daily[0, :5] = np.nan  # A: 35 measured days
    ltd = bootstrap_lead_time_demand(keys, daily, np.array([14.0, 3.0]), np.zeros(2), 7, 300)
    assert np.all(ltd.lead[0] == 14) and np.all(ltd.review[0] == 7)
    assert np.all(ltd.lead[1] == 3000) and np.all(ltd.review[1] == 7000)
    assert ltd.days.tolist() == [35, 40]


def test_cycle_stock_for_a_table_of_levels_sorts_once_and_matches_each_level():
    lead = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], dtype=float)
    review = np.array([[2, 2, 0, 0, 1, 1, 0, 0, 1, 11]], dtype=float)
    # conditioned T sorted: 2 3 5 6 9 20 (see the first test)
    table = cycle_service_level_stock(lead, review, np.array([[0.5, 0.8, 0.9]]))
    assert table.tolist() == [[5.0, 9.0, 20.0]]


def test_discrete_quantile_mixes_poisson_and_negative_binomial_per_element():
    alpha = np.array([0.9, 0.9, 0.5])
    mean = np.array([2.0, 2.0, 10.0])
    variance = np.array([2.0, 8.0, 30.0])
    # NB with mean m and variance v: n = m^2 / (v - m), p = m / v
    expected = [
        stats.poisson.ppf(0.9, 2.0),
        stats.nbinom.ppf(0.9, 4 / 6, 2 / 8),
        stats.nbinom.ppf(0.5, 100 / 20, 10 / 30),
    ]
    assert discrete_quantile(alpha, mean, variance).tolist() == expected


def test_backtest_scores_every_level_of_an_under_forecast_by_hand():
    # 2 a day every day; the forecast at the origin says 1.8 a day. Block draws: T = 42 at
    # the history's 2 a day, rescaled by 1.8 / 2: S = ceil(37.8) = 38 at every level. The
    # window sells D_L = 28, D_R = 14: short = 14 - (38 - 28) = 4, fill 10 / 14, T > S.
    # Parametric with sigma 0, flagged discrete: S = Poisson(1.8 x 21 = 37.8) quantile.
    first = dt.date(2024, 1, 1)
    n = 60
    daily = np.full((n, 500), 2.0)
    windows = _windows(n, first, [400], 1.8)
    result, _ = backtest_calibration(
        _keys(n, "lumpy"),
        daily,
        first,
        windows,
        np.full(n, 14.0),
        np.zeros(n),
        7,
        364,
        sigma_day=np.zeros(n),
        discrete=np.ones(n, dtype=bool),
    )
    cycle, fill = result["block"]["lumpy"]
    assert np.all(cycle == 0.0) and np.allclose(fill, 10 / 14)
    stock = stats.poisson.ppf(CALIBRATION_GRID, 37.8)
    short = np.maximum(14 - np.maximum(stock - 28, 0), 0)
    cycle, fill = result["parametric"]["lumpy"]
    assert np.array_equal(cycle, (stock >= 42).astype(float))
    assert np.allclose(fill, 1 - short / 14)


def test_lead_time_demand_module_does_not_import_the_policy_module():
    import subprocess
    import sys

    code = "import sys, stockplan.lead_time_demand; print('stockplan.policy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_smooth_items_keep_the_normal_levels_recalibrated_on_the_backtest():
    # 60 smooth series sell 2 a day for 500 days; the forecast's backtest window at day
    # 400 said 1.8 a day with sigma_e 0.7 sqrt(7) a week (sigma_d = 0.7). Normal levels
    # there: mu = 1.8 x 21 = 37.8, sigma_LTD = 0.7 sqrt(21) = 3.2078; the window sold
    # T = 42 (D_R = 14 > 0, a cycle), covered iff 37.8 + z 3.2078 >= 42, z >= 1.3093,
    # level >= Phi(1.3093) = 0.9048: grid levels 0.3 .. 0.9 short, 0.93 .. 0.999 served.
    # Smooth is not a bootstrap pattern: its method stays parametric, recalibrated.
    from stockplan.lead_time_demand import history_lead_time_demand

    first, n = dt.date(2024, 1, 1), 60
    skus = [str(i) for i in range(n)]
    dates = [first + dt.timedelta(days=d) for d in range(500)]
    sales = pl.DataFrame(
        {
            "date": dates * n,
            "sku": [s for s in skus for _ in dates],
            "location": ["W"] * (500 * n),
            "quantity": [2.0] * (500 * n),
        }
    )
    keys = pl.DataFrame(
        {
            "sku": skus,
            "location": ["W"] * n,
            "lead_time_days": [14.0] * n,
            "lead_time_std_days": [0.0] * n,
            "demand_pattern": ["smooth"] * n,
        }
    )
    summary = keys.select(
        "sku",
        "location",
        pl.lit([first + dt.timedelta(days=400)]).alias("window_origins"),
        pl.lit([1.8 * 7]).alias("window_rates"),
        pl.lit(0.7 * 7**0.5).alias("sigma_e"),
    )
    ltd = history_lead_time_demand(
        sales, keys, first + dt.timedelta(days=500), None, 7, Policy(), summary
    )
    assert ltd.methods["smooth"] == "parametric"
    cycle, _ = ltd.calibration["smooth"]
    # the grid's 15 levels, then the 5 steps beyond its top (`extend_levels`), all served
    assert cycle.tolist() == [0.0] * 8 + [1.0] * 7 + [1.0] * 5
    assert CALIBRATION_GRID[7] < stats.norm.cdf(4.2 / (0.7 * 21**0.5)) < CALIBRATION_GRID[8]


def test_backtest_moves_a_stale_forecast_with_the_weekly_level_update_as_the_replay_does():
    # 4 a day from day 400 on; the forecast made at day 400 says 2 a day (14 a week),
    # sigma 0: S = mu = 14 a week x 3 x ratio at every level. Level update alpha 0.5 from
    # l_0 = 14: age 0 sees no bucket (ratio 1, S 42); age 7 sees one week of 28: l = 21,
    # S = 63; age 14 two: l = 24.5, S = 73.5. Each window sells D_L = 56, D_R = 28: short
    # = 28 - (S - 56)+ = 28, 21, 10.5: fill 1 - 59.5 / 84. Without the update: 0.
    first, n = dt.date(2024, 1, 1), 60
    daily = np.where(np.arange(500) < 400, 2.0, 4.0)[None, :].repeat(n, axis=0)
    args = (_keys(n, "smooth"), daily, first, _windows(n, first, [400], 2.0))
    rest = (np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 14}
    moved, _ = backtest_calibration(*args, *rest, level_alpha=0.5, **kwargs)
    stale, _ = backtest_calibration(*args, *rest, **kwargs)
    assert np.allclose(moved["parametric"]["smooth"][1], 1 - 59.5 / 84)
    assert np.allclose(stale["parametric"]["smooth"][1], 0.0)
    assert np.all(moved["parametric"]["smooth"][0] == 0.0)
