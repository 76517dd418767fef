"""A demand pattern's fill-rate target met in aggregate at the least stock value
(`policy.service_allocation: pattern`), and its cycle-service target as a total of
stockout cycles (`pattern_all`, `allocate_pattern_service`'s `measure`).

The multi-item allocation of Silver, Pyke & Thomas (2017, *Inventory and Production
Management in Supply Chains*, 4th ed., ch. 7): choose each item's order-up-to level S_i to

    minimise  sum_i c_i S_i   subject to   sum_i ES_i(S_i) <= B

with c_i the unit cost, ES_i(S) the item's expected units short per review period under
its own lead-time demand and B the shortage the pattern's fill-rate target allows. The
Lagrangian min_S c_i S + lambda ES_i(S) separates per item; at its optimum every item's
marginal fill per unit of stock value is the same, c_i / (-dES_i / dS) = lambda (for the
normal loss -dES/dS = P(T > S), so P(stockout)_i = c_i / lambda: cheap items are served
more, dear ones less), and lambda is the one whose total shortage meets B.

Each item's levels are those the calibration already maps a target to (the quantile
levels of `CALIBRATION_GRID`, then the steps beyond the top that were scored,
`CALIBRATION_KNOB`), and the backtest's correction of the pooled curve is kept: an item's
shortage at a level is its own plus its share (by demand) of what the pattern's curve
shows beyond the items' own at that level, and B is that shortage at the levels the
target gets with one knob for the whole pattern (`recalibrated_level`). The allocation
only moves stock between the pattern's items to hold B at less value; each item's own
promise is 1 - its shortage / Q at its level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy import stats

from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    CALIBRATION_KNOB,
    LeadTimeDemand,
    _draw_rows,
    discrete_quantile,
    extended_stocks,
    picked_level_stock,
    review_demand_share,
)

if TYPE_CHECKING:
    from stockplan.config import Policy

_BISECTIONS = 200


def allocate_levels(
    cost: np.ndarray,
    stock: np.ndarray,
    shortage: np.ndarray,
    group: np.ndarray,
    budget: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(stock, expected shortage) per row: per group g the levels with the least
    sum c_i S_i whose total expected units short is budget[g], each row's level on its
    own grid `stock` [rows, levels] with `shortage` [rows, levels] (non-increasing along
    a row).

    Lagrangian relaxation (Everett 1963; Silver, Pyke & Thomas 2017, ch. 7): for a price
    lambda_g per unit short each row takes argmin_j c_i S_ij + lambda_g ES_ij; the total
    shortage falls as lambda_g rises, and lambda_g is bisected (on a log scale, every
    group at once) to the price where the total crosses the budget. The rows whose choice
    changes at that price move the same share theta of the way from their choice below
    it to their choice above it (S and ES linear in theta), theta setting the total to
    the budget: the optimum over the grid's lower convex hull, whose ES is at most the
    true loss's at the interpolated S (the loss is convex in S). A group whose budget even
    its largest levels cannot meet takes them. `group` holds 0 .. G - 1."""
    cost = np.asarray(cost, dtype=float)[:, None]
    stock = np.asarray(stock, dtype=float)
    shortage = np.asarray(shortage, dtype=float)
    group = np.asarray(group, dtype=np.intp)
    budget = np.asarray(budget, dtype=float)
    groups = budget.size
    value = cost * stock
    # the largest price any step between neighbouring levels asks: beyond it every row
    # takes its least shortage
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.diff(value, axis=1) / -np.diff(shortage, axis=1)
    price = np.where(np.isfinite(price) & (price > 0), price, 0.0)
    top = np.log(max(float(price.max(initial=0.0)), 1e-12) * 4.0)
    low = np.full(groups, top - 80.0)
    high = np.full(groups, top)
    rows = np.arange(stock.shape[0])

    def total(log_price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pick = np.argmin(value + np.exp(log_price)[group][:, None] * shortage, axis=1)
        return pick, np.bincount(group, shortage[rows, pick], minlength=groups)

    for _ in range(_BISECTIONS):
        mid = (low + high) / 2.0
        _, short = total(mid)
        ok = short <= budget
        high, was_high = np.where(ok, mid, high), high
        low, was_low = np.where(ok, low, mid), low
        if np.array_equal(high, was_high) and np.array_equal(low, was_low):
            break  # the bracket is two neighbouring floats: every further step repeats this
    above, short_above = total(high)
    below, short_below = total(low)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = (short_below - budget) / (short_below - short_above)
    theta = np.where(short_below > short_above, np.clip(theta, 0.0, 1.0), 1.0)[group]
    s_below, s_above = stock[rows, below], stock[rows, above]
    e_below, e_above = shortage[rows, below], shortage[rows, above]
    return s_below + theta * (s_above - s_below), e_below + theta * (e_above - e_below)


def order_cycle_share(frame: pl.DataFrame, review_demand: np.ndarray) -> np.ndarray:
    """Per row, the share of review periods that start a replenishment cycle: E[D_R] /
    max(E[D_R], smallest order), the smallest order the MOQ rounded up to whole packs (at
    least one pack). An (R, S) row whose order is raised to its MOQ or a whole
    pack orders several review periods' demand at once; it then runs short only in the
    review period after each order (the position is above S in the others), so its
    shortage per review period is that period's times this share, and its fill rate
    1 - E[short_R(S)] / Q with Q the order size, as a min-max row's
    (`replenishment_fill_level`; Silver, Pyke & Thomas 2017, ch. 6). 1 without packs
    or MOQ."""
    demand = np.asarray(review_demand, dtype=float)

    def column(name: str, none: float) -> np.ndarray:
        if name not in frame.columns:
            return np.full(frame.height, none)
        values = frame[name].cast(pl.Float64).fill_null(none).to_numpy()
        return np.nan_to_num(values, nan=none)

    # the smallest order `round_order_quantity` places: the MOQ in whole packs, one pack
    pack = column("pack_size", 1.0)
    pack = np.where(pack > 0, pack, 1.0)
    smallest = np.maximum(np.ceil(np.maximum(column("moq", 0.0), 0.0) / pack) * pack, pack)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = demand / np.maximum(demand, smallest)
    return np.where(demand > 0, share, 1.0)


def floored_levels(
    stock: np.ndarray, shortage: np.ndarray, demand: np.ndarray, floor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's grid of (stock, shortage) [rows, levels] with the levels whose service
    1 - shortage / demand lies below the row's `floor` replaced by the point where the
    grid reaches the floor: linear between the two levels it lies between (as
    `allocate_levels` interpolates its choice), the top level where no level reaches it.
    Where the floor is the row's one-level promise, that level is on the row's grid
    (`allocate_pattern_service` adds it) and is the point kept."""
    rows = np.arange(stock.shape[0])
    served = 1.0 - shortage / demand[:, None]
    meets = served >= floor[:, None] - 1e-12
    reach = meets.any(axis=1)
    first = np.where(reach, meets.argmax(axis=1), stock.shape[1] - 1)
    prev = np.maximum(first - 1, 0)
    lo, hi = served[rows, prev], served[rows, first]
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(reach & (hi > lo), (floor - lo) / (hi - lo), 1.0)
    part = np.clip(part, 0.0, 1.0)
    at_stock = stock[rows, prev] + part * (stock[rows, first] - stock[rows, prev])
    at_short = shortage[rows, prev] + part * (shortage[rows, first] - shortage[rows, prev])
    closed = np.arange(stock.shape[1])[None, :] < first[:, None]
    return (
        np.where(closed, at_stock[:, None], stock),
        np.where(closed, at_short[:, None], shortage),
    )


def knob_stocks(
    frame: pl.DataFrame,
    ltd: LeadTimeDemand,
    knobs: int,
    mu: np.ndarray,
    sigma: np.ndarray,
    drawn: np.ndarray,
    discrete: np.ndarray,
    extend: str,
) -> np.ndarray:
    """[rows, knobs] the order-up-to level of each row at the first `knobs` points of
    CALIBRATION_KNOB, as `protection_levels` sets it at that knob: from the row's
    bootstrap draws on `drawn` rows (the conditional quantile of T among draws with
    D_R > 0, rescaled to the forecast and rounded up, as `empirical_order_up_to`), else
    mu + z sigma (normal) or the Poisson / negative binomial quantile (`discrete`); beyond
    the grid's top S_0.999 + c B (`extended_stocks`)."""
    levels = CALIBRATION_GRID
    n = frame.height
    out = np.full((n, levels.size), np.nan)
    out[:] = mu[:, None] + stats.norm.ppf(levels)[None, :] * sigma[:, None]
    if discrete.any():  # the count distributions of those rows only: scipy's are slow
        out[discrete] = discrete_quantile(
            np.broadcast_to(levels, (int(discrete.sum()), levels.size)),
            mu[discrete, None],
            np.maximum(sigma**2, mu)[discrete, None],
        )
    if knobs > levels.size:
        out = extended_stocks(out, mu, extend)
    found, pick = _draw_rows(frame, ltd)
    pick = pick[drawn[found]]
    usable = found & drawn
    if usable.any():
        own = picked_level_stock(ltd, pick, np.broadcast_to(levels, (pick.size, levels.size)))
        protection = (frame["lead_time_days"] + frame["review_days"]).to_numpy().astype(float)
        mean = protection[usable] * ltd.mean_day[pick]  # the draws' mean over L + R
        if knobs > levels.size:
            own = extended_stocks(own, mean, extend)
        scale = mu[usable] / mean
        out[usable] = np.ceil(own * scale[:, None] - 1e-9)
    return out[:, :knobs]


def knob_of_stock(stock: np.ndarray, grid: np.ndarray, knobs: np.ndarray) -> np.ndarray:
    """The knob of each row's `stock` on its own grid of stocks ([rows, levels], rising):
    linear between the two levels it lies between, the end knob outside them. `stock`
    per row, or [rows, k]: k stocks of each row, [rows, k] out."""
    grid = np.maximum.accumulate(grid, axis=1)
    column = stock if stock.ndim == 2 else stock[:, None]
    above = (grid[:, None, :] < column[:, :, None] - 1e-9).sum(axis=2)
    hi = np.clip(above, 0, grid.shape[1] - 1)
    lo = np.clip(hi - 1, 0, grid.shape[1] - 1)
    rows = np.arange(grid.shape[0])[:, None]
    s_lo, s_hi = grid[rows, lo], grid[rows, hi]
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(s_hi > s_lo, (column - s_lo) / (s_hi - s_lo), 1.0)
    knob = knobs[lo] + np.clip(part, 0.0, 1.0) * (knobs[hi] - knobs[lo])
    return knob if stock.ndim == 2 else knob[:, 0]


def pattern_curve_reaches(
    frame: pl.DataFrame, ltd: LeadTimeDemand | None, target: np.ndarray, settings: Policy
) -> np.ndarray:
    """Per row of `frame`: whether its demand pattern's backtest curve (`ltd.calibration`,
    the side of `settings.service_measure`) reached the row's `target` at some level it
    scored. Only then can `allocate_pattern_service` hold the pattern's items below the
    target and meet it in aggregate; where no level reached it, the budget is what the
    pattern's largest level leaves short, and an item short of its target is short because
    the pattern is, not by the allocation. A row of a pattern without a curve: True."""
    reaches = np.ones(frame.height, dtype=bool)
    if ltd is None or not ltd.calibration:
        return reaches
    side = 0 if settings.service_measure == "cycle" else 1
    patterns = frame["demand_pattern"].to_numpy().astype(str)
    for pattern, curves in ltd.calibration.items():  # the four demand patterns
        mine = patterns == pattern
        best = float(np.max(curves[side], initial=-np.inf))
        reaches[mine] = best >= target[mine] - 1e-6
    return reaches


def allocate_pattern_service(
    frame: pl.DataFrame,
    ltd: LeadTimeDemand,
    rows: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    cycle_qty: np.ndarray,
    discrete: np.ndarray,
    drawn: np.ndarray,
    unit_cost: np.ndarray,
    cap: np.ndarray,
    extend: str,
    default_stock: np.ndarray,
    service: Callable[..., tuple[np.ndarray, np.ndarray]],
    measure: str = "fill_rate",
    max_shortfall: float | None = None,
    lead_demand: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(order-up-to level, knob, capped, service promised) of the `rows` of `frame`,
    chosen per demand pattern and target (`service_level`) by `allocate_levels` over the
    levels of `knob_stocks` (each cut at `cap`, the `max_cover_days` safety stock).

    A row's expected units short per review period at a level: its own (1 - fill) Q
    (`service`, i.e. `service_at_level`, called once with [rows, knobs] levels: the
    row's draws or the normal loss, Q = `cycle_qty`) plus Q e(knob), where e is the
    shortage per unit of demand that the pattern's backtest curve reached at that knob
    beyond the rows' own sum, e = (1 - f) - sum own / sum Q (where positive): what the
    forecast's misses add, spread over the items by their demand, so that with one knob
    for all the rows' shortage is the curve's, and a step beyond the grid's top (where the
    draws see no shortage) still buys what the backtest measured. The budget is that shortage at
    each row's `default_stock` (the pattern's one knob), summed per group: the allocation
    moves stock between a group's items at the same backtest fill rate. The knob is where
    the chosen level lies on the row's grid (`knob_of_stock`); the promise is
    1 - shortage / Q at the chosen level. Arrays are per row of `frame`; only `rows` are
    set (NaN elsewhere).

    `measure` "cycle": the same with stockout cycles for units short (Silver, Pyke &
    Thomas ch. 7, a total of expected stockout occasions): a row's expected stockout
    cycles per review period are w (1 - its cycle service at the level), w = P(D_R > 0)
    from its draws (their levels and the replay count review periods with demand; 1 for
    the normal / Poisson / NB rows), the pattern's cycle curve gives the unseen part per
    unit of w, the budget is the stockout cycles at the pattern's one knob, and the
    promise is the row's own cycle service 1 - stockouts / w. With one review period for
    all, the price condition is c_i = lambda w_i f_i(S_i): for a normal,
    phi(k_i) = c_i sigma_i / (lambda w_i).

    `max_shortfall` (`policy.allocation_max_shortfall`): a per-item service floor. Each
    row chooses only among the levels whose own promise is at least
    min(target - max_shortfall, its promise at `default_stock`): no item is left more
    than that below its target, and none below what the pattern's one knob gives it
    (an item the single level already leaves further below keeps at least that level).
    The floor is the constraint 1 - ES_i(S_i) / Q_i >= floor_i of the same Lagrangian
    (Silver, Pyke & Thomas ch. 7, a minimum service per item), met by cutting each
    row's grid below its first level that meets it; None leaves every level open.

    `lead_demand` (mu_L, sigma_L per row of `frame`): the normal rows' shortage per review
    period less what the lead time alone leaves short (`service_at_level`'s `lead`), the
    review period's own shortage, as the draws count it.

    Fill rate, rows with packs or MOQ: the promise counts the chosen level's shortage once
    per order (`order_cycle_share`); the levels are chosen without it, as the pattern's
    curve was scored (measured both ways in docs/lead-time-demand.md)."""
    n = frame.height
    stock_out = np.full(n, np.nan)
    knob_out = np.full(n, np.nan)
    fill_out = np.full(n, np.nan)
    capped_out = np.zeros(n, dtype=bool)
    if not rows.any():
        return stock_out, knob_out, capped_out, fill_out
    sub = frame.filter(pl.Series(rows))
    patterns = sub["demand_pattern"].to_numpy().astype(str)
    sizes = np.array([ltd.calibration[p][1].size if p in ltd.calibration else 0 for p in patterns])
    knobs = int(sizes.max())
    points = CALIBRATION_KNOB[:knobs]
    m, s, q, disc, own = mu[rows], sigma[rows], cycle_qty[rows], discrete[rows], drawn[rows]
    side = 0 if measure == "cycle" else 1  # (cycle, fill) of `service` and of the curves
    if side == 0:  # review periods with demand per review period: what a stockout counts on
        share = review_demand_share(sub, ltd)
        q = np.where(own & (np.nan_to_num(share) > 0), share, 1.0)
    grid = knob_stocks(sub, ltd, knobs, m, s, own, disc, extend)
    # a pattern scored at fewer knobs keeps its last level beyond them
    last = np.minimum(np.arange(knobs)[None, :], sizes[:, None] - 1)
    grid = np.take_along_axis(grid, last, axis=1)
    ceiling = (m + cap[rows])[:, None]
    held = np.minimum(grid, ceiling)
    lead = None if lead_demand is None else (lead_demand[0][rows], lead_demand[1][rows])
    # every knob's level and, in the last column, the pattern's one level: one call each
    levels = np.column_stack([held, default_stock[rows]])
    served = service(sub, levels, m, s, cycle_qty[rows], disc, ltd, own, lead)[side]
    shortage = np.minimum.accumulate((1.0 - served[:, :-1]) * q[:, None], axis=1)
    allowed = (1.0 - served[:, -1]) * q
    # the pattern's shortage per unit of demand that the rows' own distributions do not
    # see at each knob: the curve's (1 - f) sum Q less their own sum, over sum Q
    knob_at = knob_of_stock(levels, grid, points)
    at, default_knob = knob_at[:, :-1], knob_at[:, -1]
    for pattern in np.unique(patterns):  # the four demand patterns, not the series
        mine = patterns == pattern
        curve = np.maximum.accumulate(np.asarray(ltd.calibration[pattern][side], dtype=float))
        curve = np.concatenate([curve, np.full(max(knobs - curve.size, 0), curve[-1])])
        demand = q[mine].sum()
        unseen = (1.0 - curve) - shortage[mine].sum(axis=0) / demand if demand > 0 else 0.0
        unseen = np.maximum(unseen, 0.0)
        extra = q[mine, None] * np.interp(at[mine], points, unseen)
        shortage[mine] = np.minimum.accumulate(shortage[mine] + extra, axis=1)
        allowed[mine] += q[mine] * np.interp(default_knob[mine], points, unseen)
    # the one level for all among each row's choices, exactly: that choice meets the
    # budget, so the allocation never needs more stock value than it
    held = np.column_stack([held, default_stock[rows]])
    shortage = np.column_stack([shortage, allowed])
    by_stock = np.argsort(held, axis=1, kind="stable")
    held = np.take_along_axis(held, by_stock, axis=1)
    shortage = np.minimum.accumulate(np.take_along_axis(shortage, by_stock, axis=1), axis=1)
    target = sub["service_level"].to_numpy().astype(float)
    if max_shortfall is not None:  # a per-item floor: the levels below it are closed
        held, shortage = floored_levels(
            held, shortage, q, np.minimum(target - max_shortfall, 1.0 - allowed / q)
        )
    key = pl.DataFrame({"pattern": patterns, "target": target})
    group = key.select(pl.struct("pattern", "target").rank("dense") - 1).to_series()
    group = group.to_numpy().astype(np.intp)
    budget = np.bincount(group, allowed)
    chosen, short = allocate_levels(unit_cost[rows], held, shortage, group, budget)
    stock_out[rows] = chosen
    knob_out[rows] = knob_of_stock(chosen, grid, points)
    capped_out[rows] = chosen >= ceiling[:, 0] - 1e-9
    if side == 1:  # packs and MOQ: one short review period per order, not per review
        short = short * order_cycle_share(sub, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill_out[rows] = np.where(q > 0, np.clip(1.0 - short / q, 0.0, 1.0), 1.0)
    return stock_out, knob_out, capped_out, fill_out
