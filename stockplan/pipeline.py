"""The planning pipeline: canonical frames in, output tables out. No file access, no printing.

demand history -> classify -> forecast -> lead times -> policy / plan -> risk
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from stockplan.bom import own_sales
from stockplan.calendar import calendar_lead_times, calendar_reason, order_by, supplier_closures
from stockplan.caps import cap_order_up_to, with_item_columns
from stockplan.censor import stockout_days
from stockplan.classify import classify_demand
from stockplan.config import Config
from stockplan.demand import BUCKET_DAYS, SERIES, default_as_of, demand_history
from stockplan.excess import excess_stock
from stockplan.forecast import forecast_demand
from stockplan.item_rules import expiry, item_caps, item_classes, item_columns, item_tables
from stockplan.items import item_names, known_items
from stockplan.large_orders import large_order_lines, without_large_orders
from stockplan.lead_time_demand import history_lead_time_demand
from stockplan.leadtime import (
    backup_lead_times,
    open_receipts,
    resolve_lead_times,
    supplier_scorecard,
    with_supplier_tier,
)
from stockplan.notices import restock_notices
from stockplan.overrides import active_overrides, apply_overrides, with_override_reasons
from stockplan.plan import (
    MASTER_DATA_CONFLICT,
    explain_backup,
    master_data_note,
    plan_orders,
    stale_stock_note,
    stock_position,
    switch_to_backup,
    window_demand,
)
from stockplan.price_breaks import apply_price_breaks, reprice
from stockplan.promotions import apply_promotions, measured_uplift, promotion_days
from stockplan.purchasing import (
    apply_budget,
    budget_note,
    flag_minimum_order_value,
    supplier_orders,
)
from stockplan.result import PlanResult
from stockplan.risk import stockout_risk
from stockplan.shelf_life import expiry_risk, less_unsellable, unsellable
from stockplan.supplier_rules import (
    meet_minimum_order_value,
    round_to_loads,
    with_supplier_decisions,
)
from stockplan.transfers import net_transfers, plan_transfers

INACTIVE_STATUS = [
    "inactive",
    "discontinued",
    "obsolete",
    "blocked",
    "disabled",
    "archived",
    "停用",
    "停售",
    "下架",
    "停产",
    "淘汰",
    "禁用",
    # an `active` column (read as the status) saying no
    "false",
    "0",
    "no",
    "n",
    "否",
]
"""Product statuses never ordered (compared lower-case, trimmed)."""
Progress = Callable[..., object]
"""`progress(message)` names a stage; `progress(message, total=n)` one of n units, and may
return the function that ticks it."""


def _column(frame: pl.DataFrame | None, name: str) -> bool:
    return frame is not None and name in frame.columns


def item_attributes(
    products: pl.DataFrame | None, stock: pl.DataFrame, sales: pl.DataFrame
) -> pl.DataFrame:
    """Per sku: unit_cost, unit_price, moq, pack_size, max_order, own service level, status.

    Product master wins; else the stock file's cost / price; else the average selling
    price in sales (revenue / quantity).
    """
    skus = pl.concat([stock.select("sku"), sales.select("sku")]).unique()
    if products is not None:
        skus = pl.concat([skus, products.select("sku")]).unique()
    frame = skus
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
        revenue = (
            pl.col("revenue")
            if "revenue" in sales.columns
            else pl.col("quantity") * pl.col("unit_price")
        )
        frame = frame.join(
            sales.filter(pl.col("quantity") > 0)
            .group_by("sku")
            .agg((revenue.sum() / pl.col("quantity").sum()).alias("sales_unit_price")),
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
        status.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .is_in(INACTIVE_STATUS)
        .fill_null(False)
        .alias("inactive"),
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

    The windows start at `start` (as_of; None: the first forecast bucket). With supplier
    `closures` (and a start) lead times count the supplier's open days and the window
    stretches to the next order's arrival (`calendar.calendar_lead_times`)."""
    if closures is not None and start is not None:
        lead_times = calendar_lead_times(lead_times, closures, start, review_days, 0)
    cover = (
        pl.col("closure_cover_days") if "closure_cover_days" in lead_times.columns else pl.lit(0.0)
    )
    windows = lead_times.select(
        *SERIES, (pl.col("lead_time_days") + review_days + cover).alias("window_days")
    )
    protection = window_demand(forecast, windows, bucket_days, "demand_protection", start)
    lead_windows = lead_times.select(*SERIES, pl.col("lead_time_days").alias("window_days"))
    over_lead_time = window_demand(forecast, lead_windows, bucket_days, "demand_lead_time", start)
    return (
        base.join(lead_times, on=SERIES, how="left")
        .join(protection, on=SERIES, how="left")
        .join(over_lead_time, on=SERIES, how="left")
        .with_columns(
            pl.col("demand_protection").fill_null(0.0),
            pl.col("demand_lead_time").fill_null(0.0),
        )
        .with_columns(
            (pl.col("demand_protection") / (pl.col("lead_time_days") + review_days + cover)).alias(
                "forecast_per_day"
            )
        )
        .sort(SERIES)
    )


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


def orders_to_show(orders: pl.DataFrame) -> pl.DataFrame:
    """The order sheet without `--all`: the lines to order, and the lines kept from ordering
    that a buyer must see (conflicting master data, an order deferred to meet a supplier's
    minimum value)."""
    return orders.filter(
        (pl.col("order_qty") > 0)
        | pl.col("reason").str.starts_with(MASTER_DATA_CONFLICT)
        | pl.col("reason").str.contains("; deferred ", literal=True)
    )


@dataclass
class DemandStage:
    """The demand side every command shares: the inputs as the items really live (kits,
    successors, stock lots), the censored demand history and the classes table."""

    tables: dict[str, pl.DataFrame]
    lots: pl.DataFrame | None
    sales: pl.DataFrame  # without large one-off lines under `large_orders: make_to_order`
    as_of: dt.date
    excluded: pl.DataFrame  # stockout and promotion days
    large_orders: pl.DataFrame
    history: pl.DataFrame
    attributes: pl.DataFrame
    uplift: pl.DataFrame  # measured promotion lift per series
    classes: pl.DataFrame  # ABC / XYZ / pattern, censored and promotion periods, items' links


def demand_stage(
    tables: dict[str, pl.DataFrame], config: Config, say: Progress | None = None
) -> DemandStage:
    """Kits, successors and lots applied; demand history with stockout and promotion days
    left out; ABC by value, XYZ and demand pattern per series (`classify_demand`)."""
    say = say or (lambda _message: None)
    tables, lots = item_tables(tables)
    sales, stock, products = tables["sales"], tables["stock"], tables.get("products")
    planning = config.planning
    bucket, days = planning.bucket, BUCKET_DAYS[planning.bucket]
    as_of = planning.as_of or default_as_of(sales)
    say("building demand history")
    excluded, promo_days = excluded_days(tables, config, as_of)
    large_orders = large_order_lines(sales, as_of, config.policy)
    if config.policy.large_orders == "make_to_order":
        sales = without_large_orders(sales, large_orders)
    history = demand_history(sales, as_of, bucket, excluded)
    attributes = item_attributes(products, stock, own_sales(sales))
    classes = classify_demand(history, as_of, bucket, config.classify, unit_values(attributes))
    uplift = measured_uplift(sales, promo_days, history, products, days, config.promotions)
    classes = classes.join(
        history.group_by(SERIES).agg(
            (pl.col("stockout_days") > 0).sum().alias("stockout_periods"),
            (pl.col("promo_days") > 0).sum().alias("promo_periods"),
        ),
        on=SERIES,
        how="left",
    ).join(uplift, on=SERIES, how="left")
    return DemandStage(
        tables=tables,
        lots=lots,
        sales=sales,
        as_of=as_of,
        excluded=excluded,
        large_orders=large_orders,
        history=history,
        attributes=attributes,
        uplift=uplift,
        classes=item_classes(classes, tables, as_of),
    )


def run_plan(
    tables: dict[str, pl.DataFrame],
    config: Config,
    *,
    include_all: bool = False,
    progress: Progress | None = None,
) -> PlanResult:
    """Run every stage; return orders, risk, transfers, excess, supplier_orders, forecast,
    classes and suppliers tables.

    `explain` reads its rows from this same result, so it shows the plan's own numbers.
    """
    say = progress or (lambda _message, total=None: None)
    items = known_items(tables)
    stage = demand_stage(tables, config, say)
    tables, lots, sales = stage.tables, stage.lots, stage.sales
    stock = tables["stock"]
    products = tables.get("products")
    purchase_orders = tables.get("purchase_orders")
    planning = config.planning
    bucket = planning.bucket
    days = BUCKET_DAYS[bucket]
    as_of = stage.as_of
    excluded, large_orders = stage.excluded, stage.large_orders
    history, attributes, classes = stage.history, stage.attributes, stage.classes
    categories = product_categories(products)

    tick = say("forecasting series", total=classes.height)
    forecast, summary = forecast_demand(
        history,
        classes,
        bucket,
        config.forecast,
        planning.horizon_periods,
        categories,
        advance=tick if callable(tick) else None,
    )
    forecast = apply_promotions(
        forecast, tables.get("promotions"), products, stage.uplift, days, config.promotions
    )
    forecast = apply_overrides(
        forecast,
        tables.get("overrides"),
        days,
        pl.concat([stock.select(SERIES), history.select(SERIES)]).unique(),
    )
    error_scores = pooled_error_scores(summary, classes)

    universe = pl.concat(
        [stock.select(SERIES), history.select(SERIES)]
        + ([purchase_orders.select(SERIES)] if purchase_orders is not None else [])
    ).unique()
    lead_times = resolve_lead_times(
        universe, products, tables.get("suppliers"), purchase_orders, config.lead_time
    )
    open_po = open_receipts(purchase_orders, lead_times, as_of).join(
        universe, on=SERIES, how="semi"
    )
    position = stock_position(
        stock,
        open_po,
        tables.get("customer_orders"),
        missing_from_latest=planning.missing_from_latest_snapshot,
        allocated_includes_customer_orders=planning.allocated_includes_customer_orders,
    )

    review = config.policy.review_days
    calendars = config.calendars
    closures = supplier_closures(
        tables.get("closures"), calendars.public_holidays, calendars.exempt_suppliers
    )
    base = series_base(universe, position, classes, summary, attributes)
    series = with_lead_times(base, lead_times, forecast, days, review, as_of, closures)
    expiring = expiry(lots, series, as_of, config, attributes)
    if expiring is not None:  # stock that expires before it sells is not available
        base = less_unsellable(base, unsellable(expiring))
        series = less_unsellable(series, unsellable(expiring))
    caps = item_caps(series, forecast, tables, config, as_of, days)
    draws = None
    if config.policy.lead_time_demand != "parametric":
        say("bootstrapping lead-time demand")
        draws = history_lead_time_demand(
            sales,
            lead_times.join(classes.select(*SERIES, "demand_pattern"), on=SERIES, how="left"),
            as_of,
            excluded,
            review,
            config.policy,
            summary,
            days,
        )

    say("computing safety stock and orders")
    first_pass = plan_orders(series, config.policy, as_of, days, error_scores, draws)
    first_pass = cap_order_up_to(first_pass, caps)
    say("rebalancing between locations")
    transfers = plan_transfers(
        first_pass.join(series.select(*SERIES, "inactive"), on=SERIES, how="left"),
        config.transfers,
    )
    moves = net_transfers(transfers)
    rebalanced = after_transfers(series, moves)
    every_order = plan_orders(rebalanced, config.policy, as_of, days, error_scores, draws)
    every_order = cap_order_up_to(every_order, caps)

    say("assessing stockout risk")
    scorecard = supplier_scorecard(purchase_orders, config.supplier_tiers)
    horizon_days = planning.horizon_periods * days

    def assess(plan_series: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
        risk_input = plan_series.join(
            orders.select(*SERIES, "expected_arrival"), on=SERIES, how="left"
        ).with_columns((pl.col("sigma_e") / days**0.5).alias("sigma_day"))
        return stockout_risk(
            risk_input,
            open_po,
            as_of,
            horizon_days,
            config.risk,
            config.policy.discrete_patterns,
            scorecard,
        )

    risk = assess(rebalanced, every_order)
    backups = backup_lead_times(
        universe, products, tables.get("suppliers"), purchase_orders, config.lead_time
    )
    late = switch_to_backup(every_order, risk, backups)
    if late.height:
        say(f"switching {late.height} orders to a faster backup supplier")
        backup_times = backups.join(late, on=SERIES, how="semi")
        lead_times = pl.concat(
            [lead_times.join(late, on=SERIES, how="anti"), backup_times], how="vertical_relaxed"
        )
        series = with_lead_times(base, lead_times, forecast, days, review, as_of, closures)
        rebalanced = after_transfers(series, moves)
        switched = plan_orders(rebalanced, config.policy, as_of, days, error_scores, draws)
        caps = item_caps(rebalanced, forecast, tables, config, as_of, days)
        switched = cap_order_up_to(switched, caps)
        every_order = explain_backup(switched, every_order, late)
        risk = assess(rebalanced, every_order)
    every_order = with_override_reasons(
        every_order, active_overrides(tables.get("overrides"), every_order, as_of)
    )
    policy = config.policy
    every_order = apply_price_breaks(
        every_order, tables.get("price_breaks"), policy.ordering_cost, policy.holding_cost_rate
    )
    demand = rebalanced.select(*SERIES, "unit_price", "demand_lead_time")
    funded = apply_budget(every_order, demand, config.purchasing.budget, policy.discrete_patterns)
    funded, decisions = meet_minimum_order_value(
        funded,
        demand,
        tables.get("suppliers"),
        action=config.purchasing.minimum_order_value,
        holding_rate=policy.holding_cost_rate,
        review_days=review,
        discrete_patterns=policy.discrete_patterns,
    )
    funded, loads = round_to_loads(
        funded,
        demand,
        tables.get("suppliers"),
        products,
        holding_rate=policy.holding_cost_rate,
        review_days=review,
        discrete_patterns=policy.discrete_patterns,
    )
    funded = reprice(funded, tables.get("price_breaks"), attributes)
    funded = calendar_reason(order_by(funded, risk, closures, as_of, horizon_days))
    notes = [
        note
        for note in (
            stale_stock_note(stock, planning.missing_from_latest_snapshot),
            master_data_note(funded),
            budget_note(every_order, funded, config.purchasing.budget),
        )
        if note is not None
    ]
    by_supplier = supplier_orders(funded, tables.get("suppliers"))
    funded = flag_minimum_order_value(funded, by_supplier)
    funded = with_item_columns(funded, item_columns(series, classes, tables, expiring, caps, as_of))
    by_supplier = with_supplier_decisions(by_supplier, decisions, loads)
    orders = funded if include_all else orders_to_show(funded)
    orders = with_supplier_tier(orders, scorecard)
    last_sale = (
        sales.filter((pl.col("quantity") > 0) & (pl.col("date") < as_of))
        .group_by(SERIES)
        .agg(pl.col("date").max().alias("last_sale_date"))
    )
    excess = excess_stock(
        every_order,
        last_sale,
        config.excess.buffer_days,
        as_of,
    )
    extra: dict[str, pl.DataFrame] = {}
    if tables.get("customer_orders") is not None:
        extra["notices"] = restock_notices(
            tables["customer_orders"],
            funded,
            open_po,
            as_of,
            config.notices,
            attributes.select("sku", "unit_price"),
            planning.currency,
            names=item_names(tables),
            lang=planning.language,
            allocated_includes_customer_orders=planning.allocated_includes_customer_orders,
        )
    if expiring is not None:
        extra["expiry_risk"] = expiry_risk(expiring)
    return PlanResult(
        as_of=as_of,
        notes=notes,
        history=history,
        open_po=open_po,
        bucket_days=days,
        plan_rows=funded.join(attributes.select("sku", "inactive"), on="sku", how="left"),
        items=items,
        tables={
            "orders": orders,
            "risk": risk,
            "transfers": transfers,
            "excess": excess,
            "supplier_orders": by_supplier,
            "forecast": forecast,
            "classes": classes,
            "suppliers": scorecard,
            "large_orders": large_orders,
            **extra,
        },
    )


def override_scores(
    tables: dict[str, pl.DataFrame], config: Config, progress: Progress | None = None
) -> tuple[dt.date, pl.DataFrame]:
    """(as_of, FVA of every override that started before as_of): its window's days before
    as_of scored against the statistical forecast made as of the window's start on what
    actually sold (`overrides.score_overrides`). One forecast per distinct start date,
    for the overridden items only."""
    from stockplan.overrides import (
        SCORE_COLUMNS,
        actual_sales,
        for_series,
        override_forecast,
        override_table,
        score_overrides,
    )

    say = progress or (lambda _message, total=None: None)
    tables, _ = item_tables(tables)
    sales = tables["sales"]
    planning = config.planning
    bucket, days = planning.bucket, BUCKET_DAYS[planning.bucket]
    as_of = planning.as_of or default_as_of(sales)
    overrides = tables.get("overrides")
    if overrides is None or overrides.height == 0:
        return as_of, pl.DataFrame(schema=dict.fromkeys(SCORE_COLUMNS, pl.String))
    past = for_series(
        override_table(overrides).filter(pl.col("start") < as_of), sales.select(SERIES)
    ).with_columns(
        pl.min_horizontal("end", pl.lit(as_of - dt.timedelta(days=1))).alias("scored_end")
    )
    past = past.with_columns(
        ((pl.col("scored_end") - pl.col("start")).dt.total_days() + 1)
        .cast(pl.Float64)
        .alias("scored_days")
    )
    scored = []
    for start in past["start"].unique().sort().to_list():  # one refit per start date
        group = past.filter(pl.col("start") == start)
        say(f"refitting forecasts as of {start}")
        subset = {
            name: (
                frame.join(group.select("sku").unique(), on="sku", how="semi")
                if name in ("sales", "stock", "purchase_orders")
                else frame
            )
            for name, frame in tables.items()
        }
        excluded, _ = excluded_days(subset, config, start)
        history = demand_history(subset["sales"], start, bucket, excluded)
        values = unit_values(item_attributes(tables.get("products"), subset["stock"], sales))
        classes = classify_demand(history, start, bucket, config.classify, values)
        horizon = int(group["scored_days"].max() // days) + 2
        forecast, _ = forecast_demand(
            history,
            classes,
            bucket,
            config.forecast,
            horizon,
            product_categories(tables.get("products")),
        )
        windows = group.select(*SERIES, pl.col("scored_days").alias("window_days"))
        statistical = window_demand(forecast, windows, days, "statistical_forecast", start)
        scored.append(
            group.join(statistical, on=SERIES, how="left")
            .join(actual_sales(sales, group), on=["override_id", *SERIES], how="left")
            .with_columns(pl.col("statistical_forecast").fill_null(0.0))
            .with_columns(override_forecast())
        )
    if not scored:
        return as_of, pl.DataFrame(schema=dict.fromkeys(SCORE_COLUMNS, pl.String))
    return as_of, score_overrides(pl.concat(scored, how="vertical_relaxed"))


def run_classify(tables: dict[str, pl.DataFrame], config: Config) -> tuple[dt.date, pl.DataFrame]:
    """(as_of, classes): the `classes` table of `run_plan`, without forecasting or policy."""
    stage = demand_stage(tables, config)
    return stage.as_of, stage.classes
