"""Items as they really live, wired for the pipeline: kits, successors, shelf life, overrides.

- before the demand history: successors inherit their predecessors' sales (`succession`),
  then kit sales become component sales (`bom`); stock lots with an expiry date are
  summed per item, the lots kept for shelf life;
- after the forecast, before the policy: planner overrides (`overrides`);
- after the policy: unsellable stock leaves the position, order-up-to is capped
  (`shelf_life`, `succession`, kits never ordered themselves), via `caps`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.bom import KIT_CLAUSE, kit_component_sales, kit_shares, kit_skus
from stockplan.caps import tightest
from stockplan.config import Config
from stockplan.demand import SERIES
from stockplan.overrides import active_overrides
from stockplan.reorder import window_demand
from stockplan.shelf_life import expiring_stock, shelf_life_caps, stock_lots, unsellable
from stockplan.succession import (
    arrival_windows,
    inherited_sales,
    succession_caps,
    succession_info,
    switch_windows,
)


def item_tables(
    tables: dict[str, pl.DataFrame],
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame | None]:
    """(tables with sales as the items really sell and stock one row per item, stock lots)."""
    sales = inherited_sales(tables["sales"], tables.get("succession"))
    sales = kit_component_sales(sales, tables.get("bom"))
    stock, lots = stock_lots(tables["stock"])
    return {**tables, "sales": sales, "stock": stock}, lots


def actual_sales(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The sales each item really met, as `simulate` replays them: kit sales as component
    sales, without the successors' inherited copies of their predecessors' lines
    (`item_tables` adds those as history to forecast on, not as demand)."""
    return kit_component_sales(tables["sales"], tables.get("bom"))


def item_classes(
    classes: pl.DataFrame, tables: dict[str, pl.DataFrame], as_of: dt.date
) -> pl.DataFrame:
    """Classes with kit_share, kits, replaced_by, replaced_from, inherits_from when the
    bom or succession table is given (unchanged otherwise)."""
    bom, succession = tables.get("bom"), tables.get("succession")
    if bom is not None:
        classes = classes.join(
            kit_shares(tables["sales"], bom, as_of), on=SERIES, how="left"
        ).with_columns(pl.col("kit_share").fill_null(0.0))
    if succession is not None:
        classes = classes.join(succession_info(succession), on="sku", how="left")
    return classes


def expiry(
    lots: pl.DataFrame | None,
    series: pl.DataFrame,
    as_of: dt.date,
    config: Config,
    attributes: pl.DataFrame,
) -> pl.DataFrame | None:
    """Every lot's expected sales and expiring units at the series' forecast rate."""
    if lots is None:
        return None
    return expiring_stock(
        lots, series, as_of, config.shelf_life.sell_by_days, attributes.select("sku", "unit_cost")
    )


def item_caps(
    series: pl.DataFrame,
    forecast: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    config: Config,
    as_of: dt.date,
    bucket_days: int,
) -> pl.DataFrame:
    """The tightest order-up-to cap per series: shelf life, successor, kit (`caps.tightest`;
    a successor's order_cap applies on each order row's own position, `caps.position_caps`).
    `series` needs lead_time_days: an old item's order arrives as_of + L."""
    succession = tables.get("succession")
    caps = [shelf_life_caps(series, tables.get("products"), config.shelf_life.sell_by_days)]
    if succession is not None:
        windows = switch_windows(series, succession, as_of)
        until = window_demand(forecast, windows, bucket_days, "demand_until_switch", as_of)
        arrivals = arrival_windows(series, succession, as_of)
        before = window_demand(forecast, arrivals, bucket_days, "demand_until_arrival", as_of)
        until = until.join(before, on=SERIES, how="left")
        caps.append(succession_caps(series, succession, until, as_of))
    if tables.get("bom") is not None:
        caps.append(
            series.select(SERIES)
            .join(kit_skus(tables["bom"]), on="sku", how="semi")
            .with_columns(
                pl.lit(0.0).alias("order_up_to_cap"), pl.lit(KIT_CLAUSE).alias("cap_clause")
            )
        )
    return tightest(caps)


def item_columns(
    series: pl.DataFrame,
    classes: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    expiring: pl.DataFrame | None,
    caps: pl.DataFrame,
    as_of: dt.date,
) -> pl.DataFrame:
    """SERIES + the order rows' item columns (caps.ITEM_COLUMNS) that apply to this run."""
    frame = series.select(SERIES)
    taken = [c for c in ("kit_share", "kits", "replaced_by", "replaced_from", "inherits_from")]
    present = [c for c in taken if c in classes.columns]
    if present:
        frame = frame.join(classes.select(*SERIES, *present), on=SERIES, how="left")
    if tables.get("overrides") is not None:
        active = active_overrides(tables["overrides"], series, as_of)
        frame = frame.join(active.select(*SERIES, "forecast_override"), on=SERIES, how="left")
    if expiring is not None:
        frame = frame.join(unsellable(expiring), on=SERIES, how="left").with_columns(
            pl.col("unsellable_qty").fill_null(0.0)
        )
    if caps.height:
        frame = frame.join(caps.select(*SERIES, "order_up_to_cap"), on=SERIES, how="left")
    return frame
