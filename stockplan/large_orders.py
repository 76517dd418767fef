"""Large one-off order lines: found by a documented rule, reported, covered or set aside.

An order line is one sku x location on one order (`order_id` when the sales table has
it, else one sku x location x day). A line is *large* when

    quantity > large_order_factor x the item's median line quantity

with the median over the item's positive lines in the `large_order_history_days` before
the line's planning date, and the item needing at least `large_order_min_lines` lines for
a median. With `policy.large_orders: cover` the lines stay in the demand the stock target
protects (and are only reported); with `make_to_order` they are taken out of it as
advance / make-to-order demand, to be bought against the customer's order, not held.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Policy
from stockplan.demand import SERIES, in_series_blocks, series_keys

LARGE_ORDER_COLUMNS = [
    "sku",
    "location",
    "date",
    "order_id",
    "customer",
    "quantity",
    "usual_line_qty",
    "times_usual",
    "treatment",
]


def order_lines(sales: pl.DataFrame) -> pl.DataFrame:
    """sku, location, date, order_id, customer, quantity: one row per order line."""
    order = pl.col("order_id").cast(pl.String) if "order_id" in sales.columns else pl.lit(None)
    customer = pl.col("customer").cast(pl.String) if "customer" in sales.columns else pl.lit(None)
    return (
        sales.select(
            *SERIES,
            "date",
            order.cast(pl.String).alias("order_id"),
            customer.cast(pl.String).alias("customer"),
            pl.col("quantity").cast(pl.Float64),
        )
        .group_by([*SERIES, "date", "order_id"])
        .agg(pl.col("customer").first(), pl.col("quantity").sum())
        .filter(pl.col("quantity") > 0)
    )


def _keyed_rows(sales: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """series_id, date, [order_id,] quantity per sales row: integer series keys and only
    the columns the rule needs (the text keys and customers of millions of lines are
    what made the scan costly; only the few large lines get them back)."""
    order = ["order_id"] if "order_id" in sales.columns else []
    return (
        sales.lazy()
        .select(
            *SERIES,
            "date",
            *(pl.col(name).cast(pl.String) for name in order),
            pl.col("quantity").cast(pl.Float64),
        )
        .join(keys.lazy(), on=SERIES)
        .select("series_id", "date", *order, "quantity")
        .collect()
    )


def _large_in(
    rows: pl.LazyFrame, as_of: dt.date, settings: Policy, first: dt.date, last: dt.date
) -> pl.LazyFrame:
    """series_id, date, [order_id,] quantity, usual_line_qty of the large lines in `rows`."""
    by = [name for name in ("series_id", "date", "order_id") if name in rows.collect_schema()]
    lines = rows.group_by(by).agg(pl.col("quantity").sum()).filter(pl.col("quantity") > 0)
    return (
        lines.filter((pl.col("date") >= first) & (pl.col("date") < last))
        .join(usual_line_quantity(lines, as_of, settings), on="series_id")
        .filter(pl.col("quantity") > settings.large_order_factor * pl.col("usual_line_qty"))
    )


def usual_line_quantity(lines: pl.LazyFrame, as_of: dt.date, settings: Policy) -> pl.LazyFrame:
    """series_id, usual_line_qty: the median positive line quantity before `as_of`
    over `large_order_history_days`, for items with at least `large_order_min_lines`."""
    start = as_of - dt.timedelta(days=settings.large_order_history_days)
    return (
        lines.filter((pl.col("date") < as_of) & (pl.col("date") >= start))
        .group_by("series_id")
        .agg(pl.col("quantity").median().alias("usual_line_qty"), pl.len().alias("lines"))
        .filter(pl.col("lines") >= settings.large_order_min_lines)
        .drop("lines")
    )


def large_order_lines(
    sales: pl.DataFrame,
    as_of: dt.date,
    settings: Policy,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> pl.DataFrame:
    """The large lines dated in [first, last) (default: all before as_of), judged against
    each item's usual line as of `as_of`; columns LARGE_ORDER_COLUMNS.

    The rule runs on integer series keys over date and quantity alone; the few lines
    found then get their sku, location, order_id and customer (the first of the line, as
    in `order_lines`) from the sales rows of those items and days."""
    first = first or dt.date.min
    last = last or as_of
    keys = series_keys(sales)
    rows = _keyed_rows(sales, keys)
    # the rule is per series: run on blocks of series to bound the group-by's memory
    found = (
        in_series_blocks(
            rows, keys.height, lambda block: _large_in(block, as_of, settings, first, last)
        )
        .join(keys, on="series_id")
        .drop("series_id")
    )
    line = [*SERIES, "date", "order_id"]
    if "order_id" not in found.columns:
        found = found.with_columns(pl.lit(None, pl.String).alias("order_id"))
    if "customer" in sales.columns and found.height:
        rows = sales.filter(
            pl.col("sku").is_in(found["sku"].unique().implode())
            & pl.col("date").is_in(found["date"].unique().implode())
        )
        customers = order_lines(rows).select(*line, "customer")
        found = found.join(customers, on=line, how="left", nulls_equal=True)
    else:
        found = found.with_columns(pl.lit(None, pl.String).alias("customer"))
    treatment = "make_to_order" if settings.large_orders == "make_to_order" else "covered"
    return (
        found.with_columns(
            (pl.col("quantity") / pl.col("usual_line_qty")).round(1).alias("times_usual"),
            pl.lit(treatment).alias("treatment"),
        )
        .select(LARGE_ORDER_COLUMNS)
        # lines of one item and day by order id, customer and quantity: a tie left in the
        # order of the joins above would change from run to run (hash seeds per process)
        .sort([*SERIES, "date", "order_id", "customer", "quantity"], nulls_last=True)
    )


def without_large_orders(sales: pl.DataFrame, large: pl.DataFrame) -> pl.DataFrame:
    """Sales minus the large lines' quantities (sku, location, date), as one negative
    line per large line so totals per day drop by exactly the set-aside units."""
    if large.height == 0:
        return sales
    removed = large.select(
        *SERIES,
        "date",
        (-pl.col("quantity")).cast(sales.schema["quantity"]).alias("quantity"),
    )
    return pl.concat([sales, removed], how="diagonal_relaxed")


def large_order_summary(large: pl.DataFrame) -> pl.DataFrame:
    """Per sku x location: large_lines, large_units, treatment."""
    return large.group_by(SERIES).agg(
        pl.len().alias("large_lines"),
        pl.col("quantity").sum().alias("large_units"),
        pl.col("treatment").first(),
    )


YEAR_DAYS = 365


def outsized_lines(
    lines: pl.DataFrame, sales: pl.DataFrame, as_of: dt.date, dated: bool = True
) -> pl.DataFrame:
    """The `lines` (sku, location, quantity[, date]) each larger than their item's sales in
    the year before `as_of` other than the line itself: "a single order larger than a year
    of normal demand", which no sane stock covers (almost always a typo or a one-off deal).
    With `dated`, only lines of that year; columns of `lines` plus `other_units`."""
    start = as_of - dt.timedelta(days=YEAR_DAYS)
    year = (
        sales.filter((pl.col("date") >= start) & (pl.col("date") < as_of))
        .group_by(SERIES)
        .agg(pl.col("quantity").sum().alias("year_units"))
    )
    recent = lines.filter(pl.col("date") >= start) if dated else lines
    own = pl.col("quantity") if dated else pl.lit(0.0)  # a sales line counts in its year
    tie = [*SERIES, *(["date"] if "date" in lines.columns else [])]
    return (
        recent.join(year, on=SERIES, how="left")
        .with_columns((pl.col("year_units").fill_null(0.0) - own).alias("other_units"))
        .filter(pl.col("quantity") > pl.col("other_units"))
        .drop("year_units")
        # the largest first; ties by item and date, so the note's example is the same each run
        .sort(["quantity", *tie], descending=[True] + [False] * len(tie), nulls_last=True)
    )


def outsized_note(outsized: pl.DataFrame, table: str, covered: bool) -> str | None:
    """A line for the buyer about `outsized_lines` of `table` (sales: large one-off lines the
    stock target covers under `policy.large_orders: cover`; customer_orders: open orders)."""
    if outsized.height == 0:
        return None
    top = outsized.row(0, named=True)
    when = f" on {top['date']}" if top.get("date") is not None else ""
    what = (
        "the stock target covers them (policy.large_orders: cover): check them, or set "
        "policy.large_orders: make_to_order"
        if covered
        else "the plan orders or moves stock for them: check them"
    )
    lines = f"{outsized.height} line{'s' if outsized.height > 1 else ''}"
    sales = "other sales" if covered else "sales"
    return (
        f"{table}: {lines} each larger than a year of the item's {sales} (largest: "
        f"{top['sku']} @ {top['location']}, {top['quantity']:,.0f}{when}, against "
        f"{top['other_units']:,.0f}); {what}"
    )
