"""Shelf life: perishable stock (stock.expiry_date), order-up-to capped by shelf_life_days.

Sell-by point of a lot = expiry_date - `shelf_life.sell_by_days`. Lots are sold first
expiry, first out (FEFO) at the forecast rate d. With lots i = 1..n in expiry order,
quantities q_i, cumulative C_i and demand until lot i's sell-by point D_i = d x days,
the units sold from lots 1..i are

    S_i = C_i + min(0, min_{k <= i} (D_k - C_k))

(each lot sells what demand reaches before its sell-by point, after the earlier lots), so
lot i sells S_i - S_{i-1} and the rest, q_i - (S_i - S_{i-1}), expires unsold. A lot past
its sell-by point has D = 0: all of it is unsellable. Unsellable units do not count as
available stock (on hand and inventory position are reduced by them).

Order-up-to cap for an item with shelf life T (usable U = T - sell_by_days) and lead time L:

    S <= d x (L + U)

the stock that covers demand over the lead time plus what the next delivery can sell
before its own sell-by point. With U <= 0 (a shelf life not longer than the sell-by days)
nothing received could be sold: the cap is 0 and nothing is ordered.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Transfers
from stockplan.demand import SERIES
from stockplan.i18n import counted_format
from stockplan.transfers import movable_rows, short_locations, transit_days

EXPIRY_COLUMNS = [
    "sku",
    "location",
    "expiry_date",
    "sell_by_date",
    "lot_qty",
    "expected_sold",
    "expiring_qty",
    "expiring_value",
    "days_to_sell_by",
]


def stock_lots(stock: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(stock with one row per sku x location (x snapshot date), its lots' or batches'
    on_hand and allocated summed; lots of the current snapshot: sku, location,
    expiry_date, lot_qty, or None without expiry dates). Without expiry dates or batches
    the stock is returned as it is."""
    lot_columns = [c for c in ("expiry_date", "batch") if c in stock.columns]
    if not lot_columns:
        return stock, None
    keys = [*SERIES, *(["date"] if "date" in stock.columns else [])]
    summed = [c for c in ("on_hand", "allocated") if c in stock.columns]
    others = [c for c in stock.columns if c not in (*keys, *summed, *lot_columns)]
    merged = stock.group_by(keys, maintain_order=True).agg(
        *[pl.col(c).sum() for c in summed], *[pl.col(c).drop_nulls().last() for c in others]
    )
    kept = [c for c in stock.columns if c not in lot_columns]
    if "expiry_date" not in stock.columns:
        return merged.select(kept), None
    current = stock
    if "date" in stock.columns and stock["date"].null_count() < stock.height:
        current = stock.filter(pl.col("date") == pl.col("date").max().over(SERIES))
    lots = (
        current.filter(pl.col("expiry_date").is_not_null() & (pl.col("on_hand") > 0))
        .group_by(*SERIES, "expiry_date")
        .agg(pl.col("on_hand").sum().cast(pl.Float64).alias("lot_qty"))
    )
    return merged.select(kept), lots


def expiring_stock(
    lots: pl.DataFrame,
    rates: pl.DataFrame,
    as_of: dt.date,
    sell_by_days: float,
    unit_cost: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per lot (EXPIRY_COLUMNS): what sells before its sell-by point at the forecast rate
    (`rates`: SERIES, forecast_per_day) and what expires unsold (FEFO, module docstring)."""
    sell_by = pl.col("expiry_date") - pl.duration(days=round(sell_by_days))
    frame = lot_sales(
        lots.join(rates.select(*SERIES, "forecast_per_day"), on=SERIES, how="left")
        .with_columns(sell_by.alias("sell_by_date"))
        .with_columns(
            (pl.col("sell_by_date") - pl.lit(as_of)).dt.total_days().alias("days_to_sell_by")
        )
        .sort([*SERIES, "expiry_date"]),
        SERIES,
    )
    if unit_cost is not None:
        frame = frame.join(unit_cost.select("sku", "unit_cost"), on="sku", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("unit_cost"))
    return frame.with_columns(
        (pl.col("expiring_qty") * pl.col("unit_cost")).alias("expiring_value")
    ).select(EXPIRY_COLUMNS)


def lot_sales(lots: pl.DataFrame, over: list[str]) -> pl.DataFrame:
    """`lots` (lot_qty, days_to_sell_by, forecast_per_day; each `over` group's lots in
    sell-by order) with expected_sold and expiring_qty: with C_i the cumulative lot_qty and
    D_i = forecast_per_day x days_to_sell_by (0 past the sell-by point), lot i sells
    S_i - S_{i-1}, S_i = C_i + min(0, min_{k <= i} (D_k - C_k)) (FEFO, module docstring)."""
    return (
        lots.with_columns(
            (
                pl.col("forecast_per_day").fill_null(0.0).clip(lower_bound=0.0)
                * pl.col("days_to_sell_by").clip(lower_bound=0).cast(pl.Float64)
            ).alias("reach"),
            pl.col("lot_qty").cum_sum().over(over).alias("cumulative"),
        )
        .with_columns(
            (
                pl.col("cumulative")
                + (pl.col("reach") - pl.col("cumulative"))
                .cum_min()
                .over(over)
                .clip(upper_bound=0.0)
            ).alias("sold_through")
        )
        .with_columns(
            (
                pl.col("sold_through") - pl.col("sold_through").shift(1).over(over).fill_null(0.0)
            ).alias("expected_sold")
        )
        .with_columns((pl.col("lot_qty") - pl.col("expected_sold")).alias("expiring_qty"))
        .drop("reach", "cumulative", "sold_through")
    )


EXPIRING_SHOWN = 0.005
"""The least expiring_qty of a lot in the expiry-risk list: half the last of the 2 decimals
the table shows (`io.writers.presentable`). The forecast rate is an estimate: at 1.99998 a
day for 2, the third of the lots of 5, 10 and 10 (README, sell_by_days 2) keeps 0.0001 of
its 10 units unsold, a row that would show 0 expiring and loses nothing."""


def expiry_risk(expiring: pl.DataFrame) -> pl.DataFrame:
    """The expiry-risk list: lots with units that will expire unsold (expiring_qty at least
    `EXPIRING_SHOWN`), soonest sell-by first."""
    return expiring.filter(pl.col("expiring_qty") >= EXPIRING_SHOWN).sort(
        ["sell_by_date", "sku", "location"]
    )


def unsellable(expiring: pl.DataFrame) -> pl.DataFrame:
    """SERIES, unsellable_qty: units on hand that will not sell before their sell-by point."""
    return expiring.group_by(SERIES).agg(pl.col("expiring_qty").sum().alias("unsellable_qty"))


def less_unsellable(frame: pl.DataFrame, unsellable_stock: pl.DataFrame | None) -> pl.DataFrame:
    """`frame` (on_hand, inventory_position) with the unsellable units taken out."""
    if unsellable_stock is None:
        return frame
    joined = frame.join(unsellable_stock, on=SERIES, how="left").with_columns(
        pl.col("unsellable_qty").fill_null(0.0)
    )
    return joined.with_columns(
        (pl.col("on_hand") - pl.col("unsellable_qty")).clip(lower_bound=0.0).alias("on_hand"),
        (pl.col("inventory_position") - pl.col("unsellable_qty")).alias("inventory_position"),
    ).drop("unsellable_qty")


def usable_shelf_days(sell_by_days: float) -> pl.Expr:
    """products.shelf_life_days less `sell_by_days`, at least 0: the days a unit sells
    from its receipt (null without a shelf life)."""
    return (pl.col("shelf_life_days").cast(pl.Float64) - sell_by_days).clip(lower_bound=0.0)


def shelf_life_caps(
    series: pl.DataFrame, products: pl.DataFrame | None, sell_by_days: float
) -> pl.DataFrame:
    """SERIES, order_up_to_cap = forecast_per_day x (lead_time_days + usable shelf life),
    cap_clause, for items with products.shelf_life_days."""
    if products is None or "shelf_life_days" not in products.columns:
        return pl.DataFrame(
            schema={
                "sku": pl.String,
                "location": pl.String,
                "order_up_to_cap": pl.Float64,
                "cap_clause": pl.String,
            }
        )
    usable = usable_shelf_days(sell_by_days)
    # a shelf life not longer than the sell-by days: nothing received could ever be sold
    unsellable = pl.col("usable_days") <= 0
    cap = (
        pl.when(unsellable)
        .then(0.0)
        .otherwise(pl.col("forecast_per_day") * (pl.col("lead_time_days") + pl.col("usable_days")))
    )
    short = lambda e: e.round(1).cast(pl.String).str.replace(r"\.0$", "")  # noqa: E731
    return (
        series.select(*SERIES, "forecast_per_day", "lead_time_days")
        .join(
            products.filter(pl.col("shelf_life_days").is_not_null()).select(
                "sku",
                usable.alias("usable_days"),
                pl.col("shelf_life_days").cast(pl.Float64).alias("shelf_life_days"),
            ),
            on="sku",
        )
        .select(
            *SERIES,
            cap.alias("order_up_to_cap"),
            pl.when(unsellable)
            .then(
                counted_format(
                    "order-up-to capped at 0 by shelf life: {life} days is not more than the "
                    "{sell_by} sell-by days, so nothing received could be sold",
                    life=short(pl.col("shelf_life_days")),
                    sell_by=pl.lit(f"{sell_by_days:g}"),
                )
            )
            .otherwise(
                pl.format(
                    "order-up-to capped at {} by shelf life: {} a day over lead time {} "
                    "+ {} sellable days",
                    short(cap),
                    pl.col("forecast_per_day").round(2).cast(pl.String),
                    short(pl.col("lead_time_days")),
                    short(pl.col("usable_days")),
                )
            )
            .alias("cap_clause"),
        )
    )


def expiring_offer(expiring: pl.DataFrame, receivers: pl.DataFrame) -> pl.DataFrame:
    """SERIES, offered_qty: the units that would expire unsold at a location and that the
    item's short locations could sell before the lot's sell-by point, offered to them as
    transfer stock. `expiring`: the lots before transfers (`expiring_stock`); `receivers`:
    SERIES, forecast_per_day, need (order_up_to - position), transit_days of the short
    locations. Lot i at location a (days_to_sell_by t_i, expiring e_i):

        offered_i = min(e_i, sum over short b != a of
                        min(need_b, max(d_b x (t_i - transit_b) - sold_b(t_i), 0)))

    with sold_b(t_i) the units of b's own lots with a sell-by point no later than lot i's
    that b sells (`expected_sold`: FEFO, they go first)."""
    lots = expiring.filter(pl.col("expiring_qty") > 0).select(
        *SERIES, "sell_by_date", "days_to_sell_by", "expiring_qty"
    )
    ahead = (
        lots.select("sku", "sell_by_date")
        .unique()
        .join(
            expiring.select(
                "sku",
                pl.col("location").alias("to_location"),
                pl.col("sell_by_date").alias("own_sell_by"),
                "expected_sold",
            ),
            on="sku",
        )
        .filter(pl.col("own_sell_by") <= pl.col("sell_by_date"))
        .group_by("sku", "sell_by_date", "to_location")
        .agg(pl.col("expected_sold").sum().alias("sold_ahead"))
    )
    in_time = (
        pl.col("forecast_per_day")
        * (pl.col("days_to_sell_by") - pl.col("transit_days")).clip(lower_bound=0)
        - pl.col("sold_ahead").fill_null(0.0)
    ).clip(lower_bound=0.0)
    return (
        lots.join(
            receivers.select(
                "sku",
                pl.col("location").alias("to_location"),
                "forecast_per_day",
                "need",
                "transit_days",
            ),
            on="sku",
        )
        .filter(pl.col("to_location") != pl.col("location"))
        .join(ahead, on=["sku", "sell_by_date", "to_location"], how="left")
        .group_by(*SERIES, "sell_by_date")
        .agg(
            pl.col("expiring_qty").first(),
            pl.min_horizontal("need", in_time).clip(lower_bound=0.0).sum().alias("can_sell"),
        )
        .group_by(SERIES)
        .agg(pl.min_horizontal("expiring_qty", "can_sell").sum().alias("offered_qty"))
        .filter(pl.col("offered_qty") > 0)
    )


def lots_after_transfers(
    lots: pl.DataFrame,
    transfers: pl.DataFrame,
    expiring: pl.DataFrame,
    offered: pl.DataFrame | None,
    undated: pl.DataFrame,
) -> pl.DataFrame:
    """`lots` (SERIES, expiry_date, lot_qty) after the planned transfers. A sender ships
    first the units it offered (`transfer_offer`: they would expire unsold there), from
    its lots' expiring units (`expiring`) earliest sell-by first; then its freshest stock:
    that without an expiry date (`undated`: SERIES, undated_qty), then its lots latest
    expiry first (it sells its earlier lots itself). The move landing soonest takes first;
    the receiver holds the units with their expiry dates. With a sender's stock laid in
    that order on one cumulative scale [H_i - h_i, H_i] and its moves on another
    [M_j - m_j, M_j], move j carries of part i the overlap
    min(H_i, M_j) - max(H_i - h_i, M_j - m_j), if > 0."""
    dated = "arrival_date" in transfers.columns
    moves = (
        transfers.select(
            "sku",
            pl.col("from_location").alias("location"),
            "to_location",
            pl.col("quantity").cast(pl.Float64).alias("moved"),
            *(["arrival_date"] if dated else []),
        )
        .sort(["sku", "location", *(["arrival_date"] if dated else []), "to_location"])
        .with_columns(pl.col("moved").cum_sum().over(SERIES).alias("moved_to"))
    )
    offer = (
        offered
        if offered is not None
        else pl.DataFrame(
            schema={"sku": pl.String, "location": pl.String, "offered_qty": pl.Float64}
        )
    )
    first = (
        lots.join(
            expiring.select(*SERIES, "expiry_date", "expiring_qty"),
            on=[*SERIES, "expiry_date"],
            how="left",
        )
        .join(offer, on=SERIES, how="left")
        .sort([*SERIES, "expiry_date"])
        .with_columns(pl.col("expiring_qty").fill_null(0.0).cum_sum().over(SERIES).alias("upto"))
        .with_columns(
            pl.min_horizontal(
                "expiring_qty",
                pl.col("offered_qty").fill_null(0.0) - (pl.col("upto") - pl.col("expiring_qty")),
            )
            .fill_null(0.0)
            .clip(lower_bound=0.0)
            .alias("first_qty")
        )
    )
    epoch = pl.col("expiry_date").cast(pl.Int64)
    parts = pl.concat(
        [
            first.select(
                *SERIES,
                "expiry_date",
                pl.col("first_qty").alias("part"),
                pl.lit(0).alias("rank"),
                epoch.alias("key"),
            ),
            undated.select(
                *SERIES,
                pl.lit(None, pl.Date).alias("expiry_date"),
                pl.col("undated_qty").alias("part"),
                pl.lit(1).alias("rank"),
                pl.lit(0, pl.Int64).alias("key"),
            ),
            first.select(
                *SERIES,
                "expiry_date",
                (pl.col("lot_qty") - pl.col("first_qty")).alias("part"),
                pl.lit(2).alias("rank"),
                (-epoch).alias("key"),
            ),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("part") > 0)
    carried = (
        parts.join(moves.select(SERIES).unique(), on=SERIES, how="semi")
        .sort([*SERIES, "rank", "key"])
        .with_columns(pl.col("part").cum_sum().over(SERIES).alias("held_to"))
        .join(moves, on=SERIES)
        .with_columns(
            (
                pl.min_horizontal("held_to", "moved_to")
                - pl.max_horizontal(
                    pl.col("held_to") - pl.col("part"), pl.col("moved_to") - pl.col("moved")
                )
            ).alias("carried")
        )
        .filter((pl.col("carried") > 0) & pl.col("expiry_date").is_not_null())
    )
    shipped = carried.select(*SERIES, "expiry_date", (-pl.col("carried")).alias("lot_qty"))
    received = carried.select(
        "sku",
        pl.col("to_location").alias("location"),
        "expiry_date",
        pl.col("carried").alias("lot_qty"),
    )
    return (
        pl.concat([lots.select(*SERIES, "expiry_date", "lot_qty"), shipped, received])
        .group_by(*SERIES, "expiry_date")
        .agg(pl.col("lot_qty").sum())
        .filter(pl.col("lot_qty") > 0)
        .sort([*SERIES, "expiry_date"])
    )


def undated_stock(rows: pl.DataFrame, lots: pl.DataFrame, expiring: pl.DataFrame) -> pl.DataFrame:
    """SERIES, undated_qty: the stock on hand without an expiry date, on_hand (`rows`, less
    its unsellable units, `expiring`) + unsellable - the lots' units, at least 0."""
    return (
        rows.select(*SERIES, "on_hand")
        .join(unsellable(expiring), on=SERIES, how="left")
        .join(lots.group_by(SERIES).agg(pl.col("lot_qty").sum()), on=SERIES, how="left")
        .select(
            *SERIES,
            (
                pl.col("on_hand")
                + pl.col("unsellable_qty").fill_null(0.0)
                - pl.col("lot_qty").fill_null(0.0)
            )
            .clip(lower_bound=0.0)
            .alias("undated_qty"),
        )
    )


def recounted_unsellable(
    frame: pl.DataFrame, before: pl.DataFrame | None, after: pl.DataFrame | None
) -> pl.DataFrame:
    """`frame` (on_hand, inventory_position less the unsellable units of `before`,
    `unsellable`) less those of `after` instead, on the rows where they differ:
    on_hand + before - after, inventory_position + before - after."""
    if before is None or after is None:
        return frame
    change = (
        before.join(after, on=SERIES, how="full", coalesce=True, suffix="_after")
        .select(
            *SERIES,
            (
                pl.col("unsellable_qty").fill_null(0.0)
                - pl.col("unsellable_qty_after").fill_null(0.0)
            ).alias("freed"),
        )
        .filter(pl.col("freed") != 0)
    )
    if change.height == 0:
        return frame
    joined = frame.join(change, on=SERIES, how="left", maintain_order="left")
    moved = pl.col("freed").is_not_null()
    return joined.with_columns(
        pl.when(moved).then(pl.col(c) + pl.col("freed")).otherwise(pl.col(c)).alias(c)
        for c in ("on_hand", "inventory_position")
    ).drop("freed")


def transfer_offer(
    rows: pl.DataFrame, expiring: pl.DataFrame | None, settings: Transfers
) -> pl.DataFrame | None:
    """SERIES, offered_qty (`expiring_offer`) towards the locations of `rows` (plan rows
    before transfers) that a transfer would fill (`transfers.short_locations` of
    `transfers.movable_rows`: their need and forecast_per_day; transit_days: the
    location's `transit_days_to`, else `transit_days`); None without lots, transfers or an
    offer. A location owing customer orders without forecast demand sells nothing of a
    lot in time, so it is offered none."""
    movable = movable_rows(rows, settings)
    if expiring is None or movable is None:
        return None
    receivers = (
        short_locations(movable)
        .select("sku", pl.col("to_location").alias("location"), "need")
        .join(movable.select(*SERIES, "forecast_per_day"), on=SERIES)
        .with_columns(transit_days(settings, "location").alias("transit_days"))
    )
    offer = expiring_offer(expiring, receivers)
    return offer if offer.height else None


def with_offered(rows: pl.DataFrame, offered: pl.DataFrame | None) -> pl.DataFrame:
    """`rows` with the offered units (`transfer_offer`) back in on_hand, the stock a
    transfer gives from (on_hand + offered_qty)."""
    if offered is None:
        return rows
    return (
        rows.join(offered, on=SERIES, how="left", maintain_order="left")
        .with_columns((pl.col("on_hand") + pl.col("offered_qty").fill_null(0.0)).alias("on_hand"))
        .drop("offered_qty")
    )


def with_expiring_clause(
    transfers: pl.DataFrame, offered: pl.DataFrame | None, expiring: pl.DataFrame | None
) -> pl.DataFrame:
    """`transfers` whose sender offered stock that would expire unsold there
    (`transfer_offer`) with a clause saying how much and by when (the sender's expiring
    units before any move, its earliest sell-by date among them)."""
    if offered is None or expiring is None or transfers.height == 0:
        return transfers
    from stockplan.reorder import fmt_number  # here: reorder imports scipy

    senders = (
        expiring.filter(pl.col("expiring_qty") > 0)
        .join(offered, on=SERIES, how="semi")
        .group_by(SERIES)
        .agg(pl.col("expiring_qty").sum(), pl.col("sell_by_date").min())
        .select(
            "sku",
            pl.col("location").alias("from_location"),
            pl.format(
                "{} would expire unsold at {} by {}",
                fmt_number(pl.col("expiring_qty")),
                "location",
                pl.col("sell_by_date").cast(pl.String),
            ).alias("clause"),
        )
    )
    return (
        transfers.join(senders, on=["sku", "from_location"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("clause").is_not_null())
            .then(pl.concat_str("reason", pl.lit("; "), "clause"))
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
        .drop("clause")
    )
