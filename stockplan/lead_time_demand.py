"""Empirical lead-time demand for intermittent and lumpy items, and the levels it implies.

A bootstrap of lead-time demand from the item's own daily history, in the spirit of
Willemain, Smart & Schwarz (2004, Int. J. Forecasting 20, 375-387): each draw sums
L + R days sampled with replacement from the item's measured selling-calendar days
(censored / excluded days left out), with the lead time L itself drawn from
Normal(L, sigma_L) rounded, at least one day. Sampling whole days keeps both how often an
item sells and how much one selling day takes (a compound distribution with the empirical
day-size distribution), so one 500-unit wholesale day among many 3-unit days stays in the
tail instead of being smoothed into a symmetric normal spread. The draws are rescaled to
the forecast's mean demand over L + R (the forecast sets the level, the history the shape).

Levels for a periodic review (R, S) policy, per series, from the joint draws
(D_L, D_R) with T = D_L + D_R:

- cycle service alpha (review cycles with demand and no stockout, as `simulate` counts
  them): S = the alpha-quantile of T among draws with D_R > 0, i.e.
  P(T <= S | D_R > 0) >= alpha. Stock at the start of a cycle is S - D_L, so the cycle
  has a stockout exactly when T > S (Silver, Pyke & Thomas 2017, ch. 6).
- fill rate beta: the smallest S with 1 - E[short(S)] / E[D_R] >= beta, with the
  empirical (discrete) loss: short(S) = (D_R - (S - D_L)^+)^+ under lost sales, and
  (T - S)^+ - (D_L - S)^+ with backorders (Hadley & Whitin 1963; Silver et al. eq. 6.x).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import special, stats

from stockplan.config import Classify, Policy
from stockplan.demand import SERIES, in_series_blocks
from stockplan.random_streams import (
    DAY_PICK,
    LEAD_TIME,
    WINDOW_START,
    series_streams,
    stream_uniforms32,
    substreams,
    uniforms,
)

DEFAULT_BOOTSTRAP = ("smooth", "erratic", "intermittent", "lumpy")
PATTERN_KEYS = DEFAULT_BOOTSTRAP
MIN_CALIBRATION_CYCLES = 50
CALIBRATION_GRID = np.array(
    [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999]
)
# stocks beyond the grid's top (`extended_stocks`): S = S_0.999 + c B for each step c, B the
# top level's safety stock (`policy.extend_levels: safety`) or the mean demand over L + R
# (`demand`, and `cycle` for cycle-service targets)
EXTENSION_STEPS = np.array([0.25, 0.5, 1.0, 2.0, 3.0])
# the recalibration's knob: the quantile levels, then 0.999 + c for each step c
CALIBRATION_KNOB = np.concatenate([CALIBRATION_GRID, CALIBRATION_GRID[-1] + EXTENSION_STEPS])
SCORED_LEVELS = (0.9, 0.95, 0.98)
CHUNK_DAYS = 4_000_000  # days picked per block of the day bootstrap (bounds its memory)
SERIES_PER_BLOCK = 2_000  # series per block of the [series, draws] work arrays


@dataclass(frozen=True)
class LeadTimeDemand:
    """Bootstrap draws of lead-time demand per series, at the history's own level.

    keys: sku, location of each row; lead, review: [series, draws] demand over the lead
    time and over the review period that follows; mean_day: the history's mean demand
    per day (the level the draws are at); days: measured history days per series;
    methods: demand pattern -> "bootstrap_block" or "bootstrap_days" (which draws set S);
    backorder: unmet demand waits (else it is lost) in the fill-rate loss;
    calibration: demand pattern -> (cycle service, fill rate) achieved in the backtest at
    the conditional quantiles CALIBRATION_GRID (see `backtest_calibration`);
    promise: demand pattern -> the same curves scored on the replayed lost-sales path, where
    `policy.promise_scoring` is "replayed" (`promised_service` is read there, the levels
    from `calibration`).
    """

    keys: pl.DataFrame
    lead: np.ndarray
    review: np.ndarray
    mean_day: np.ndarray
    days: np.ndarray
    methods: dict[str, str] = field(default_factory=dict)
    backorder: bool = False
    calibration: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    promise: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


PROMISE_SUMS = "promise:"
"""Prefix of the calibration counts scored for the promise alone (`promise_scoring`)."""


def daily_demand(
    sales: pl.DataFrame,
    series: pl.DataFrame,
    first: dt.date,
    days: int,
    excluded: pl.DataFrame | None = None,
) -> np.ndarray:
    """Net demand per series x day for `days` days from `first` ([series, days] array).

    Rows follow `series` (sku, location). Returns are netted within the day and a negative
    net counts as zero. Days in `excluded` (sku, location, date) and days before the
    series' first sale are NaN: not measured, so never resampled.
    """
    window = (pl.col("date") >= first) & (pl.col("date") < first + dt.timedelta(days))
    keyed = series.select(SERIES).with_row_index("series_id")
    # integer series keys and only date and quantity of the window's lines: the group-bys
    # of millions of sales lines on the two text columns cost more memory than the whole
    # matrix, and keying every line, not just the window's, took 0.4 GB more on M5
    rows = (
        sales.lazy()
        .filter(window)
        .select(*SERIES, "date", "quantity")
        .join(keyed.lazy(), on=SERIES)
        .select("series_id", "date", "quantity")
        .collect()
    )
    cells = in_series_blocks(
        rows,
        series.height,
        lambda block: block.group_by("series_id", "date").agg(
            pl.col("quantity").sum().clip(lower_bound=0.0).alias("demand")
        ),
    )
    day = cells.select((pl.col("date") - pl.lit(first)).dt.total_days())["date"].to_numpy()
    matrix = np.zeros((series.height, days))
    matrix[cells["series_id"].to_numpy(), day] = cells["demand"].to_numpy()
    del rows
    started = (  # a group-by on the text keys of the selling lines costs a few MB
        sales.lazy()
        .filter(pl.col("quantity") > 0)
        .group_by(SERIES)
        .agg(pl.col("date").min().alias("first_sale"))
        .join(keyed.lazy(), on=SERIES)
        .with_columns((pl.col("first_sale") - pl.lit(first)).dt.total_days().alias("day"))
        .collect()
    )
    begin = np.full(series.height, days)
    begin[started["series_id"].to_numpy()] = np.clip(started["day"].to_numpy(), 0, days)
    matrix[np.arange(days)[None, :] < begin[:, None]] = np.nan
    if excluded is not None and excluded.height:
        gaps = (
            excluded.filter(window)
            .with_columns((pl.col("date") - pl.lit(first)).dt.total_days().alias("day"))
            .join(keyed, on=SERIES)
        )
        matrix[gaps["series_id"].to_numpy(), gaps["day"].to_numpy()] = np.nan
    return matrix


def _measured_history(daily: np.ndarray, min_days: int):
    """(measured mask, measured days, mean demand per measured day) per series of `daily`;
    mean_day is NaN for series with fewer than `min_days` measured days."""
    measured = ~np.isnan(daily)
    counts = measured.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_day = np.where(counts >= min_days, np.nansum(daily, axis=1) / counts, np.nan)
    return measured, counts, mean_day


LOCAL_LEVEL_MIN_HALF_SPAN = 28
"""Fewest days each side of a day that its local level is measured over (`history_level_days`)."""


def history_level_days(
    daily: np.ndarray,
    protection_days: np.ndarray,
    large_factor: float,
    large_min_days: int,
) -> np.ndarray:
    """`daily` ([series, days], NaN unmeasured) with each measured day read at the history's
    level instead of the local level it was sold at, for `policy.bootstrap_level: local`.

    The local level of day t: a_t = the mean per measured day over t - h .. t + h (h =
    max(28, L + R) of the row's `protection_days`; clipped to the history), shrunk towards
    the history's mean m by the empirical-Bayes weight B_t = (sigma^2 / n_t) /
    (sigma^2 / n_t + tau^2) (Efron & Morris 1975): a = m + (1 - B_t)(a_t - m), with sigma^2
    the days' variance around their local level, n_t the measured days of the span and
    tau^2 = max(0, mean (a_t - m)^2 - mean sigma^2 / n_t) the variance of the local levels
    beyond their noise. Each day then becomes d'_t = m + (u_t - a) sqrt(m / a): the
    deviation from the local level scaled by sqrt(m / a), as a compound Poisson demand
    whose customers arrive m / a times as often, each as big (the season brings more
    customers, not bigger ones). A window's draw sums to d m + (U - d a) sqrt(m / a) over
    its d days where a holds over the window: the remainders around a local level of the
    bootstrap of Bergmeir, Hyndman & Benitez (2016), with a moving mean instead of STL,
    which one year of history cannot fit. Days above the large-order rule (more than
    `large_factor` times the row's median selling day, for rows with at least
    `large_min_days` selling days) keep their size and are left out of m, a and sigma^2.
    Rows whose level does not move beyond its noise (tau^2 = 0) are returned unchanged.
    A day can come out below zero: the draws' sums are clipped at zero by the bootstraps.
    """
    out = np.array(daily, dtype=float, copy=True)
    n, days = out.shape
    if days == 0:
        return out
    half = np.maximum(np.round(np.asarray(protection_days, dtype=float)), LOCAL_LEVEL_MIN_HALF_SPAN)
    t = np.arange(days)
    for lo in range(0, n, SERIES_PER_BLOCK):  # bounded [series, days] work arrays
        block = out[lo : lo + SERIES_PER_BLOCK]
        h = half[lo : lo + SERIES_PER_BLOCK].astype(int)[:, None]
        measured = ~np.isnan(block)
        selling = measured & (block > 0)
        # the median selling day of each row: its selling days sorted first (the rest inf)
        ordered = np.sort(np.where(selling, block, np.inf), axis=1)
        k = selling.sum(axis=1)[:, None]
        middle = np.take_along_axis(ordered, np.concatenate([(k - 1) // 2, k // 2], axis=1), 1)
        usual = np.where(k > 0, middle.mean(axis=1, keepdims=True), np.inf)
        large = selling & (block > large_factor * usual) & (k >= large_min_days)
        regular = measured & ~large
        u = np.where(regular, block, 0.0)
        count = regular.sum(axis=1)
        zero = np.zeros((block.shape[0], 1))
        cum = np.concatenate([zero, np.cumsum(u, axis=1)], axis=1)
        cum_n = np.concatenate([zero, np.cumsum(regular, axis=1)], axis=1)
        begin = np.clip(t[None, :] - h, 0, days)
        end = np.clip(t[None, :] + h + 1, 0, days)
        span_n = np.take_along_axis(cum_n, end, axis=1) - np.take_along_axis(cum_n, begin, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            local = (
                np.take_along_axis(cum, end, axis=1) - np.take_along_axis(cum, begin, axis=1)
            ) / span_n
            mean = u.sum(axis=1) / count
            sigma2 = np.where(regular, (u - local) ** 2, 0.0).sum(axis=1) / (count - 1)
            noise = sigma2[:, None] / span_n
            spread = np.where(regular, (local - mean[:, None]) ** 2, 0.0).sum(axis=1) / count
            tau2 = np.maximum(spread - np.where(regular, noise, 0.0).sum(axis=1) / count, 0.0)
            shrink = noise / (noise + tau2[:, None])
            level = mean[:, None] + (1.0 - shrink) * (local - mean[:, None])
            read = mean[:, None] + (u - level) * np.sqrt(mean[:, None] / level)
        moved = (tau2 > 0) & np.isfinite(tau2) & (count > 1)
        change = moved[:, None] & regular & np.isfinite(read) & (level > 0)
        block[change] = read[change]
    return out


def _lead_time_draws(
    streams: np.ndarray,
    lead_time_days: np.ndarray,
    lead_time_std_days: np.ndarray,
    draws: int,
) -> np.ndarray:
    """[series, draws] whole lead times in days: Normal(L, sigma_L) rounded, at least 1.

    Each series' normals come from its own stream (`random_streams`, inverse normal of
    its uniforms), so they do not depend on the other series drawn with it; only series
    with sigma_L > 0 draw at all. Drawn SERIES_PER_BLOCK series at a time into int32 (the
    float64 normals of every series at once took 0.25 GB on an M5-sized set)."""
    mean_l = np.asarray(lead_time_days, dtype=float)
    std_l = np.nan_to_num(np.asarray(lead_time_std_days, dtype=float))
    out = np.empty((mean_l.shape[0], draws), dtype=np.int32)
    out[:] = np.maximum(np.round(mean_l), 1)[:, None]
    varied = np.flatnonzero(std_l > 0)
    keys = substreams(np.asarray(streams)[varied], LEAD_TIME)
    for lo in range(0, varied.size, SERIES_PER_BLOCK):
        rows = varied[lo : lo + SERIES_PER_BLOCK]
        normal = special.ndtri(uniforms(keys[lo : lo + SERIES_PER_BLOCK], draws))
        out[rows] = np.maximum(np.round(mean_l[rows, None] + std_l[rows, None] * normal), 1)
    return out


OUTCOME_STREAMS = 1 << 32
"""Offset of the tag of a backtest origin's scored lead times from its draws' tag."""


def scored_lead_times(
    streams: np.ndarray,
    origin_tag: int,
    lead_days: np.ndarray,
    lead_time_days: np.ndarray,
    lead_time_std_days: np.ndarray,
    reviews: int,
) -> np.ndarray:
    """[series, reviews] lead times of the orders placed at a backtest origin's reviews:
    `lead_days` where sigma_L = 0, else Normal(L, sigma_L) rounded, at least 1
    (`_lead_time_draws`), as `simulate` draws one per order. From each series' own stream
    for the origin (`origin_tag`), apart from its draws' stream."""
    out = np.repeat(np.asarray(lead_days, dtype=int)[:, None], reviews, axis=1)
    std = np.nan_to_num(np.asarray(lead_time_std_days, dtype=float))
    varied = std > 0
    if varied.any():
        keys = substreams(np.asarray(streams)[varied], origin_tag + OUTCOME_STREAMS)
        out[varied] = _lead_time_draws(
            keys, np.asarray(lead_time_days)[varied], std[varied], reviews
        )
    return out


def rounded_orders(raw: np.ndarray, rounding: np.ndarray) -> np.ndarray:
    """Orders [rows, levels] rounded as the plan rounds them (`policy.round_order_quantity`:
    whole units, at least MOQ, whole packs, at most max order), `rounding` [rows, 3] the
    rows' MOQ, pack size and max order (NaN: none)."""
    from stockplan.policy import round_order_quantity  # policy imports this module

    n, levels = raw.shape
    frame = pl.DataFrame(
        {
            "raw": raw.ravel(),
            **{
                name: pl.Series(np.repeat(rounding[:, i], levels)).fill_nan(None)
                for i, name in enumerate(("moq", "pack_size", "max_order"))
            },
        }
    )
    rounded = frame.select(
        round_order_quantity(pl.col("raw"), pl.col("moq"), pl.col("pack_size"), pl.col("max_order"))
    )
    return rounded.to_series().to_numpy().astype(float).reshape(n, levels)


def whole_review_days(review_days: float | np.ndarray, rows: int) -> np.ndarray:
    """R per series in whole days, at least 1: `review_days` one for every series (the
    policy's) or one per series (each supplier's own, `leadtime.review_days_of`)."""
    r = np.broadcast_to(np.asarray(review_days, dtype=float), (rows,))
    return np.maximum(np.round(r), 1).astype(np.int32)


def bootstrap_lead_time_demand(
    keys: pl.DataFrame,
    daily: np.ndarray,
    lead_time_days: np.ndarray,
    lead_time_std_days: np.ndarray,
    review_days: float | np.ndarray,
    draws: int = 500,
    min_days: int = 28,
    seed: int = 0,
    streams: np.ndarray | None = None,
) -> LeadTimeDemand:
    """Resample whole days of each series' measured history into (D_L, D_R) draws.

    `daily` is [series, days] with NaN for unmeasured days (see `daily_demand`). Series
    with fewer than `min_days` measured days get no draws (mean_day NaN): their levels
    come from the parametric method instead. Each draw picks exactly its own L + R days
    (one flat array of picks, summed per draw segment), so the work is the days drawn,
    not draws x the longest lead time. `review_days`: R, one for all or one per series
    (`whole_review_days`). `streams`: each series' random stream
    (`random_streams.series_streams(keys, seed)` when not given).
    """
    if streams is None:
        streams = series_streams(keys, seed)
    n = daily.shape[0]
    measured, counts, mean_day = _measured_history(daily, min_days)
    l_draw = _lead_time_draws(streams, lead_time_days, lead_time_std_days, draws)
    pick_keys = substreams(streams, DAY_PICK)
    # row-major: each series' measured days in order; float32 as the draws are summed
    values = daily[measured].astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lead = np.zeros((n, draws), dtype=np.float32)
    review = np.zeros((n, draws), dtype=np.float32)
    r = whole_review_days(review_days, n)
    usable = np.flatnonzero(counts >= min_days)
    if usable.size == 0:
        return LeadTimeDemand(keys.select(SERIES), lead, review, mean_day, counts)
    per_series = draws * (float(l_draw[usable].mean()) + float(r[usable].mean()))
    step = max(1, int(CHUNK_DAYS // per_series))
    index = np.int32 if values.size < 2**31 else np.int64
    size_of = counts.astype(np.float32)  # exact below 2^24 days
    offset_of = offsets.astype(index)
    for start in range(0, usable.size, step):
        rows = usable[start : start + step]
        split = l_draw[rows].ravel()
        length = split + np.repeat(r[rows], draws)
        each = np.repeat(rows, draws)  # the series of each draw
        # draw d of a series takes numbers d 2^20 .. of its stream (L + R < 2^20 days);
        # u < 1 in float32 and round-to-nearest keep u * size below size: picks stay in range
        first = np.tile(np.arange(draws, dtype=np.uint64) << np.uint64(20), rows.size)
        u = stream_uniforms32(pick_keys[each], first, length)
        pick = (u * np.repeat(size_of[each], length)).astype(index)
        picked = values[np.repeat(offset_of[each], length) + pick]
        # segment sums: [begin, begin + L) is D_L, [begin + L, begin + L + R) is D_R
        bounds = np.empty(2 * split.size, dtype=np.int64)
        bounds[0::2] = np.cumsum(length) - length
        bounds[1::2] = bounds[0::2] + split
        sums = np.maximum(np.add.reduceat(picked, bounds), 0)  # days read at another level
        lead[rows] = sums[0::2].reshape(rows.size, draws)
        review[rows] = sums[1::2].reshape(rows.size, draws)
    return LeadTimeDemand(keys.select(SERIES), lead, review, mean_day, counts)


def window_lead_time_demand(
    keys: pl.DataFrame,
    daily: np.ndarray,
    lead_time_days: np.ndarray,
    lead_time_std_days: np.ndarray,
    review_days: float | np.ndarray,
    draws: int = 500,
    min_days: int = 28,
    seed: int = 0,
    streams: np.ndarray | None = None,
) -> LeadTimeDemand:
    """Moving-block bootstrap (Kunsch 1989) with one block of L + R consecutive days: each
    draw is the demand of a randomly placed L + R day window of the item's own history,
    split into its first L and last R days. Keeps the day-to-day dependence (busy weeks
    follow busy weeks) that resampling single days loses. Unmeasured days inside the
    history count at the series' mean per measured day. `review_days`: R, one for all or
    one per series (`whole_review_days`).

    Runs on blocks of SERIES_PER_BLOCK series (each series' numbers from its own stream,
    `streams` or `random_streams.series_streams(keys, seed)`, so the same in any block):
    the [series, draws] and [series, days] work arrays of every series together took
    1.2 GB on an M5-sized set."""
    if streams is None:
        streams = series_streams(keys, seed)
    n, span_all = daily.shape
    mean_l = np.asarray(lead_time_days, dtype=float)
    std_l = np.asarray(lead_time_std_days, dtype=float)
    r_all = whole_review_days(review_days, n)
    blocks = [slice(lo, min(lo + SERIES_PER_BLOCK, n)) for lo in range(0, n, SERIES_PER_BLOCK)]
    l_all = _lead_time_draws(streams, mean_l, std_l, draws)
    start_keys = substreams(streams, WINDOW_START)
    lead = np.empty((n, draws), dtype=np.float32)
    review = np.empty((n, draws), dtype=np.float32)
    counts = np.empty(n, dtype=np.int64)
    mean_day = np.empty(n)
    for rows in blocks:
        block = daily[rows]
        b = block.shape[0]
        measured, counts[rows], mean_b = _measured_history(block, min_days)
        begin = np.where(measured.any(axis=1), measured.argmax(axis=1), span_all)
        filled = np.where(measured, block, np.nan_to_num(mean_b)[:, None])
        filled[np.arange(span_all)[None, :] < begin[:, None]] = 0.0
        cum = np.concatenate([np.zeros((b, 1)), np.cumsum(filled, axis=1)], axis=1)
        l_draw = l_all[rows]
        r = r_all[rows, None]
        last_start = span_all - (l_draw + r)  # per draw: the latest window start that fits
        room = np.maximum(last_start - begin[:, None] + 1, 1)
        start = begin[:, None] + (uniforms(start_keys[rows], draws) * room).astype(int)
        start = np.clip(start, 0, np.maximum(last_start, 0))
        at = np.arange(b)[:, None]
        end_lead = np.minimum(start + l_draw, span_all)
        end_review = np.minimum(end_lead + r, span_all)
        # at zero: days read at another level (`history_level_days`) can sum below it
        lead[rows] = np.maximum(cum[at, end_lead] - cum[at, start], 0)
        review[rows] = np.maximum(cum[at, end_review] - cum[at, end_lead], 0)
        usable = (counts[rows] >= min_days) & (span_all - begin >= mean_l[rows] + r[:, 0])
        mean_day[rows] = np.where(usable, mean_b, np.nan)
    return LeadTimeDemand(keys.select(SERIES), lead, review, mean_day, counts)


def discrete_quantile(alpha: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """alpha-quantile of Poisson(mean), or negative binomial with that mean and variance
    (n = mean^2 / (variance - mean), p = mean / variance) when variance > mean. Arguments
    broadcast together; each element is evaluated by one distribution only."""
    return _poisson_or_negative_binomial("ppf", alpha, mean, variance)


def _poisson_or_negative_binomial(
    method: str, value: np.ndarray, mean: np.ndarray, variance: np.ndarray
) -> np.ndarray:
    """scipy's `method` ("ppf", "cdf") at `value` of the count distribution of
    `discrete_quantile`, element by element."""
    value, mean, variance = np.broadcast_arrays(
        np.asarray(value, dtype=float),
        np.maximum(np.asarray(mean, dtype=float), 1e-9),
        np.asarray(variance, dtype=float),
    )
    over = variance > mean * 1.0001
    out = np.empty(value.shape)
    m, v = mean[over], variance[over]
    out[over] = getattr(stats.nbinom, method)(value[over], m**2 / (v - m), m / v)
    out[~over] = getattr(stats.poisson, method)(value[~over], mean[~over])
    return out


def cycle_service_level_stock(lead: np.ndarray, review: np.ndarray, alpha: np.ndarray):
    """S per row: the alpha-quantile of T = D_L + D_R among draws with D_R > 0.

    `alpha` per row ([rows]) gives [rows]; a [rows, levels] table of levels gives S per
    row and level from one sort of each row's draws. Sorts blocks of SERIES_PER_BLOCK rows
    in the draws' own precision (float32 draws: half the memory, the same order)."""
    alpha = np.asarray(alpha, dtype=float)
    table = alpha if alpha.ndim == 2 else alpha[:, None]
    level = np.empty(table.shape)
    for lo in range(0, lead.shape[0], SERIES_PER_BLOCK):
        rows = slice(lo, lo + SERIES_PER_BLOCK)
        total = lead[rows] + review[rows]
        if not np.issubdtype(total.dtype, np.floating):
            total = total.astype(float)
        positive = review[rows] > 0
        sorted_total = np.sort(np.where(positive, total, np.nan), axis=1)  # NaN last
        hits = positive.sum(axis=1)
        position = np.ceil(table[rows] * hits[:, None]).astype(int) - 1
        position = np.clip(position, 0, lead.shape[1] - 1)
        picked = np.take_along_axis(sorted_total, position, axis=1).astype(float)
        level[rows] = np.where(hits[:, None] > 0, picked, 0.0)
    return level if alpha.ndim == 2 else level[:, 0]


def expected_shortage(
    lead: np.ndarray, review: np.ndarray, stock: np.ndarray, backorder: bool
) -> np.ndarray:
    """E[units short in a review cycle] per row for order-up-to `stock` (empirical loss)."""
    s = np.asarray(stock, dtype=float)[:, None]
    if backorder:
        total = lead + review
        short = np.maximum(total - s, 0.0) - np.maximum(lead - s, 0.0)
    else:  # in one work array: (D_R - (S - D_L)^+)^+
        short = np.subtract(s, lead)
        np.maximum(short, 0.0, out=short)
        np.subtract(review, short, out=short)
        np.maximum(short, 0.0, out=short)
    return short.mean(axis=1)


def fill_rate_stock(
    lead: np.ndarray, review: np.ndarray, beta: np.ndarray, backorder: bool = False
) -> np.ndarray:
    """Smallest S (to 1/64 of a unit) with 1 - E[short(S)] / E[D_R] >= beta, by bisection
    (the fill rate rises monotonically with S)."""
    lead = lead.astype(float)
    review = review.astype(float)
    demand = review.mean(axis=1)
    allowed = (1.0 - np.asarray(beta, dtype=float)) * demand
    low = np.zeros(lead.shape[0])
    high = (lead + review).max(axis=1)
    for _ in range(40):
        mid = (low + high) / 2
        ok = expected_shortage(lead, review, mid, backorder) <= allowed
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
        if np.all(high - low < 1 / 64):
            break
    return np.where(demand > 0, high, 0.0)


def _draw_rows(frame: pl.DataFrame, ltd: LeadTimeDemand) -> tuple[np.ndarray, np.ndarray]:
    """(rows of `frame` with usable draws, their row in `ltd`), matched on sku, location."""
    rows = frame.select(SERIES).join(
        ltd.keys.with_row_index("ltd_row"), on=SERIES, how="left", maintain_order="left"
    )["ltd_row"]
    found = rows.is_not_null().to_numpy()
    index = rows.fill_null(0).to_numpy().astype(int)
    usable = found & np.isfinite(ltd.mean_day[index]) & (ltd.mean_day[index] > 0)
    return usable, index[usable]


def review_demand_share(frame: pl.DataFrame, ltd: LeadTimeDemand) -> np.ndarray:
    """P(D_R > 0) per row of `frame`: the share of its draws with demand in the review
    period (NaN where the series has no draws)."""
    usable, pick = _draw_rows(frame, ltd)
    out = np.full(frame.height, np.nan)
    out[usable] = (ltd.review[pick] > 0).mean(axis=1)
    return out


def replenishment_cycle_level(alpha: np.ndarray, review_share: np.ndarray) -> np.ndarray:
    """The level per review period with demand that gives cycle service `alpha` per
    replenishment cycle of a min-max / (s, Q) series: alpha_R = 1 - (1 - alpha) / pi,
    pi = P(D_R > 0), clipped to [0, alpha].

    The conditional levels (`cycle_service_level_stock`, and the backtest's recalibration)
    count review periods with demand: P(T > s | D_R > 0). A replenishment cycle always
    has demand (it used up the order), and it runs short when the demand over the L + R
    after its last review above s exceeds s; with stockouts in periods without demand
    neglected, P(T > s) = pi P(T > s | D_R > 0), so P(T > s) = 1 - alpha needs the
    conditional level above (Silver, Pyke & Thomas 2017, ch. 6: the cycle service level
    is the fraction of replenishment cycles without a stockout)."""
    alpha = np.asarray(alpha, dtype=float)
    share = np.asarray(review_share, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = 1.0 - (1.0 - alpha) / share
    return np.where(share > 0, np.clip(level, 0.0, alpha), alpha)


def replenishment_fill_level(
    beta: np.ndarray, order_qty: np.ndarray, review_demand: np.ndarray
) -> np.ndarray:
    """The fill rate per review period that gives fill rate `beta` per replenishment cycle
    of a min-max / (s, Q) series ordering `order_qty` per cycle: beta_R = 1 - (1 - beta)
    Q / E[D_R], clipped to [0, beta].

    A cycle serves Q units and runs short only in the review period that starts at the
    reorder point, by about E[short_R(s)] = (1 - beta_R) E[D_R] units (the undershoot of s
    neglected), so fill = 1 - E[short_R(s)] / Q: shortage per cycle over the quantity per
    cycle (Silver, Pyke & Thomas 2017, ch. 6; Axsater 2006, ch. 5). Q = E[D_R] gives beta."""
    beta = np.asarray(beta, dtype=float)
    qty = np.asarray(order_qty, dtype=float)
    demand = np.asarray(review_demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = 1.0 - (1.0 - beta) * qty / demand
    return np.where((demand > 0) & (qty > 0), np.clip(level, 0.0, beta), beta)


def cycle_fill_rate(
    fill_per_review: np.ndarray, order_qty: np.ndarray, review_demand: np.ndarray
) -> np.ndarray:
    """Fill rate per replenishment cycle from the fill rate per review period at the
    reorder point: 1 - (1 - fill_R) E[D_R] / Q, the inverse of `replenishment_fill_level`
    (clipped to [0, 1])."""
    fill = np.asarray(fill_per_review, dtype=float)
    qty = np.asarray(order_qty, dtype=float)
    demand = np.asarray(review_demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (1.0 - fill) * demand / qty
    return np.where((demand > 0) & (qty > 0), np.clip(out, 0.0, 1.0), fill)


def cycle_shortage_stock(
    frame: pl.DataFrame, ltd: LeadTimeDemand, allowed: np.ndarray
) -> np.ndarray:
    """Per row of `frame`, the smallest reorder point s (to 1/64 of a draw unit, rescaled
    as `empirical_order_up_to` rescales) with E[(T - s)^+] <= `allowed` under the row's
    draws, T = D_L + D_R: the shortage of a replenishment cycle that starts its last
    review just above s, lead time included (Silver, Pyke & Thomas 2017, ch. 6, (R, s, S)
    with the undershoot neglected). NaN where the series has no draws."""
    usable, pick = _draw_rows(frame, ltd)
    out = np.full(frame.height, np.nan)
    if not usable.any():
        return out
    protection = (frame["lead_time_days"] + frame["review_days"]).to_numpy().astype(float)
    scale = frame["demand_protection"].to_numpy().astype(float)[usable] / (
        protection[usable] * ltd.mean_day[pick]
    )
    total = ltd.lead[pick].astype(float) + ltd.review[pick].astype(float)
    budget = np.asarray(allowed, dtype=float)[usable] / np.where(scale > 0, scale, np.nan)
    low, high = np.zeros(pick.size), total.max(axis=1)
    excess = np.empty_like(total)  # (T - s)^+, one work array for every step
    for _ in range(40):
        mid = (low + high) / 2
        np.subtract(total, mid[:, None], out=excess)
        ok = np.maximum(excess, 0.0, out=excess).mean(axis=1) <= budget
        high, low = np.where(ok, mid, high), np.where(ok, low, mid)
        if np.all(high - low < 1 / 64):
            break
    out[usable] = np.where(np.isfinite(budget), np.ceil(high * scale - 1e-9), np.nan)
    return out


def picked_level_stock(ltd: LeadTimeDemand, pick: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`cycle_service_level_stock` of the draws of `ltd`'s rows `pick` at `alpha` (per
    picked row, or [picked rows, levels]), the rows' draws copied a block at a time (all
    at once: 0.5 GB on an M5-sized set)."""
    blocks = [slice(lo, lo + SERIES_PER_BLOCK) for lo in range(0, pick.size, SERIES_PER_BLOCK)]
    return np.concatenate(
        [
            cycle_service_level_stock(ltd.lead[pick[b]], ltd.review[pick[b]], alpha[b])
            for b in blocks
        ]
    )


def empirical_order_up_to(
    frame: pl.DataFrame,
    ltd: LeadTimeDemand,
    measure: str,
    backorder: bool = False,
    extend: str = "none",
) -> np.ndarray:
    """Order-up-to level per row of `frame` from the bootstrap, NaN where there are no draws.

    `frame` needs sku, location, demand_protection (forecast over L + R), lead_time_days,
    review_days and service_level. The draws are rescaled by
    demand_protection / ((L + R) mean_day), so the level follows the forecast and the
    shape the history; the level is scale-free, so S scales by the same factor. With a
    backtest calibration for the row's pattern, S is the conditional quantile whose
    backtest service matched the target (`recalibrated_level`); without one, the
    conditional alpha-quantile (cycle) or the empirical-loss fill-rate level. A knob beyond
    the grid's top (`split_knob`) adds its step of `extend`'s base: S = S_0.999 + c B
    (`extended_stocks`).
    """
    usable, pick = _draw_rows(frame, ltd)
    out = np.full(frame.height, np.nan)
    if not usable.any():
        return out
    alpha = frame["service_level"].to_numpy().astype(float)[usable]
    patterns = frame["demand_pattern"].to_numpy()[usable]
    calibrated = np.zeros(alpha.size, dtype=bool)
    quantile = alpha.copy()
    for pattern, (cycle, fill) in ltd.calibration.items():
        rows = patterns == pattern
        achieved = cycle if measure == "cycle" else fill
        quantile[rows] = recalibrated_level(alpha[rows], achieved)
        calibrated |= rows
    quantile, step = split_knob(quantile)
    level = picked_level_stock(ltd, pick, quantile)
    if measure != "cycle" and not calibrated.all():
        own = fill_rate_stock(ltd.lead[pick], ltd.review[pick], alpha, backorder)
        level = np.where(calibrated, level, own)
    protection = (frame["lead_time_days"] + frame["review_days"]).to_numpy().astype(float)
    scale = frame["demand_protection"].to_numpy().astype(float)[usable] / (
        protection[usable] * ltd.mean_day[pick]
    )
    if (step > 0.0).any():  # in the draws' units, whose mean over L + R is this
        mean = protection[usable] * ltd.mean_day[pick]
        level = level + step * extension_base(level - mean, mean, extend)
    out[usable] = np.ceil(level * scale - 1e-9)
    return out


def lead_time_demand_sums(
    sales: pl.DataFrame,
    lead_times: pl.DataFrame,
    as_of: dt.date,
    excluded: pl.DataFrame | None,
    review_days: float,
    settings: Policy,
    summary: pl.DataFrame | None = None,
    bucket_days: int = 7,
    backorder: bool = False,
    seed: int = 0,
    forecast_age_days: int = 0,
    level_alpha: float = 0.0,
    classify: Classify | None = None,
) -> PendingDraws:
    """The first half of `history_lead_time_demand`: the backtest calibration's summed
    counts (`calibration_sums`) of these series and what their draws need, kept for
    `lead_time_demand_from`.

    Bootstrap draws for every series of `lead_times` (sku, location, lead_time_days,
    lead_time_std_days, demand_pattern; review_days, the supplier's R, where given) from the
    `bootstrap_history_days` of daily sales before `as_of`, with the method per pattern and
    its recalibration from the backtest. Each series' draws cover its own L + R (R its
    supplier's review_days, else `review_days`); the backtest calibration pools the series
    of a pattern and is measured at `review_days` (policy.review_days) for all of them,
    and a series on another R reads its quantile level off that same curve.

    `summary` (the forecast summary: window_origins, window_rates) gives the backtest
    windows; series with too little history for the forecast's backtest are calibrated on
    origins every four review periods of their own history (as the backtest steps by its
    4-bucket horizon), at the mean-so-far forecast and the spread such a series gets from
    the weeks before each origin only (`history_windows`). `policy.lead_time_demand`:
    `auto` scores both bootstraps (whole L + R windows, `block`; single days, `days`) and
    the parametric normal / negative binomial there and keeps per pattern the one whose
    recalibrated quantiles held best on held-out origins at 0.90 / 0.95 / 0.98; `block`,
    `days` or `parametric` forces one.
    With too few calibration cycles for a pattern its levels are the uncalibrated
    conditional quantiles (or the parametric ones).
    `classify`: pool each window under the pattern the series had at its origin (see
    `backtest_calibration`); lost-sales scoring as `lost_sales_scoring` says.
    `forecast_age_days`: how long the forecast made at an origin keeps setting the levels
    (0: refit at every review); the calibration then scores each window's forecast at every
    review over that age, as the levels will live with it; `level_alpha`: with the level
    updated from the buckets sold since the origin, as `simulate` does between refits.
    `policy.calibrate_every_review`: each origin's forecast is scored at every review up to
    the next origin (ages 0 .. 3 R: the origins are 4 R apart, as are the forecast
    backtest's windows at its 4-bucket horizon) even where the levels live for less: a plan
    run every week (age 0) otherwise recalibrates on the one week in four after each
    origin, a different week each planning date, and its levels swing from week to week
    with the weeks sampled. Every week of the history is then scored, at each forecast
    horizon the backtest has (rolling-origin evaluation over all horizons, Tashman 2000).
    """
    if settings.calibrate_every_review:
        forecast_age_days = max(forecast_age_days, 3 * max(1, round(review_days)))
    keys = lead_times.sort(SERIES)
    if "demand_pattern" not in keys.columns:
        keys = keys.with_columns(pl.lit(None, pl.String).alias("demand_pattern"))
    history = settings.bootstrap_history_days
    r = max(1, round(review_days))
    windows = _backtest_windows(summary, bucket_days)
    earliest = windows["origin"].min() if windows.height else None
    start = as_of - dt.timedelta(days=history)
    if earliest is not None:
        start = min(start, earliest - dt.timedelta(days=history))
    span = (as_of - start).days
    daily = daily_demand(sales, keys, start, span, excluded)
    windows = pl.concat(
        [
            windows.with_columns(pl.lit(None, pl.Float64).alias("sigma_day")),
            history_windows(keys, daily, start, windows, history, 4 * r, bucket_days=bucket_days),
        ]
    )
    lead_mean = keys["lead_time_days"].fill_null(0.0).to_numpy()
    lead_std = keys["lead_time_std_days"].fill_null(0.0).to_numpy()
    sigma_day = _sigma_day(keys, summary, bucket_days)
    # a series without a pattern (too short to classify) is not discrete
    discrete = keys["demand_pattern"].is_in(settings.discrete_patterns).fill_null(False).to_numpy()
    replayed = replayed_orders(settings)
    rounding = (
        keys.with_columns(  # one row per series even where no column is there
            pl.lit(None, pl.Float64).alias(c) for c in ORDER_ROUNDING if c not in keys.columns
        )
        .select(pl.col(c).cast(pl.Float64) for c in ORDER_ROUNDING)
        .to_numpy()
        .astype(float)
        if replayed or promise_replayed(settings, backorder)
        else None
    )
    level = local_level(settings)  # with bootstrap_level local: the days read at one level
    # the backtest's windows, draws and settings; the path each scoring runs on is its own
    scoring = {
        "backorder": backorder,
        "seed": seed,
        "sigma_day": sigma_day,
        "discrete": discrete,
        "forecast_age_days": forecast_age_days,
        "level_alpha": level_alpha,
        "bucket_days": bucket_days,
        "classify": classify,
        "discrete_patterns": settings.discrete_patterns,
        "bootstrap_patterns": settings.bootstrap_patterns,
        "extend_levels": extension_scored(settings),
        "carry_stock": settings.calibrate_carry_stock,
        "local_level": level,
    }
    backtest = (keys, daily, start, windows, lead_mean, lead_std, r, history)
    sums = (
        calibration_sums(
            *backtest,
            **scoring,
            lost_sales_path=lost_sales_scoring(settings),
            replayed=replayed,
            order_rounding=rounding if replayed else None,
        )
        if settings.calibrate and windows.height
        else {}
    )
    if sums and promise_replayed(settings, backorder):
        # the same windows, draws and levels scored as `simulate` runs them, for the
        # promise alone: the lower-bound loss that sets fill-rate levels under-reads them
        promise = calibration_sums(
            *backtest, **scoring, lost_sales_path=True, replayed=True, order_rounding=rounding
        )
        sums = sums | {PROMISE_SUMS + method: counts for method, counts in promise.items()}
    # the draws are over each series' own L + R: R its supplier's review_days where the
    # lead times carry it; the calibration above pools every series at the policy's R
    own_r = whole_review_days(
        keys["review_days"].fill_null(float(review_days)).to_numpy()
        if "review_days" in keys.columns
        else review_days,
        keys.height,
    )
    recent = daily[:, -history:]
    if level is not None:  # the draws' days at their history's level (the forecast's season)
        recent = history_level_days(recent, lead_mean + own_r, *level)
    return PendingDraws(keys, recent, lead_mean, lead_std, own_r, settings, backorder, seed, sums)


def lead_time_demand_from(
    pending: PendingDraws, sums: dict[str, np.ndarray] | None = None
) -> LeadTimeDemand:
    """The draws of `pending`'s series with the method per pattern and its recalibration
    from the summed calibration counts `sums` (of every series: `add_calibration_sums`
    over the partitions of a cluster run; `pending.sums` in a local run)."""
    keys, recent, settings = pending.keys, pending.recent, pending.settings
    lead_mean, lead_std, seed = pending.lead_mean, pending.lead_std, pending.seed
    r = whole_review_days(pending.r, keys.height)
    backorder = pending.backorder
    every = pending.sums if sums is None else sums
    calibration, held_out = calibration_curves(
        {m: c for m, c in every.items() if not m.startswith(PROMISE_SUMS)}
    )
    promised = calibration_curves(
        {m[len(PROMISE_SUMS) :]: c for m, c in every.items() if m.startswith(PROMISE_SUMS)}
    )[0]
    promise: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    candidates = (
        ("block", "days", "parametric")
        if settings.lead_time_demand == "auto"
        else (settings.lead_time_demand,)
    )
    methods: dict[str, str] = {}
    chosen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    which = 0 if settings.service_measure == "cycle" else 1
    for pattern in settings.bootstrap_patterns:
        scored = {m: held_out[m][pattern] for m in candidates if pattern in held_out.get(m, {})}
        best = chosen_method(scored, which, settings.method_choice) if scored else candidates[0]
        methods[pattern] = best if best == "parametric" else f"bootstrap_{best}"
        if pattern in calibration.get(best, {}):
            chosen[pattern] = calibration[best][pattern]
        if pattern in promised.get(best, {}):
            promise[pattern] = promised[best][pattern]
    # the other patterns keep the parametric levels, recalibrated on the same backtest:
    # sigma_e is a one-step error, too small for a forecast used for weeks, and the
    # sqrt(L + R) scaling assumes independent buckets (bench/smooth_diagnosis.py)
    for pattern, curves in calibration.get("parametric", {}).items():
        if pattern not in settings.bootstrap_patterns:
            methods[pattern] = "parametric"
            chosen[pattern] = curves
            if pattern in promised.get("parametric", {}):
                promise[pattern] = promised["parametric"][pattern]
    draws = settings.bootstrap_draws
    days_patterns = [p for p, m in methods.items() if m == "bootstrap_days"]
    if candidates == ("days",):
        base = bootstrap_lead_time_demand(keys, recent, lead_mean, lead_std, r, draws, seed=seed)
    else:  # the block draws also carry the level (mean_day) for the parametric patterns
        base = window_lead_time_demand(keys, recent, lead_mean, lead_std, r, draws, seed=seed)
    lead, review, mean_day = base.lead, base.review, base.mean_day
    use_days = keys["demand_pattern"].is_in(days_patterns).fill_null(False).to_numpy()
    if candidates != ("days",) and use_days.any():  # day draws only where they were chosen
        days = bootstrap_lead_time_demand(
            keys.filter(use_days),
            recent[use_days],
            lead_mean[use_days],
            lead_std[use_days],
            r[use_days],
            draws,
            seed=seed,
        )
        lead[use_days], review[use_days], mean_day[use_days] = days.lead, days.review, days.mean_day
    return LeadTimeDemand(
        keys.select(SERIES), lead, review, mean_day, base.days, methods, backorder, chosen, promise
    )


SIMPLEST_FIRST = ("parametric", "block", "days")


def chosen_method(held_out: dict[str, tuple[float, ...]], which: int, rule: str) -> str:
    """The method of `held_out` (method -> (cycle error, fill error, cycle SE, fill SE) of
    `calibration_curves`) kept for a pattern, for the measure `which` (0 cycle, 1 fill):
    `rule` "smallest" takes the smallest held-out error; "one_se" the simplest method whose
    error is within one standard error of the smallest, err_m <= err_best + SE_best (the
    one-standard-error rule; Breiman et al. 1984, Hastie, Tibshirani & Friedman 2009,
    section 7.10), in the order parametric (a fitted distribution, two parameters), block
    (whole L + R windows), days (single days, recombined): differences smaller than their
    noise do not move the choice off the simplest."""
    best = min((errors[which], m) for m, errors in held_out.items())[1]
    if rule != "one_se":
        return best
    bound = held_out[best][which] + held_out[best][2 + which]
    order = [m for m in SIMPLEST_FIRST if m in held_out] + [
        m for m in held_out if m not in SIMPLEST_FIRST
    ]
    return next(m for m in order if held_out[m][which] <= bound)


def history_lead_time_demand(*args, **kwargs) -> LeadTimeDemand:
    """Bootstrap draws for every series, calibrated on these series alone: the arguments
    of `lead_time_demand_sums`, then `lead_time_demand_from` with its own sums."""
    return lead_time_demand_from(lead_time_demand_sums(*args, **kwargs))


@dataclass
class PendingDraws:
    """A set of series between its calibration counts and its draws: sku, location and
    pattern, the last `bootstrap_history_days` of daily demand (read at its own level with
    `policy.bootstrap_level: local`, `history_level_days`), lead times, each series'
    review period, the policy's settings, backorder, the seed and the calibration counts."""

    keys: pl.DataFrame
    recent: np.ndarray
    lead_mean: np.ndarray
    lead_std: np.ndarray
    r: np.ndarray | int  # whole days, per series or one for all (`whole_review_days`)
    settings: Policy
    backorder: bool
    seed: int
    sums: dict[str, np.ndarray]


def add_calibration_sums(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The calibration counts of several sets of series added up, method by method."""
    total: dict[str, np.ndarray] = {}
    for part in parts:
        for method, counts in part.items():
            total[method] = total[method] + counts if method in total else counts.copy()
    return total


def local_level(settings: Policy) -> tuple[float, int] | None:
    """The large-order rule's factor and least selling days that `history_level_days`
    keeps large days by, where `policy.bootstrap_level` is "local"; else None."""
    if settings.bootstrap_level != "local":
        return None
    return settings.large_order_factor, settings.large_order_min_lines


def lost_sales_scoring(settings: Policy) -> bool:
    """Whether the backtest scores review periods on the lost-sales path (`_lost_sales_path`):
    `policy.calibrate_lost_sales` true / false, or 'cycle' (the default) for cycle-service
    targets only."""
    if settings.calibrate_lost_sales == "cycle":
        return settings.service_measure == "cycle"
    return bool(settings.calibrate_lost_sales)  # 'replayed_fill_rate': both measures


ORDER_ROUNDING = ("moq", "pack_size", "max_order")
"""Columns of the series that round the orders of the backtest's replayed path."""


def promise_replayed(settings: Policy, backorder: bool) -> bool:
    """Whether the backtest also scores its windows on the replayed lost-sales path for
    `promised_service` alone (`policy.promise_scoring: replayed`): for fill-rate targets,
    whose levels' curve counts a review period short by a lower bound of the lost-sales
    shortage (cycle targets are scored on the lost-sales path already); not where unmet
    demand waits, nor where the levels' own curve is already scored so."""
    return (
        settings.promise_scoring == "replayed"
        and settings.service_measure == "fill_rate"
        and not backorder
        and not replayed_orders(settings)
    )


def replayed_orders(settings: Policy) -> bool:
    """Whether the lost-sales path draws each order's lead time and rounds it to packs and
    MOQ as `simulate` does (`policy.calibrate_lost_sales: replayed`, or
    `replayed_fill_rate` for fill-rate targets)."""
    if settings.calibrate_lost_sales == "replayed_fill_rate":
        return settings.service_measure == "fill_rate"
    return settings.calibrate_lost_sales == "replayed"


def _sigma_day(keys: pl.DataFrame, summary: pl.DataFrame | None, bucket_days: int):
    """Per keys row: the forecast-error spread per day, sigma_e / sqrt(bucket days)."""
    if summary is None or "sigma_e" not in summary.columns:
        return None
    joined = keys.select(SERIES).join(
        summary.select(*SERIES, "sigma_e"), on=SERIES, how="left", maintain_order="left"
    )
    return joined["sigma_e"].fill_null(0.0).to_numpy() / np.sqrt(bucket_days)


def _backtest_windows(summary: pl.DataFrame | None, bucket_days: int) -> pl.DataFrame:
    """sku, location, origin, rate_per_day from the forecast summary's backtest windows."""
    schema = {
        "sku": pl.String,
        "location": pl.String,
        "origin": pl.Date,
        "rate_per_day": pl.Float64,
    }
    if summary is None or "window_origins" not in summary.columns:
        return pl.DataFrame(schema=schema)
    return (
        summary.select(*SERIES, "window_origins", "window_rates")
        .drop_nulls("window_origins")
        .explode("window_origins", "window_rates")
        .drop_nulls()
        .select(
            *SERIES,
            pl.col("window_origins").alias("origin"),
            (pl.col("window_rates").clip(lower_bound=0.0) / bucket_days).alias("rate_per_day"),
        )
    )


def history_windows(
    keys: pl.DataFrame,
    daily: np.ndarray,
    first: dt.date,
    windows: pl.DataFrame,
    history_days: int,
    step_days: int = 7,
    min_days: int = 28,
    bucket_days: int = 7,
) -> pl.DataFrame:
    """Calibration windows for the series the forecast could not backtest (history too
    short for its windows): an origin every `step_days` back from the end of `daily`, each
    with the forecast such a series gets, the mean demand per measured day of the (up to
    `history_days`) days before it (`forecast.py`: short history -> the mean of what there
    is), kept where at least `min_days` were measured, with the spread such a series
    gets from the same days (`_spread_before`, sigma_day): not from the whole history,
    which holds the windows scored. Columns of `_backtest_windows` plus sigma_day;
    origins whose L + R window runs past the history are skipped by the calibration."""
    missing = keys.select(SERIES).with_row_index("row").join(windows, on=SERIES, how="anti")
    n, span = daily.shape
    if missing.height == 0 or span <= min_days:
        return windows.clear().with_columns(pl.lit(None, pl.Float64).alias("sigma_day"))
    rows = missing["row"].to_numpy()
    measured = ~np.isnan(daily[rows])
    cum_days = np.concatenate([np.zeros((rows.size, 1)), np.cumsum(measured, axis=1)], axis=1)
    cum = np.concatenate(
        [np.zeros((rows.size, 1)), np.cumsum(np.nan_to_num(daily[rows]), axis=1)], axis=1
    )
    origins = np.arange(span - step_days, min_days - 1, -step_days)
    begin = np.maximum(origins - history_days, 0)
    counted = cum_days[:, origins] - cum_days[:, begin]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (cum[:, origins] - cum[:, begin]) / counted
    ok = counted >= min_days
    series, which = np.nonzero(ok)
    sigma = _spread_before(cum, cum_days, origins, history_days, bucket_days)
    return pl.DataFrame(
        {
            "sku": missing["sku"].to_numpy()[series],
            "location": missing["location"].to_numpy()[series],
            "day": origins[which],
            "rate_per_day": rate[series, which],
            "sigma_day": sigma[series, which],
        }
    ).select(
        pl.col("sku").cast(pl.String),
        pl.col("location").cast(pl.String),
        (pl.lit(first) + pl.duration(days=pl.col("day"))).cast(pl.Date).alias("origin"),
        pl.col("rate_per_day").cast(pl.Float64),
        pl.col("sigma_day").cast(pl.Float64),
    )


def _spread_before(
    cum: np.ndarray, cum_days: np.ndarray, origins: np.ndarray, history_days: int, bucket_days: int
) -> np.ndarray:
    """[series, origins] forecast-error spread per day that a short-history series gets
    at each origin from the buckets before it only: as `forecast.py` sets sigma_e for such
    a series, max(std of its buckets, sqrt(their mean)), over the (up to `history_days`)
    buckets ending at the origin that hold a measured day; / sqrt(bucket days)."""
    steps = max(1, history_days // bucket_days)
    spread = np.zeros((cum.shape[0], origins.size))
    for j, origin in enumerate(origins):  # one [series, buckets] block at a time: bounded memory
        ends = origin - bucket_days * np.arange(steps)
        ends = ends[ends >= bucket_days]
        sums = cum[:, ends] - cum[:, ends - bucket_days]
        seen = (cum_days[:, ends] - cum_days[:, ends - bucket_days]) > 0
        n = seen.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(seen, sums, 0.0).sum(axis=1) / n
            var = np.where(seen, (sums - mean[:, None]) ** 2, 0.0).sum(axis=1) / (n - 1)
        spread[:, j] = np.fmax(np.sqrt(np.where(n > 1, var, 0.0)), np.sqrt(np.nan_to_num(mean)))
    return spread / np.sqrt(bucket_days)


def pattern_before(
    history: np.ndarray,
    bucket_days: int = 7,
    adi_cutoff: float = 1.32,
    cv2_cutoff: float = 0.49,
    new_periods: int = 8,
    dead_days: int = 91,
) -> np.ndarray:
    """Demand pattern per row of `history` ([rows, days] ending at an origin, NaN where not
    measured) as `classify_demand` would have labelled the series there, from the days
    before the origin only: index into PATTERN_KEYS, or -1 where it would be new (fewer
    than `new_periods` buckets with a measured day), dead (no demand in the last
    `dead_days`) or never sold. Buckets of `bucket_days` end at the origin; ADI = buckets
    / buckets with demand, CV^2 = (std / mean)^2 (ddof 0) of the non-zero buckets
    (Syntetos, Boylan & Croston 2005): smooth ADI < cut and CV^2 < cut, erratic ADI < cut,
    intermittent CV^2 < cut, else lumpy."""
    rows, days = history.shape
    whole = days // bucket_days
    buckets = history[:, days - whole * bucket_days :].reshape(rows, whole, bucket_days)
    seen = (~np.isnan(buckets)).any(axis=2)
    sums = np.nansum(buckets, axis=2)
    selling = seen & (sums > 0)
    periods, hits = seen.sum(axis=1), selling.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(selling, sums, 0.0).sum(axis=1) / hits
        var = np.where(selling, (sums - mean[:, None]) ** 2, 0.0).sum(axis=1) / hits
        adi, cv2 = periods / hits, np.nan_to_num(var / mean**2)
    recent = np.nansum(history[:, max(0, days - dead_days) :], axis=1) > 0
    pattern = 2 * (adi >= adi_cutoff) + (cv2 >= cv2_cutoff)
    return np.where((hits > 0) & recent & (periods >= new_periods), pattern, -1)


def recalibrated_level(target: np.ndarray, achieved: np.ndarray) -> np.ndarray:
    """The knob (CALIBRATION_KNOB) whose backtest service equals `target` (linear between
    its points; quantile recalibration, Kuleshov et al. 2018): a quantile level of
    CALIBRATION_GRID, or beyond its top, where `achieved` holds the scores of the
    EXTENSION_STEPS (`calibration_sums` with `extend_levels`), 0.999 + c for the step c
    beyond the top level's stock (`split_knob`). `achieved` is made non-decreasing first;
    targets above the best achieved take the last knob scored."""
    achieved = np.maximum.accumulate(np.asarray(achieved, dtype=float))
    return np.interp(np.asarray(target, dtype=float), achieved, CALIBRATION_KNOB[: achieved.size])


def extension_scored(settings: Policy) -> str | None:
    """The base B of the steps the backtest scores beyond the top level for this target
    (`extended_stocks`), None for none: `policy.extend_levels` "safety" or "demand" (the
    default) for both service measures, "cycle" the demand steps for cycle-service targets
    only (fill-rate targets are scored with a lower bound of the shortage unless
    `calibrate_lost_sales` replays the path, so steps beyond their curve's top would buy
    stock against the bound's pessimism), "none" none."""
    mode = settings.extend_levels
    if mode == "cycle":
        return "demand" if settings.service_measure == "cycle" else None
    return None if mode == "none" else mode


def split_knob(knob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(quantile level, step) of a knob of `recalibrated_level`: up to the grid's top the
    level itself and step 0; beyond it the top level and c = knob - 0.999, for
    S = S_0.999 + c B (`extended_stocks`)."""
    knob = np.asarray(knob, dtype=float)
    top = CALIBRATION_GRID[-1]
    return np.minimum(knob, top), np.maximum(knob - top, 0.0)


def extension_base(top_safety: np.ndarray, mean: np.ndarray, extend: str) -> np.ndarray:
    """B of `extended_stocks`: the top level's safety stock (S_0.999 - mu)^+ with
    `extend` "safety", the mean demand over L + R with "demand"."""
    if extend == "demand":
        return np.maximum(np.asarray(mean, dtype=float), 0.0)
    return np.maximum(np.asarray(top_safety, dtype=float), 0.0)


def extended_stocks(stock: np.ndarray, mean: np.ndarray, extend: str) -> np.ndarray:
    """[rows, grid + steps]: the stocks of the grid's levels, then for each step c of
    EXTENSION_STEPS S_c = S_top + c B, B = `extension_base` of the top level's safety stock
    S_top - mu and mu (`mean`, per row, the forecast's mean over L + R).

    Why steps beyond the top level rather than levels beyond it: a quantile level beyond
    0.999 means nothing to a bootstrap of a few hundred draws (its 0.999-quantile is
    already the largest draw); a fitted tail (peaks over threshold, a generalized Pareto on
    the draws' excesses, Pickands 1975) would rest on the handful of draws above the
    threshold of each series; the normal's continuation z(1 - 10^-k) grows only as
    sqrt(2 k ln 10) and keeps a noise model's shape where the backtest says the model is
    wrong. A step is the same for every lead-time-demand method and is scored in the same
    backtest as the grid's levels, so what it buys is measured, not assumed. "safety"
    scales the top level's buffer (1 + c times it: k sigma with k beyond the top level's,
    Silver, Pyke & Thomas 2017, ch. 6); "demand" adds c times the demand over L + R (cover,
    as the rule of thumb sets stock): what the top level leaves short is mostly a level the
    forecast missed, an error that grows with the demand rather than with its noise."""
    top = stock[:, -1:]
    base = extension_base(top[:, 0] - np.asarray(mean, dtype=float), mean, extend)
    return np.hstack([stock, top + EXTENSION_STEPS[None, :] * base[:, None]])


def _outcomes(cum: np.ndarray, start: int, lead_days: np.ndarray, review: int):
    """Actual (D_L, D_R) per series for the window starting at day index `start`, from
    `cum` ([series, days + 1] running totals of the measured daily demand, 0 first)."""
    n, span = cum.shape[0], cum.shape[1] - 1
    rows = np.arange(n)
    end_lead = np.minimum(start + lead_days, span)
    end_review = np.minimum(end_lead + review, span)
    return cum[rows, end_lead] - cum[rows, start], cum[rows, end_review] - cum[rows, end_lead]


def backtest_calibration(*args, **kwargs):
    """(curves, held_out): `calibration_curves` of one `calibration_sums` (all series)."""
    return calibration_curves(calibration_sums(*args, **kwargs))


def calibration_sums(
    keys: pl.DataFrame,
    daily: np.ndarray,
    first: dt.date,
    windows: pl.DataFrame,
    lead_time_days: np.ndarray,
    lead_time_std_days: np.ndarray,
    review_days: int,
    history_days: int,
    draws: int = 200,
    backorder: bool = False,
    seed: int = 0,
    sigma_day: np.ndarray | None = None,
    discrete: np.ndarray | None = None,
    forecast_age_days: int = 0,
    level_alpha: float = 0.0,
    bucket_days: int = 7,
    lost_sales_path: bool = False,
    classify: Classify | None = None,
    discrete_patterns: Sequence[str] | None = None,
    replayed: bool = False,
    order_rounding: np.ndarray | None = None,
    bootstrap_patterns: Sequence[str] | None = None,
    extend_levels: str | None = None,
    carry_stock: bool = False,
    local_level: tuple[float, int] | None = None,
) -> dict[str, np.ndarray]:
    """Backtest both bootstraps (and, given `sigma_day`, the parametric lead-time demand)
    at the forecast's own backtest origins, pooled by pattern.

    `daily` ([series, days] from `first`, NaN unmeasured) has one row per `keys` row
    (sku, location, demand_pattern). `windows` (sku, location, origin, rate_per_day) are
    the forecast backtest's windows: where each starts and the forecast's mean demand per
    day there. At each origin the draws use only the `history_days` before it, rescaled
    to that forecast (exactly as the plan rescales to its forecast), and the actual L + R
    demand that followed is scored at every conditional quantile of CALIBRATION_GRID:
    cycle service P(T <= S | D_R > 0) and fill rate 1 - short / demand in the review.
    The parametric candidate is the plan's own: normal mu + z sigma_LTD, or for rows
    flagged `discrete` the Poisson / negative binomial quantile (`discrete_quantile`),
    with sigma_LTD^2 = (L + R) sigma_day^2 + d^2 sigma_L^2 at the window's forecast d.
    With `forecast_age_days` > 0 each origin's draws and forecast are also scored on the
    L + R windows starting every review period after it up to that age (the forecast grows
    stale between refits exactly so in `simulate`; scoring only fresh forecasts would
    recalibrate optimistically), where the history has them. With `level_alpha` > 0 the
    forecast used at age a is the one `simulate` uses then (`smoothed_levels`): its level
    follows the k = a // bucket_days buckets sold since the origin, l_j = l_(j-1) +
    alpha (y_j - l_(j-1)) from l_0 = the window's forecast per bucket, and mu, sigma and
    the bootstrap's scale are multiplied by l_k / l_0 (a zero forecast takes l_k).
    Each window is pooled under the pattern the series had at its origin with `classify`
    (`pattern_before` on the `history_days` before it: a label chosen on the whole history
    would pool a series' windows by what they hold; windows the plan would call new or dead
    are left out), its parametric candidate discrete where that pattern is in
    `discrete_patterns`; without `classify`, under the row's `demand_pattern`.
    A window runs short when T > S (exact for backorders); with `lost_sales_path` and lost
    sales, when the (R, S) policy replayed on the actual days after the origin runs out in
    the window's review period (`_lost_sales_path`): demand lost earlier does not carry
    into later review periods, as in `simulate`. With `replayed` the path's orders are
    those of `simulate`: each arrives after its own lead time (`scored_lead_times`) and is
    rounded to the series' MOQ, pack size and max order (`order_rounding`, [series, 3],
    `rounded_orders`); the review periods stay counted from L.
    Returns method -> [half, measure, level, pattern] summed counts (cycles, cycles
    served, review demand, units short) in four halves: 0 / 1 the origins by date (every
    other 4 R days back from the end), 2 / 3 the series by the parity of their stream key
    (a hash of sku, location and seed). `calibration_curves` turns them into, per method and
    pattern, (cycle service, fill rate) per grid level over all origins and the held-out
    error: the curves of one half recalibrate the levels for the other, and the mean
    |achieved - target| there at 0.90 / 0.95 / 0.98 is the method's calibration score
    (the halves by series where the origins leave a half without curves). Each window's
    half follows from its own date or series alone, so the counts of any partition of the
    series add up to those of all series at once.
    Each series' draws come from its own streams (seed, and the origin's date).
    With `bootstrap_patterns` the bootstraps are drawn and scored only on the windows
    pooled under one of them (the plan reads the bootstraps' counts of those patterns
    alone: `lead_time_demand_from`); their counts of the other patterns stay zero, and
    every other count is the same as with all windows drawn.
    With `extend_levels` ("safety" or "demand") each window is also scored at the
    EXTENSION_STEPS beyond the top level (`extended_stocks`, mu the window's forecast over
    L + R at that age), the same way as the grid's levels: the counts then run over
    CALIBRATION_KNOB.
    With `carry_stock` (and the lost-sales path) each origin's path starts from the position
    the path of the series' origin before it left on that day, level by level (`carried` of
    `_lost_sales_path`; the origins taken in date order), instead of at S: a lower S cannot
    send back the stock a higher one bought, as in `simulate`. A series' first origin, or
    one its earlier path does not reach, starts at S.
    With `local_level` (the large-order factor and least selling days,
    `policy.bootstrap_level: local`) the bootstraps resample the days before each origin
    read at their own history's level (`history_level_days`), as the plan's draws are.
    """
    r = max(1, round(review_days))
    lead_mean = np.asarray(lead_time_days, dtype=float)
    lead_days = np.round(lead_mean).astype(int)
    lead_std = np.asarray(lead_time_std_days, dtype=float)
    span = daily.shape[1]
    rows_of = windows.join(
        keys.select(SERIES).with_row_index("row"), on=SERIES, maintain_order="left"
    ).with_columns((pl.col("origin") - pl.lit(first)).dt.total_days().alias("day"))
    if carry_stock:  # origins in date order, each window with its series' next origin
        rows_of = (
            rows_of.sort("row", "day")
            .with_columns(pl.col("day").shift(-1).over("row").fill_null(-1).alias("next_day"))
            .sort("day", maintain_order=True)
        )
    patterns = keys["demand_pattern"].to_numpy()
    # today's label per row (index into PATTERN_KEYS, -1 for none of them), used where no
    # `classify` gives each window the pattern at its origin
    labels = np.select([patterns == p for p in PATTERN_KEYS], range(len(PATTERN_KEYS)), -1)
    is_discrete = np.isin(np.array(PATTERN_KEYS), list(discrete_patterns or ()))
    is_bootstrap = np.isin(np.array(PATTERN_KEYS), list(bootstrap_patterns or ()))
    running = np.zeros((daily.shape[0], span + 1))  # filled a block of series at a time
    for lo in range(0, daily.shape[0], SERIES_PER_BLOCK):
        block = slice(lo, lo + SERIES_PER_BLOCK)
        np.cumsum(np.nan_to_num(daily[block]), axis=1, out=running[block, 1:])
    methods = ("block", "days", "parametric") if sigma_day is not None else ("block", "days")
    knobs = CALIBRATION_KNOB.size if extend_levels else CALIBRATION_GRID.size
    sums = {m: np.zeros((4, 4, knobs, len(PATTERN_KEYS))) for m in methods}
    # per method: each series' position left for its next origin, and that origin's day
    carried = {m: np.full((daily.shape[0], knobs), np.nan) for m in methods}
    carried_for = {m: np.full(daily.shape[0], -1) for m in methods}
    streams = series_streams(keys, seed)
    # the held-out half of a series: its stream key's parity, the same in any partition
    series_half = (streams & np.uint64(1)).astype(int)
    for (day,), group in rows_of.group_by("day", maintain_order=True):
        origin = int(day)
        # the half of the origins an origin belongs to, and its draws' streams, follow from
        # its date alone: the same whichever other series or origins are calibrated with it
        half = ((span - origin) // (4 * r)) % 2
        origin_streams = first.toordinal() + origin
        rows = group["row"].to_numpy()
        rows_ok = (origin + lead_days[rows] + r <= span) & (origin > 0)
        rows, rate = rows[rows_ok], group["rate_per_day"].to_numpy()[rows_ok]
        if rows.size == 0:
            continue
        own_spread = (  # a window's own spread, where it has one (history windows)
            group["sigma_day"].to_numpy()[rows_ok]
            if sigma_day is not None and "sigma_day" in group.columns
            else np.full(rows.size, np.nan)
        )
        history = daily[rows, max(0, origin - history_days) : origin]
        if classify is not None:  # the pattern the series had at this origin
            window_pattern = pattern_before(
                history,
                bucket_days,
                classify.adi_cutoff,
                classify.cv2_cutoff,
                classify.new_item_periods,
                classify.dead_item_days,
            )
        else:  # the pattern it has now
            window_pattern = labels[rows]
        ages = range(0, max(0, forecast_age_days) + 1, r)
        order_lead = (  # each review's order arrives after its own lead time, as replayed
            scored_lead_times(
                streams[rows],
                origin_streams,
                lead_days[rows],
                lead_mean[rows],
                lead_std[rows],
                len(ages),
            )
            if replayed
            else None
        )
        # the running totals from the origin on, copied once per origin (not two per age):
        # the days before it are never read, and all of them took 0.15 GB on an M5-sized set
        ran = running[rows, origin:]
        outcomes = [
            (
                ages_ok,
                *_outcomes(ran, age, lead_days[rows], r),
                _level_ratio(ran, 0, rate, age // bucket_days, bucket_days, level_alpha),
            )
            for age in ages
            if (ages_ok := origin + age + lead_days[rows] + r <= span).any()
        ]
        del ran
        sub_keys = keys[rows]
        resampled = (
            history
            if local_level is None
            else history_level_days(history, lead_mean[rows] + r, *local_level)
        )
        drawn = (  # the windows the bootstraps are drawn for
            slice(None)
            if bootstrap_patterns is None
            else np.flatnonzero((window_pattern >= 0) & is_bootstrap[np.maximum(window_pattern, 0)])
        )
        for method in methods:
            pick = slice(None) if method == "parametric" else drawn
            if method == "parametric":
                mu = rate * (lead_mean[rows] + r)
                spread = np.where(np.isnan(own_spread), sigma_day[rows], own_spread)
                sigma = np.sqrt((lead_mean[rows] + r) * spread**2 + rate**2 * lead_std[rows] ** 2)
                fitted = (mu > 0) & np.isfinite(sigma)
            else:
                build = window_lead_time_demand if method == "block" else bootstrap_lead_time_demand
                ltd = build(
                    sub_keys[pick],
                    resampled[pick],
                    lead_mean[rows[pick]],
                    lead_std[rows[pick]],
                    r,
                    draws,
                    streams=substreams(streams[rows[pick]], origin_streams),
                )
                mean_day = np.full(rows.size, np.nan)  # windows not drawn are not fitted
                mean_day[pick] = ltd.mean_day
                with np.errstate(invalid="ignore", divide="ignore"):
                    scale = rate / mean_day
                fitted = np.isfinite(scale) & (mean_day > 0)
            grid = np.broadcast_to(CALIBRATION_GRID, (rows.size, CALIBRATION_GRID.size))
            if method != "parametric":
                quantile = np.zeros(grid.shape)
                quantile[pick] = cycle_service_level_stock(ltd.lead, ltd.review, grid[pick])

            if classify is not None and discrete_patterns is not None:
                counted = (window_pattern >= 0) & is_discrete[np.maximum(window_pattern, 0)]
            else:
                counted = discrete[rows] if discrete is not None else np.zeros(rows.size, bool)
            fresh = None
            mine = (window_pattern[:, None] == np.arange(len(PATTERN_KEYS))[None, :]).astype(float)
            # held-out halves: alternate origins (0, 1), and the series' halves (2, 3) for
            # where the origins leave a half empty
            pools = [
                (half, mine),
                *((2 + h, mine * (series_half[rows] == h)[:, None]) for h in (0, 1)),
            ]
            stocks = []
            for *_, (ratio, at_rate) in outcomes:
                moved = not np.all(ratio == 1.0) or bool(np.any((rate <= 0) & (at_rate > 0)))
                if fresh is not None and not moved:
                    stock = fresh
                elif method != "parametric":  # the draws rescaled to the moved level
                    with np.errstate(invalid="ignore", divide="ignore"):
                        level = np.where(rate > 0, scale * ratio, at_rate / mean_day)
                    stock = np.ceil(quantile * np.nan_to_num(level)[:, None] - 1e-9)
                else:  # mu and sigma_LTD both scale with the level
                    m, s = mu * ratio, sigma * ratio
                    stock = m[:, None] + stats.norm.ppf(CALIBRATION_GRID)[None, :] * s[:, None]
                    if counted.any():
                        stock[counted] = discrete_quantile(
                            grid[counted], m[counted, None], np.maximum(s**2, m)[counted, None]
                        )
                    stock = np.where(fitted[:, None], stock, 0.0)
                if extend_levels and (fresh is None or moved):
                    # the forecast's mean over L + R at this age, as the stock's level moved
                    with np.errstate(invalid="ignore"):
                        day_rate = np.where(rate > 0, rate * ratio, at_rate)
                    stock = extended_stocks(stock, day_rate * (lead_mean[rows] + r), extend_levels)
                if not moved:
                    fresh = stock
                stocks.append(stock)
            if not backorder and lost_sales_path:  # SERIES_PER_BLOCK rows at a time: its
                # [rows, levels, days] pipeline for every series at once is a full copy each;
                # of each row only the days the replay reads (`_replay_days`), not all of them
                scored_rows = np.arange(rows.size)[pick]  # (windows not drawn: not scored)
                first_day, last_day = _replay_days(
                    origin, span, lead_days[rows[pick]], r, len(stocks)
                )
                if carry_stock:  # the days up to the next origins, where the path is carried
                    next_day = group["next_day"].to_numpy()[rows_ok]
                    carry_day = np.where(next_day > origin, next_day - origin, -1)
                    reach = origin + int(carry_day[scored_rows].max(initial=-1)) + 1
                    last_day = min(span, max(last_day, reach))
                    left = np.full((rows.size, knobs), np.nan)  # rows not scored: none left
                    mine_for = carried_for[method][rows] == origin
                    start = np.where(mine_for[:, None], carried[method][rows], np.nan)
                blocks = []
                for lo in range(0, scored_rows.size, SERIES_PER_BLOCK):
                    b = scored_rows[lo : lo + SERIES_PER_BLOCK]
                    held = np.full((b.size, knobs), np.nan) if carry_stock else None
                    blocks.append(
                        _lost_sales_path(
                            np.nan_to_num(daily[rows[b], first_day:last_day]),
                            origin - first_day,
                            [stock[b] for stock in stocks],
                            lead_days[rows[b]],
                            r,
                            None if order_lead is None else order_lead[b],
                            None if order_rounding is None else order_rounding[rows[b]],
                            *((start[b], carry_day[b], held) if carry_stock else ()),
                        )
                    )
                    if carry_stock:
                        left[b] = held
                if carry_stock:  # kept for each series' next origin
                    going = carry_day > 0
                    carried[method][rows[going]] = left[going]
                    carried_for[method][rows[going]] = next_day[going]
                path_out = np.zeros((len(stocks), rows.size, knobs), dtype=bool)
                path_short = np.zeros((len(stocks), rows.size, knobs))
                if blocks:
                    path_out[:, pick] = np.concatenate([out for out, _ in blocks], axis=1)
                    path_short[:, pick] = np.concatenate([short for _, short in blocks], axis=1)
            for i, (ages_ok, lead_actual, review_actual, _) in enumerate(outcomes):
                stock = stocks[i]
                total = (lead_actual + review_actual)[:, None]
                scored = (fitted & ages_ok).astype(float)
                cycle = scored * (review_actual > 0)
                if backorder:
                    short = np.maximum(total - stock, 0) - np.maximum(
                        lead_actual[:, None] - stock, 0
                    )
                    ok = total <= stock
                elif lost_sales_path:
                    short, ok = path_short[i], ~path_out[i]
                else:
                    short = np.maximum(
                        review_actual[:, None] - np.maximum(stock - lead_actual[:, None], 0), 0
                    )
                    ok = total <= stock
                for h, pooled in pools:
                    table = sums[method][h]  # [measure, level, pattern]
                    table[0] += (cycle @ pooled)[None, :]
                    table[1] += (ok * cycle[:, None]).T @ pooled
                    table[2] += ((scored * review_actual) @ pooled)[None, :]
                    table[3] += (short * scored[:, None]).T @ pooled
    return sums


def calibration_curves(
    sums: dict[str, np.ndarray],
) -> tuple[dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], dict]:
    """(curves, held_out) of `backtest_calibration` from the summed counts of
    `calibration_sums` (method -> [half, measure, level, pattern]): the counts of several
    partitions of the series add up to those of all series at once. held_out: method ->
    pattern -> (cycle error, fill error, cycle SE, fill SE), the errors mean |achieved -
    target| over the two halves and SCORED_LEVELS, the SEs `_held_out_standard_error`."""
    result: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    held_out: dict[str, dict[str, tuple[float, ...]]] = {}
    split = {  # held out by origin where every method has both halves, else by series
        pattern: 0
        if all(_curves(h[a, :, :, p]) is not None for h in sums.values() for a in (0, 1))
        else 2
        for p, pattern in enumerate(PATTERN_KEYS)
    }
    for method, halves in sums.items():
        result[method], held_out[method] = {}, {}
        for p, pattern in enumerate(PATTERN_KEYS):
            first_half = split[pattern]
            curves = [_curves(halves[first_half + h, :, :, p]) for h in (0, 1)]
            both = _curves(halves[:2].sum(axis=0)[:, :, p])
            if both is None:
                continue
            result[method][pattern] = both
            if curves[0] is None or curves[1] is None:
                continue
            errors = tuple(
                float(
                    np.mean(
                        [
                            _held_out_error(curves[a][m], curves[1 - a][m], level)
                            for a in (0, 1)
                            for level in SCORED_LEVELS
                        ]
                    )
                )
                for m in (0, 1)
            )
            cycles = np.array([halves[first_half + h, 0, 0, p] for h in (0, 1)])
            held_out[method][pattern] = errors + (_held_out_standard_error(cycles),) * 2
    return result, held_out


def _held_out_standard_error(cycles: np.ndarray) -> float:
    """Standard error of a held-out error (`calibration_curves`) from the review cycles
    counted in each half (`cycles`, [2]): the rate achieved on a half at a level set for
    target t is a mean over its n cycles, binomial for cycle service, with standard error
    sqrt(t (1 - t) / n); for the fill rate, read as a mean of per-cycle fill fractions in
    [0, 1], sqrt(t (1 - t) / n) is its upper bound (Bhatia & Davis 2000; the rate weights
    the cycles by their demand, which widens it where that is uneven). |achieved - t| varies
    no more than the achieved rate. The scored levels of a half are read on the same
    cycles: their errors are taken as moving together (their standard errors averaged,
    s_a = mean_t sqrt(t (1 - t) / n_a)); the two halves hold different origins (or
    series) and are independent: SE = sqrt(s_0^2 + s_1^2) / 2. Windows of one series are
    counted as independent, which understates it where a series' cycles move together."""
    t = np.asarray(SCORED_LEVELS)
    per_half = np.sqrt(t * (1 - t)).mean() / np.sqrt(np.maximum(cycles, 1.0))
    return float(np.sqrt(np.sum(per_half**2)) / 2)


def _replay_days(origin: int, span: int, lead: np.ndarray, r: int, ages: int) -> tuple[int, int]:
    """The days [first, last) of a [rows, span] demand that `_lost_sales_path` reads for
    the replay from `origin` of `ages` reviews with these lead times: the review periods
    of the ceil(L / R) reviews before the origin (whose orders may be in the pipeline
    there) and the days up to the end of the last review period scored."""
    longest = int(lead.max(initial=1))
    first = max(0, origin - (-(-longest // r) + 1) * r)
    return first, min(span, origin + (ages - 1) * r + longest + r)


def _lost_sales_path(
    demand: np.ndarray,
    origin: int,
    stocks: list[np.ndarray],
    lead: np.ndarray,
    r: int,
    order_lead: np.ndarray | None = None,
    rounding: np.ndarray | None = None,
    carried: np.ndarray | None = None,
    carry_day: np.ndarray | None = None,
    left: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(stockout, units short) per review a after the origin ([ages, rows, levels]) in the
    review period [origin + a R + L, origin + (a + 1) R + L) of an (R, S) policy replayed
    with lost sales on `demand` ([rows, days], actual daily demand): at each review order
    up to stocks[a] ([rows, levels]); at the origin the position is stocks[0], of which the
    orders of the reviews within L before it are in the pipeline, each the demand of the
    review period before it (order-up-to replaces what was sold). `order_lead` ([rows,
    ages]): the lead time of the order placed at each review (without it every order takes
    L): a late order leaves the review periods, still counted from L, short until it
    arrives. `rounding` ([rows, 3] MOQ, pack size, max order): each review's order rounded
    as the plan rounds it (`rounded_orders`); the position at the origin stays stocks[0].
    `carried` ([rows, levels], NaN for none): the position at the origin before its order,
    left by the levels before it (`policy.calibrate_carry_stock`), instead of stocks[0]; an
    order-up-to policy cannot send back what lies above a lower S, so it orders
    max(0, S - position). Its split between stock on hand and on order follows the rule
    above (the pipeline's orders cut to the position where they exceed it). `carry_day`
    ([rows], -1 for none) with `left` ([rows, levels], written): the position before the
    review of that day after the origin (the next origin's), reviews after the last of
    `stocks` ordering up to its level."""
    n, levels = stocks[0].shape
    ages = len(stocks)
    arrival = (
        np.broadcast_to(lead[:, None], (n, ages)) if order_lead is None else order_lead[:, :ages]
    )
    longest = int(max(lead.max(initial=1), arrival.max(initial=1)))
    span = demand.shape[1]
    horizon = (ages - 1) * r + longest + r
    if carry_day is not None:
        horizon = max(horizon, int(carry_day.max(initial=-1)) + 1)
    horizon = min(horizon, span - origin)
    # [day, rows, levels]: each day's arrivals, and each day's demand below, one
    # contiguous slice (the day as the last axis made every step a strided gather)
    pipe = np.zeros((horizon + longest + r + 1, n, levels))
    on_order = np.zeros((n, 1))
    idx = np.arange(n)
    for k in range(1, -(-longest // r) + 1):
        lo, hi = origin - (k + 1) * r, origin - k * r
        if hi <= 0:
            break
        q = demand[:, max(lo, 0) : hi].sum(axis=1)
        arrive = lead - k * r
        inflight = arrive > 0
        pipe[arrive[inflight], idx[inflight]] += q[inflight, None]
        on_order[inflight, 0] += q[inflight]
    on_hand = np.maximum(stocks[0] - on_order, 0.0)
    on_order = np.broadcast_to(on_order, (n, levels)).copy()
    if carried is not None and (kept := ~np.isnan(carried)).any():
        with np.errstate(invalid="ignore", divide="ignore"):
            cut = np.where(kept, np.minimum(1.0, carried / on_order), 1.0)
        cut = np.nan_to_num(cut, nan=1.0)  # nothing on order: nothing to cut
        pipe[: longest + 1] *= cut[None]
        on_order *= cut
        on_hand = np.where(kept, np.nan_to_num(carried) - on_order, on_hand)
    out = np.zeros((ages, n, levels), dtype=bool)
    short = np.zeros((ages, n, levels))
    days = np.ascontiguousarray(demand[:, origin : origin + horizon].T)
    reviews = ages if carry_day is None else max(ages, -(-horizon // r))
    for d in range(horizon):
        if carry_day is not None and (due := carry_day == d).any():
            left[due] = on_hand[due] + on_order[due]
        arriving = pipe[d]
        on_hand += arriving
        on_order -= arriving
        if d % r == 0 and d // r < reviews:
            a = min(d // r, ages - 1)
            q = np.maximum(stocks[a] - on_hand - on_order, 0.0)
            if rounding is not None:
                q = rounded_orders(q, rounding)
            pipe[d + (arrival[:, d // r] if d // r < ages else lead), idx] += q
            on_order += q
        today = days[d][:, None]
        served = np.minimum(on_hand, today)
        on_hand -= served
        unmet = today - served
        age = (d - lead) // r
        valid = (d >= lead) & (age < ages)
        if valid.any():
            rows = idx[valid]
            out[age[valid], rows] |= unmet[valid] > 1e-9
            short[age[valid], rows] += unmet[valid]
    return out, short


def _level_ratio(
    running: np.ndarray,
    origin: int,
    rate: np.ndarray,
    buckets: int,
    bucket_days: int,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(l_k / l_0, l_k per day) per row: simple exponential smoothing of the `buckets`
    buckets sold from day `origin` (`running`: [rows, days + 1] running totals), started at
    l_0 = `rate` x `bucket_days`, as `simulate.smoothed_levels` updates a flat forecast
    (ratio 1 where the forecast is zero)."""
    start = rate * bucket_days
    level = start.astype(float).copy()
    if alpha > 0:
        for k in range(buckets):  # buckets since the origin (at most refit_every), not rows
            lo = min(origin + k * bucket_days, running.shape[1] - 1)
            hi = min(origin + (k + 1) * bucket_days, running.shape[1] - 1)
            level += alpha * (running[:, hi] - running[:, lo] - level)
    ratio = np.divide(level, start, out=np.ones_like(level), where=start > 0)
    return ratio, np.maximum(level, 0.0) / bucket_days


def _curves(table: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(cycle service, fill rate) per grid level from summed counts, None if too few."""
    cycles, demand = table[0, 0], table[2, 0]
    if cycles < MIN_CALIBRATION_CYCLES or demand <= 0:
        return None
    return table[1] / cycles, 1.0 - table[3] / demand


def _held_out_error(fitted: np.ndarray, other: np.ndarray, target: float) -> float:
    """|service on the other half of the origins - target| at the level recalibrated on
    this half: how well the recalibrated quantiles hold out of sample."""
    level = recalibrated_level(np.array([target]), fitted)
    return abs(float(np.interp(level, CALIBRATION_KNOB[: other.size], other)[0]) - target)


def service_at_stock(
    lead: np.ndarray, review: np.ndarray, stock: np.ndarray, backorder: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(cycle service, fill rate) per row that order-up-to `stock` gives under the draws
    (D_L, D_R), with the definitions the levels are set by: cycle service
    P(T <= S | D_R > 0), T = D_L + D_R; fill rate 1 - E[short(S)] / E[D_R] with the
    empirical loss of `expected_shortage`. 1 where the draws hold no demand. `stock`
    [rows, levels]: each column in turn on the same draws, [rows, levels] out."""
    lead = lead.astype(float)
    review = review.astype(float)
    s = np.asarray(stock, dtype=float)
    columns = s if s.ndim == 2 else s[:, None]
    hits = review > 0
    total = lead + review
    count = hits.sum(axis=1)
    demand = review.mean(axis=1)
    cycle, fill = np.empty(columns.shape), np.empty(columns.shape)
    for j in range(columns.shape[1]):  # [rows, draws] work arrays, one column at a time
        covered = (total <= columns[:, j, None] + 1e-9) & hits
        cycle[:, j] = np.where(count > 0, covered.sum(axis=1) / np.maximum(count, 1), 1.0)
        short = expected_shortage(lead, review, columns[:, j], backorder)
        with np.errstate(invalid="ignore", divide="ignore"):
            fill[:, j] = np.where(demand > 0, 1.0 - short / demand, 1.0)
    return (cycle, fill) if s.ndim == 2 else (cycle[:, 0], fill[:, 0])


def own_service_at_stock(
    frame: pl.DataFrame, ltd: LeadTimeDemand, stock: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(cycle service, fill rate) per row of `frame` at order-up-to `stock`, under the row's
    own bootstrap draws rescaled to its forecast as `empirical_order_up_to` rescales them
    (S / scale in the draws' units); NaN where the series has no draws. `frame` needs sku,
    location, demand_protection, lead_time_days and review_days. `stock` [rows, levels]:
    each column in turn, [rows, levels] out."""
    rows = frame.select(SERIES).join(
        ltd.keys.with_row_index("ltd_row"), on=SERIES, how="left", maintain_order="left"
    )["ltd_row"]
    index = rows.fill_null(0).to_numpy().astype(int)
    stock = np.asarray(stock, dtype=float)
    cycle = np.full(stock.shape if stock.ndim == 2 else frame.height, np.nan)
    fill = np.full(cycle.shape, np.nan)
    protection = (frame["lead_time_days"] + frame["review_days"]).to_numpy().astype(float)
    mean_day = ltd.mean_day[index] if ltd.mean_day.size else np.full(frame.height, np.nan)
    demand = frame["demand_protection"].to_numpy().astype(float)
    usable = rows.is_not_null().to_numpy() & np.isfinite(mean_day) & (mean_day > 0)
    usable &= (demand > 0) & (protection > 0)
    if not usable.any():
        return cycle, fill
    scale = demand[usable] / (protection[usable] * mean_day[usable])
    pick = index[usable]
    per_draw = stock[usable] / (scale if stock.ndim == 1 else scale[:, None])
    cycle[usable], fill[usable] = service_at_stock(
        ltd.lead[pick], ltd.review[pick], per_draw, ltd.backorder
    )
    return cycle, fill


def discrete_cdf(stock: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """P(X <= stock) for the Poisson / negative binomial of `discrete_quantile`."""
    whole = np.floor(np.asarray(stock, dtype=float) + 1e-9)
    return _poisson_or_negative_binomial("cdf", whole, mean, variance)
