"""Successors: a new SKU replacing an old one (succession table: old_sku, new_sku, date, share).

    new item's history += old item's sales x share     (every sale before as_of)

so the new item starts with the old one's level and pattern instead of a category guess.
From the switch date on the old item is never ordered; before it, its order-up-to is
capped at the forecast demand until the switch date (run the old stock down, do not buy
what will be left over). The inherited demand is the new item's only from the switch
date: before it, its forecast gives the old item's share back (`successor_forecast`), so
no demand is bought for by both items. Chains (A -> B -> C) pass history on with the
shares multiplied.
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


def own_demand(
    sales: pl.DataFrame, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame | None:
    """SERIES, own_per_day of every successor whose switch date is after as_of and that
    already sells under its own code: its own sales (before any inheritance) from its first
    sale to as_of over those days, own_per_day = sum / (as_of - first sale date). None
    without such a successor."""
    if succession is None or succession.height == 0:
        return None
    waiting = _succession(succession).filter(pl.col("date") > pl.lit(as_of))
    if waiting.height == 0:
        return None
    own = (
        sales.join(waiting.select(pl.col("new_sku").alias("sku")).unique(), on="sku", how="semi")
        .filter(pl.col("date") < pl.lit(as_of))
        .group_by(SERIES)
        .agg(pl.col("quantity").sum().alias("_sold"), pl.col("date").min().alias("_first"))
    )
    days = (pl.lit(as_of) - pl.col("_first")).dt.total_days().clip(lower_bound=1)
    return own.select(
        *SERIES,
        (pl.col("_sold").clip(lower_bound=0.0) / days).cast(pl.Float64).alias("own_per_day"),
    )


def successor_forecast(
    forecast: pl.DataFrame,
    succession: pl.DataFrame | None,
    as_of: dt.date,
    bucket_days: int,
    own: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The successor's forecast time-phased at the switch date.

    Its history holds the predecessor's sales x share (`inherited_sales`), so its forecast
    F is its own demand plus the inherited one. Before the switch date that inherited part
    is still the old item's (the old item is ordered for it until then, `succession_caps`),
    so each bucket b of the new item gives it back for its days before the switch:

        F'(b) = max(F(b) - sum over predecessors of share x F_old(b) x before(b), 0)

    before(b) = the share of b's counted days before the switch date (1 for a bucket that
    ends before it, 0 from the switch on); a bucket's counted days start at as_of, since
    a window from a mid-week as_of counts only the rest of its first bucket. F_old is the
    old item's forecast at the same location before promotions (each item's promotions
    lift its own forecast afterwards), which itself includes what it inherits: a chain
    A -> B -> C hands C's share of A back through B. lo and hi scale by F'/F. Switches on
    or before as_of change nothing.

    A successor that already sells under its own code keeps at least its own rate,
    F'(b) >= own_per_day x bucket_days (`own`, from `own_demand`): its own sales are a
    small part of the inherited history, so F - share x F_old, the difference of two
    forecasts of nearly the same history, loses them (5 a day of its own beside 10 a day
    inherited came out at 0.16 a day).
    """
    if succession is None or succession.height == 0:
        return forecast
    edges = _succession(succession).filter(pl.col("date") > pl.lit(as_of))
    if edges.height == 0:
        return forecast
    # the part of each bucket the plan counts starts at as_of (a window from a mid-week
    # as_of counts the rest of its first week): hand back the share of that part
    counted_from = pl.max_horizontal(pl.col("period_start"), pl.lit(as_of))
    counted_days = (
        pl.col("period_start") + pl.duration(days=bucket_days) - counted_from
    ).dt.total_days()
    before = (
        (pl.col("date") - counted_from).dt.total_days().cast(pl.Float64)
        / counted_days.clip(lower_bound=1).cast(pl.Float64)
    ).clip(0.0, 1.0)
    handed_back = (
        forecast.select(
            pl.col("sku").alias("old_sku"),
            "location",
            "period_start",
            pl.col("forecast").alias("old"),
        )
        .join(edges, on="old_sku")
        .group_by(pl.col("new_sku").alias("sku"), "location", "period_start")
        .agg((pl.col("share") * pl.col("old").clip(lower_bound=0.0) * before).sum().alias("_back"))
    )
    if own is not None and own.height:
        handed_back = handed_back.join(
            own.select(*SERIES, (pl.col("own_per_day") * bucket_days).alias("_own")),
            on=SERIES,
            how="left",
        )
    else:
        handed_back = handed_back.with_columns(pl.lit(0.0).alias("_own"))
    kept = (pl.col("forecast") - pl.col("_back").fill_null(0.0)).clip(lower_bound=0.0)
    mine = pl.when(pl.col("_back").is_not_null()).then(pl.col("_own").fill_null(0.0))
    own_forecast = pl.max_horizontal(kept, mine.otherwise(0.0))
    ratio = pl.when(pl.col("forecast") > 0).then(own_forecast / pl.col("forecast")).otherwise(1.0)
    return (
        forecast.join(handed_back, on=[*SERIES, "period_start"], how="left", maintain_order="left")
        .with_columns(
            *[(pl.col(c) * ratio).alias(c) for c in ("lo", "hi") if c in forecast.columns],
            own_forecast.alias("forecast"),
        )
        .select(forecast.columns)
    )
