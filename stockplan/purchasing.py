"""Purchase orders per supplier: an optional budget cap, totals, minimum order values.

Budget rule (documented for the buyer): order lines are funded in descending order of
    priority = revenue_at_risk / order_value
i.e. the sales at risk over the lead time protected per unit of money (a marginal
service-per-money rule, Silver-Pyke-Thomas 7.3 in spirit); ties go to the line missing
the largest share of its order-up-to level. The line that crosses the budget is cut to
the whole packs that still fit (kept only if that meets its MOQ); later lines are cut
to zero. Every cut line says so in `reason`.

A supplier whose total falls short of its minimum order value (suppliers.moq_value) is
flagged on its lines and in the `purchase_orders` summary; quantities are not inflated
to reach it: the buyer decides to add lines or wait.
"""

from __future__ import annotations

import polars as pl

PO_SUMMARY_COLUMNS = [
    "supplier",
    "lines",
    "order_value",
    "min_order_value",
    "meets_minimum",
    "order_date",
    "first_arrival",
    "last_arrival",
]


def apply_budget(orders: pl.DataFrame, risk: pl.DataFrame, budget: float | None) -> pl.DataFrame:
    """Cut order lines to `budget` by the priority rule above; None means no cap."""
    if budget is None:
        return orders
    pack = pl.when(pl.col("pack_size").fill_null(1) > 0).then(pl.col("pack_size").fill_null(1))
    ranked = (
        orders.join(
            risk.select("sku", "location", "revenue_at_risk"), on=["sku", "location"], how="left"
        )
        .with_columns(
            (pl.col("revenue_at_risk").fill_null(0) / pl.col("order_value"))
            .fill_nan(0)
            .alias("priority"),
            ((pl.col("order_up_to") - pl.col("inventory_position")) / pl.col("order_up_to"))
            .fill_nan(0)
            .alias("missing_share"),
        )
        .sort(
            ["priority", "missing_share", "sku", "location"],
            descending=[True, True, False, False],
            nulls_last=True,
        )
        .with_columns(pl.col("order_value").fill_null(0).cum_sum().alias("spent_through"))
    )
    left = budget - (pl.col("spent_through") - pl.col("order_value").fill_null(0))
    unit_cost = pl.col("unit_cost")
    packs_that_fit = (left / (unit_cost * pack.fill_null(1))).floor().clip(lower_bound=0)
    partial = packs_that_fit * pack.fill_null(1)
    partial = pl.when(partial >= pl.col("moq").fill_null(0)).then(partial).otherwise(0.0)
    fits = (pl.col("spent_through") <= budget + 1e-9) | unit_cost.is_null()
    new_qty = (
        pl.when(fits)
        .then(pl.col("order_qty"))
        .otherwise(
            pl.when(left > 0).then(pl.min_horizontal(partial, pl.col("order_qty"))).otherwise(0.0)
        )
    )
    return (
        ranked.with_columns(new_qty.alias("funded_qty"))
        .with_columns(
            pl.when(pl.col("funded_qty") < pl.col("order_qty"))
            .then(
                pl.concat_str(
                    pl.col("reason"),
                    pl.when(pl.col("funded_qty") > 0)
                    .then(pl.format("; cut from {} by the budget", pl.col("order_qty")))
                    .otherwise(pl.format("; not funded: budget {} spent", pl.lit(budget))),
                )
            )
            .otherwise(pl.col("reason"))
            .alias("reason"),
            pl.col("funded_qty").alias("order_qty"),
            (pl.col("funded_qty") * unit_cost).alias("order_value"),
        )
        .drop("revenue_at_risk", "priority", "missing_share", "spent_through", "funded_qty")
        .sort(["sku", "location"])
    )


def supplier_orders(orders: pl.DataFrame, suppliers: pl.DataFrame | None) -> pl.DataFrame:
    """One row per supplier with something to order: totals and the minimum-value check."""
    buying = orders.filter(pl.col("order_qty") > 0)
    minimum = (
        suppliers.select("supplier", pl.col("moq_value").alias("min_order_value"))
        if suppliers is not None and "moq_value" in suppliers.columns
        else pl.DataFrame(schema={"supplier": pl.String, "min_order_value": pl.Float64})
    )
    return (
        buying.group_by("supplier")
        .agg(
            pl.len().alias("lines"),
            pl.col("order_value").sum().alias("order_value"),
            pl.col("order_date").min().alias("order_date"),
            pl.col("expected_arrival").min().alias("first_arrival"),
            pl.col("expected_arrival").max().alias("last_arrival"),
        )
        .join(minimum, on="supplier", how="left")
        .with_columns(
            (pl.col("order_value") >= pl.col("min_order_value").fill_null(0)).alias("meets_minimum")
        )
        .select(PO_SUMMARY_COLUMNS)
        .sort("supplier", nulls_last=True)
    )


def flag_minimum_order_value(orders: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Say on each line of a supplier below its minimum order value by how much."""
    short = summary.filter(~pl.col("meets_minimum")).select(
        "supplier", pl.col("order_value").alias("supplier_total"), "min_order_value"
    )
    return (
        orders.join(short, on="supplier", how="left")
        .with_columns(
            pl.when(pl.col("min_order_value").is_not_null() & (pl.col("order_qty") > 0))
            .then(
                pl.concat_str(
                    pl.col("reason"),
                    pl.format(
                        "; supplier total {} is below its minimum order value {}",
                        pl.col("supplier_total").round(2),
                        pl.col("min_order_value").round(2),
                    ),
                )
            )
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
        .drop("supplier_total", "min_order_value")
    )
