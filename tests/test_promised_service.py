"""The service a row can promise at sane stock, and how the replay checks it.

Every expected number is worked out by hand in the comments (or taken from scipy).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    LeadTimeDemand,
    discrete_cdf,
    service_at_stock,
)
from stockplan.policy import protection_levels
from stockplan.replay import BASELINE_HISTORY_DAYS, Replay, promised_by_series

# four equally likely draws of (D_L, D_R): T = 2, 4, 6, 8, E[D_R] = 2
LEAD = np.array([[0.0, 2.0, 4.0, 6.0]])
REVIEW = np.array([[2.0, 2.0, 2.0, 2.0]])


def _row(**overrides: object) -> pl.DataFrame:
    """One lumpy series at 1 a day over L + R = 3 + 2 days (mu = 5, the draws' mean T)."""
    row = {
        "sku": "A",
        "location": "W",
        "forecast_per_day": 1.0,
        "demand_protection": 5.0,
        "sigma_day": 1.0,
        "lead_time_days": 3.0,
        "lead_time_std_days": 0.0,
        "review_days": 2.0,
        "service_level": 0.98,
        "demand_pattern": "lumpy",
        "unit_cost": 1.0,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def _draws(methods: dict[str, str], calibration: dict | None = None) -> LeadTimeDemand:
    # mean_day 1 over the 5 days of L + R: the plan's forecast (5) rescales the draws by 1
    return LeadTimeDemand(
        keys=pl.DataFrame({"sku": ["A"], "location": ["W"]}),
        lead=LEAD.astype(np.float32),
        review=REVIEW.astype(np.float32),
        mean_day=np.array([1.0]),
        days=np.array([100]),
        methods=methods,
        calibration=calibration or {},
    )


def test_cycle_service_and_fill_rate_at_a_stock_read_off_four_draws_by_hand():
    # S = 7: T <= 7 for T = 2, 4, 6 -> cycle service 3 / 4. Lost sales, short =
    # (D_R - (S - D_L)^+)^+: 0, 0, 0 and (2 - 1) = 1 -> E[short] = 1/4, fill = 1 - 0.25 / 2
    cycle, fill = service_at_stock(LEAD, REVIEW, np.array([7.0]))
    assert cycle[0] == pytest.approx(0.75)
    assert fill[0] == pytest.approx(0.875)
    # S = 5: T <= 5 for 2, 4 -> 1/2; short 0, 0, (2 - 1) = 1, 2 -> E = 3/4, fill 0.625
    cycle, fill = service_at_stock(LEAD, REVIEW, np.array([5.0]))
    assert (cycle[0], fill[0]) == pytest.approx((0.5, 0.625))


def test_a_fill_rate_target_cut_by_the_cover_cap_promises_what_its_own_draws_give():
    # fill 0.98 needs E[short] <= 0.04: with D_L = 6, S >= 7.84 -> S = 8 after rounding up,
    # safety stock 8 - 5 = 3 days of 1 a day. Capped at 2 days, S = 7: fill 0.875 and cycle
    # service 0.75 (the four draws above) -- the target is not reachable and the row says so
    settings = Policy(service_measure="fill_rate", max_cover_days=2.0)
    out = protection_levels(_row(), settings, None, _draws({"lumpy": "bootstrap_block"}))
    assert out["reorder_point"][0] == pytest.approx(7.0)
    assert out["promised_service"][0] == pytest.approx(0.875)
    note = out["service_note"][0]
    assert "target not reachable at sane stock" in note and "capped at 2 days" in note
    assert "fill rate 98.0% is not reachable" in note
    assert "promises fill rate 87.5% (cycle service 75.0%)" in note
    # without the cap S = 8 serves every draw: the target itself is promised, no note
    free = protection_levels(
        _row(), Policy(service_measure="fill_rate"), None, _draws({"lumpy": "bootstrap_block"})
    )
    assert free["reorder_point"][0] == pytest.approx(8.0)
    assert free["promised_service"][0] == pytest.approx(0.98)
    assert free["service_note"][0] == ""


def test_a_cycle_target_at_the_cap_promises_the_share_of_cycles_its_draws_cover():
    # cycle 0.98 needs the 98 % quantile of T among draws with D_R > 0: T = 8, S = 8,
    # 3 days of safety; capped at 1 day S = 6 covers T = 2, 4, 6: 3 of 4 cycles
    out = protection_levels(
        _row(), Policy(max_cover_days=1.0), None, _draws({"lumpy": "bootstrap_block"})
    )
    assert out["reorder_point"][0] == pytest.approx(6.0)
    assert out["promised_service"][0] == pytest.approx(0.75)
    # fill at S = 6: short 0, 0, 0, 2 -> 1 - 0.5 / 2 = 0.75 as well
    assert "cycle service 98.0% is not reachable" in out["service_note"][0]


def test_a_normal_row_at_the_cap_promises_phi_of_the_capped_safety_factor():
    # d = 1, sigma_d = 100, L + R = 21: sigma_LTD = 100 sqrt(21) = 458.26; the cap of 182
    # days leaves k = 182 / 458.26 = 0.397, cycle service Phi(0.397) = 0.654; the fill rate
    # is 1 - sigma G(k) / Q with Q = d R = 7
    row = _row(
        demand_pattern="smooth",
        demand_protection=21.0,
        sigma_day=100.0,
        lead_time_days=14.0,
        review_days=7.0,
        service_level=0.95,
    )
    out = protection_levels(row, Policy())
    sigma = 100 * 21**0.5
    k = 182 / sigma
    assert out["promised_service"][0] == pytest.approx(stats.norm.cdf(k), abs=1e-9)
    loss = sigma * (stats.norm.pdf(k) - k * stats.norm.sf(k))
    fill = max(0.0, 1 - loss / 7)
    assert f"promises fill rate {100 * fill:.1f}%" in out["service_note"][0]
    assert "cycle service 95.0% is not reachable" in out["service_note"][0]


def test_a_target_above_the_backtest_curve_promises_the_curve_top():
    # the smooth pattern's backtest delivered a fill rate 0.10 below every quantile level:
    # 0.8 at level 0.9, and at most 0.999 - 0.1 = 0.899 at the top level. A target of 0.80
    # recalibrates to level 0.9 and is promised; 0.95 is above anything the backtest
    # reached: S sits at the top level and promises 0.899
    curves = {"smooth": (CALIBRATION_GRID.copy(), CALIBRATION_GRID - 0.1)}
    draws = _draws({"smooth": "parametric"}, curves)
    settings = Policy(service_measure="fill_rate", service_allocation="item")
    row = _row(demand_pattern="smooth", sigma_day=0.5)
    reached = protection_levels(row.with_columns(service_level=pl.lit(0.8)), settings, None, draws)
    assert reached["ltd_method"][0] == "parametric"
    # mu + z(0.9) sigma_LTD, sigma_LTD = 0.5 sqrt(5)
    assert reached["reorder_point"][0] == pytest.approx(5 + stats.norm.ppf(0.9) * 0.5 * 5**0.5)
    assert reached["promised_service"][0] == pytest.approx(0.8)
    assert reached["service_note"][0] == ""
    above = protection_levels(row.with_columns(service_level=pl.lit(0.95)), settings, None, draws)
    assert above["promised_service"][0] == pytest.approx(0.899)
    note = above["service_note"][0]
    # above the pattern's pooled curve is said as such, not as this item's limit
    assert note.startswith("target above the demand pattern's backtest: no level reached")
    assert "fill rate 95.0% on the pattern's pooled windows" in note
    assert "promises fill rate 89.9% (cycle service 99.9%) there" in note
    assert note.endswith("a figure for the pattern, not for this item alone")


def test_discrete_cdf_is_the_poisson_or_negative_binomial_of_the_quantile():
    # Poisson(0.5): P(X <= 1) = 0.910; NB with mean 3, variance 7.5 (n = 2, p = 0.4)
    out = discrete_cdf(np.array([1.0, 7.0]), np.array([0.5, 3.0]), np.array([0.5, 7.5]))
    assert out[0] == pytest.approx(stats.poisson.cdf(1, 0.5))
    assert out[1] == pytest.approx(stats.nbinom.cdf(7, 2.0, 0.4))


def _two_series_replay() -> Replay:
    """28 days, R = 7, every order 7 days out: review i covers days [7i + 7, 7i + 14)."""
    demand = np.zeros((2, 28))
    demand[0] = 1.0  # 1 a day
    demand[1, 20] = 10.0  # one 10-unit day, in the period review 1 covers
    return Replay(
        series=pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"]}),
        start=dt.date(2025, 1, 6),
        demand=np.hstack([np.zeros((2, BASELINE_HISTORY_DAYS)), demand]),
        review_days=7,
        lead_draws=np.full((2, 4), 7),
        initial_stock=np.zeros(2),
        levels=[],
        warmup_days=np.array([0.0, 0.0]),
    )


def test_replay_weighs_each_promise_by_the_demand_of_the_period_it_covers():
    promised = np.array([[0.9, 0.5], [0.8, 0.7], [0.9, 0.5], [0.1, 0.5]])
    weight, total = promised_by_series(_two_series_replay(), promised, "fill_rate")
    # A: reviews 0-2 cover 7 units each, review 3 covers days 28-35, beyond the replay
    # -> (0.9 + 0.8 + 0.9) * 7 / 21; B: only review 1's period holds its 10 units -> 0.7
    assert weight.tolist() == [21.0, 10.0]
    assert total / weight == pytest.approx([2.6 / 3, 0.7])
    # cycle service counts each covered period with demand once
    weight, total = promised_by_series(_two_series_replay(), promised, "cycle")
    assert weight.tolist() == [3.0, 1.0]
    assert total.tolist() == pytest.approx([2.6, 0.7])


def test_explain_says_what_the_capped_row_promises():
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.reorder import plan_orders
    from stockplan.report import explain_lines

    # sigma_e 70 per weekly bucket: sigma_d = 70 / sqrt(7) = 26.46, sigma_LTD = 26.46 sqrt(21)
    # = 121.2; z(0.95) needs 199 units, the 5-day cap (50 units) leaves k = 50 / 121.2 =
    # 0.412: cycle service Phi(0.412) = 66.0 %
    frame = pl.DataFrame([plan_row(sigma_e=70.0)], schema_overrides=NULLABLE_NUMBERS)
    orders = plan_orders(frame, Policy(max_cover_days=5.0), dt.date(2025, 1, 6), 7)
    order = orders.row(0, named=True)
    sigma = 70 / 7**0.5 * 21**0.5
    assert order["promised_service"] == pytest.approx(stats.norm.cdf(50 / sigma), abs=1e-9)
    lines = explain_lines(order, None, "cycle", "CNY")
    promised = [line for line in lines if line.startswith("promised")]
    assert promised == [
        f"promised cycle service level {stats.norm.cdf(50 / sigma):.1%} (target 95.0%): "
        + order["service_note"]
    ]
    assert "capped at 5 days" in promised[0]
    # the cap set the safety stock, so the order's reason says so too, and reads in Chinese
    from stockplan import i18n

    assert order["order_qty"] > 0
    assert order["reason"].endswith("; safety stock capped at 5 days of demand")
    assert i18n.render_reason(order["reason"], "zh").endswith("安全库存上限为 5 天需求")
    uncapped = plan_orders(frame, Policy(), dt.date(2025, 1, 6), 7).row(0, named=True)
    assert "capped" not in uncapped["reason"]


def test_the_plan_counts_the_items_that_cannot_reach_their_target_per_pattern():
    from stockplan.reorder import unreachable_service_note

    orders = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "demand_pattern": ["lumpy", "lumpy", "erratic", "smooth"],
            "service_level": [0.98, 0.98, 0.95, 0.95],
            # D promises its target; A, B and C promise less
            "promised_service": [0.82, 0.90, 0.94, 0.95],
        }
    )
    assert unreachable_service_note(orders) == (
        "service: 3 items are promised less than their service target (lumpy 2, "
        "erratic 1; e.g. A, B, C): at the cover cap, or above what their demand pattern's "
        "backtest reached; promised_service and service_note say which and what each can "
        "promise"
    )
    assert unreachable_service_note(orders.filter(pl.col("sku") == "D")) is None


def test_every_service_note_reads_in_chinese_clause_by_clause():
    # the notes the policy writes (cover cap at a fill-rate and a cycle target, a target
    # above the pattern's curve, an item allocated over its pattern at either measure, a
    # cap the target survives): every clause has its Chinese template, and a Chinese
    # sheet shows the note in Chinese under the Chinese header
    import re

    from test_service_allocation import _three_items

    from stockplan import i18n
    from stockplan.io.writers import localise

    draws = _draws({"lumpy": "bootstrap_block"})
    capped_fill = protection_levels(
        _row(), Policy(service_measure="fill_rate", max_cover_days=2.0), None, draws
    )["service_note"][0]
    capped_cycle = protection_levels(_row(), Policy(max_cover_days=1.0), None, draws)
    curves = {"smooth": (CALIBRATION_GRID.copy(), CALIBRATION_GRID - 0.1)}
    above = protection_levels(
        _row(demand_pattern="smooth", sigma_day=0.5, service_level=0.95),
        Policy(service_measure="fill_rate", service_allocation="item"),
        None,
        _draws({"smooth": "parametric"}, curves),
    )
    notes = [
        capped_fill,
        capped_cycle["service_note"][0],
        above["service_note"][0],
        _three_items("pattern")["service_note"][1],
        _three_items("pattern", moq=[None, 280.0, None])["service_note"][1],
        _three_items("pattern_all", "cycle")["service_note"][1],
        "safety stock capped at 182 days of demand; the target still holds",
    ]
    for note in notes:
        assert note and i18n.unknown_clauses(note) == [], note
        assert not re.search(r"[A-Za-z]", i18n.render_reason(note, "zh")), note
    # fill 98 % capped at 2 days: S = 7 promises fill 87.5 % and cycle service 75 %
    assert i18n.render_reason(capped_fill, "zh") == (
        "合理库存下无法达到目标：安全库存上限为 2 天需求；"
        "填充率 98.0% 无法达到，此库存可承诺填充率 87.5%（周期服务水平 75.0%）"
    )
    sheet = localise(pl.DataFrame({"sku": ["A"], "service_note": [capped_fill]}), "orders", "zh")
    assert sheet["服务水平说明"][0].startswith("合理库存下无法达到目标")
    # English stays the canonical text
    english = localise(pl.DataFrame({"service_note": [capped_fill]}), "orders", "en")
    assert english["service_note"][0] == capped_fill
