"""The per-series rows the plan is computed on, shared by `plan` and `simulate`.

demand history, classes -> forecast and its error scores (-> lead-time demand draws)
-> one row per sku x location: stock position, classes, model, sigma_e, item attributes
-> supplier, lead time and the forecast over L + R and over L (`with_lead_times`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from stockplan.bom import with_own_share
from stockplan.calendar import calendar_lead_times
from stockplan.censor import stockout_days
from stockplan.config import Config
from stockplan.demand import BUCKET_DAYS, SERIES, demand_history
from stockplan.forecast import forecast_demand
from stockplan.io.schema import INACTIVE_STATUS, status_word
from stockplan.items import distinct_skus
from stockplan.lead_time_demand import (
    ORDER_ROUNDING,
    LeadTimeDemand,
    PendingDraws,
    lead_time_demand_from,
    lead_time_demand_sums,
    replayed_orders,
)
from stockplan.leadtime import review_days_of
from stockplan.promotions import promotion_days
from stockplan.reorder import window_demand
from stockplan.segmentation import classify_demand
from stockplan.succession import own_spread_sigma_e, with_own_classes


def item_attributes(
    products: pl.DataFrame | None, stock: pl.DataFrame, sales: pl.DataFrame
) -> pl.DataFrame:
    """Per sku: unit_cost, unit_price, moq, pack_size, max_order, own service level, status.

    Product master wins; else the stock file's cost / price; else the average selling
    price in sales: Σ value / Σ quantity over the lines sold, a line's value its quantity x
    its `unit_price` where the sales carry one, else its revenue (an explicit price is
    what the item sells at; revenue may be in another unit or hold discounts).
    """
    frame = distinct_skus(stock, sales, *([products] if products is not None else []))
    if products is not None:
        keep = [
            c
            for c in (
                "unit_cost",
                "unit_price",
                "moq",
                "pack_size",
                "max_order",
                "service_level",
                "status",
            )
            if c in products.columns
        ]
        frame = frame.join(
            products.select("sku", *[pl.col(c).alias(f"product_{c}") for c in keep]),
            on="sku",
            how="left",
        )
    stock_cols = [c for c in ("unit_cost", "unit_price") if c in stock.columns]
    if stock_cols:
        frame = frame.join(
            stock.group_by("sku").agg(
                *[pl.col(c).drop_nulls().last().alias(f"stock_{c}") for c in stock_cols]
            ),
            on="sku",
            how="left",
        )
    if "revenue" in sales.columns or "unit_price" in sales.columns:
        priced = pl.col("quantity") * pl.col("unit_price")
        if "unit_price" not in sales.columns:
            revenue = pl.col("revenue")
        elif "revenue" in sales.columns:
            revenue = pl.coalesce(priced, pl.col("revenue"))
        else:
            revenue = priced
        frame = frame.join(
            sales.lazy()  # lazy: an eager filter copies every sales line
            .filter(pl.col("quantity") > 0)
            .group_by("sku")
            .agg((revenue.sum() / pl.col("quantity").sum()).alias("sales_unit_price"))
            .collect(),
            on="sku",
            how="left",
        )

    def pick(*names: str) -> pl.Expr:
        present = [pl.col(n) for n in names if n in frame.columns]
        return pl.coalesce(*present) if present else pl.lit(None, pl.Float64)

    status = (
        pl.col("product_status") if "product_status" in frame.columns else pl.lit(None, pl.String)
    )
    return frame.select(
        "sku",
        pick("product_unit_cost", "stock_unit_cost").cast(pl.Float64).alias("unit_cost"),
        pick("product_unit_price", "stock_unit_price", "sales_unit_price")
        .cast(pl.Float64)
        .alias("unit_price"),
        pick("product_moq").cast(pl.Float64).alias("moq"),
        pick("product_pack_size").cast(pl.Float64).alias("pack_size"),
        pick("product_max_order").cast(pl.Float64).alias("max_order"),
        pick("product_service_level").cast(pl.Float64).alias("product_service_level"),
        status_word(status).is_in(INACTIVE_STATUS).fill_null(False).alias("inactive"),
    )


def unit_values(attributes: pl.DataFrame) -> pl.DataFrame:
    """sku, unit_value: the price an item sells at, else its cost (for ABC by value)."""
    return attributes.select("sku", pl.coalesce("unit_price", "unit_cost").alias("unit_value"))


def pooled_error_scores(summary: pl.DataFrame, classes: pl.DataFrame) -> dict[str, np.ndarray]:
    """Demand pattern -> every series' standardised backtest-window shortfalls, pooled."""
    pooled = (
        summary.select(*SERIES, "window_scores")
        .join(classes.select(*SERIES, "demand_pattern"), on=SERIES)
        .explode("window_scores")
        .drop_nulls("window_scores")
        .group_by("demand_pattern")
        .agg(pl.col("window_scores"))
    )
    return {pattern: np.asarray(scores, dtype=float) for pattern, scores in pooled.iter_rows()}


def product_categories(products: pl.DataFrame | None) -> pl.DataFrame | None:
    """sku, category from the product master, or None without one."""
    if products is None or "category" not in products.columns:
        return None
    return products.select("sku", "category").drop_nulls()


def series_base(
    universe: pl.DataFrame,
    position: pl.DataFrame,
    classes: pl.DataFrame,
    summary: pl.DataFrame,
    attributes: pl.DataFrame,
) -> pl.DataFrame:
    """One row per sku x location with stock position, classes, model, sigma_e, attributes."""
    return (
        universe.join(position, on=SERIES, how="left")
        .join(classes.select(*SERIES, "abc", "xyz", "demand_pattern"), on=SERIES, how="left")
        .join(summary.select(*SERIES, "model", "sigma_e"), on=SERIES, how="left")
        .join(attributes, on="sku", how="left")
        .with_columns(
            *[pl.col(c).fill_null(0.0) for c in ("on_hand", "allocated", "backorders", "on_order")],
            pl.col("inventory_position").fill_null(0.0),
            pl.col("abc").fill_null("C"),
            pl.col("xyz").fill_null("Z"),
            pl.col("demand_pattern").fill_null("none"),
            pl.col("model").fill_null("Zero"),
            pl.col("sigma_e").fill_null(0.0),
            pl.col("inactive").fill_null(False),
        )
        .sort(SERIES)
    )


def with_lead_times(
    base: pl.DataFrame,
    lead_times: pl.DataFrame,
    forecast: pl.DataFrame,
    bucket_days: int,
    review_days: float,
    start: dt.date | None = None,
    closures: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add supplier, lead time, forecast demand over L + R and over L, and forecast_per_day.

    R is the supplier's review_days where the lead times carry it, else `review_days`
    (policy.review_days; `leadtime.review_days_of`), kept as the row's review_days. The
    windows start at `start` (as_of; None: the first forecast bucket). With supplier
    `closures` (and a start) lead times count the supplier's open days and the window
    stretches to the next order's arrival (`calendar.calendar_lead_times`)."""
    if closures is not None and start is not None:
        lead_times = calendar_lead_times(lead_times, closures, start, review_days, 0)
    cover = (
        pl.col("closure_cover_days") if "closure_cover_days" in lead_times.columns else pl.lit(0.0)
    )
    review = review_days_of(lead_times, review_days)
    if "review_days" in lead_times.columns:  # kept on the row, the policy's where blank
        lead_times = lead_times.with_columns(review)
    window_days = pl.col("lead_time_days") + review + cover
    windows = lead_times.select(*SERIES, window_days.alias("window_days"))
    protection = window_demand(forecast, windows, bucket_days, "demand_protection", start)
    lead_windows = lead_times.select(*SERIES, pl.col("lead_time_days").alias("window_days"))
    over_lead_time = window_demand(forecast, lead_windows, bucket_days, "demand_lead_time", start)
    frame = (
        base.join(lead_times, on=SERIES, how="left")
        .join(protection, on=SERIES, how="left")
        .join(over_lead_time, on=SERIES, how="left")
        .with_columns(
            pl.col("demand_protection").fill_null(0.0),
            pl.col("demand_lead_time").fill_null(0.0),
        )
        .with_columns(
            (pl.col("demand_protection") / (pl.col("lead_time_days") + review + cover)).alias(
                "forecast_per_day"
            )
        )
        .sort(SERIES)
    )
    if "own_sigma_day" in frame.columns:  # a successor before its switch: its own spread
        # from where the windows start: as_of, else the first forecast bucket
        window_start = start if start is not None else forecast["period_start"].min()
        frame = frame.with_columns(own_spread_sigma_e(bucket_days, window_start, window_days))
    return frame


def after_transfers(series: pl.DataFrame, moves: pl.DataFrame) -> pl.DataFrame:
    """Series with `transfer_qty` (net units in, from `net_transfers`) added to the position."""
    return (
        series.join(moves, on=SERIES, how="left")
        .with_columns(pl.col("transfer_qty").fill_null(0.0))
        .with_columns(pl.col("inventory_position") + pl.col("transfer_qty"))
    )


def daily_receipts(purchase_orders: pl.DataFrame | None) -> pl.DataFrame | None:
    """sku, location, date, received: units booked in per day from received PO lines."""
    if purchase_orders is None or "received_date" not in purchase_orders.columns:
        return None
    quantity = (
        pl.coalesce("received_quantity", "quantity")
        if "received_quantity" in purchase_orders.columns
        else pl.col("quantity")
    )
    return (
        purchase_orders.filter(pl.col("received_date").is_not_null())
        .group_by(*SERIES, pl.col("received_date").alias("date"))
        .agg(quantity.sum().cast(pl.Float64).alias("received"))
    )


def excluded_days(
    tables: dict[str, pl.DataFrame], config: Config, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(stockout and promotion days together, promotion days alone) before as_of."""
    sales = tables["sales"]
    inferred = config.censoring.method == "inferred"  # the one method that reads receipts
    receipts = daily_receipts(tables.get("purchase_orders")) if inferred else None
    censored = stockout_days(sales, tables["stock"], receipts, as_of, config.censoring)
    promo = promotion_days(sales, tables.get("promotions"), tables.get("products"), as_of)
    return pl.concat([censored, promo]), promo


def classified_history(
    sales: pl.DataFrame,
    as_of: dt.date,
    config: Config,
    excluded: pl.DataFrame,
    unit_value: pl.DataFrame,
    universe: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(demand history, classes) as of `as_of`: buckets of net sales with the `excluded`
    (stockout, promotion) days left out (`demand.demand_history`), then ABC by value, XYZ
    and demand pattern (`classify.classify_demand`); only the `universe` series if given.
    A component's value counts its own sales, not the units its kits sold
    (`bom.with_own_share`)."""
    bucket = config.planning.bucket
    history = demand_history(sales, as_of, bucket, excluded)
    if universe is not None:
        history = history.join(universe, on=SERIES, how="semi")
    valued = with_own_share(history, sales, as_of, bucket)
    return history, classify_demand(valued, as_of, bucket, config.classify, unit_value)


def successor_classes(
    successor_sales: pl.DataFrame | None,
    as_of: dt.date,
    config: Config,
    excluded: pl.DataFrame,
    unit_value: pl.DataFrame,
) -> pl.DataFrame | None:
    """The classes of the successors' own sales before their switch alone
    (`successor_sales`: `succession.own_sales_before_switch`); None without them."""
    if successor_sales is None:
        return None
    return classified_history(successor_sales, as_of, config, excluded, unit_value)[1]


def with_successor_classes(
    classes: pl.DataFrame, own_classes: pl.DataFrame | None, config: Config
) -> pl.DataFrame:
    """`classes` with the successors that sell under their own code before their switch
    classed on those sales (`own_classes`: `successor_classes`), as
    `succession.with_own_classes` says; unchanged without them. `plan` and every replay
    origin of `simulate` class them so."""
    if own_classes is None:
        return classes
    return with_own_classes(classes, own_classes, config.classify)


def with_own_spread(base: pl.DataFrame, own_demand: pl.DataFrame | None) -> pl.DataFrame:
    """`base` with own_sigma_day and switch_date of the successors selling under their own
    code before their switch (`succession.own_demand`): `with_lead_times` sizes their
    spread on it until the switch (`succession.own_spread_sigma_e`)."""
    if own_demand is None:
        return base
    return base.join(
        own_demand.select(*SERIES, "own_sigma_day", "switch_date"), on=SERIES, how="left"
    )


def forecast_series(
    history: pl.DataFrame,
    classes: pl.DataFrame,
    config: Config,
    horizon_periods: int,
    categories: pl.DataFrame | None,
    advance: Callable[[int], object] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, np.ndarray]]:
    """(forecast, backtest summary, pooled error scores per demand pattern): the forecast
    step `plan` and every replay origin of `simulate` share."""
    forecast, summary = forecast_demand(
        history,
        classes,
        config.planning.bucket,
        config.forecast,
        horizon_periods,
        categories,
        advance=advance,
    )
    return forecast, summary, pooled_error_scores(summary, classes)


def lead_time_demand_draws(
    sales: pl.DataFrame,
    lead_times: pl.DataFrame,
    classes: pl.DataFrame,
    as_of: dt.date,
    excluded: pl.DataFrame,
    review_days: float,
    config: Config,
    summary: pl.DataFrame,
    attributes: pl.DataFrame | None = None,
    **replay: Any,
) -> LeadTimeDemand | None:
    """Bootstrap draws of demand over the lead time (`lead_time_demand`), None under
    `policy.lead_time_demand: parametric`. `replay`: backorder, seed, forecast_age_days.
    Calibrated on these series' own backtest (`lead_time_demand_pending`, then
    `lead_time_demand_from` with its own counts)."""
    pending = lead_time_demand_pending(
        sales,
        lead_times,
        classes,
        as_of,
        excluded,
        review_days,
        config,
        summary,
        attributes,
        **replay,
    )
    return None if pending is None else lead_time_demand_from(pending)


def lead_time_demand_pending(
    sales: pl.DataFrame,
    lead_times: pl.DataFrame,
    classes: pl.DataFrame,
    as_of: dt.date,
    excluded: pl.DataFrame,
    review_days: float,
    config: Config,
    summary: pl.DataFrame,
    attributes: pl.DataFrame | None = None,
    **replay: Any,
) -> PendingDraws | None:
    """The series' calibration counts and what their draws need
    (`lead_time_demand.lead_time_demand_sums`), None under `parametric`. `attributes`
    (`item_attributes`): the MOQ, pack size and max order that round the orders of the
    backtest's path under `policy.calibrate_lost_sales: replayed`."""
    if config.policy.lead_time_demand == "parametric":
        return None
    series = lead_times.join(classes.select(*SERIES, "demand_pattern"), on=SERIES, how="left")
    replayed = replayed_orders(config.policy) or config.policy.promise_scoring == "replayed"
    if attributes is not None and replayed:
        present = [c for c in ORDER_ROUNDING if c in attributes.columns and c not in series.columns]
        series = series.join(attributes.select("sku", *present), on="sku", how="left")
    return lead_time_demand_sums(
        sales,
        series,
        as_of,
        excluded,
        review_days,
        config.policy,
        summary,
        BUCKET_DAYS[config.planning.bucket],
        classify=config.classify,
        **replay,
    )
