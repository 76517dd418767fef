"""Purchase suggestions: inventory position against the policy's reorder point and order-up-to.

    inventory_position = on_hand + on_order - backorders - allocated       (docs/design.md §4)

Negative on_hand (an ERP that lets stock go below zero) is read as a backorder.
Backorders are open customer orders plus that negative stock. When the ERP's allocated
quantity already is the reservation for those open orders
(`planning.allocated_includes_customer_orders`), only the orders above it are backorders:
    backorders = negative stock + max(open customer orders - allocated, 0)
so no order is subtracted twice.

A line without forecast demand orders nothing, unless open customer orders (backorders)
put its position below 0: it orders what they lack, -inventory_position (the MOQ, packs
and max_order apply), when no transfer covers it (`committed_need`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Policy
from stockplan.demand import SERIES
from stockplan.elapsed import ELAPSED, demand_inside
from stockplan.i18n import counted_text
from stockplan.lead_time_demand import LeadTimeDemand
from stockplan.leadtime import review_days_of, whole_days
from stockplan.policy import (
    ALLOCATED_NOTE,
    no_legal_quantity,
    protection_levels,
    round_order_quantity,
    smallest_order,
)
from stockplan.promotions import LIFT_RISK, with_lift_risk_stock

ORDER_COLUMNS = [
    "sku",
    "location",
    "supplier",
    "order_qty",
    "order_value",
    "order_date",
    "order_by",
    "expected_arrival",
    "on_hand",
    "on_order",
    "backorders",
    "inventory_position",
    "forecast_per_day",
    "lead_time_days",
    "review_days",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "service_level",
    "abc",
    "demand_pattern",
    "model",
    "reason",
]
ORDER_DETAIL_COLUMNS = [
    "policy_type",
    "allocated",
    "transfer_qty",
    "lead_time_std_days",
    "lead_time_source",
    "sigma_e",
    "sigma_lead_time_demand",
    "unit_cost",
    "moq",
    "pack_size",
    "max_order",
    "xyz",
    "open_lead_time_days",
    "closure_days",
    "closure_note",
    "closure_cover_days",
    "ltd_method",
    "promised_service",
    "service_note",
]
CALENDAR_DEFAULTS = {
    "open_lead_time_days": pl.col("lead_time_days"),
    "closure_days": pl.lit(0.0),
    "closure_note": pl.lit(None, pl.String),
    "closure_cover_days": pl.lit(0.0),
}
"""Calendar columns of a plan row when the series have no supplier calendar."""


def _num(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, pl.Float64)


MASTER_DATA_CONFLICT = "no order: conflicting master data"
INACTIVE_REASON = "no order: product status is inactive"
NO_ORDER = "no order: "
POLICY_FINDINGS = ("no order: position ", "no order: a transfer in of ")
"""How a reason starts when the policy finds no need (or under half a unit): a later rule
(top up, bring forward, full loads) may still order on such a line. Every other
"no order:" reason stops the line (inactive, conflicting master data, no demand, a kit,
a replaced item)."""


def stopped() -> pl.Expr:
    """Lines no rule may order on: a "no order:" reason that is not a POLICY_FINDINGS."""
    reason = pl.col("reason")
    finding = pl.any_horizontal(*[reason.str.starts_with(f) for f in POLICY_FINDINGS])
    return (reason.str.starts_with(NO_ORDER) & ~finding).fill_null(False)


def with_clause(clause: pl.Expr, new_qty: pl.Expr) -> pl.Expr:
    """The reason with `clause` added (null: the reason as it is). A line a rule raises from
    no order to `new_qty` drops the leading "no order: ": the policy's finding stays, the
    clause says why the line orders after all ("position 96 not below reorder point 89.4;
    topped up by 25 ...")."""
    raised = (pl.col("order_qty") <= 0) & (new_qty > 0)
    head = pl.when(raised).then(pl.col("reason").str.strip_prefix(NO_ORDER))
    return (
        pl.when(clause.is_not_null())
        .then(pl.format("{}; {}", head.otherwise(pl.col("reason")), clause))
        .otherwise(pl.col("reason"))
    )


def current_stock(stock: pl.DataFrame, missing: str = "zero") -> pl.DataFrame:
    """The current stock rows: from a history of dated snapshots, the latest per series.

    A series absent from its location's newest snapshot (many ERPs leave out zero-stock
    rows) has on_hand and allocated 0 when `missing` is "zero"; with "last_seen" it keeps
    its last snapshot's figures.
    """
    if "date" not in stock.columns or stock["date"].null_count() == stock.height:
        return stock
    latest = stock.sort("date").group_by(SERIES, maintain_order=True).last()
    if missing != "zero":
        return latest
    newest = stock.group_by("location").agg(pl.col("date").max().alias("newest_snapshot"))
    stale = pl.col("date") < pl.col("newest_snapshot")
    zeroed = [c for c in ("on_hand", "allocated") if c in latest.columns]
    return (
        latest.join(newest, on="location", how="left")
        .with_columns(
            *[
                pl.when(stale).then(0.0).otherwise(pl.col(c).cast(pl.Float64)).alias(c)
                for c in zeroed
            ]
        )
        .drop("newest_snapshot")
    )


def stale_stock_note(stock: pl.DataFrame, missing: str) -> str | None:
    """A line for the buyer naming the items absent from their location's newest snapshot."""
    if "date" not in stock.columns or stock["date"].null_count() == stock.height:
        return None
    newest = stock.group_by("location").agg(pl.col("date").max().alias("newest_snapshot"))
    stale = (
        stock.group_by(SERIES)
        .agg(pl.col("date").max().alias("last_seen"))
        .join(newest, on="location")
        .filter(pl.col("last_seen") < pl.col("newest_snapshot"))
        .sort(SERIES)
    )
    if stale.height == 0:
        return None
    names = ", ".join(f"{s}@{loc}" for s, loc in stale.select(SERIES).head(5).iter_rows())
    more = f" and {stale.height - 5} more" if stale.height > 5 else ""
    then = (
        "taken as 0 on hand"
        if missing == "zero"
        else "kept at their last seen quantity (planning.missing_from_latest_snapshot)"
    )
    return (
        f"stock: {stale.height} {'item is' if stale.height == 1 else 'items are'} missing from "
        "their location's newest snapshot, "
        f"{then}: {names}{more}"
    )


def stock_position(
    stock: pl.DataFrame,
    open_po: pl.DataFrame,
    customer_orders: pl.DataFrame | None,
    *,
    missing_from_latest: str = "zero",
    allocated_includes_customer_orders: bool = False,
) -> pl.DataFrame:
    """Per series: on_hand, allocated, backorders, on_order, inventory_position, next_receipt_date.

    From a history of snapshots the latest per sku x location is the current one
    (`current_stock`). Backorders as in the module docstring.
    """
    latest = current_stock(stock, missing_from_latest)
    current = latest.select(
        *SERIES,
        pl.col("on_hand").clip(lower_bound=0.0).alias("on_hand"),
        pl.when(pl.col("on_hand") < 0)
        .then(-pl.col("on_hand"))
        .otherwise(0.0)
        .alias("negative_stock"),
        _num(latest, "allocated").fill_null(0.0).alias("allocated"),
    )
    on_order = open_po.group_by(SERIES).agg(
        pl.col("quantity").sum().alias("on_order"),
        pl.col("arrival").min().alias("next_receipt_date"),
    )
    frame = current.join(on_order, on=SERIES, how="full", coalesce=True)
    if customer_orders is not None:
        owed = customer_orders.group_by(SERIES).agg(
            pl.col("quantity").sum().alias("customer_backlog")
        )
        frame = frame.join(owed, on=SERIES, how="full", coalesce=True)
    else:
        frame = frame.with_columns(pl.lit(0.0).alias("customer_backlog"))
    backlog = pl.col("customer_backlog").fill_null(0.0)
    if allocated_includes_customer_orders:
        backlog = (backlog - pl.col("allocated").fill_null(0.0)).clip(lower_bound=0.0)
    return frame.select(
        *SERIES,
        pl.col("on_hand").fill_null(0.0),
        pl.col("allocated").fill_null(0.0),
        (pl.col("negative_stock").fill_null(0.0) + backlog).alias("backorders"),
        pl.col("on_order").fill_null(0.0),
        "next_receipt_date",
    ).with_columns(
        (pl.col("on_hand") + pl.col("on_order") - pl.col("backorders") - pl.col("allocated")).alias(
            "inventory_position"
        )
    )


def _days_after_origin(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col("origin")).dt.total_days()


def _inside(forecast: pl.DataFrame, bucket_days: int) -> pl.Expr:
    """A bucket's demand inside the window (`elapsed.demand_inside`): the bucket the
    origin falls in has d0 = -offset of its days gone."""
    gone = (-pl.col("offset")).clip(lower_bound=0.0)
    return demand_inside(
        pl.col("forecast"), pl.col("overlap"), gone, bucket_days, ELAPSED in forecast.columns
    )


def window_demand(
    forecast: pl.DataFrame,
    windows: pl.DataFrame,
    bucket_days: int,
    name: str,
    start: dt.date | None = None,
) -> pl.DataFrame:
    """Forecast demand over the `window_days` from `start` per series, from the forecast path.

    The window is [t0, t0 + W) with t0 = the later of `start` (as_of) and the first forecast
    bucket (None: the first bucket). A bucket [p, p + b) contributes forecast x the share of
    its days inside the window, so a mid-week as_of leaves out the days already gone.
    Where the forecast carries `elapsed.ELAPSED` e (the demand of the bucket's days before
    `start`, promotions and overrides counted on their own days), the bucket holding t0,
    d0 of its days gone, contributes (f - e) x its days inside the window / (b - d0).
    Days past the horizon run at the last bucket's rate.
    """
    first = forecast.group_by(SERIES).agg(
        pl.col("period_start").min().alias("first_period"),
        (pl.col("period_start").max() + pl.duration(days=bucket_days)).alias("horizon_end"),
        pl.col("forecast").sort_by("period_start").last().alias("last"),
    )
    origin = (
        pl.max_horizontal(pl.col("first_period"), pl.lit(start))
        if start is not None
        else pl.col("first_period")
    )
    framed = windows.join(first, on=SERIES, how="left").with_columns(origin.alias("origin"))
    inside = (
        forecast.join(framed.select(*SERIES, "origin", "window_days"), on=SERIES)
        .with_columns(_days_after_origin("period_start").cast(pl.Float64).alias("offset"))
        .with_columns(
            (
                pl.min_horizontal(pl.col("offset") + bucket_days, pl.col("window_days"))
                - pl.col("offset").clip(lower_bound=0.0)
            )
            .clip(0.0, bucket_days)
            .alias("overlap")
        )
        .group_by(SERIES)
        .agg(_inside(forecast, bucket_days).sum().alias("inside"))
    )
    past_horizon = (
        pl.col("window_days") - _days_after_origin("horizon_end").cast(pl.Float64).fill_null(0.0)
    ).clip(lower_bound=0.0)
    return framed.join(inside, on=SERIES, how="left").select(
        *SERIES,
        (
            pl.col("inside").fill_null(0.0)
            + past_horizon * pl.col("last").fill_null(0.0) / bucket_days
        ).alias(name),
    )


def _by_class(mapping: dict, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(value for the ABC x XYZ class, value for the ABC class) from a class-keyed mapping."""
    by_pair = pl.concat_str("abc", "xyz").replace_strict(mapping, default=None, return_dtype=dtype)
    by_abc = pl.col("abc").replace_strict(mapping, default=None, return_dtype=dtype)
    return by_pair, by_abc


def _by_sku(settings: Policy, field: str, dtype: pl.DataType) -> pl.Expr:
    mapping = {
        sku: getattr(rule, field)
        for sku, rule in settings.skus.items()
        if getattr(rule, field) is not None
    }
    return pl.col("sku").replace_strict(mapping, default=None, return_dtype=dtype)


def service_levels(frame: pl.DataFrame, settings: Policy) -> pl.Expr:
    """Target per series, first that exists: `policy.skus`, the product master's own,
    `policy.service_levels` for its ABC x XYZ class, for its ABC class, the default."""
    by_pair, by_abc = _by_class(settings.service_levels, pl.Float64)
    own = _num(frame, "product_service_level")
    return pl.coalesce(
        _by_sku(settings, "service_level", pl.Float64),
        own,
        by_pair,
        by_abc,
        pl.lit(settings.service_level),
    ).alias("service_level")


def policy_types(settings: Policy) -> pl.Expr:
    """Policy per series: `policy.skus`, else `policy.types` by class, else `policy.type`."""
    by_pair, by_abc = _by_class(settings.types, pl.String)
    return pl.coalesce(
        _by_sku(settings, "type", pl.String), by_pair, by_abc, pl.lit(settings.type)
    ).alias("policy_type")


def line_value(quantity: pl.Expr, unit_cost: pl.Expr) -> pl.Expr:
    """A line's order value in money: quantity x unit cost rounded to the cent at the line,
    so that every total (a supplier's, the budget's, the summary's) is the sum of the
    cents the lines show; null without a cost."""
    return (quantity * unit_cost).round(2)


def _date(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, pl.Date)


def transfer_in_clause(as_of: dt.date, arrival: pl.Expr) -> pl.Expr:
    """The transfer in a receiver's reason: "a transfer in of 40", and "(lands 2025-03-06)"
    while it is still on the road (`arrival` after as_of, `transfers.transit_days`): it is
    in the position, so the order is smaller, but not yet on the shelf."""
    landing = (
        pl.when(arrival > pl.lit(as_of))
        .then(pl.format(" (lands {})", arrival.dt.to_string("%Y-%m-%d")))
        .otherwise(pl.lit(""))
    )
    return pl.format("a transfer in of {}{}", fmt_number(pl.col("transfer_qty")), landing)


def fmt_number(expr: pl.Expr) -> pl.Expr:
    return expr.round(1).cast(pl.String).str.replace(r"\.0$", "")


def _fmt_digits(expr: pl.Expr, digits: int) -> pl.Expr:
    return (
        expr.round(digits).cast(pl.String).str.replace(r"(\.\d*?)0+$", "$1").str.replace(r"\.$", "")
    )


def fmt_apart(low: pl.Expr, high: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Two numbers a reason says differ (`x below y`, `x < y`) as `fmt_number` writes them,
    with 2 or 3 decimals where 1 rounds them to the same text: 5.96 below 6.04, not 6
    below 6."""
    tie1 = low.round(1) == high.round(1)
    tie2 = low.round(2) == high.round(2)

    def shown(expr: pl.Expr) -> pl.Expr:
        return (
            pl.when(~tie1)
            .then(fmt_number(expr))
            .when(~tie2)
            .then(_fmt_digits(expr, 2))
            .otherwise(_fmt_digits(expr, 3))
        )

    return shown(low), shown(high)


def fraction(expr: pl.Expr) -> pl.Expr:
    """A need under one unit as text: cut (not rounded) to 2 decimals, so 0.49x never reads
    0.5; below 0.01 one significant figure."""
    cents = (expr * 100 + 1e-7).floor().cast(pl.Int64)  # 1e-7: 210 - 209.52 is 0.4799..
    # written from the whole cents, not as cents / 100: polars divides by 100 as x 0.01,
    # which writes 35, 41 or 47 cents as 0.35000000000000003
    cut = (
        pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))
        .str.replace(r"0+$", "")
        .str.replace(r"\.$", "")
    )
    return pl.when(cents > 0).then(cut).otherwise(expr.round_sig_figs(1).cast(pl.String))


def sq_clause(position: pl.Expr, reorder_point: pl.Expr, need: pl.Expr, q: pl.Expr) -> pl.Expr:
    """What the (s, Q) rule did: the position at or below s, the need n whole multiples of
    Q, and the position they lift it to (p + nQ, not S = s + Q, which it reaches only
    from exactly s)."""
    return pl.format(
        "position {} at or below reorder point {}: order {} × Q {} = {}, lifting the position "
        "to {}",
        *fmt_apart(position, reorder_point),
        (need / q).round(0).cast(pl.Int64),
        fmt_number(q),
        fmt_number(need),
        fmt_number(position + need),
    )


def owed_without_forecast() -> pl.Expr:
    """Lines with open customer orders (backorders) and no forecast demand: an item the
    forecast calls dead, or a location that never sold it, still owes those orders."""
    return (pl.col("forecast_per_day") <= 0) & (pl.col("backorders") > 0)


def committed_need() -> pl.Expr:
    """What open customer orders lack at a line without forecast demand (`owed_without_
    forecast`): max(-inventory_position, 0) = backorders + allocated - on_hand - on_order
    (transfers in counted), so an order or a transfer lifts the position to 0 and no
    further: nothing is stocked for demand the forecast does not see."""
    return (-pl.col("inventory_position")).clip(lower_bound=0.0)


def under_half_a_unit(position: pl.Expr, need: pl.Expr, up_to: pl.Expr) -> pl.Expr:
    """The reason of a line whose need rounds to no whole unit."""
    return pl.format(
        "no order: position {} is only {} below order-up-to {}, under half a unit",
        fmt_number(position),
        fraction(need),
        fmt_number(up_to),
    )


def plan_orders(
    series: pl.DataFrame,
    settings: Policy,
    as_of: dt.date,
    bucket_days: int,
    error_scores: dict | None = None,
    lead_time_demand: LeadTimeDemand | None = None,
) -> pl.DataFrame:
    """Order rows for every series (order_qty may be 0) with the numbers that produced them.

    `series` needs: position columns, forecast_per_day, demand_protection, sigma_e,
    lead time columns, supplier, abc, xyz, demand_pattern, model, unit_cost, moq,
    pack_size, max_order, product_service_level (may be null), inactive; review_days (the
    supplier's R) where it has one, else R is `settings.review_days`. The order row's
    review_days is R plus its closure_cover_days.
    """
    if "transfer_qty" not in series.columns:
        series = series.with_columns(pl.lit(0.0).alias("transfer_qty"))
    series = series.with_columns(
        *[expr.alias(c) for c, expr in CALENDAR_DEFAULTS.items() if c not in series.columns]
    )
    frame = series.with_columns(
        # R: the supplier's review_days, else the policy's (`leadtime.review_days_of`); an
        # order that must cover a supplier closure protects until the delayed next order
        (review_days_of(series, settings.review_days) + pl.col("closure_cover_days")).alias(
            "review_days"
        ),
        (pl.col("sigma_e") / (bucket_days**0.5)).alias("sigma_day"),
    )
    frame = frame.with_columns(service_levels(frame, settings), policy_types(settings))
    frame = protection_levels(frame, settings, error_scores, lead_time_demand)
    if LIFT_RISK in frame.columns:  # a planned promotion's lift is uncertain
        frame = with_lift_risk_stock(frame, settings.max_cover_days)
    position = pl.col("inventory_position")
    kind = pl.col("policy_type")
    # rs: order up to S whenever below it; ss: order up to S once at or below s;
    # sq: the smallest multiple of Q that lifts position above s
    q = pl.max_horizontal(pl.col("order_cycle_qty"), pl.lit(1.0))
    trigger = (
        pl.when(kind == "rs")
        .then(position < pl.col("order_up_to") - 1e-9)
        .otherwise(position <= pl.col("reorder_point"))
    )
    raw = (
        pl.when(kind == "sq")
        .then((((pl.col("reorder_point") - position) / q).floor() + 1) * q)
        .otherwise(pl.col("order_up_to") - position)
    )
    active = ~pl.col("inactive").fill_null(False)
    owed = active & owed_without_forecast()
    raw = (
        pl.when(trigger & active & (pl.col("forecast_per_day") > 0))
        .then(raw)
        .when(owed)  # no forecast: only what the open customer orders still lack
        .then(committed_need())
        .otherwise(0.0)
    )
    # no pack multiple between the MOQ and max_order (a max_order below the MOQ, or below
    # the MOQ in whole packs): no legal quantity, no order, flagged on the line
    conflict = no_legal_quantity(pl.col("moq"), pl.col("pack_size"), pl.col("max_order"))
    below_moq = (pl.col("max_order") < pl.col("moq")).fill_null(False)
    frame = frame.with_columns(raw.alias("raw_need"))
    frame = frame.with_columns(
        pl.when(conflict)
        .then(0.0)
        .otherwise(
            round_order_quantity(
                pl.col("raw_need"), pl.col("moq"), pl.col("pack_size"), pl.col("max_order")
            )
        )
        .alias("order_qty")
    )
    need = fmt_number(pl.col("raw_need"))
    # where the need lifts the position: S for rs and ss, position + n x Q for sq (whose S,
    # s + Q, the position reaches only from exactly s), 0 for open customer orders without
    # a forecast
    target = fmt_number(
        pl.when((kind == "sq") | owed)
        .then(position + pl.col("raw_need"))
        .otherwise(pl.col("order_up_to"))
    )
    # open customer orders without a forecast that this line or a transfer in covers
    covering = owed & ((pl.col("raw_need") > 0) | (pl.col("transfer_qty") > 0))
    # the cover cap set the safety stock (`protection_levels`): the reason says so, not
    # only the service note
    capped = (
        pl.col("safety_capped").fill_null(False)
        if "safety_capped" in frame.columns
        else pl.lit(False)
    )
    transfer_in = transfer_in_clause(as_of, _date(frame, "transfer_arrival"))
    reason = (
        pl.when(~active)
        .then(pl.lit(INACTIVE_REASON))
        .when((pl.col("forecast_per_day") <= 0) & ~covering)
        .then(pl.lit("no order: no forecast demand"))
        .when(conflict & below_moq & (pl.col("raw_need") >= 0.5))
        .then(
            pl.format(
                "{}: max_order {} is below the MOQ {} in the products file; need {} to reach {}",
                pl.lit(MASTER_DATA_CONFLICT),
                fmt_number(pl.col("max_order")),
                fmt_number(pl.col("moq")),
                need,
                target,
            )
        )
        .when(conflict & (pl.col("raw_need") >= 0.5))
        .then(
            pl.format(
                "{}: max_order {} is below {}, the MOQ {} in whole packs of {}, in the "
                "products file; need {} to reach {}",
                pl.lit(MASTER_DATA_CONFLICT),
                fmt_number(pl.col("max_order")),
                fmt_number(smallest_order(pl.col("moq"), pl.col("pack_size"))),
                fmt_number(pl.col("moq").fill_null(0.0)),
                fmt_number(pl.col("pack_size").fill_null(1.0)),
                need,
                target,
            )
        )
        .when((pl.col("order_qty") <= 0) & (pl.col("raw_need") > 0) & (pl.col("raw_need") < 0.5))
        .then(
            under_half_a_unit(
                position,
                pl.col("raw_need"),
                pl.when(owed).then(0.0).otherwise(pl.col("order_up_to")),
            )
        )
        .when((pl.col("order_qty") <= 0) & (pl.col("transfer_qty") > 0) & owed)
        .then(
            pl.format(
                "no order: {} covers the open customer orders, no forecast demand (position {})",
                transfer_in,
                fmt_number(position),
            )
        )
        .when((pl.col("order_qty") <= 0) & (pl.col("transfer_qty") > 0))
        .then(
            pl.format(
                "no order: {} lifts position to {} (reorder point {})",
                transfer_in,
                fmt_number(position),
                fmt_number(pl.col("reorder_point")),
            )
        )
        .when(pl.col("order_qty") <= 0)
        .then(
            pl.format(
                "no order: position {} not below reorder point {}",
                fmt_number(position),
                fmt_number(pl.col("reorder_point")),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.when(pl.col("transfer_qty") > 0)
                .then(pl.format("after {}, ", transfer_in))
                .otherwise(pl.lit("")),
                pl.when(owed)
                .then(
                    pl.format(
                        "position {} below 0 for open customer orders, no forecast demand: "
                        "need {} to cover them",
                        fmt_number(position),
                        need,
                    )
                )
                .when(kind == "sq")
                .then(sq_clause(position, pl.col("reorder_point"), pl.col("raw_need"), q))
                .otherwise(
                    pl.format(
                        "position {} below reorder point {}: need {} to reach {}",
                        *fmt_apart(position, pl.col("reorder_point")),
                        need,
                        fmt_number(pl.col("order_up_to")),
                    )
                ),
                pl.when(capped)
                .then(
                    pl.lit(
                        counted_text(
                            "; safety stock capped at {days:g} days of demand",
                            days=settings.max_cover_days,
                        )
                    )
                )
                .otherwise(pl.lit("")),
                pl.when(pl.col("moq").fill_null(0) > pl.col("raw_need"))
                .then(pl.format("; raised to MOQ {}", fmt_number(pl.col("moq"))))
                .otherwise(pl.lit("")),
                pl.when(pl.col("pack_size").fill_null(1) > 1)
                .then(pl.format("; rounded up to packs of {}", fmt_number(pl.col("pack_size"))))
                .otherwise(pl.lit("")),
                pl.when(
                    pl.col("max_order").is_not_null()
                    & (pl.col("order_qty") < pl.col("raw_need") - 1e-9)
                )
                .then(pl.format("; capped at max order {}", fmt_number(pl.col("max_order"))))
                .otherwise(pl.lit("")),
            )
        )
    )
    # the calendar's arrival: lead_time_days is the open days plus those closures add
    arrival = arrival_after(as_of, pl.col("lead_time_days"))
    return frame.with_columns(
        line_value(pl.col("order_qty"), pl.col("unit_cost")).alias("order_value"),
        pl.lit(as_of).alias("order_date"),
        pl.lit(None, pl.Date).alias("order_by"),  # set once the risk stage projects stockouts
        arrival.alias("expected_arrival"),
        reason.alias("reason"),
    ).select(*ORDER_COLUMNS, *ORDER_DETAIL_COLUMNS)


def master_data_note(orders: pl.DataFrame) -> str | None:
    """A line for the buyer naming the lines left unordered by conflicting master data."""
    return master_data_note_from([master_data_note_sums(orders)])


def master_data_note_sums(orders: pl.DataFrame) -> tuple[int, list[str]]:
    """What `master_data_note` says of one set of order rows (sorted by sku): the lines
    left unordered by conflicting master data and the first 5 of their skus."""
    flagged = orders.filter(pl.col("reason").str.starts_with(MASTER_DATA_CONFLICT))
    return flagged.height, flagged["sku"].unique(maintain_order=True).head(5).to_list()


def master_data_note_from(sums: list[tuple[int, list[str]]]) -> str | None:
    """`master_data_note` over several sets of series (`master_data_note_sums` of each)."""
    count = sum(n for n, _ in sums)
    if count == 0:
        return None
    names = ", ".join(_first_skus([skus for _, skus in sums]))
    return (
        f"products: max_order below the moq in whole packs leaves {count} "
        f"{'line' if count == 1 else 'lines'} with a need "
        f"unordered ({names}); fix the product master"
    )


def _first_skus(lists: list[list[str]]) -> list[str]:
    """The first 5 skus of several sets of rows sorted by sku (each set's own first 5)."""
    if len(lists) == 1:
        return lists[0]
    return sorted({sku for skus in lists for sku in skus})[:5]


def unreachable_service_note(orders: pl.DataFrame) -> str | None:
    """A line for the buyer counting the items promised less than their service target
    (`promised_service` below `service_level`: at the cover cap, or above their demand
    pattern's backtest curve), per demand pattern."""
    if "promised_service" not in orders.columns:
        return None
    return unreachable_service_note_from([unreachable_service_sums(orders)])


def unreachable_service_sums(orders: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """What `unreachable_service_note` counts in one set of order rows (sorted by sku):
    items per demand pattern (demand_pattern, len) and the first 5 skus."""
    if "promised_service" not in orders.columns:
        return pl.DataFrame(schema={"demand_pattern": pl.String, "len": pl.Int64}), []
    short = orders.filter(pl.col("promised_service") < pl.col("service_level") - 1e-6)
    if "service_note" in orders.columns:  # below the target by the pattern's allocation
        short = short.filter(~pl.col("service_note").str.contains(ALLOCATED_NOTE, literal=True))
    counts = short.group_by("demand_pattern").len().cast({"len": pl.Int64})
    return counts, short["sku"].unique(maintain_order=True).head(5).to_list()


def unreachable_service_note_from(sums: list[tuple[pl.DataFrame, list[str]]]) -> str | None:
    """`unreachable_service_note` over several sets of series (`unreachable_service_sums`)."""
    counts = (
        pl.concat([c for c, _ in sums], how="vertical_relaxed")
        .group_by("demand_pattern")
        .agg(pl.col("len").sum())
        .sort(["len", "demand_pattern"], descending=[True, False])
    )
    total = int(counts["len"].sum())
    if total == 0:
        return None
    parts = ", ".join(f"{p or 'unclassified'} {n:,}" for p, n in counts.iter_rows())
    names = ", ".join(_first_skus([skus for _, skus in sums]))
    return counted_text(  # the cover cap is the item's limit; a pattern's backtest is not
        "service: {total:,} items are promised less than their service target ({parts}; "
        "e.g. {names}): at the cover cap, or above what their demand pattern's backtest "
        "reached; promised_service and service_note say which and what each can promise",
        total=total,
        parts=parts,
        names=names,
    )


def arrival_after(as_of: dt.date, lead_time_days: pl.Expr) -> pl.Expr:
    """The expected arrival of an order placed on `as_of`: as_of + the lead time in calendar
    days (`calendar.calendar_lead_times`: the open days plus those closures add), whole
    days rounded half up (`leadtime.whole_days`)."""
    return pl.lit(as_of) + pl.duration(days=whole_days(lead_time_days))


def switch_to_backup(
    orders: pl.DataFrame,
    risk: pl.DataFrame,
    backups: pl.DataFrame,
    as_of: dt.date,
    closures: pl.DataFrame | None = None,
    review_days: float = 0.0,
) -> pl.DataFrame:
    """Series whose preferred supplier cannot deliver in time and whose backup delivers sooner.

    "In time": the order's expected arrival falls after the projected stockout date.
    "Sooner": the backup's arrival for an order placed today, counted on the backup's own
    calendar (its open-day lead time through its closures, `calendar.calendar_lead_times`),
    is strictly before the preferred order's expected arrival (on the preferred supplier's
    calendar): dates are compared, never an open-day lead time against a calendar one.
    Returns sku, location, preferred_supplier, preferred_arrival, backup_supplier,
    backup_arrival, stockout_date.
    """
    if closures is not None and closures.height and backups.height:
        from stockplan.calendar import calendar_lead_times  # calendar imports this module

        backups = calendar_lead_times(backups, closures, as_of, review_days, 0)
    return (
        orders.filter(pl.col("order_qty") > 0)
        .join(risk.select(*SERIES, "stockout_date"), on=SERIES)
        .join(
            backups.select(
                *SERIES,
                pl.col("supplier").alias("backup_supplier"),
                arrival_after(as_of, pl.col("lead_time_days")).alias("backup_arrival"),
            ),
            on=SERIES,
        )
        .filter(
            pl.col("stockout_date").is_not_null()
            & (pl.col("stockout_date") < pl.col("expected_arrival"))
            & (pl.col("backup_arrival") < pl.col("expected_arrival"))
            & (pl.col("backup_supplier") != pl.col("supplier").fill_null(""))
        )
        .select(
            *SERIES,
            pl.col("supplier").alias("preferred_supplier"),
            pl.col("expected_arrival").alias("preferred_arrival"),
            "backup_supplier",
            "backup_arrival",
            "stockout_date",
        )
    )


def explain_backup(
    switched: pl.DataFrame, original: pl.DataFrame, late: pl.DataFrame
) -> pl.DataFrame:
    """Order rows with the `late` series taken from the backup-supplier plan, reason prefixed."""
    why = pl.format(
        "backup supplier {} instead of {}: stock runs out about {}, {} would deliver {}",
        pl.col("supplier"),
        pl.col("preferred_supplier"),
        pl.col("stockout_date"),
        pl.col("preferred_supplier"),
        pl.col("preferred_arrival"),
    )
    changed = switched.join(late, on=SERIES).with_columns(
        pl.when(pl.col("order_qty") > 0)
        .then(pl.concat_str(why, pl.lit("; "), pl.col("reason")))
        .otherwise(pl.concat_str(pl.col("reason"), pl.lit(" with the "), why))
        .alias("reason")
    )
    return pl.concat(
        [original.join(late, on=SERIES, how="anti"), changed.select(original.columns)]
    ).sort(SERIES)


def explain_late_rule_lines(
    orders: pl.DataFrame,
    planned: pl.DataFrame,
    risk: pl.DataFrame,
    backups: pl.DataFrame | None,
    as_of: dt.date,
    closures: pl.DataFrame | None = None,
    review_days: float = 0.0,
) -> pl.DataFrame:
    """`orders` (as the purchasing rules left them) with a clause on each line that only a
    rule orders (top up, bring forward, full load: 0 in the order stage's `planned`) and
    that arrives after the projected stockout while its backup supplier would deliver
    sooner (`switch_to_backup`'s test, on the line's `expected_arrival`). The switch is
    weighed for the order stage's orders only; such a line is there for its supplier's
    minimum or load, so it stays with that supplier and says when it arrives, when stock
    runs out and what the backup would do ("arrives 2026-12-03, after stock runs out about
    2026-11-23: backup supplier Fast would deliver 2026-11-28")."""
    if backups is None or backups.height == 0:
        return orders
    raised = orders.filter(pl.col("order_qty") > 0).join(
        planned.filter(pl.col("order_qty") <= 0).select(SERIES), on=SERIES, how="semi"
    )
    late = switch_to_backup(raised, risk, backups, as_of, closures, review_days)
    if late.height == 0:
        return orders
    clause = pl.format(
        "arrives {}, after stock runs out about {}: backup supplier {} would deliver {}",
        pl.col("preferred_arrival"),
        pl.col("stockout_date"),
        pl.col("backup_supplier"),
        pl.col("backup_arrival"),
    )
    return (
        orders.join(late, on=SERIES, how="left", maintain_order="left")
        .with_columns(with_clause(clause, pl.col("order_qty")).alias("reason"))
        .select(orders.columns)
    )


def orders_to_show(orders: pl.DataFrame) -> pl.DataFrame:
    """The order sheet without `--all`: the lines to order, and the lines kept from ordering
    that a buyer must see (conflicting master data, an order deferred to meet a supplier's
    minimum value)."""
    return orders.filter(
        (pl.col("order_qty") > 0)
        | pl.col("reason").str.starts_with(MASTER_DATA_CONFLICT)
        | pl.col("reason").str.contains("; deferred ", literal=True)
    )
