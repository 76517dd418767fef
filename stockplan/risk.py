"""Stockout risk per sku x location.

- available = on_hand - allocated - backorders + transfer_qty (the planned transfers in or
  out of this location, so risk is the risk after the plan), less the transfers in still in
  transit after today (`with_transit`): those are receipts at their arrival_date, counted
  as the open purchase orders are (the stockout day, the checkpoints, the restock ETA, the
  next_receipt_date); the sending location loses its transfer out at once.
- days_of_cover = available / forecast_per_day (`DAYS_OF_COVER`, the excess table's too).
- stockout_date: first day the projected stock (available + receipts arrived - D(t)) drops
  below zero, D(t) the forecast demand from as_of to t along the forecast path (each
  bucket at its own daily rate; forecast_per_day without a path) and the open purchase
  orders' arrivals. One function (`projected_stockout_day`) for the risk table, the
  backup-supplier decision and the reason that explains it.
- stockout_probability: probability of running out before the next possible receipt,
  W = lead time (the earliest a new order could arrive): the largest P(D_t > a_t) over
  checkpoints t = just before each open PO arrival in W, and W itself, where a_t is
  available stock plus what has arrived by t. D_t ~ Normal(mu_t, sigma_t) with mu_t the
  forecast demand from as_of to t along the same path as the stockout date (`path_demand`),
  sigma_t^2 = t sigma_d^2 (+ (mu_W / W)^2 sigma_L^2 at W); Poisson for discrete patterns.
  So a checkpoint before a promotion is not charged the promotion's rate, and a high
  probability comes with a stockout date inside W.
- expected_shortage = E[(D_t - a_t)^+] at the worst checkpoint: sigma G((a - mu) / sigma) for
  the normal (G the standard normal loss), mu P(D >= a) - a P(D > a) for the Poisson.
- revenue_at_risk = expected_shortage * unit_price.
- restock_eta: the first open PO (or transfer in) arriving on or after the stockout date,
  else the suggested order's expected arrival; empty when neither comes (no PO after the
  stockout and no order placed today: order_qty 0, also when the budget or a supplier
  minimum cut it).
  The plan sets it from the orders as finally placed (`restock_eta`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from stockplan.config import Risk
from stockplan.demand import SERIES
from stockplan.elapsed import ELAPSED, demand_inside
from stockplan.transfers import transfers_in_transit

if TYPE_CHECKING:  # numpy (and scipy) where they compute: `explain` reads only `with_transit`
    import numpy as np

AVAILABLE = (
    pl.col("on_hand")
    - pl.col("allocated")
    - pl.col("backorders")
    + pl.col("transfer_qty").fill_null(0.0)
).alias("available")
"""Stock free for new demand: on hand less what is promised (allocated) or owed (backorders),
plus the planned transfer in (minus the transfer out); `with_transit` takes out again the
transfers in that are still on their way."""

RISK_COLUMNS = [
    "sku",
    "location",
    "on_hand",
    "on_order",
    "days_of_cover",
    "stockout_date",
    "next_receipt_date",
    "stockout_probability",
    "expected_shortage",
    "revenue_at_risk",
    "risk_level",
    "restock_eta",
    "supplier",
    "supplier_tier",
]


DAYS_OF_COVER = (
    pl.when(pl.col("forecast_per_day") > 0)
    .then(pl.col("available") / pl.col("forecast_per_day"))
    .otherwise(None)
    .alias("days_of_cover")
)
"""days_of_cover = available / forecast_per_day (empty without demand): the risk table's and
the excess table's, one figure per sku x location."""


def available_now(
    frame: pl.DataFrame, transfers: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """`frame` (plan rows) with `available` (`AVAILABLE`) less the transfers in still on
    their way after as_of, as the risk table counts it (`with_transit`)."""
    moving = transfers_in_transit(transfers, as_of)
    frame = frame.with_columns(AVAILABLE)
    return _less_in_transit(frame, moving) if moving.height else frame


def with_transit(
    frame: pl.DataFrame,
    open_po: pl.DataFrame,
    transfers: pl.DataFrame | None,
    as_of: dt.date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`frame` with its available stock less the transfers in still on their way after
    as_of, `open_po` with those transfers as receipts at their arrival_date:
    `transfers.transfers_in_transit`). A transfer then counts in the receiver's stock as an
    open purchase order does, from the day it lands; one arriving today stays in available.
    Its next_receipt_date (where `frame` has one) is the earlier of the next open PO and
    the transfer's arrival."""
    moving = transfers_in_transit(transfers, as_of)
    if moving.height == 0:
        return frame, open_po
    return _less_in_transit(frame, moving), transit_receipts(open_po, transfers, as_of)


def _less_in_transit(frame: pl.DataFrame, moving: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its `available` less the `moving` transfers in (`transfers_in_transit`)
    and, where it has one, its next_receipt_date no later than their first arrival."""
    in_transit = moving.group_by(SERIES).agg(
        pl.col("quantity").sum().alias("_in_transit"), pl.col("arrival").min().alias("_lands")
    )
    receipt = (
        [pl.min_horizontal("next_receipt_date", "_lands").alias("next_receipt_date")]
        if "next_receipt_date" in frame.columns
        else []
    )
    return (
        frame.join(in_transit, on=SERIES, how="left", maintain_order="left")
        .with_columns(pl.col("available") - pl.col("_in_transit").fill_null(0.0), *receipt)
        .drop("_in_transit", "_lands")
    )


def transit_receipts(
    open_po: pl.DataFrame, transfers: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """`open_po` and the transfers in still on their way after as_of, each at its arrival
    (sku, location, arrival, quantity; a transfer has no po_id)."""
    moving = transfers_in_transit(transfers, as_of)
    if moving.height == 0:
        return open_po
    return pl.concat([open_po, moving], how="diagonal_relaxed") if open_po.width else moving


def _rate(forecast: pl.DataFrame, days: pl.Expr, bucket_days: int) -> pl.Expr:
    """A bucket's demand per day from as_of on (`elapsed.demand_inside` over one day): the
    bucket holding as_of has d0 = -days of its days gone."""
    return demand_inside(
        pl.col("forecast").clip(lower_bound=0.0),
        pl.lit(1.0),
        -days,
        bucket_days,
        ELAPSED in forecast.columns,
    )


def demand_rates(
    series: pl.DataFrame, forecast: pl.DataFrame | None, as_of: dt.date, bucket_days: int
) -> pl.DataFrame:
    """sku, location, t, rate: the forecast path as daily rates from day t (days after
    as_of) on, each bucket's forecast / bucket days from its start (the bucket holding as_of
    from day 0, at the rate of its days left: `_rate`), the last bucket's rate on past the
    horizon, as the protection window sums it (`reorder.window_demand`). A series without
    forecast rows runs at forecast_per_day."""
    flat = series.select(*SERIES, pl.lit(0.0).alias("t"), pl.col("forecast_per_day").alias("rate"))
    if forecast is None:
        return flat
    days = (pl.col("period_start") - pl.lit(as_of)).dt.total_days().cast(pl.Float64)
    path = (
        forecast.join(series.select(SERIES), on=SERIES, how="semi")
        .filter(days + bucket_days > 0)
        .select(
            *SERIES,
            days.clip(lower_bound=0.0).alias("t"),
            _rate(forecast, days, bucket_days).alias("rate"),
        )
    )
    # the first bucket's rate also before it starts (a forecast that begins after as_of)
    first = path.sort("t").group_by(SERIES).first().with_columns(pl.lit(0.0).alias("t"))
    path = pl.concat([first.join(path, on=[*SERIES, "t"], how="anti"), path])
    return pl.concat([flat.join(path, on=SERIES, how="anti"), path]).sort([*SERIES, "t"])


def _demand_before_segments(segments: pl.DataFrame) -> pl.DataFrame:
    """Path segments (sku, location, t, rate; sorted by series and t) with t_next, the next
    segment's start (inf for the last), and demand, the forecast demand from as_of to t:
    the earlier segments' rate x length."""
    return (
        segments.with_columns(
            pl.col("t").shift(-1).over(SERIES).fill_null(float("inf")).alias("t_next")
        )
        .with_columns(
            pl.when(pl.col("t_next").is_finite())
            .then(pl.col("rate") * (pl.col("t_next") - pl.col("t")))
            .otherwise(0.0)
            .alias("spent")
        )
        .with_columns((pl.col("spent").cum_sum() - pl.col("spent")).over(SERIES).alias("demand"))
    )


def path_demand(
    checkpoints: pl.DataFrame,
    series: pl.DataFrame,
    as_of: dt.date,
    forecast: pl.DataFrame | None = None,
    bucket_days: int = 7,
) -> pl.Series:
    """The forecast demand from as_of to each checkpoint's day t (`checkpoints`: sku,
    location, t, in any order; one value per row, in its order): D(t) = sum over the path's
    segments of rate_i x their length before t (`demand_rates`, forecast_per_day without a
    path), the demand `projected_stockout_day` walks."""
    segments = (
        demand_rates(series, forecast, as_of, bucket_days)
        .sort([*SERIES, "t"])
        .pipe(_demand_before_segments)
        .select(*SERIES, pl.col("t").alias("t_segment"), "t_next", "rate", "demand")
    )
    return (
        checkpoints.select(*SERIES, pl.col("t").cast(pl.Float64))
        .with_row_index("_checkpoint")
        .join(segments, on=SERIES, how="left")
        .filter(
            pl.col("t_segment").is_null()
            | ((pl.col("t_segment") <= pl.col("t")) & (pl.col("t") < pl.col("t_next")))
        )
        .sort("_checkpoint")
        .select(
            (pl.col("demand") + pl.col("rate") * (pl.col("t") - pl.col("t_segment")))
            .fill_null(0.0)
            .alias("path_demand")
        )
        .to_series()
    )


def projected_stockout_day(
    series: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    horizon_days: int,
    forecast: pl.DataFrame | None = None,
    bucket_days: int = 7,
) -> pl.DataFrame:
    """sku, location -> stockout_day (days from as_of; null if none within the horizon).

    The projected stock a + C(t) - D(t) (C receipts arrived by t, D the forecast demand
    from as_of to t) is piecewise linear: segment i starts at a receipt or a forecast
    bucket's start t_i with level L_i and falls at that bucket's daily rate r_i, so it
    crosses zero at t_i + L_i / r_i (at t_i when already below zero). The first crossing
    inside its own segment [t_i, t_{i+1}) is the stockout day. Without `forecast` the rate
    is forecast_per_day throughout; with it, the forecast path's (`demand_rates`), so the
    date does not depend on the window the order-up-to level averages over (a supplier's
    lead time).
    """
    arrivals = open_po.join(series.select(SERIES), on=SERIES, how="semi").select(
        *SERIES,
        (pl.col("arrival") - pl.lit(as_of)).dt.total_days().cast(pl.Float64).alias("t"),
        "quantity",
        pl.lit(None, pl.Float64).alias("rate"),
    )
    rates = demand_rates(series, forecast, as_of, bucket_days).with_columns(
        pl.lit(0.0).alias("quantity")
    )
    segments = (
        pl.concat([rates.select(arrivals.columns), arrivals])
        .group_by([*SERIES, "t"])
        .agg(pl.col("quantity").sum(), pl.col("rate").drop_nulls().first())
        .sort([*SERIES, "t"])
        .with_columns(
            pl.col("rate").forward_fill().over(SERIES).fill_null(0.0),
            pl.col("quantity").cum_sum().over(SERIES).alias("received"),
        )
        .pipe(_demand_before_segments)
        .join(series.select(*SERIES, "available"), on=SERIES)
    )
    level = pl.col("available") + pl.col("received") - pl.col("demand")
    crossing = (
        pl.when(level < 0)
        .then(pl.col("t"))
        .when(pl.col("rate") > 0)
        .then(pl.col("t") + level / pl.col("rate"))
        .otherwise(float("inf"))
    )
    return (
        segments.with_columns(crossing.alias("t_out"))
        .filter(pl.col("t_out") < pl.col("t_next"))
        .group_by(SERIES)
        .agg(pl.col("t_out").min().alias("stockout_day"))
        .filter(pl.col("stockout_day") <= horizon_days)
    )


def expected_shortage(
    mu: np.ndarray, sigma: np.ndarray, stock: np.ndarray, discrete: np.ndarray
) -> np.ndarray:
    """E[(D - a)^+], the demand D beyond stock a.

    Normal D(mu, sigma): sigma G((a - mu) / sigma), G the standard normal loss, or
    max(mu - a, 0) when sigma = 0. Poisson D(mu) where `discrete`: with a whole (floored),
    E[(D - a)^+] = mu P(D >= a) - a P(D > a).
    """
    import numpy as np
    from scipy import stats  # here: `explain` imports this module from the cache path

    from stockplan.policy import normal_loss

    mu, sigma, a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (mu, sigma, stock)))
    poisson = np.broadcast_to(np.asarray(discrete, dtype=bool), mu.shape) & (mu > 0)
    out = np.maximum(mu - a, 0.0)  # sigma = 0: the shortfall for certain
    normal = ~poisson & (sigma > 0)
    if normal.any():  # only the rows that need each distribution: scipy is the cost here
        s = sigma[normal]
        out[normal] = s * normal_loss((a[normal] - mu[normal]) / s)
    if poisson.any():
        m, whole = mu[poisson], np.floor(a[poisson])
        out[poisson] = m * stats.poisson.sf(whole - 1, m) - whole * stats.poisson.sf(whole, m)
    return out


def _worst_checkpoint(
    frame: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    discrete_patterns: list[str],
    forecast: pl.DataFrame | None = None,
    bucket_days: int = 7,
) -> pl.DataFrame:
    """Stockout probability and expected shortage at the worst checkpoint in the window.

    Checkpoints: just before each open PO arrives inside the window W = lead time (stock is
    available + what arrived before), and at W itself. At a checkpoint t the demand is
    D_t with mean mu_t = the forecast path's demand from as_of to t (`path_demand`, the
    path the stockout date walks, not the window's average rate: a promotion later in the
    window does not raise an earlier checkpoint) and variance t sigma_d^2, plus
    (mu_W / W)^2 sigma_L^2 at W. A stockout before a receipt is lost service even if the
    receipt would cover the total, so the series' figure is the maximum over its checkpoints.
    """
    import numpy as np
    from scipy import stats

    base = frame.select(
        *SERIES,
        "available",
        "sigma_day",
        "lead_time_std_days",
        "demand_pattern",
        pl.col("lead_time_days").alias("window"),
        pl.when(pl.col("lead_time_days") > 0)
        .then(pl.col("demand_lead_time") / pl.col("lead_time_days"))
        .otherwise(pl.col("forecast_per_day"))
        .alias("rate"),
    )
    arrivals = open_po.select(
        *SERIES,
        (pl.col("arrival") - pl.lit(as_of)).dt.total_days().cast(pl.Float64).alias("t_arrival"),
        "quantity",
    )
    checkpoints = pl.concat(
        [
            base.join(arrivals.select(*SERIES, pl.col("t_arrival").alias("t")).unique(), on=SERIES)
            .filter((pl.col("t") > 0) & (pl.col("t") < pl.col("window")))
            .with_columns(pl.lit(False).alias("at_window")),
            base.with_columns(pl.col("window").alias("t"), pl.lit(True).alias("at_window")),
        ]
    )
    arrived = (
        checkpoints.select(*SERIES, "t", "at_window")
        .join(arrivals, on=SERIES)
        .filter(
            (pl.col("t_arrival") < pl.col("t"))
            | (pl.col("at_window") & (pl.col("t_arrival") <= pl.col("t")))
            | (pl.col("t_arrival") <= 0)
        )
        .group_by([*SERIES, "t", "at_window"])
        .agg(pl.col("quantity").sum().alias("arrived"))
    )
    checkpoints = checkpoints.join(arrived, on=[*SERIES, "t", "at_window"], how="left")
    t = checkpoints["t"].to_numpy().astype(float)
    mu = path_demand(checkpoints, frame, as_of, forecast, bucket_days).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(t > 0, mu / t, checkpoints["rate"].to_numpy().astype(float))
    lead_var = (
        np.where(checkpoints["at_window"].to_numpy(), 1.0, 0.0)
        * checkpoints["lead_time_std_days"].to_numpy() ** 2
    )
    sigma = np.sqrt(t * checkpoints["sigma_day"].to_numpy() ** 2 + rate**2 * lead_var)
    a = (checkpoints["available"] + checkpoints["arrived"].fill_null(0.0)).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = (a - mu) / sigma
        p_normal = np.where(sigma > 0, stats.norm.sf(zscore), (mu > a).astype(float))
    discrete = checkpoints["demand_pattern"].is_in(discrete_patterns).to_numpy() & (mu > 0)
    p_poisson = stats.poisson.sf(np.floor(a), np.maximum(mu, 1e-9))
    probability = np.where(discrete, p_poisson, p_normal)
    shortage = np.maximum(expected_shortage(mu, sigma, a, discrete), np.maximum(-a, 0.0))
    probability = np.where(a < 0, 1.0, np.where(mu <= 0, 0.0, probability))
    shortage = np.where(mu <= 0, np.maximum(-a, 0.0), shortage)
    return (
        checkpoints.select(SERIES)
        .with_columns(
            pl.Series("stockout_probability", np.clip(probability, 0.0, 1.0)),
            pl.Series("expected_shortage", shortage),
        )
        .group_by(SERIES)
        .agg(pl.col("stockout_probability").max(), pl.col("expected_shortage").max())
    )


def placed_arrival(orders: pl.DataFrame) -> pl.DataFrame:
    """sku, location, expected_arrival of today's order: null where order_qty is 0 (nothing
    placed, nothing arrives)."""
    return orders.select(
        *SERIES,
        pl.when(pl.col("order_qty") > 0).then(pl.col("expected_arrival")).alias("expected_arrival"),
    )


def _with_restock_eta(frame: pl.DataFrame, open_po: pl.DataFrame) -> pl.DataFrame:
    """`frame` (stockout_date, expected_arrival of today's order) with restock_eta: the first
    open PO arriving on or after the stockout date, else today's order's arrival; null
    without a stockout."""
    po_eta = (
        open_po.join(frame.select(*SERIES, "stockout_date"), on=SERIES)
        .filter(pl.col("arrival") >= pl.col("stockout_date"))
        .group_by(SERIES)
        .agg(pl.col("arrival").min().alias("po_eta"))
    )
    return (
        frame.drop("restock_eta", strict=False)
        .join(po_eta, on=SERIES, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("stockout_date").is_not_null())
            .then(pl.coalesce("po_eta", "expected_arrival"))
            .otherwise(None)
            .alias("restock_eta")
        )
        .drop("po_eta")
    )


def restock_eta(
    risk: pl.DataFrame,
    open_po: pl.DataFrame,
    orders: pl.DataFrame,
    transfers: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """`risk` with restock_eta set again from `orders` (sku, location, order_qty,
    expected_arrival) as finally placed, after the budget, minimum order values and full
    loads: the first open PO (or transfer in still on its way after `as_of`) on or after the
    stockout, else the order's arrival if one is placed (order_qty > 0), else empty. The
    other columns are unchanged (none reads the order)."""
    if as_of is not None:
        open_po = transit_receipts(open_po, transfers, as_of)
    framed = risk.drop("expected_arrival", strict=False).join(
        placed_arrival(orders), on=SERIES, how="left", maintain_order="left"
    )
    return _with_restock_eta(framed, open_po).select(risk.columns)


def stockout_risk(
    series: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    horizon_days: int,
    settings: Risk,
    discrete_patterns: list[str],
    tiers: pl.DataFrame | None = None,
    forecast: pl.DataFrame | None = None,
    bucket_days: int = 7,
    transfers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Risk table for every series.

    `series` needs: on_hand, allocated, backorders, transfer_qty (optional), on_order,
    next_receipt_date,
    forecast_per_day, demand_lead_time (forecast over L), sigma_day, lead_time_days,
    lead_time_std_days, demand_pattern, unit_price, expected_arrival (of today's order, null
    when none is placed: `placed_arrival`); supplier when known.
    `tiers` (supplier, supplier_tier, from the scorecard) names the supplier's tier
    (unrated without a scorecard row). `forecast` (sku, location, period_start, forecast in
    buckets of `bucket_days`): the stockout date follows its path (`projected_stockout_day`),
    else forecast_per_day. `transfers` (the plan's, with arrival_date): a transfer in still
    on its way counts from its arrival as an open purchase order does (`with_transit`).
    """
    if "transfer_qty" not in series.columns:
        series = series.with_columns(pl.lit(0.0).alias("transfer_qty"))
    frame, open_po = with_transit(series.with_columns(AVAILABLE), open_po, transfers, as_of)
    if "supplier" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("supplier"))
    if tiers is None:
        tiers = pl.DataFrame(schema={"supplier": pl.String, "supplier_tier": pl.String})
    frame = frame.join(
        tiers.select("supplier", "supplier_tier"), on="supplier", how="left"
    ).with_columns(pl.col("supplier_tier").fill_null("unrated"))
    worst = _worst_checkpoint(frame, open_po, as_of, discrete_patterns, forecast, bucket_days)
    frame = frame.join(worst, on=SERIES, how="left").with_columns(
        pl.col("stockout_probability").fill_null(0.0),
        pl.col("expected_shortage").fill_null(0.0),
    )
    stockout = projected_stockout_day(frame, open_po, as_of, horizon_days, forecast, bucket_days)
    frame = frame.join(stockout, on=SERIES, how="left").with_columns(
        (pl.lit(as_of) + pl.duration(days=pl.col("stockout_day").ceil().cast(pl.Int64))).alias(
            "stockout_date"
        )
    )
    level = (
        pl.when(pl.col("stockout_probability") >= settings.high)
        .then(pl.lit("high"))
        .when(pl.col("stockout_probability") >= settings.medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    return (
        _with_restock_eta(frame, open_po)
        .with_columns(
            DAYS_OF_COVER,
            (pl.col("expected_shortage") * pl.col("unit_price")).alias("revenue_at_risk"),
            level.alias("risk_level"),
        )
        .select(RISK_COLUMNS)
        .sort(
            ["stockout_probability", "revenue_at_risk", "sku", "location"],
            descending=[True, True, False, False],
            nulls_last=True,
        )
    )
