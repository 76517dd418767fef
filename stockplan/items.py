"""Item names next to the codes, and the run's extra output columns for people.

A name comes from the product master first, then the stock export, then the sales
export (the first non-blank name of a code in each).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

NAMED_TABLES = ("orders", "risk", "transfers", "excess", "notices", "expiry_risk", "overrides")
RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def item_names(tables: dict[str, pl.DataFrame | None]) -> pl.DataFrame:
    """sku, name: one name per code, product master > stock > sales."""
    sources = [
        tables[t].select("sku", pl.col("name").cast(pl.String), pl.lit(rank).alias("_rank"))
        for rank, t in enumerate(("products", "stock", "sales"))
        if tables.get(t) is not None and "name" in tables[t].columns
    ]
    if not sources:
        return pl.DataFrame(schema={"sku": pl.String, "name": pl.String})
    return (
        pl.concat(sources)
        .with_columns(pl.col("name").str.strip_chars())
        .filter(pl.col("name").is_not_null() & (pl.col("name") != ""))
        .unique(["sku", "_rank"], keep="first", maintain_order=True)
        .sort("_rank")
        .unique("sku", keep="first", maintain_order=True)
        .select("sku", "name")
    )


def distinct_skus(*frames: pl.DataFrame) -> pl.DataFrame:
    """sku: every code in the `sku` column of any of `frames`, once (in no set order).

    Each frame's distinct codes are taken first: stacking the codes of every sales line
    before one unique() copied them all (1 GB on an M5-sized set of 24 million lines)."""
    return pl.concat([frame.select(pl.col("sku").unique()) for frame in frames]).unique()


def known_items(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """sku, components: every code the inputs know (stocked, sold, or a successor selling
    on its predecessor's history); `components` lists a kit's parts (null for other items)."""
    codes = [tables["stock"], tables["sales"]]
    if tables.get("succession") is not None:
        codes.append(tables["succession"].select(pl.col("new_sku").alias("sku")))
    known = distinct_skus(*codes)
    bom = tables.get("bom")
    if bom is None:
        return known.with_columns(pl.lit(None, pl.List(pl.String)).alias("components"))
    kits = bom.group_by(pl.col("kit_sku").alias("sku")).agg(
        pl.col("component_sku").unique().sort().alias("components")
    )
    return known.join(kits, on="sku", how="left")


def with_item_names(frame: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a `name` column (null where no export names the code)."""
    if "sku" not in frame.columns or "name" in frame.columns:
        return frame
    return frame.join(names, on="sku", how="left", maintain_order="left")


def risk_rank(column: str = "risk_level") -> pl.Expr:
    """0 high, 1 medium, 2 low, 3 unknown: the urgency order."""
    return pl.col(column).replace_strict(RISK_ORDER, default=3, return_dtype=pl.Int8)


def sort_by_urgency(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Orders and risk by risk level, then the date that matters first (an order line's
    order-by date: an overdue line before one due today, before one due next week; a
    table without `order_by` takes its order date); others unchanged."""
    if table == "orders" and "risk_level" in frame.columns:
        due = "order_by" if "order_by" in frame.columns else "order_date"
        return frame.sort(
            [risk_rank(), due, "order_date", "expected_arrival", "order_value", "sku", "location"],
            descending=[False, False, False, False, True, False, False],
            nulls_last=True,
        )
    if table == "risk":
        return frame.sort(
            [risk_rank(), "stockout_date", "stockout_probability", "sku", "location"],
            descending=[False, False, True, False, False],
            nulls_last=True,
        )
    return frame


def for_people(
    tables: dict[str, pl.DataFrame], names: pl.DataFrame, as_of: dt.date
) -> dict[str, pl.DataFrame]:
    """Output tables with item names, each order's risk level, urgency order and the planning
    date (`as_of`, last column) on every row. Contract columns keep their order; the new
    ones follow them."""
    out: dict[str, pl.DataFrame] = {}
    for table, frame in tables.items():
        if table in NAMED_TABLES:
            frame = with_item_names(frame, names)
        if table == "orders" and "risk" in tables and "risk_level" not in frame.columns:
            frame = frame.join(
                tables["risk"].select("sku", "location", "risk_level"),
                on=["sku", "location"],
                how="left",
                maintain_order="left",
            )
        frame = sort_by_urgency(frame, table)
        if "as_of" not in frame.columns:
            frame = frame.with_columns(pl.lit(as_of).alias("as_of"))
        out[table] = frame
    return out
