"""Kits (bill of materials): a kit sold as one SKU is stocked and bought as its components.

    component demand = own sales + sum over kits of kit sales x quantity per kit

Kits inside kits are resolved to their leaf components (quantities multiply along the
path). A kit's sales leave its own history: it is never ordered itself, its components
are, so their forecast, safety stock and orders include the kit demand.
"""

from __future__ import annotations

import polars as pl

from stockplan.demand import SERIES, Bucket, bucket_start
from stockplan.errors import StockplanError
from stockplan.i18n import phrase, place

MAX_KIT_DEPTH = 10
KIT_CLAUSE = "no order: a kit, bought as its components"


def flatten_bom(bom: pl.DataFrame) -> pl.DataFrame:
    """kit_sku, component_sku, quantity with nested kits resolved to leaf components.

    A component that is itself a kit is replaced by its own components, quantity
    multiplied; repeated until no component is a kit (a cycle is an error).
    """
    flat, looping = _flattened(bom)
    if looping is not None:
        raise StockplanError(
            phrase(
                "error.kit_cycle",
                where=place("bom"),
                kit=looping["kit_sku"],
                through=looping["component_sku"],
                depth=MAX_KIT_DEPTH,
            )
        )
    return flat


def kit_loop(bom: pl.DataFrame) -> dict | None:
    """The kit_sku and component_sku of a kit that still holds a kit after
    `MAX_KIT_DEPTH` levels (a kit that contains itself), None when the kits resolve."""
    return _flattened(bom)[1]


def _flattened(bom: pl.DataFrame) -> tuple[pl.DataFrame, dict | None]:
    flat = bom.select("kit_sku", "component_sku", pl.col("quantity").cast(pl.Float64))
    kits = flat.select(pl.col("kit_sku").alias("component_sku")).unique()
    for _ in range(MAX_KIT_DEPTH):
        nested = flat.join(kits, on="component_sku", how="semi")
        if nested.height == 0:
            return flat.group_by("kit_sku", "component_sku").agg(pl.col("quantity").sum()), None
        expanded = nested.join(
            bom.select(
                pl.col("kit_sku").alias("component_sku"),
                pl.col("component_sku").alias("leaf"),
                pl.col("quantity").cast(pl.Float64).alias("per"),
            ),
            on="component_sku",
        ).select("kit_sku", pl.col("leaf").alias("component_sku"), pl.col("quantity") * "per")
        flat = pl.concat([flat.join(kits, on="component_sku", how="anti"), expanded])
    return flat, flat.join(kits, on="component_sku", how="semi").row(0, named=True)


def kit_component_sales(sales: pl.DataFrame, bom: pl.DataFrame | None) -> pl.DataFrame:
    """Sales with every kit line replaced by one line per component (quantity x per kit).

    Adds `kit_quantity`: the units of a line that came from a kit (0 on an item's own
    lines). Revenue and unit price of a kit are not split over its components: the
    component lines carry none. Other columns (date, location, promo) are kept.
    """
    if bom is None or bom.height == 0:
        return sales
    flat = flatten_bom(bom)
    own = sales.join(flat.select("kit_sku").unique(), left_on="sku", right_on="kit_sku", how="anti")
    money = [c for c in ("revenue", "unit_price") if c in sales.columns]
    from_kits = (
        sales.join(
            flat.select(pl.col("kit_sku").alias("sku"), "component_sku", "quantity").rename(
                {"quantity": "per_kit"}
            ),
            on="sku",
        )
        .with_columns(
            pl.col("component_sku").alias("sku"),
            (pl.col("quantity") * pl.col("per_kit")).alias("quantity"),
            *[pl.lit(None, sales.schema[c]).alias(c) for c in money],
        )
        .with_columns(pl.col("quantity").alias("kit_quantity"))
        .drop("component_sku", "per_kit")
    )
    own = own.with_columns(pl.lit(0.0).alias("kit_quantity"))
    return pl.concat([own, from_kits.select(own.columns).cast(own.schema)], how="vertical")


def own_sales(sales: pl.DataFrame) -> pl.DataFrame:
    """The lines an item sold itself (not from kits): for prices from revenue / quantity."""
    if "kit_quantity" not in sales.columns:
        return sales
    return sales.filter(pl.col("kit_quantity") == 0)


def kit_shares(sales: pl.DataFrame, bom: pl.DataFrame | None, as_of) -> pl.DataFrame:
    """sku, location, kit_share, kits: the share of net units sold before as_of that came
    from kits (kit_quantity / quantity), and the kits the component is in."""
    schema = {"sku": pl.String, "location": pl.String, "kit_share": pl.Float64, "kits": pl.String}
    if bom is None or "kit_quantity" not in sales.columns:
        return pl.DataFrame(schema=schema)
    kits = (
        flatten_bom(bom)
        .group_by(pl.col("component_sku").alias("sku"))
        .agg(pl.col("kit_sku").unique().sort().str.join(", ").alias("kits"))
    )
    shares = (
        sales.filter(pl.col("date") < as_of)
        .group_by(SERIES)
        .agg(pl.col("kit_quantity").sum().alias("kit"), pl.col("quantity").sum().alias("all"))
        .join(kits, on="sku")
        .select(
            *SERIES,
            pl.when(pl.col("all") > 0)
            .then((pl.col("kit") / pl.col("all")).clip(0.0, 1.0))
            .otherwise(0.0)
            .alias("kit_share"),
            "kits",
        )
    )
    return shares


def with_own_share(
    history: pl.DataFrame, sales: pl.DataFrame, as_of, bucket: Bucket
) -> pl.DataFrame:
    """`history` with own_share: the share of each bucket's demand the item sold itself,
    not in kits, for the ABC value (`segmentation.classify_demand` values only that part
    of a bucket without revenue; a kit's revenue is not split over its components):

        own_share = (units - kit units) / units      of the bucket's sales lines before as_of

    clipped to [0, 1]; a bucket without lines (or netting to no units) takes the series'
    own share over all its lines, and a series without kit lines 1. `history` unchanged
    when `sales` holds no kit lines (`kit_component_sales`)."""
    if "kit_quantity" not in sales.columns:
        return history
    lines = sales.filter(pl.col("date") < as_of)
    components = lines.filter(pl.col("kit_quantity") != 0).select(SERIES).unique()
    if components.height == 0:
        return history
    units = (
        lines.join(components, on=SERIES, how="semi")
        .group_by(*SERIES, bucket_start(pl.col("date"), bucket).alias("period_start"))
        .agg(
            pl.col("quantity").sum().alias("_all"),
            (pl.col("quantity") - pl.col("kit_quantity")).sum().alias("_own"),
        )
    )
    share = (pl.col("_own") / pl.col("_all")).clip(0.0, 1.0)
    series_share = (pl.col("_own").sum() / pl.col("_all").sum()).clip(0.0, 1.0).over(SERIES)
    return (
        history.join(units, on=[*SERIES, "period_start"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_all") > 0)
            .then(share)
            .otherwise(pl.when(pl.col("_all").sum().over(SERIES) > 0).then(series_share))
            .fill_null(1.0)
            .alias("own_share")
        )
        .drop("_all", "_own")
    )


def kit_skus(bom: pl.DataFrame | None) -> pl.DataFrame:
    """sku: every kit named in the bom."""
    if bom is None:
        return pl.DataFrame(schema={"sku": pl.String})
    return bom.select(pl.col("kit_sku").alias("sku")).unique()
