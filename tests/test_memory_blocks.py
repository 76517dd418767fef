"""Work done a block of series at a time gives the same numbers as all series at once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import stockplan.lead_time_demand as ltd_module
from stockplan.items import distinct_skus
from stockplan.lead_time_demand import cycle_service_level_stock, window_lead_time_demand


def _history(n: int, span: int = 120) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    daily = rng.poisson(rng.uniform(0.2, 4.0, (n, 1)), (n, span)).astype(float)
    daily[rng.random((n, span)) < 0.05] = np.nan  # censored days
    daily[np.arange(span)[None, :] < rng.integers(0, 60, n)[:, None]] = np.nan  # launches
    keys = pl.DataFrame({"sku": [f"S{i}" for i in range(n)], "location": ["W"] * n})
    return keys, daily


def test_block_draws_are_the_same_whatever_the_block_size(monkeypatch: pytest.MonkeyPatch):
    keys, daily = _history(11)
    lead_days = np.array([7.0, 14.0, 21.0] * 3 + [3.0, 10.0])
    lead_std = np.array([0.0, 2.0, 1.5] * 3 + [0.0, 4.0])
    monkeypatch.setattr(ltd_module, "SERIES_PER_BLOCK", 3)  # four blocks, the last of two
    small = window_lead_time_demand(keys, daily, lead_days, lead_std, 7, 300, seed=5)
    monkeypatch.setattr(ltd_module, "SERIES_PER_BLOCK", 10_000)  # one block
    whole = window_lead_time_demand(keys, daily, lead_days, lead_std, 7, 300, seed=5)
    for name in ("lead", "review", "mean_day", "days"):
        assert np.array_equal(getattr(small, name), getattr(whole, name), equal_nan=True), name


def test_block_draws_of_constant_histories_are_exact_in_every_block(
    monkeypatch: pytest.MonkeyPatch,
):
    # series i sells i + 1 units every day: any 14 + 7 day window holds 14 (i + 1), 7 (i + 1)
    daily = np.arange(1.0, 6.0)[:, None] * np.ones((5, 60))
    keys = pl.DataFrame({"sku": list("ABCDE"), "location": ["W"] * 5})
    monkeypatch.setattr(ltd_module, "SERIES_PER_BLOCK", 2)
    draws = window_lead_time_demand(keys, daily, np.full(5, 14.0), np.zeros(5), 7, 50)
    assert np.array_equal(draws.lead, np.repeat(14.0 * np.arange(1, 6), 50).reshape(5, 50))
    assert np.array_equal(draws.review, np.repeat(7.0 * np.arange(1, 6), 50).reshape(5, 50))
    assert np.array_equal(draws.mean_day, np.arange(1.0, 6.0))


def test_cycle_quantile_per_block_matches_the_hand_quantile_of_every_row(
    monkeypatch: pytest.MonkeyPatch,
):
    # one row's ten (D_L, D_R) draws; only D_R > 0 count: sorted T = 2 3 5 6 9 20, so the
    # 0.5 quantile is the 3rd (5) and the 0.9 quantile the 6th (20); row k is k times it
    lead = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=np.float32)
    review = np.array([2, 2, 0, 0, 1, 1, 0, 0, 1, 11], dtype=np.float32)
    scale = np.arange(1, 6, dtype=np.float32)[:, None]
    monkeypatch.setattr(ltd_module, "SERIES_PER_BLOCK", 2)
    levels = cycle_service_level_stock(lead * scale, review * scale, np.tile([0.5, 0.9], (5, 1)))
    assert levels.dtype == np.float64
    assert levels.tolist() == [[5.0 * k, 20.0 * k] for k in range(1, 6)]
    single = cycle_service_level_stock(lead * scale, review * scale, np.full(5, 0.5))
    assert single.tolist() == [5.0 * k for k in range(1, 6)]


def test_distinct_skus_lists_every_code_of_every_table_once():
    stock = pl.DataFrame({"sku": ["B", "A", "B"], "on_hand": [1.0, 2.0, 3.0]})
    sales = pl.DataFrame({"sku": ["C", "A", "C", "C"], "quantity": [1.0, 1.0, 2.0, 1.0]})
    products = pl.DataFrame({"sku": ["D", "B"]})
    codes = distinct_skus(stock, sales, products)
    assert codes.columns == ["sku"]
    assert sorted(codes["sku"].to_list()) == ["A", "B", "C", "D"]
