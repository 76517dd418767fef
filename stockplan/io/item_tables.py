"""Checks of the kit, successor and override tables that must name file, row and column.

bom: a kit is not its own component, quantity per kit above 0, no (kit, component) twice,
no kit that contains itself. succession: old and new differ, one successor per old item,
share in (0, 1] (a percent from 2 up is read as percent; between 1 and 2 refused as
ambiguous). overrides: end not before start,
exactly one of quantity and multiplier per row, no two windows of one item overlapping.
"""

from __future__ import annotations

import polars as pl

from stockplan.config import Config
from stockplan.errors import StockplanError
from stockplan.io.readers import ROW


def _first(frame: pl.DataFrame, mask: pl.Expr) -> dict | None:
    bad = frame.filter(mask).sort(ROW).head(1)
    return bad.row(0, named=True) if bad.height else None


def _fail(config: Config, table: str, row: dict, column: str, problem: str) -> None:
    path = config.source(table)
    raise StockplanError(f"{path}, row {row[ROW]}, column '{column}': {problem}")


def _check_bom(bom: pl.DataFrame, config: Config) -> None:
    from stockplan.bom import flatten_bom

    row = _first(bom, pl.col("kit_sku") == pl.col("component_sku"))
    if row:
        _fail(config, "bom", row, "component_sku", f"kit '{row['kit_sku']}' lists itself")
    row = _first(bom, pl.col("quantity").is_null() | (pl.col("quantity") <= 0))
    if row:
        _fail(config, "bom", row, "quantity", "quantity per kit must be above 0")
    row = _first(bom, ~pl.struct("kit_sku", "component_sku").is_first_distinct())
    if row:
        _fail(
            config,
            "bom",
            row,
            "component_sku",
            f"'{row['component_sku']}' appears twice in kit '{row['kit_sku']}'",
        )
    try:
        flatten_bom(bom)
    except StockplanError as exc:
        raise StockplanError(f"{config.source('bom')}: {exc}") from None


def _check_succession(succession: pl.DataFrame, config: Config) -> pl.DataFrame:
    row = _first(succession, pl.col("old_sku") == pl.col("new_sku"))
    if row:
        _fail(config, "succession", row, "new_sku", f"'{row['new_sku']}' succeeds itself")
    row = _first(succession, ~pl.col("old_sku").is_first_distinct())
    if row:
        _fail(config, "succession", row, "old_sku", f"'{row['old_sku']}' has two successors")
    cycle = _succession_cycle(succession)
    if cycle:
        row = _first(succession, pl.col("old_sku").is_in(cycle))
        at = cycle.index(row["old_sku"])  # the circle from its first row
        cycle = cycle[at:] + cycle[:at]
        path = " -> ".join([*cycle, cycle[0]])
        _fail(config, "succession", row, "new_sku", f"the successions go round in a circle: {path}")
    if "share" not in succession.columns:
        return succession
    share = pl.col("share")
    row = _first(succession, (share > 1) & (share < 2))
    if row:  # 1.5: 150 % of the old item's demand, or 1.5 %? Neither reading is safe
        value = f"{row['share']:g}"
        _fail(
            config,
            "succession",
            row,
            "share",
            f"share {value} is ambiguous: above 1 reads as a percentage ({value} %); write "
            f"{row['share'] / 100:g} for {value} % or at most 1 for all of the old item's demand",
        )
    succession = succession.with_columns(
        pl.when(share > 1).then(share / 100).otherwise(share).alias("share")
    )
    row = _first(succession, share.is_not_null() & ((share <= 0) | (share > 1)))
    if row:
        _fail(config, "succession", row, "share", "share must be above 0 and at most 1 (or 100 %)")
    return succession


def _succession_cycle(succession: pl.DataFrame) -> list[str]:
    """The skus of a circle of successions (A -> B -> A), empty when there is none: each old
    sku has one successor, so following them from every sku finds any circle."""
    successor = dict(zip(succession["old_sku"], succession["new_sku"], strict=True))
    for start in sorted(successor):  # a master-data table: a few rows, not a hot path
        path, sku = [start], successor[start]
        while sku in successor and sku not in path:
            path.append(sku)
            sku = successor[sku]
        if sku in path:
            return path[path.index(sku) :]
    return []


def _check_overrides(overrides: pl.DataFrame, config: Config) -> None:
    row = _first(overrides, pl.col("end") < pl.col("start"))
    if row:
        _fail(config, "overrides", row, "end", f"{row['end']} is before the start {row['start']}")
    given = [pl.col(c).is_not_null() for c in ("quantity", "multiplier") if c in overrides.columns]
    count = pl.sum_horizontal(*[g.cast(pl.Int8) for g in given])
    row = _first(overrides, count != 1)
    if row:
        _fail(
            config,
            "overrides",
            row,
            "quantity",
            "give either a quantity or a multiplier, not "
            + (
                "both"
                if (
                    len(given) == 2
                    and row.get("multiplier") is not None
                    and row.get("quantity") is not None
                )
                else "neither"
            ),
        )
    location = pl.col("location") if "location" in overrides.columns else pl.lit(None, pl.String)
    ordered = overrides.with_columns(location.fill_null("").alias("_where")).sort(
        "sku", "_where", "start"
    )
    row = _first(
        ordered,
        (pl.col("start") <= pl.col("end").shift(1).over("sku", "_where")).fill_null(False),
    )
    if row:
        _fail(config, "overrides", row, "start", f"overlaps another override of '{row['sku']}'")
    # an override for every location (no location) overlaps one for a single location too
    every = ordered.filter(pl.col("_where") == "")
    both = every.join(ordered, on="sku", suffix="_other").filter(
        (pl.col(ROW) != pl.col(f"{ROW}_other"))
        & (pl.col("start") <= pl.col("end_other"))
        & (pl.col("start_other") <= pl.col("end"))
    )
    row = _first(both, pl.lit(True))
    if row:
        _fail(
            config,
            "overrides",
            row,
            "location",
            f"an override of '{row['sku']}' for every location overlaps one for "
            f"'{row['_where_other']}' (row {row[f'{ROW}_other']})",
        )


PERCENT_LIKE_MULTIPLIER = 6.0
"""An override multiplier from here up reads like a percentage (50 for +50 %), as a
promotion uplift of 5 does (`io.prepare.PERCENT_LIKE_UPLIFT`): warned."""


def _outsized_overrides(tables: dict[str, pl.DataFrame], config: Config) -> list[str]:
    """Warnings for overrides a typo likely made: a multiplier of `PERCENT_LIKE_MULTIPLIER`
    or more, and a quantity above everything the item sold in the sales file (all
    locations; an item without sales, new, is not compared). Both are kept and planned."""
    overrides, warnings = tables["overrides"], []
    if "multiplier" in overrides.columns:
        row = _first(overrides, pl.col("multiplier") >= PERCENT_LIKE_MULTIPLIER)
        if row:
            factor = row["multiplier"]
            warnings.append(
                f"{config.source('overrides')}, row {row[ROW]}, column 'multiplier': "
                f"{factor:g} multiplies the forecast by {factor:g}; if +{factor:g} % is "
                f"meant, write {1 + factor / 100:g}"
            )
    if "quantity" in overrides.columns and "sales" in tables:
        sold = tables["sales"].group_by("sku").agg(pl.col("quantity").sum().alias("_sold"))
        above = overrides.join(sold, on="sku").filter(pl.col("quantity") > pl.col("_sold"))
        row = _first(above, pl.lit(True))
        if row:
            warnings.append(
                f"{config.source('overrides')}, row {row[ROW]}, column 'quantity': "
                f"{row['quantity']:,.0f} from {row['start']} to {row['end']} is more than "
                f"'{row['sku']}' sold in the whole sales file ({row['_sold']:,.0f}); the "
                f"plan orders for it" + (f" ({above.height} such rows)" if above.height > 1 else "")
            )
    return warnings


def _stray_overrides(tables: dict[str, pl.DataFrame], config: Config) -> list[str]:
    """A note for overrides of items neither stock nor sales know: they change nothing."""
    if "sales" not in tables or "stock" not in tables:  # read by a cluster's tasks
        return []
    known = [tables[t].select("sku") for t in ("stock", "sales")]
    if "succession" in tables:
        known.append(tables["succession"].select(pl.col("new_sku").alias("sku")))
    if "bom" in tables:
        known.append(tables["bom"].select(pl.col("component_sku").alias("sku")))
    stray = tables["overrides"].join(pl.concat(known).unique(), on="sku", how="anti")
    if stray.height == 0:
        return []
    row = stray.sort(ROW).row(0, named=True)
    return [
        f"{config.source('overrides')}, row {row[ROW]}, column 'sku': '{row['sku']}' is in "
        f"neither the stock nor the sales file; its override changes nothing "
        f"({stray.height} such rows)"
    ]


def check_item_tables(tables: dict[str, pl.DataFrame], config: Config) -> list[str]:
    """Refuse kit, successor and override rows that cannot be planned (module docstring);
    shares given in percent become fractions (in place in `tables`). Returns warnings."""
    warnings: list[str] = []
    if "bom" in tables:
        _check_bom(tables["bom"], config)
    if "succession" in tables:
        tables["succession"] = _check_succession(tables["succession"], config)
    if "overrides" in tables:
        _check_overrides(tables["overrides"], config)
        warnings += _stray_overrides(tables, config) + _outsized_overrides(tables, config)
    return warnings
