"""Supplier calendars: the days a supplier is closed, and lead times counted through them.

A supplier's lead time L counts the days it is open. Ordered on day d, goods arrive on

    arrival(d) = the day after the L-th open day on or after d

so a closure inside the lead time pushes the arrival back by its closed days, and with
no closure arrival(d) = d + L as before. A fractional L (from purchase-order history)
counts as whole days rounded half up (`leadtime.whole_days`), once: the order's
expected_arrival, its order_by date and the calendar all take the same whole L. The last
day an order can be placed and still arrive by `need_by` is the latest open day d with
arrival(d) <= need_by:

    order_by(need_by) = the (c(need_by) - L)-th open day,  c(t) = open days before t.

An order that must cover a closure covers it: this order protects until the next one
(placed R days later) arrives, arrival(as_of + R), so the protection window is
arrival(as_of + R) - as_of = L' + R + extra, with L' = arrival(as_of) - as_of the lead
time in calendar days and extra the closed days that delay the next order beyond this
one's (for instance a 春节 shutdown that starts between the two).

Closed days come from the `closures` input table (supplier, from, to, note; a row with
no supplier closes every supplier) and from the default Chinese public-holiday set
below (`calendars.public_holidays: cn`, the default; `none` turns it off).
All vectorised: one row per supplier and day over the planning span, joined by ordinal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from stockplan.demand import SERIES
from stockplan.i18n import counted_format
from stockplan.leadtime import review_days_of, whole_days
from stockplan.reorder import fmt_number

EVERY_SUPPLIER = ""
"""The supplier key of closures that apply to every supplier (public holidays)."""

_D = dt.date
CN_PUBLIC_HOLIDAYS: list[tuple[str, dt.date, dt.date]] = [
    # 2025 and 2026: the State Council General Office's notices on the holiday schedule
    # (国务院办公厅关于2025年 / 2026年部分节假日安排的通知), the days off as announced.
    ("元旦", _D(2025, 1, 1), _D(2025, 1, 1)),
    ("春节", _D(2025, 1, 28), _D(2025, 2, 4)),
    ("清明节", _D(2025, 4, 4), _D(2025, 4, 6)),
    ("劳动节", _D(2025, 5, 1), _D(2025, 5, 5)),
    ("端午节", _D(2025, 5, 31), _D(2025, 6, 2)),
    ("国庆节、中秋节", _D(2025, 10, 1), _D(2025, 10, 8)),
    ("元旦", _D(2026, 1, 1), _D(2026, 1, 3)),
    ("春节", _D(2026, 2, 15), _D(2026, 2, 23)),
    ("清明节", _D(2026, 4, 4), _D(2026, 4, 6)),
    ("劳动节", _D(2026, 5, 1), _D(2026, 5, 5)),
    ("端午节", _D(2026, 6, 19), _D(2026, 6, 21)),
    ("中秋节", _D(2026, 9, 25), _D(2026, 9, 27)),
    ("国庆节", _D(2026, 10, 1), _D(2026, 10, 7)),
    # 2027 and 2028: not announced yet; projected by the 2025 rule (春节 eight days from
    # New Year's Eve, 除夕, through the seventh day of the lunar year, 初七: 2027-02-05 to
    # 02-12, 2028-01-25 to 02-01; 劳动节 1-5 May; 国庆节 1-7 October).
    # Replace them with the notice when it is published (closures table or a new release).
    ("元旦", _D(2027, 1, 1), _D(2027, 1, 1)),
    ("春节", _D(2027, 2, 5), _D(2027, 2, 12)),
    ("劳动节", _D(2027, 5, 1), _D(2027, 5, 5)),
    ("国庆节", _D(2027, 10, 1), _D(2027, 10, 7)),
    ("元旦", _D(2028, 1, 1), _D(2028, 1, 1)),
    ("春节", _D(2028, 1, 25), _D(2028, 2, 1)),
    ("劳动节", _D(2028, 5, 1), _D(2028, 5, 5)),
    ("国庆节", _D(2028, 10, 1), _D(2028, 10, 7)),
]
"""Default closures of every supplier in mainland China (name, first day, last day)."""

CLOSURE_SCHEMA = {
    "supplier": pl.String,
    "from": pl.Date,
    "to": pl.Date,
    "note": pl.String,
    "except": pl.List(pl.String),
}
"""A closure row: a blank supplier closes every supplier but those in `except`."""
SPAN_BEFORE_DAYS = 400
"""Days of calendar kept before as_of (order-by dates of already late orders)."""


def public_holidays(kind: str, exempt: Sequence[str] = ()) -> pl.DataFrame:
    """The default public-holiday closures for every supplier but `exempt` ("cn"), or none
    ("none")."""
    rows = CN_PUBLIC_HOLIDAYS if kind == "cn" else []
    return pl.DataFrame(
        {
            "supplier": [EVERY_SUPPLIER] * len(rows),
            "from": [r[1] for r in rows],
            "to": [r[2] for r in rows],
            "note": [r[0] for r in rows],
            "except": [list(exempt)] * len(rows),
        },
        schema=CLOSURE_SCHEMA,
    )


def supplier_closures(
    closures: pl.DataFrame | None, holidays: str, exempt: Sequence[str] = ()
) -> pl.DataFrame:
    """The closures table (a blank supplier: every supplier) with the public holidays,
    which do not close the `exempt` suppliers (suppliers abroad)."""
    own = (
        pl.DataFrame(schema=CLOSURE_SCHEMA)
        if closures is None
        else closures.select(
            (
                pl.col("supplier").cast(pl.String)
                if "supplier" in closures.columns
                else pl.lit(None, pl.String)
            )
            .fill_null(EVERY_SUPPLIER)
            .alias("supplier"),
            pl.col("from").cast(pl.Date),
            pl.col("to").cast(pl.Date),
            (
                pl.col("note").cast(pl.String)
                if "note" in closures.columns
                else pl.lit(None, pl.String)
            )
            .fill_null("closed")
            .alias("note"),
            pl.lit([], pl.List(pl.String)).alias("except"),
        )
    )
    return pl.concat([own, public_holidays(holidays, exempt)])


def open_days(
    closures: pl.DataFrame, suppliers: pl.Series, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """One row per supplier and day in [start, end]: open, note (why closed),
    before = open days from `start` up to the day (excluded), ordinal = index of an open day.

    The supplier key "" (EVERY_SUPPLIER) is the calendar of an order without a supplier.
    """
    keys = (
        pl.concat([suppliers.cast(pl.String).fill_null(EVERY_SUPPLIER), pl.Series([""])])
        .unique()
        .to_frame("supplier")
    )
    days = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    closed_days = (
        closures.filter(pl.col("to") >= pl.col("from"))
        .with_columns(pl.date_ranges("from", "to").alias("day"))
        .explode("day")
    )
    own = closed_days.filter(pl.col("supplier") != EVERY_SUPPLIER).select("supplier", "day", "note")
    everyone = (
        keys.join(
            closed_days.filter(pl.col("supplier") == EVERY_SUPPLIER).select(
                "day", "note", "except"
            ),
            how="cross",
        )
        .filter(~pl.col("except").list.contains(pl.col("supplier")))
        .select("supplier", "day", "note")
    )
    closed = (
        pl.concat([own, everyone])
        .group_by("supplier", "day")
        .agg(pl.col("note").unique().sort().str.join("、"))
    )
    return (
        keys.join(days, how="cross")
        .join(closed, on=["supplier", "day"], how="left")
        .with_columns(pl.col("note").is_null().alias("open"))
        .sort("supplier", "day")
        .with_columns(
            (
                pl.col("open").cast(pl.Int64).cum_sum().over("supplier")
                - pl.col("open").cast(pl.Int64)
            ).alias("before")
        )
        .with_columns(
            pl.when(pl.col("open")).then(pl.col("before")).otherwise(None).alias("ordinal")
        )
    )


def _supplier_key() -> pl.Expr:
    return pl.col("supplier").cast(pl.String).fill_null(EVERY_SUPPLIER)


def arrival_dates(
    frame: pl.DataFrame, calendar: pl.DataFrame, order_date: str, lead: str, name: str
) -> pl.DataFrame:
    """`frame` with `name` = arrival of an order placed on column `order_date` with a lead
    time of column `lead` open days (rounded half up, `leadtime.whole_days`). An arrival
    past the calendar's last day (a closure that runs beyond it) counts the open days still
    owed from that day on, every day after it open; an order placed past the calendar:
    order date + lead days."""
    days = whole_days(pl.col(lead)).clip(lower_bound=0)
    index = calendar.select("supplier", "day", "before")
    opened = calendar.filter("open").select(
        "supplier", "ordinal", (pl.col("day") + pl.duration(days=1)).alias(name)
    )
    ends = calendar.group_by("supplier").agg(
        pl.col("day").max().alias("_end"), pl.col("ordinal").max().fill_null(-1).alias("_top")
    )
    # the day after the end holds open day _top + 1: day end + k holds _top + k
    owed = (pl.col("_target") - pl.col("_top")).clip(lower_bound=1)
    beyond = pl.col("_end") + pl.duration(days=owed + 1)
    return (
        frame.with_columns(_supplier_key().alias("_key"), days.alias("_lead"))
        .join(index, left_on=["_key", order_date], right_on=["supplier", "day"], how="left")
        .with_columns((pl.col("before") + pl.col("_lead") - 1).alias("_target"))
        .join(opened, left_on=["_key", "_target"], right_on=["supplier", "ordinal"], how="left")
        .join(ends, left_on="_key", right_on="supplier", how="left")
        .with_columns(
            pl.when(pl.col("_lead") <= 0)
            .then(pl.col(order_date))
            .when(pl.col(name).is_null() & pl.col("before").is_not_null())
            .then(beyond)
            .otherwise(pl.coalesce(name, pl.col(order_date) + pl.duration(days=pl.col("_lead"))))
            .alias(name)
        )
        .drop("_key", "_lead", "before", "_target", "_end", "_top")
    )


def placed_arrivals(
    frame: pl.DataFrame, closures: pl.DataFrame, order_date: str, lead: str, name: str
) -> pl.DataFrame:
    """`frame` with `name` = arrival of orders already placed on column `order_date` (open
    purchase orders without an expected date) with a lead time of column `lead` open days,
    on the calendar of column `supplier` (`arrival_dates`, the rule new orders follow: the
    day after the L-th open day from the order date). The calendar spans the order dates."""
    placed = frame[order_date].drop_nulls()
    if closures.height == 0 or placed.len() == 0:
        days = whole_days(pl.col(lead)).clip(lower_bound=0)
        return frame.with_columns((pl.col(order_date) + pl.duration(days=days)).alias(name))
    longest = float(frame[lead].max() or 0.0)
    start, last = placed.min(), placed.max()
    assert isinstance(start, dt.date) and isinstance(last, dt.date)
    end = last + dt.timedelta(days=int(3 * longest) + 400)
    calendar = open_days(closures, frame["supplier"], start, end)
    return arrival_dates(frame, calendar, order_date, lead, name)


def order_by_dates(
    frame: pl.DataFrame, calendar: pl.DataFrame, need_by: str, lead: str, name: str
) -> pl.DataFrame:
    """`frame` with `name` = the last (open) day an order can be placed and still arrive by
    column `need_by` (null stays null); outside the calendar: need_by - lead days."""
    days = whole_days(pl.col(lead)).clip(lower_bound=0)
    index = calendar.select("supplier", "day", "before")
    opened = calendar.filter("open").select("supplier", "ordinal", pl.col("day").alias(name))
    return (
        frame.with_columns(_supplier_key().alias("_key"), days.alias("_lead"))
        .join(index, left_on=["_key", need_by], right_on=["supplier", "day"], how="left")
        .with_columns((pl.col("before") - pl.col("_lead")).alias("_target"))
        .join(opened, left_on=["_key", "_target"], right_on=["supplier", "ordinal"], how="left")
        .with_columns(
            pl.when(pl.col(need_by).is_null())
            .then(None)
            .otherwise(pl.coalesce(name, pl.col(need_by) - pl.duration(days=pl.col("_lead"))))
            .alias(name)
        )
        .drop("_key", "_lead", "before", "_target")
    )


def closed_between(
    frame: pl.DataFrame, calendar: pl.DataFrame, first: str, last: str
) -> pl.DataFrame:
    """`frame` with closure_days (closed days in [first, last)) and closure_note (why)."""
    closed = calendar.filter(~pl.col("open")).select("supplier", "day", "note")
    keyed = frame.with_columns(_supplier_key().alias("_key")).with_row_index("_row")
    inside = (
        keyed.select("_row", "_key", first, last)
        .join(closed, left_on="_key", right_on="supplier")
        .filter((pl.col("day") >= pl.col(first)) & (pl.col("day") < pl.col(last)))
        .group_by("_row")
        .agg(
            pl.len().cast(pl.Float64).alias("closure_days"),
            pl.col("note")
            .str.split("、")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .str.join("、")
            .alias("closure_note"),
        )
    )
    return (
        keyed.join(inside, on="_row", how="left")
        .with_columns(pl.col("closure_days").fill_null(0.0))
        .sort("_row")
        .drop("_row", "_key")
    )


def calendar_lead_times(
    lead_times: pl.DataFrame,
    closures: pl.DataFrame,
    as_of: dt.date,
    review_days: float,
    horizon_days: int,
) -> pl.DataFrame:
    """Lead times in calendar days from the supplier's calendar (module docstring).

    Adds: open_lead_time_days (the supplier's L in open days), closure_days and
    closure_note (closed days between as_of and this order's arrival),
    closure_cover_days (days the next order arrives later than R after this one, R the
    row's own review_days where the lead times carry it, else `review_days`);
    lead_time_days becomes L + the closed days it spans (arrival(as_of) - as_of for a
    whole L).
    """
    if closures.height == 0 or lead_times.height == 0:
        return lead_times.with_columns(
            pl.col("lead_time_days").alias("open_lead_time_days"),
            pl.lit(0.0).alias("closure_days"),
            pl.lit(None, pl.String).alias("closure_note"),
            pl.lit(0.0).alias("closure_cover_days"),
        )
    longest = float(lead_times["lead_time_days"].max() or 0.0)
    # R per row: the supplier's review_days, else the policy's (whole days, a half to even)
    review_of_row = review_days_of(lead_times, review_days)
    review = review_of_row.round().cast(pl.Int64)
    most = float(lead_times.select(review_of_row.max()).item())
    end = as_of + dt.timedelta(days=int(3 * longest + most + horizon_days) + 400)
    calendar = open_days(
        closures, lead_times["supplier"], as_of - dt.timedelta(days=SPAN_BEFORE_DAYS), end
    )
    framed = lead_times.with_columns(
        pl.lit(as_of).alias("_now"),
        (pl.lit(as_of) + pl.duration(days=review)).alias("_next"),
    )
    framed = arrival_dates(framed, calendar, "_now", "lead_time_days", "_arrival")
    framed = arrival_dates(framed, calendar, "_next", "lead_time_days", "_next_arrival")
    framed = closed_between(framed, calendar, "_now", "_arrival")
    return framed.with_columns(
        pl.col("lead_time_days").alias("open_lead_time_days"),
        # L plus the days closures add (a fractional L from PO history stays as it is)
        (
            pl.col("lead_time_days")
            + (pl.col("_arrival") - pl.col("_now")).dt.total_days().cast(pl.Float64)
            - whole_days(pl.col("lead_time_days")).clip(lower_bound=0).cast(pl.Float64)
        ).alias("lead_time_days"),
        (
            (pl.col("_next_arrival") - pl.col("_arrival")).dt.total_days().cast(pl.Float64)
            - review.cast(pl.Float64)
        )
        .clip(lower_bound=0.0)
        .alias("closure_cover_days"),
    ).drop("_now", "_next", "_arrival", "_next_arrival")


def order_by(
    orders: pl.DataFrame,
    risk: pl.DataFrame,
    closures: pl.DataFrame,
    as_of: dt.date,
    horizon_days: int,
) -> pl.DataFrame:
    """Orders with `order_by`: the last day to place the order so that it arrives by the
    projected stockout (risk.stockout_date, else as_of + days of cover), counted on the
    supplier's calendar with its open-day lead time (open_lead_time_days, else
    lead_time_days). Null without a projected stockout or cover (no demand)."""
    lead = "open_lead_time_days" if "open_lead_time_days" in orders.columns else "lead_time_days"
    need = risk.select(
        *SERIES,
        pl.coalesce(
            "stockout_date",
            pl.lit(as_of)
            + pl.duration(days=pl.col("days_of_cover").clip(-3650, 3650).ceil().cast(pl.Int64)),
        ).alias("_need_by"),
    )
    framed = orders.drop("order_by", strict=False).join(need, on=SERIES, how="left")
    longest = float(framed[lead].max() or 0.0) if framed.height else 0.0
    end = as_of + dt.timedelta(days=int(longest + horizon_days) + 400)
    calendar = open_days(
        closures, framed["supplier"], as_of - dt.timedelta(days=SPAN_BEFORE_DAYS), end
    )
    dated = order_by_dates(framed, calendar, "_need_by", lead, "order_by")
    return dated.select(orders.columns)


def calendar_reason(orders: pl.DataFrame) -> pl.DataFrame:
    """Say on each order line what the supplier's closures did to it (module docstring),
    and, first, that the line is overdue when its order_by date is before its order_date:
    the stock runs out before an order placed today can arrive, so it is ordered today."""
    overdue = pl.lit("")
    if {"order_by", "order_date"} <= set(orders.columns):
        late = (pl.col("order_date") - pl.col("order_by")).dt.total_days()
        overdue = (
            pl.when((late > 0) & (pl.col("order_qty") > 0))
            .then(
                pl.format(
                    "overdue by {} {}: order today; ",
                    late,
                    pl.when(late == 1).then(pl.lit("day")).otherwise(pl.lit("days")),
                )
            )
            .otherwise(pl.lit(""))
        )
    if "closure_days" not in orders.columns:
        return orders.with_columns(pl.concat_str(overdue, pl.col("reason")).alias("reason"))
    # the calendar counts whole days (`whole_days`): say the counts it used, not the mean
    lead = whole_days(pl.col("open_lead_time_days")).cast(pl.String)
    inside = pl.when((pl.col("closure_days") > 0) & (pl.col("order_qty") > 0)).then(
        counted_format(
            "supplier closed {n} days ({w}) before arrival: lead time {l} open days is {d} days",
            n=fmt_number(pl.col("closure_days")),
            w=pl.col("closure_note"),
            l=lead,
            d=whole_days(pl.col("lead_time_days")).cast(pl.String),
        )
    )
    cover = pl.when((pl.col("closure_cover_days") > 0) & (pl.col("order_qty") > 0)).then(
        counted_format(
            "covers {n} more days: the supplier's closure delays the next order",
            n=fmt_number(pl.col("closure_cover_days")),
        )
    )
    return orders.with_columns(
        pl.concat_str(
            overdue,
            pl.col("reason"),
            pl.format("; {}", inside).fill_null(""),
            pl.format("; {}", cover).fill_null(""),
        ).alias("reason")
    )
