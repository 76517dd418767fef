"""Successors: a new SKU replacing an old one (succession table: old_sku, new_sku, date, share).

    new item's history += old item's sales x share     (every sale before as_of)

so the new item starts with the old one's level and pattern instead of a category guess.
From the switch date on the old item is never ordered, nor before it when today's order
would only arrive on or after it; otherwise its order-up-to is capped at the forecast
demand until the switch date and its order at the demand between the order's arrival and
the switch (`succession_caps`: run the old stock down, do not buy what will be left
over). The inherited demand is the new item's only from the switch date: before it, its
forecast gives the old item's share back (`successor_forecast`), so no demand is bought
for by both items. Chains (A -> B -> C) pass history on with the shares multiplied.

A successor that already sells under its own code keeps its own rate before the switch
(`own_demand`), and so its own spread (`own_spread_sigma_e`, the bootstrap's days:
`before_switch_sales`), its own sales value for ABC and, once its own history is long enough
to be measured, its own demand pattern and XYZ class (`with_own_classes`) until then.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Classify
from stockplan.demand import SERIES
from stockplan.reorder import arrival_after
from stockplan.segmentation import abc_by_value

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
    """SERIES, order_up_to_cap, cap_clause, order_cap, order_cap_clause for every old item.

    From the switch date T: cap 0, "no order: replaced by NEW from DATE". Before it, an
    order placed today arrives on a = as_of + L (`reorder.arrival_after`, L the row's
    lead_time_days):

    - a on or after T: cap 0, "no order: an order today would arrive on a, ...": none of
      it would sell as the old item;
    - a before T: cap C = D(as_of, T), the forecast demand until the switch (`until_switch`:
      SERIES, demand_until_switch, demand_until_arrival, from `window_demand` over
      `switch_windows` and `arrival_windows`), so nothing is left over at the switch; and
      the order itself at most order_cap M = D(a, T) = C - D(as_of, a), the demand between
      its arrival and the switch: a position that runs out before a loses those sales, the
      order cannot serve them (`caps.position_caps`: S' = min(S, C, max(position, 0) + M)).
    """
    info = succession_info(succession).filter(pl.col("replaced_by").is_not_null())
    frame = series.select(*SERIES, "lead_time_days").join(info, on="sku")
    frame = frame.join(until_switch, on=SERIES, how="left").with_columns(
        arrival_after(as_of, pl.col("lead_time_days")).alias("_arrival")
    )
    switched = pl.col("replaced_from") <= pl.lit(as_of)
    too_late = pl.col("_arrival") >= pl.col("replaced_from")
    cap = pl.col("demand_until_switch").fill_null(0.0)
    after_arrival = (cap - pl.col("demand_until_arrival").fill_null(0.0)).clip(lower_bound=0.0)
    return frame.select(
        *SERIES,
        pl.when(switched | too_late).then(0.0).otherwise(cap).alias("order_up_to_cap"),
        pl.when(switched)
        .then(pl.format("no order: replaced by {} from {}", "replaced_by", "replaced_from"))
        .when(too_late)
        .then(
            pl.format(
                "no order: an order today would arrive on {}, on or after {} replaces it on {}",
                "_arrival",
                "replaced_by",
                "replaced_from",
            )
        )
        .otherwise(
            pl.format(
                "order-up-to capped at {}: demand until {} replaces it on {}",
                _shown(cap),
                "replaced_by",
                "replaced_from",
            )
        )
        .alias("cap_clause"),
        pl.when(switched | too_late).then(None).otherwise(after_arrival).alias("order_cap"),
        pl.when(switched | too_late)
        .then(None)
        .otherwise(
            pl.format(
                "an order arrives on {}, which sells only {} until {} replaces it on {}",
                "_arrival",
                _shown(after_arrival),
                "replaced_by",
                "replaced_from",
            )
        )
        .alias("order_cap_clause"),
    )


def _shown(number: pl.Expr) -> pl.Expr:
    """A quantity in a clause: one decimal, without a trailing .0."""
    return number.round(1).cast(pl.String).str.replace(r"\.0$", "")


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


def arrival_windows(
    series: pl.DataFrame, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """SERIES, window_days: days from as_of to the arrival of an order placed today
    (as_of + L, `reorder.arrival_after`), at most to the switch date, for old items not yet
    switched: the window of D(as_of, a) in `succession_caps`."""
    info = succession_info(succession).filter(pl.col("replaced_from") > pl.lit(as_of))
    arrival = pl.min_horizontal(
        arrival_after(as_of, pl.col("lead_time_days")), pl.col("replaced_from")
    )
    return (
        series.select(*SERIES, "lead_time_days")
        .join(info, on="sku")
        .select(
            *SERIES,
            (arrival - pl.lit(as_of)).dt.total_days().cast(pl.Float64).alias("window_days"),
        )
    )


def _waiting(succession: pl.DataFrame | None, as_of: dt.date) -> pl.DataFrame | None:
    """new_sku, switch_date (its first switch after as_of) of every successor not yet
    switched; None without one."""
    if succession is None or succession.height == 0:
        return None
    waiting = _succession(succession).filter(pl.col("date") > pl.lit(as_of))
    if waiting.height == 0:
        return None
    return waiting.group_by(pl.col("new_sku").alias("sku")).agg(
        pl.col("date").min().alias("switch_date")
    )


def own_sales_before_switch(
    sales: pl.DataFrame, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame | None:
    """The sales lines before as_of of every successor whose switch date is after as_of,
    under its own code (`sales` before any inheritance): its own history until the switch.
    None without such a successor or line."""
    waiting = _waiting(succession, as_of)
    if waiting is None:
        return None
    own = sales.join(waiting.select("sku"), on="sku", how="semi").filter(
        pl.col("date") < pl.lit(as_of)
    )
    return own if own.height else None


def own_demand(
    sales: pl.DataFrame, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame | None:
    """SERIES, own_per_day, own_sigma_day, switch_date of every successor whose switch
    date is after as_of and that already sells under its own code, from its own sales
    (`own_sales_before_switch`) over the n = as_of - first sale days:

        own_per_day = sum / n
        own_sigma_day = sqrt(sum of q_t^2 / n - mean^2), q_t a day's net sales (0 on a day
                        without one, a negative net 0), mean their sum / n

    the rate and the day-to-day spread its demand has until switch_date (its first switch
    after as_of). None without such a successor."""
    return own_demand_of(own_sales_before_switch(sales, succession, as_of), succession, as_of)


def own_demand_of(
    own: pl.DataFrame | None, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame | None:
    """`own_demand` from the successors' own sales lines already taken out of the sales
    (`own_sales_before_switch`), so a plan that needs the lines too filters the sales once."""
    if own is None:
        return None
    daily = own.group_by(*SERIES, "date").agg(pl.col("quantity").sum().alias("_q"))
    per_series = daily.group_by(SERIES).agg(
        pl.col("_q").sum().alias("_sold"),
        pl.col("_q").clip(lower_bound=0.0).sum().alias("_kept"),
        pl.col("_q").clip(lower_bound=0.0).pow(2).sum().alias("_squares"),
        pl.col("date").min().alias("_first"),
    )
    days = (pl.lit(as_of) - pl.col("_first")).dt.total_days().clip(lower_bound=1)
    mean = pl.col("_kept") / days
    return per_series.join(_waiting(succession, as_of), on="sku").select(
        *SERIES,
        (pl.col("_sold").clip(lower_bound=0.0) / days).cast(pl.Float64).alias("own_per_day"),
        (pl.col("_squares") / days - mean.pow(2))
        .clip(lower_bound=0.0)
        .sqrt()
        .cast(pl.Float64)
        .alias("own_sigma_day"),
        "switch_date",
    )


MEASURED_PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
"""The demand patterns a history is long and live enough to be measured by
(`segmentation.classify_demand`); `new` and `dead` are not measured."""

OWN_PATTERN_COLUMNS = ("demand_pattern", "xyz", "n_periods", "adi", "cv2", "cv", "mean_demand")
"""The classes columns a successor takes from its own history where that history has a
measured pattern: the pattern, the XYZ class and the statistics they are read from."""


def with_own_classes(
    classes: pl.DataFrame, own_classes: pl.DataFrame, settings: Classify
) -> pl.DataFrame:
    """`classes` with the successors selling under their own code before their switch
    classed on their own history (`own_classes`: the classes of `own_sales_before_switch`
    alone), as their forecast floor and spread are (`own_demand`):

    - annual_value and abc_basis their own, ABC ranked again over every series
      (`segmentation.abc_by_value`);
    - demand pattern (the forecast family and the lead-time-demand method), XYZ and the
      statistics behind them (`OWN_PATTERN_COLUMNS`) their own where their own history
      has a measured pattern (`MEASURED_PATTERNS`); a history too short for one (`new`:
      under `new_item_periods` buckets) or without a recent sale (`dead`) keeps the
      inherited history's.

    From the switch date on the inherited history counts, as for the forecast
    (`successor_forecast`)."""
    pattern_columns = [c for c in OWN_PATTERN_COLUMNS if c in classes.columns]
    own = own_classes.select(
        *SERIES,
        pl.col("annual_value").alias("_own_value"),
        pl.col("abc_basis").alias("_own_basis"),
        pl.col("demand_pattern").is_in(MEASURED_PATTERNS).alias("_measured"),
        *[pl.col(c).alias(f"_own_{c}") for c in pattern_columns],
    )
    measured = pl.col("_measured").fill_null(False)
    valued = classes.join(own, on=SERIES, how="left").with_columns(
        pl.coalesce("_own_value", "annual_value").alias("annual_value"),
        pl.coalesce("_own_basis", "abc_basis").alias("abc_basis"),
        *[
            pl.when(measured).then(pl.col(f"_own_{c}")).otherwise(pl.col(c)).alias(c)
            for c in pattern_columns
        ],
    )
    return abc_by_value(valued.drop("abc"), settings).select(classes.columns)


def own_history(
    own_classes: pl.DataFrame | None, succession: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame | None:
    """SERIES, own_sales_until, own_pattern of every successor `with_own_classes` classes on
    its own sales (`own_classes`) before its switch: own_sales_until its switch date (its
    first after as_of), own_pattern its own history's demand pattern (a measured one,
    `MEASURED_PATTERNS`, gives it its pattern and XYZ class; `new` or `dead` leaves the
    inherited ones). What `explain` says of it; None without such a successor."""
    waiting = _waiting(succession, as_of)
    if own_classes is None or own_classes.height == 0 or waiting is None:
        return None
    return own_classes.join(waiting, on="sku").select(
        *SERIES,
        pl.col("switch_date").alias("own_sales_until"),
        pl.col("demand_pattern").alias("own_pattern"),
    )


def before_switch_sales(sales: pl.DataFrame, own: pl.DataFrame | None) -> pl.DataFrame:
    """`sales` (with the inherited lines) where the series of `own` (`own_sales_before_switch`) keep
    their own lines only: the history the lead-time-demand bootstrap resamples for a
    successor before its switch."""
    if own is None or own.height == 0:
        return sales
    return pl.concat(
        [
            sales.join(own.select(SERIES).unique(), on=SERIES, how="anti"),
            own.select([c for c in sales.columns if c in own.columns]),
        ],
        how="diagonal_relaxed",
    ).select(sales.columns)


def own_spread_sigma_e(bucket_days: int, start: dt.date | None, window_days: pl.Expr) -> pl.Expr:
    """sigma_e of a row whose protection window (`window_days` from `start`) begins before
    its successor's switch: the window's days before switch_date at its own spread
    (own_sigma_day, `own_demand`), the rest at the inherited one (sigma_e / sqrt(b)):

        sigma_day^2 = (t_own own_sigma_day^2 + (W - t_own) sigma_e^2 / b) / W
        sigma_e = sqrt(b) sigma_day

    t_own = min(switch_date - start, W), as the forecast hands the inherited demand back
    for the same days (`successor_forecast`). Other rows keep their sigma_e."""
    if start is None:
        return pl.col("sigma_e")
    window = window_days.cast(pl.Float64)
    t_own = (
        (pl.col("switch_date") - pl.lit(start))
        .dt.total_days()
        .cast(pl.Float64)
        .clip(lower_bound=0.0)
    )
    t_own = pl.min_horizontal(t_own, window)
    variance_day = (
        t_own * pl.col("own_sigma_day").pow(2)
        + (window - t_own) * pl.col("sigma_e").pow(2) / bucket_days
    ) / window
    return (
        pl.when(pl.col("own_sigma_day").is_not_null() & (window > 0))
        .then((variance_day * bucket_days).sqrt())
        .otherwise(pl.col("sigma_e"))
        .alias("sigma_e")
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
