"""Exact order statistics over values held in several places, checked against np.sort of
all the values together; and the conformal safety factor's rank against numpy's quantile."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from stockplan import engines, partitioned, ranks
from stockplan.config import parse_config
from stockplan.forecast import band_widths
from stockplan.policy import ConformalFactors, conformal_factor, conformal_rank


def _fetcher(places: list[dict], log: list | None = None):
    """Every place answers in this process; `log` records every answer."""

    def fetch(request):
        answers = [ranks.answer(place, request) for place in places]
        if log is not None:
            log.append((request, answers))
        return answers

    return fetch


def _expected(places: list[dict], key: str, rank: int) -> float:
    together = np.sort(np.concatenate([p.get(key, np.zeros(0)) for p in places]))
    return float(together[rank - 1]) if 1 <= rank <= together.size else float("nan")


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def _all_ranks(places, bins: int, log: list | None = None) -> None:
    fetch = _fetcher(places, log)
    summaries = ranks.add_summaries(fetch(ranks.Summarise()))
    keys = sorted({k for p in places for k in p} | {"missing"})
    counts = {k: sum(p[k].size for p in places if k in p) for k in keys}
    wanted = {k: list(range(0, counts[k] + 2)) for k in keys}
    found = ranks.order_statistics(fetch, summaries, wanted, bins=bins, most=bins)
    for key, asked in wanted.items():
        for rank in asked:
            expected = _expected(places, key, rank)
            assert _same(found[(key, rank)], expected), (key, rank, found[(key, rank)], expected)


floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5]),  # ties
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "c"]), st.lists(floats, max_size=40)),
        min_size=1,
        max_size=4,
    ),
    st.integers(2, 9),
)
def test_every_rank_over_the_places_is_that_of_np_sort_of_all_values(raw, bins):
    places = [{k: np.array(v, dtype=float) for k, v in place.items()} for place in raw]
    _all_ranks(places, bins)


def test_ties_zeros_one_value_and_empty_keys():
    places = [
        {"ties": np.array([3.0] * 50 + [0.0] * 20), "one": np.array([7.5]), "empty": np.zeros(0)},
        {"ties": np.array([-0.0] * 10 + [3.0] * 5 + [np.nan]), "empty": np.zeros(0)},
        {},
    ]
    _all_ranks(places, bins=4)
    # by hand: ties sorted is 30 zeros then 55 threes then NaN; 86 values
    fetch = _fetcher(places)
    summaries = ranks.add_summaries(fetch(ranks.Summarise()))
    assert summaries["ties"].count == 86 and summaries["ties"].nans == 1
    found = ranks.order_statistics(fetch, summaries, {"ties": [30, 31, 85, 86]}, bins=4, most=4)
    assert [found[("ties", r)] for r in (30, 31, 85)] == [0.0, 3.0, 3.0]
    assert np.isnan(found[("ties", 86)])
    assert summaries["ties"].sum_squares != summaries["ties"].sum_squares  # NaN, as np.mean


def test_values_packed_closer_than_the_bins_resolve_in_a_few_rounds():
    # 10,000 distinct floats 1e-300 apart next to 1e300: in value space the range would
    # shrink by the bin count each round for hundreds of rounds; in key space 64 bits
    # take at most 64 / log2(64) = 11 rounds
    close = np.arange(10_000) * 1e-300
    places = [{"x": np.r_[close[:5_000], 1e300]}, {"x": close[5_000:]}]
    log: list = []
    fetch = _fetcher(places, log)
    summaries = ranks.add_summaries(fetch(ranks.Summarise()))
    found = ranks.order_statistics(
        fetch, summaries, {"x": [1, 4_321, 10_000, 10_001]}, bins=64, most=64
    )
    assert [found[("x", r)] for r in (1, 4_321, 10_000, 10_001)] == [
        0.0,
        4_320 * 1e-300,
        9_999 * 1e-300,
        1e300,
    ]
    assert len(log) <= 1 + 11 + 1


def test_no_answer_holds_more_numbers_per_range_than_the_bins():
    rng = np.random.default_rng(4)
    places = [{"x": rng.normal(size=20_000).round(3)} for _ in range(3)]
    log: list = []
    fetch = _fetcher(places, log)
    summaries = ranks.add_summaries(fetch(ranks.Summarise()))
    ranks.order_statistics(fetch, summaries, {"x": [1, 600, 30_000, 59_999]}, bins=32, most=32)
    for request, answers in log[1:]:
        for counted, listed in answers:  # per place: counts and values, one pass
            for per_range in counted + listed:
                assert all(np.asarray(part).size <= 32 for part in per_range), request
    assert len(log) > 2  # the counts took more than one round before the values


def test_order_keys_sort_as_the_floats():
    values = np.array([-np.inf, -1e300, -1.5, -5e-324, -0.0, 0.0, 5e-324, 2.0, 1e308, np.inf])
    keys = ranks.order_keys(values)
    assert (np.diff(keys.astype(object)) > 0).all()
    assert [ranks.key_value(int(k)) for k in keys] == values.tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3_000),
    st.lists(st.floats(0.0, 1.0, exclude_min=True), min_size=1, max_size=5),
)
def test_conformal_rank_is_the_element_numpys_higher_quantile_takes(n, alphas):
    # distinct sorted scores 0 .. n-1: the factor is its own 0-based position
    scores = np.arange(n, dtype=float)
    alpha = np.array(alphas)
    assert (conformal_rank(n, alpha) - 1 == conformal_factor(scores, alpha)).all()


def test_conformal_rank_by_hand():
    # 99 scores, alpha 0.9: q = ceil(100 x 0.9) / 99 = 90 / 99, ceil(98 x 90 / 99) = 90:
    # the 91st smallest; alpha 0.999: q = 1, the 99th
    assert conformal_rank(99, np.array([0.9, 0.999])).tolist() == [91, 99]


def test_conformal_factors_found_elsewhere_give_the_factor_of_each_level():
    factors = ConformalFactors(40, np.array([0.9, 0.95]), np.array([1.3, 1.7]))
    assert conformal_factor(factors, np.array([0.95, 0.9, 0.95])).tolist() == [1.7, 1.3, 1.7]
    with pytest.raises(ValueError, match="service level"):
        conformal_factor(factors, np.array([0.98]))


def _cluster() -> engines.Cluster:
    """Partitions run one after another in this process."""
    return engines.Cluster(
        "dask",
        3,
        engines.Backend("dask", id, id),
        list,
        lambda function, handles, *shared: [function(h, *shared) for h in handles],
        list,
    )


def test_band_widths_over_partitions_are_those_of_the_pooled_scores():
    rng = np.random.default_rng(9)
    keys = [(pool, pattern) for pool in ("backtest", "short") for pattern in ("a", "b")]
    keys = [(*key, step) for key in keys for step in (1, 2, 3)]

    def scores(size: int) -> np.ndarray:  # ties, zeros, both signs
        return np.round(rng.normal(0.0, 2.0, size), 1) * (rng.random(size) < 0.8)

    parts = [{key: scores(int(rng.integers(1, 300))) for key in keys} for _ in range(3)]
    parts[2] = {key: v for key, v in parts[2].items() if key[1] == "a"}  # keys missing
    parts[1][("short", "b", 1)] = np.array([4.0])  # one value
    config = parse_config({"forecast": {"interval_level": 80.0}})
    handles = [SimpleNamespace(paths=SimpleNamespace(band_scores=part)) for part in parts]
    pooled = partitioned._pooled_band_widths(_cluster(), handles, config)
    horizon = config.planning.horizon_periods
    assert_frame_equal(pooled, band_widths(parts, config.forecast, horizon))
    # by hand, one pattern and step: ceil(0.9 (n + 1))-th smallest of s
    s = np.sort(np.concatenate([p[("backtest", "a", 1)] for p in parts]))
    row = pooled.filter(
        (pl.col("pool") == "backtest") & (pl.col("demand_pattern") == "a") & (pl.col("step") == 1)
    )
    assert row["band_upper"].item() == max(s[min(int(np.ceil(0.9 * (s.size + 1))), s.size) - 1], 0)


def test_conformal_factors_over_partitions_are_those_of_the_pooled_shortfalls():
    rng = np.random.default_rng(10)
    config = parse_config({"policy": {"quantile_method": "conformal"}})
    parts, series = [], []
    for index in range(3):
        errors = {
            "smooth": np.round(rng.normal(0.0, 1.0, 40), 1),
            "lumpy": np.round(rng.exponential(1.0, 8), 2),  # 24 in all: over 20 together
            "erratic": rng.normal(0.0, 1.0, 5),  # 15 in all: too few
        }
        frame = pl.DataFrame(
            {
                "sku": [f"S{index}", f"T{index}", f"U{index}"],
                "demand_pattern": ["smooth", "lumpy", "erratic"],
                "abc": ["A", "B", "C"],
                "xyz": ["X", "Y", "Z"],
                "product_service_level": [(0.9, 0.92, 0.94)[index], None, 0.99],
            }
        )
        parts.append(errors)
        series.append(frame)
    handles = [
        SimpleNamespace(supply=SimpleNamespace(error_scores=e, series=f))
        for e, f in zip(parts, series, strict=True)
    ]
    factors = partitioned._pooled_conformal_factors(_cluster(), handles, config)
    assert factors["smooth"].levels.tolist() == [0.9, 0.92, 0.94]
    assert factors["lumpy"].levels.tolist() == [config.policy.service_level]
    assert factors["erratic"].size == 15 and factors["erratic"].levels.size == 0
    for pattern in ("smooth", "lumpy"):
        pooled = np.concatenate([p[pattern] for p in parts])
        levels = factors[pattern].levels
        assert factors[pattern].size == pooled.size
        assert (
            conformal_factor(factors[pattern], levels) == conformal_factor(pooled, levels)
        ).all()
    # not read without conformal quantiles: nothing gathered
    normal = parse_config({})
    assert partitioned._pooled_conformal_factors(_cluster(), handles, normal) == {}
