"""Successors: a new SKU replacing an old one (succession table: old_sku, new_sku, date, share).

    new item's history += old item's sales x share     (every sale before as_of)

so the new item starts with the old one's level and pattern instead of a category guess.
From the switch date on the old item is never ordered; before it, its order-up-to is
capped at the forecast demand until the switch date (run the old stock down, do not buy
what will be left over). Chains (A -> B -> C) pass history on with the shares multiplied.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.demand import SERIES

MAX_CHAIN = 10


def _succession(succession: pl.DataFrame) -> pl.DataFrame:
    return succession.select(
        "old_sku",
        "new_sku",
        "date",
        (pl.col("share") if "share" in succession.columns else pl.lit(None, pl.Float64))
        .cast(pl.Float64)
        .fill_null(1.0)
        .alias("share"),
    )


def inheritance(succession: pl.DataFrame) -> pl.DataFrame:
    """old_sku, new_sku, share for every (transitive) successor: A -> B -> C gives A -> C
    with share_AB x share_BC."""
    direct = _succession(succession).select("old_sku", "new_sku", "share")
    paths, step = direct, direct
    for _ in range(MAX_CHAIN):
        step = step.join(
            direct.select(
                pl.col("old_sku").alias("new_sku"),
                pl.col("new_sku").alias("next"),
                pl.col("share").alias("next_share"),
            ),
            on="new_sku",
        ).select(
            "old_sku",
            pl.col("next").alias("new_sku"),
            (pl.col("share") * pl.col("next_share")).alias("share"),
        )
        step = step.filter(pl.col("old_sku") != pl.col("new_sku"))
        if step.height == 0:
            break
        paths = pl.concat([paths, step])
    return paths.group_by("old_sku", "new_sku").agg(pl.col("share").max())


def inherited_sales(sales: pl.DataFrame, succession: pl.DataFrame | None) -> pl.DataFrame:
    """Sales plus, for every successor, a copy of its predecessors' lines under the new
    sku with quantity (and revenue) x share. The old item's own lines are unchanged."""
    if succession is None or succession.height == 0:
        return sales
    paths = inheritance(succession)
    scaled = [c for c in ("quantity", "revenue") if c in sales.columns]
    copies = (
        sales.join(paths, left_on="sku", right_on="old_sku")
        .with_columns(
            pl.col("new_sku").alias("sku"),
            *[(pl.col(c) * pl.col("share")).cast(sales.schema[c]) for c in scaled],
        )
        .select(sales.columns)
    )
    return pl.concat([sales, copies], how="vertical")


def succession_info(succession: pl.DataFrame | None) -> pl.DataFrame:
    """sku, replaced_by, replaced_from (for an old item), inherits_from (for a new one:
    'OLD x share from DATE', several joined by ', ')."""
    schema = {
        "sku": pl.String,
        "replaced_by": pl.String,
        "replaced_from": pl.Date,
        "inherits_from": pl.String,
    }
    if succession is None or succession.height == 0:
        return pl.DataFrame(schema=schema)
    frame = _succession(succession)
    old = frame.group_by(pl.col("old_sku").alias("sku")).agg(
        pl.col("new_sku").sort_by("date").first().alias("replaced_by"),
        pl.col("date").min().alias("replaced_from"),
    )
    new = frame.group_by(pl.col("new_sku").alias("sku")).agg(
        pl.format(
            "{} x {} from {}",
            "old_sku",
            pl.col("share").round(3).cast(pl.String).str.replace(r"\.0$", ""),
            pl.col("date").cast(pl.String),
        )
        .sort()
        .str.join(", ")
        .alias("inherits_from")
    )
    return old.join(new, on="sku", how="full", coalesce=True).select(list(schema))


def succession_caps(
    series: pl.DataFrame,
    succession: pl.DataFrame | None,
    until_switch: pl.DataFrame,
    as_of: dt.date,
) -> pl.DataFrame:
    """SERIES, order_up_to_cap, cap_clause for every old item.

    From the switch date: cap 0, "no order: replaced by NEW from DATE". Before it:
    cap = forecast demand until the switch date (`until_switch`: SERIES,
    demand_until_switch, from `window_demand`).
    """
    info = succession_info(succession).filter(pl.col("replaced_by").is_not_null())
    frame = series.select(SERIES).join(info, on="sku").join(until_switch, on=SERIES, how="left")
    switched = pl.col("replaced_from") <= pl.lit(as_of)
    cap = pl.col("demand_until_switch").fill_null(0.0)
    return frame.select(
        *SERIES,
        pl.when(switched).then(0.0).otherwise(cap).alias("order_up_to_cap"),
        pl.when(switched)
        .then(pl.format("no order: replaced by {} from {}", "replaced_by", "replaced_from"))
        .otherwise(
            pl.format(
                "order-up-to capped at {}: demand until {} replaces it on {}",
                cap.round(1).cast(pl.String).str.replace(r"\.0$", ""),
                "replaced_by",
                "replaced_from",
            )
        )
        .alias("cap_clause"),
    )


def switch_windows(
    series: pl.DataFrame, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """SERIES, window_days: days from as_of to the switch date, for old items not yet switched."""
    info = succession_info(succession).filter(pl.col("replaced_from") > pl.lit(as_of))
    return (
        series.select(SERIES)
        .join(info, on="sku")
        .select(
            *SERIES,
            (pl.col("replaced_from") - pl.lit(as_of))
            .dt.total_days()
            .cast(pl.Float64)
            .alias("window_days"),
        )
    )
