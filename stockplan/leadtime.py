"""Lead times from purchase-order history, and the open purchase orders still to arrive.

A receipt's lead time is `received_date - order_date` in days. Which lead time a
sku x location plans with, first that exists:
  1. its own sku x supplier history (at least `min_history` receipts),
  2. its supplier's history over all SKUs (at least `min_history` receipts),
  3. products.lead_time_days, 4. suppliers.lead_time_days, 5. lead_time.default_days.
The spread sigma_L comes from the same history level, else suppliers.lead_time_std_days,
else lead_time.default_std_days. `lead_time_source` says which level was used.

The review period R of a series is its supplier's `suppliers.review_days` (a supplier
ordered every 14 or 28 days), else `policy.review_days`: `resolve_lead_times` carries the
supplier's (null where the cell is blank) as `review_days` when the suppliers table has the
column, and `review_days_of` fills it with the policy's.

Level 2 pools a supplier's receipts over all its skus (`supplier_lead_time_stats`, one
row per supplier); every other level reads the sku's own rows. A plan partitioned by sku
computes the pooled rows once over every purchase order and resolves each partition's
series from its own rows with them (`pooled=`): the same numbers as over all rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import LeadTime, SupplierTiers, TierThresholds
from stockplan.demand import SERIES


def whole_days(lead: pl.Expr) -> pl.Expr:
    """A lead time as whole days (Int64), rounded half up: 41.5 is 42, 42.5 is 43. Every date
    counted from a lead time (arrival, order-by, open purchase orders, the supplier
    projection) rounds it this one way, so L plus the whole days a closure adds rounds to
    round(L) plus them and the expected arrival is the calendar's (round half to even made
    41.5 42 and 42.5 42, a day early). Not dates: the lead times drawn for lead-time demand
    and the replay round to the nearest day as numpy does (a tie to the even day, which
    only a mean of x.5 days without spread meets)."""
    return (lead + 0.5).floor().cast(pl.Int64)


def _lead_time_days() -> pl.Expr:
    return (pl.col("received_date") - pl.col("order_date")).dt.total_days().cast(pl.Float64)


def receipts(purchase_orders: pl.DataFrame | None) -> pl.DataFrame:
    """Received purchase-order lines with their lead time in days."""
    schema = {"sku": pl.String, "supplier": pl.String, "lead_time": pl.Float64}
    if purchase_orders is None or "received_date" not in purchase_orders.columns:
        return pl.DataFrame(schema=schema)
    supplier = (
        pl.col("supplier") if "supplier" in purchase_orders.columns else pl.lit(None, pl.String)
    )
    return purchase_orders.filter(pl.col("received_date").is_not_null()).select(
        "sku", supplier.alias("supplier"), _lead_time_days().alias("lead_time")
    )


def with_item_supplier(
    purchase_orders: pl.DataFrame | None, products: pl.DataFrame | None
) -> pl.DataFrame | None:
    """Purchase-order lines with a supplier: a line without one (no supplier column, or a
    blank cell) is counted for its item's supplier, `products.supplier` (its lead time,
    its supplier's scorecard); one whose item names none either stays without."""
    if purchase_orders is None or products is None or "supplier" not in products.columns:
        return purchase_orders
    own = "supplier" in purchase_orders.columns
    if own and purchase_orders["supplier"].null_count() == 0:
        return purchase_orders
    item = (
        products.select("sku", pl.col("supplier").cast(pl.String).alias("_item_supplier"))
        .drop_nulls()
        .unique("sku", keep="first", maintain_order=True)
    )
    line = pl.col("supplier").cast(pl.String) if own else pl.lit(None, pl.String)
    return (
        purchase_orders.join(item, on="sku", how="left", maintain_order="left")
        .with_columns(pl.coalesce(line, "_item_supplier").alias("supplier"))
        .drop("_item_supplier")
    )


SUPPLIER_TIERS = ("core", "strategic", "standard", "unrated")
"""Canonical supplier tiers, best first (核心 / 战略 / 普通 / 未评级)."""


def supplier_tier(settings: SupplierTiers) -> pl.Expr:
    """Tier from receipts, on_time_rate, quantity_fill_rate and quality_rate.

    core: every core threshold met; strategic: every strategic one; else standard. A rate
    the history cannot measure (null: no expected or rejected quantities) is not held
    against the supplier. Fewer than `min_receipts` receipts: unrated.
    """

    def meets(thresholds: TierThresholds) -> pl.Expr:
        return pl.all_horizontal(
            pl.col(rate).is_null() | (pl.col(rate) >= getattr(thresholds, rate) - 1e-12)
            for rate in ("on_time_rate", "quantity_fill_rate", "quality_rate")
        )

    return (
        pl.when(pl.col("receipts") < settings.min_receipts)
        .then(pl.lit("unrated"))
        .when(meets(settings.core))
        .then(pl.lit("core"))
        .when(meets(settings.strategic))
        .then(pl.lit("strategic"))
        .otherwise(pl.lit("standard"))
        .alias("supplier_tier")
    )


def supplier_scorecard(
    purchase_orders: pl.DataFrame | None,
    tiers: SupplierTiers | None = None,
    products: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per supplier over received PO lines: receipts, mean / std lead time, on-time rate
    (received <= expected), fill (mean of per-line received / ordered, capped at 1),
    quantity_fill_rate = sum min(received, ordered) / sum ordered, quality_rate = 1 -
    (rejected + returned) / received units (only with those columns), supplier_tier.
    A line without a supplier counts for its item's (`with_item_supplier`, `products`)."""
    settings = tiers or SupplierTiers()
    purchase_orders = with_item_supplier(purchase_orders, products)
    columns = {
        "supplier": pl.String,
        "receipts": pl.UInt32,
        "lead_time_mean_days": pl.Float64,
        "lead_time_std_days": pl.Float64,
        "on_time_rate": pl.Float64,
        "fill_rate": pl.Float64,
        "quantity_fill_rate": pl.Float64,
        "quality_rate": pl.Float64,
        "supplier_tier": pl.String,
    }
    if (
        purchase_orders is None
        or "supplier" not in purchase_orders.columns
        or "received_date" not in purchase_orders.columns
    ):
        return pl.DataFrame(schema=columns)
    # a line neither it nor its item names a supplier for scores no supplier
    received = purchase_orders.filter(
        pl.col("received_date").is_not_null() & pl.col("supplier").is_not_null()
    )
    on_time = (
        (pl.col("received_date") <= pl.col("expected_date")).cast(pl.Float64)
        if "expected_date" in received.columns
        else pl.lit(None, pl.Float64)
    )
    arrived = (
        pl.col("received_quantity").fill_null(pl.col("quantity"))
        if "received_quantity" in received.columns
        else pl.col("quantity")
    ).cast(pl.Float64)
    fill = arrived / pl.col("quantity")
    bad_columns = [c for c in ("rejected_quantity", "returned_quantity") if c in received.columns]
    if bad_columns:
        bad = pl.sum_horizontal(pl.col(c).fill_null(0.0) for c in bad_columns)
        quality = (
            pl.when(arrived.sum() > 0)
            .then((1.0 - bad.sum() / arrived.sum()).clip(0.0, 1.0))
            .otherwise(None)
        )
    else:
        quality = pl.lit(None, pl.Float64)
    ordered = pl.col("quantity").cast(pl.Float64)
    return (
        received.group_by("supplier")
        .agg(
            pl.len().alias("receipts"),
            _lead_time_days().mean().alias("lead_time_mean_days"),
            _lead_time_days().std(ddof=1).alias("lead_time_std_days"),
            on_time.mean().alias("on_time_rate"),
            fill.filter(pl.col("quantity") > 0).clip(upper_bound=1.0).mean().alias("fill_rate"),
            pl.when(ordered.sum() > 0)
            .then(pl.min_horizontal(arrived, ordered).sum() / ordered.sum())
            .otherwise(None)
            .alias("quantity_fill_rate"),
            quality.alias("quality_rate"),
        )
        .with_columns(supplier_tier(settings))
        .sort("supplier")
        .cast(columns)
    )


def with_supplier_tier(frame: pl.DataFrame, scorecard: pl.DataFrame) -> pl.DataFrame:
    """`frame` (with a supplier column) plus the supplier's `supplier_tier` (unrated when
    the supplier has no scorecard row)."""
    tiers = scorecard.select("supplier", "supplier_tier")
    return frame.join(tiers, on="supplier", how="left", maintain_order="left").with_columns(
        pl.col("supplier_tier").fill_null("unrated")
    )


def _history_stats(history: pl.DataFrame, keys: list[str], prefix: str) -> pl.DataFrame:
    """Receipts with a supplier per `keys`: {prefix}_n, _mean and _std (ddof 1) of lead_time."""
    return (
        history.drop_nulls("supplier")
        .group_by(keys)
        .agg(
            pl.len().alias(f"{prefix}_n"),
            pl.col("lead_time").mean().alias(f"{prefix}_mean"),
            pl.col("lead_time").std(ddof=1).alias(f"{prefix}_std"),
        )
    )


def supplier_lead_time_stats(
    purchase_orders: pl.DataFrame | None, products: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per supplier over the received lines of all its skus: supp_n receipts, supp_mean
    and supp_std (ddof 1) of the lead time in days; one row per supplier (level 2). A line
    without a supplier counts for its item's (`with_item_supplier`, `products`)."""
    return _history_stats(
        receipts(with_item_supplier(purchase_orders, products)), ["supplier"], "supp"
    )


def resolve_lead_times(
    series: pl.DataFrame,
    products: pl.DataFrame | None,
    suppliers: pl.DataFrame | None,
    purchase_orders: pl.DataFrame | None,
    settings: LeadTime,
    pooled: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """sku, location -> supplier, lead_time_days, lead_time_std_days, lead_time_source, and
    review_days (the supplier's own R, null where blank) when `suppliers` has the column.
    A purchase-order line without a supplier counts for its item's, `products.supplier`
    (`with_item_supplier`).

    `pooled`: `supplier_lead_time_stats` over every purchase order, when `purchase_orders`
    hold only the rows of these series' skus (a partition); else computed from them."""
    history = receipts(with_item_supplier(purchase_orders, products))
    return _resolved(series, products, suppliers, history, settings, pooled)


def _resolved(
    series: pl.DataFrame,
    products: pl.DataFrame | None,
    suppliers: pl.DataFrame | None,
    history: pl.DataFrame,
    settings: LeadTime,
    pooled: pl.DataFrame | None,
) -> pl.DataFrame:
    """`resolve_lead_times` from the receipts `history` (`receipts`), `products` giving
    each sku's supplier and own lead time."""
    frame = series.select(SERIES).unique()
    # supplier: the product master's, else the one most often bought from
    usual_supplier = (
        history.drop_nulls("supplier")
        .group_by(["sku", "supplier"])
        .len()
        .sort(["sku", "len", "supplier"], descending=[False, True, False])
        .group_by("sku", maintain_order=True)
        .first()
        .select("sku", pl.col("supplier").alias("usual_supplier"))
    )
    frame = frame.join(usual_supplier, on="sku", how="left")
    master_cols = [
        c for c in ("supplier", "lead_time_days") if products is not None and c in products.columns
    ]
    if master_cols:
        frame = frame.join(
            products.select("sku", *[pl.col(c).alias(f"product_{c}") for c in master_cols]),
            on="sku",
            how="left",
        )
    for column in ("product_supplier", "product_lead_time_days"):
        if column not in frame.columns:
            frame = frame.with_columns(
                pl.lit(None, pl.Float64 if "lead" in column else pl.String).alias(column)
            )
    frame = frame.with_columns(pl.coalesce("product_supplier", "usual_supplier").alias("supplier"))

    item = _history_stats(history, ["sku", "supplier"], "item")
    frame = frame.join(item, on=["sku", "supplier"], how="left")
    if pooled is None:
        pooled = _history_stats(history, ["supplier"], "supp")
    frame = frame.join(pooled, on="supplier", how="left")
    own_review = suppliers is not None and "review_days" in suppliers.columns
    if suppliers is not None:
        cols = [
            c
            for c in ("lead_time_days", "lead_time_std_days", "review_days")
            if c in suppliers.columns
        ]
        frame = frame.join(
            suppliers.select("supplier", *[pl.col(c).alias(f"master_{c}") for c in cols]),
            on="supplier",
            how="left",
        )
    for column in ("master_lead_time_days", "master_lead_time_std_days"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(column))

    enough_item = pl.col("item_n").fill_null(0) >= settings.min_history
    enough_supp = pl.col("supp_n").fill_null(0) >= settings.min_history
    return frame.select(
        *SERIES,
        "supplier",
        pl.when(enough_item)
        .then(pl.col("item_mean"))
        .when(enough_supp)
        .then(pl.col("supp_mean"))
        .otherwise(
            pl.coalesce(
                "product_lead_time_days", "master_lead_time_days", pl.lit(settings.default_days)
            )
        )
        .alias("lead_time_days"),
        pl.when(enough_item)
        .then(pl.col("item_std"))
        .when(enough_supp)
        .then(pl.col("supp_std"))
        .otherwise(pl.coalesce("master_lead_time_std_days", pl.lit(settings.default_std_days)))
        .fill_null(settings.default_std_days)
        .alias("lead_time_std_days"),
        pl.when(enough_item)
        .then(pl.lit("sku history"))
        .when(enough_supp)
        .then(pl.lit("supplier history"))
        .when(pl.col("product_lead_time_days").is_not_null())
        .then(pl.lit("products"))
        .when(pl.col("master_lead_time_days").is_not_null())
        .then(pl.lit("suppliers"))
        .otherwise(pl.lit("default"))
        .alias("lead_time_source"),
        *(
            [pl.col("master_review_days").cast(pl.Float64).alias("review_days")]
            if own_review
            else []
        ),
    )


def review_days_of(frame: pl.DataFrame, review_days: float) -> pl.Expr:
    """R per row of `frame` (lead times, planning rows): its supplier's `review_days`
    (`resolve_lead_times`), else `review_days` (policy.review_days)."""
    if "review_days" not in frame.columns:
        return pl.lit(float(review_days))
    return pl.col("review_days").fill_null(float(review_days))


def backup_lead_times(
    series: pl.DataFrame,
    products: pl.DataFrame | None,
    suppliers: pl.DataFrame | None,
    purchase_orders: pl.DataFrame | None,
    settings: LeadTime,
    pooled: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Lead times from `products.backup_supplier`, resolved like the preferred supplier's
    (sku x supplier history, supplier history, suppliers master, default), with the
    backup's own review_days where the suppliers table gives it; empty when no product
    names a backup. `pooled`: as in `resolve_lead_times`."""
    empty = pl.DataFrame(
        schema={
            "sku": pl.String,
            "location": pl.String,
            "supplier": pl.String,
            "lead_time_days": pl.Float64,
            "lead_time_std_days": pl.Float64,
            "lead_time_source": pl.String,
        }
    )
    if products is None or "backup_supplier" not in products.columns:
        return empty
    backups = products.filter(pl.col("backup_supplier").is_not_null()).select(
        "sku", pl.col("backup_supplier").alias("supplier")
    )
    with_backup = series.join(backups, on="sku", how="semi")
    if with_backup.height == 0:
        return empty
    # the lines without a supplier count for the item's own supplier, not its backup
    history = receipts(with_item_supplier(purchase_orders, products))
    return _resolved(with_backup, backups, suppliers, history, settings, pooled)


def open_receipts(
    purchase_orders: pl.DataFrame | None,
    lead_times: pl.DataFrame,
    as_of: dt.date,
    closures: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Open PO lines: sku, location, po_id, quantity outstanding, arrival (never before as_of).

    A line is open while it has no received_date; what is outstanding is quantity minus
    any received_quantity. A line with no expected_date is due as a new order placed on
    its order_date would be: the day after the L-th open day from order_date on its
    supplier's calendar (`closures`, `calendar.supplier_closures`; the line's supplier, else
    the series'), L the series' lead time in open days; order_date + L without `closures`.
    """
    from stockplan.calendar import placed_arrivals  # calendar imports this module

    schema = {
        "sku": pl.String,
        "location": pl.String,
        "po_id": pl.String,
        "quantity": pl.Float64,
        "arrival": pl.Date,
    }
    if purchase_orders is None:
        return pl.DataFrame(schema=schema)
    lines = purchase_orders
    if "received_date" in lines.columns:
        lines = lines.filter(pl.col("received_date").is_null())
    received = (
        pl.col("received_quantity").fill_null(0.0)
        if "received_quantity" in lines.columns
        else pl.lit(0.0)
    )
    expected = (
        pl.col("expected_date") if "expected_date" in lines.columns else pl.lit(None, pl.Date)
    )
    po_id = pl.col("po_id") if "po_id" in lines.columns else pl.lit(None, pl.String)
    own_supplier = (
        pl.col("supplier").cast(pl.String)
        if "supplier" in lines.columns
        else pl.lit(None, pl.String)
    )
    series_supplier = (
        pl.col("_series_supplier") if "supplier" in lead_times.columns else pl.lit(None, pl.String)
    )
    known = lead_times.select(
        *SERIES,
        "lead_time_days",
        *(
            [pl.col("supplier").alias("_series_supplier")]
            if "supplier" in lead_times.columns
            else []
        ),
    )
    open_lines = (
        lines.join(known, on=SERIES, how="left")
        .select(
            *SERIES,
            po_id.alias("po_id"),
            (pl.col("quantity") - received).clip(lower_bound=0.0).alias("quantity"),
            expected.alias("_expected"),
            pl.col("order_date"),
            pl.coalesce(own_supplier, series_supplier).alias("supplier"),
            pl.col("lead_time_days").fill_null(0.0).alias("_lead"),
        )
        .filter(pl.col("quantity") > 0)
        .with_row_index("_line")
    )
    undated = open_lines.filter(pl.col("_expected").is_null()).select(
        "_line", "supplier", "order_date", "_lead"
    )
    due = placed_arrivals(
        undated, closures if closures is not None else pl.DataFrame(), "order_date", "_lead", "_due"
    ).select("_line", "_due")
    return (
        open_lines.join(due, on="_line", how="left")
        .sort("_line")
        .select(
            *SERIES,
            "po_id",
            "quantity",
            pl.coalesce("_expected", "_due").clip(lower_bound=as_of).alias("arrival"),
        )
    )
