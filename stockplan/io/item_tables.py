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
from stockplan.i18n import phrase, place
from stockplan.io.readers import ROW


def _first(frame: pl.DataFrame, mask: pl.Expr) -> dict | None:
    bad = frame.filter(mask).sort(ROW).head(1)
    return bad.row(0, named=True) if bad.height else None


def _fail(config: Config, table: str, row: dict, column: str, key: str, **fields: object) -> None:
    """Refuse with the catalogue's `key`, naming the file of `table`, the row and column."""
    where = place(config.source(table), row[ROW], column)
    raise StockplanError(phrase(key, where=where, **fields))


def _check_bom(bom: pl.DataFrame, config: Config) -> None:
    from stockplan.bom import MAX_KIT_DEPTH, kit_loop

    kit, component = pl.col("kit_sku"), pl.col("component_sku")
    row = _first(bom, kit == component)
    if row:
        _fail(config, "bom", row, "component_sku", "error.kit_lists_itself", kit=row["kit_sku"])
    row = _first(bom, pl.col("quantity").is_null() | (pl.col("quantity") <= 0))
    if row:
        _fail(config, "bom", row, "quantity", "error.kit_quantity")
    row = _first(bom, ~pl.struct("kit_sku", "component_sku").is_first_distinct())
    if row:
        _fail(
            config,
            "bom",
            row,
            "component_sku",
            "error.kit_component_twice",
            component=row["component_sku"],
            kit=row["kit_sku"],
        )
    looping = kit_loop(bom)
    if looping:  # the kit's line naming that component, else its first line naming a kit
        own = bom.filter(kit == looping["kit_sku"])
        row = _first(own, component == looping["component_sku"]) or _first(
            own, component.is_in(bom["kit_sku"].implode())
        )
        _fail(
            config,
            "bom",
            row or _first(own, pl.lit(True)),
            "component_sku",
            "error.kit_cycle",
            kit=looping["kit_sku"],
            through=looping["component_sku"],
            depth=MAX_KIT_DEPTH,
        )


def _check_succession(succession: pl.DataFrame, config: Config) -> pl.DataFrame:
    row = _first(succession, pl.col("old_sku") == pl.col("new_sku"))
    if row:
        _fail(config, "succession", row, "new_sku", "error.succeeds_itself", sku=row["new_sku"])
    row = _first(succession, ~pl.col("old_sku").is_first_distinct())
    if row:
        _fail(config, "succession", row, "old_sku", "error.two_successors", sku=row["old_sku"])
    cycle = _succession_cycle(succession)
    if cycle:
        row = _first(succession, pl.col("old_sku").is_in(cycle))
        at = cycle.index(row["old_sku"])  # the circle from its first row
        cycle = cycle[at:] + cycle[:at]
        path = " -> ".join([*cycle, cycle[0]])
        _fail(config, "succession", row, "new_sku", "error.succession_circle", path=path)
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
            "error.share_ambiguous",
            value=value,
            fraction=f"{row['share'] / 100:g}",
        )
    succession = succession.with_columns(
        pl.when(share > 1).then(share / 100).otherwise(share).alias("share")
    )
    row = _first(succession, share.is_not_null() & ((share <= 0) | (share > 1)))
    if row:
        _fail(config, "succession", row, "share", "error.share_range")
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
        _fail(
            config,
            "overrides",
            row,
            "end",
            "error.override_end_before_start",
            end=row["end"],
            start=row["start"],
        )
    given = [pl.col(c).is_not_null() for c in ("quantity", "multiplier") if c in overrides.columns]
    count = pl.sum_horizontal(*[g.cast(pl.Int8) for g in given])
    row = _first(overrides, count != 1)
    if row:
        two = row.get("multiplier") is not None and row.get("quantity") is not None
        key = "error.override_both" if len(given) == 2 and two else "error.override_neither"
        _fail(config, "overrides", row, "quantity", key)
    location = pl.col("location") if "location" in overrides.columns else pl.lit(None, pl.String)
    ordered = overrides.with_columns(location.fill_null("").alias("_where")).sort(
        "sku", "_where", "start"
    )
    row = _first(
        ordered,
        (pl.col("start") <= pl.col("end").shift(1).over("sku", "_where")).fill_null(False),
    )
    if row:
        _fail(config, "overrides", row, "start", "error.override_overlap", sku=row["sku"])
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
            "error.override_every_overlap",
            sku=row["sku"],
            location=row["_where_other"],
            other={"en": f"row {row[f'{ROW}_other']}", "zh": f"第 {row[f'{ROW}_other']} 行"},
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
