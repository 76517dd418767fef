"""The plan: its output tables and what explain, charts and projections read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


@dataclass
class Plan:
    """What `stockplan.plan` returns (and the plan cache keeps).

    `tables` holds every output table by name; the named properties read them
    (`plan.orders`, `plan.risk`, ...). `notices` and `expiry_risk` are None when the
    inputs have no customer orders / no lots with an expiry date.
    """

    as_of: dt.date
    tables: dict[str, pl.DataFrame]
    notes: list[str] = field(default_factory=list)
    history: pl.DataFrame | None = None  # demand per bucket, for explain and charts
    open_po: pl.DataFrame | None = None
    bucket_days: int = 7
    plan_rows: pl.DataFrame | None = None  # every sku x location's order row, for projections
    items: pl.DataFrame | None = None  # sku, components: every sku the inputs know (explain)
    # sku, location, own_sales_until, own_pattern: successors classed on their own sales
    # until their switch (`succession.own_history`, explain)
    own_history: pl.DataFrame | None = None
    # a plan whose per-series tables are part files (io.parquet_parts): the summary's
    # counts (lines, value of the order lines, high-risk series), else None
    totals: dict[str, float] | None = None
    # the customer notices in the catalogue's other languages, by language (`tables`
    # holds them in the plan's): the plan cache keeps them, so a later run in another
    # language reads the plan kept (`notices.notices_by_language`)
    notices_in: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def orders(self) -> pl.DataFrame:
        """Purchase suggestions, one row per sku x location."""
        return self.tables["orders"]

    @property
    def order_lines(self) -> pl.DataFrame:
        """The orders a buyer must see: lines to order, and lines kept from ordering that
        need a look (conflicting master data, an order deferred to a supplier's minimum)."""
        from stockplan.reorder import orders_to_show

        return orders_to_show(self.tables["orders"])

    @property
    def risk(self) -> pl.DataFrame:
        """Stockout risk per sku x location."""
        return self.tables["risk"]

    @property
    def transfers(self) -> pl.DataFrame:
        """Stock moved between locations before buying."""
        return self.tables["transfers"]

    @property
    def excess(self) -> pl.DataFrame:
        """Stock above what the policy needs."""
        return self.tables["excess"]

    @property
    def supplier_orders(self) -> pl.DataFrame:
        """The orders summed per supplier."""
        return self.tables["supplier_orders"]

    @property
    def forecast(self) -> pl.DataFrame:
        """Demand forecast per sku x location and future bucket."""
        return self.tables["forecast"]

    @property
    def classes(self) -> pl.DataFrame:
        """ABC / XYZ class and demand pattern per sku x location."""
        return self.tables["classes"]

    @property
    def suppliers(self) -> pl.DataFrame:
        """Supplier scorecard from purchase-order history."""
        return self.tables["suppliers"]

    @property
    def large_orders(self) -> pl.DataFrame:
        """Order lines far above the item's usual line."""
        return self.tables["large_orders"]

    @property
    def notices(self) -> pl.DataFrame | None:
        """Customer orders stock cannot fill today (None without customer orders)."""
        return self.tables.get("notices")

    @property
    def expiry_risk(self) -> pl.DataFrame | None:
        """Lots that expire before they sell (None without expiry dates)."""
        return self.tables.get("expiry_risk")

    def output_tables(self, all_rows: bool = False) -> dict[str, pl.DataFrame]:
        """Every output table by name; orders with every sku x location (`all_rows`) or
        only the lines a buyer must see (`order_lines`; the plan cache keeps them computed
        as `orders_shown`)."""
        tables = {name: frame for name, frame in self.tables.items() if name != "orders_shown"}
        if not all_rows:
            shown = self.tables.get("orders_shown")
            tables["orders"] = shown if shown is not None else self.order_lines
        return tables

    def write(
        self,
        target: str | Path,
        format: str | None = None,
        *,
        table: str = "orders",
        all_rows: bool = False,
        lang: str = "en",
        bom: bool | None = None,
        escape: bool = True,
        for_excel: bool = False,
    ) -> list[Path]:
        """Hand the tables to the writers; return the files written.

        `plan.xlsx`: every table, one sheet each; a folder: one file per table (`format`,
        default csv); `orders.csv` / `.json` / `.parquet`: the one table `table`. Nothing is
        written unless every file is (`io.writers.write_files`). `all_rows=False`: the
        orders table has only the lines a buyer must see (`order_lines`), as the CLI writes.
        `bom` None: CSV files holding non-ASCII text start with a UTF-8 BOM; `for_excel`:
        codes Excel would change written `="011491"` (`io.writers.write_csv`).
        """
        from stockplan import __version__
        from stockplan.io.writers import output_plan, write_files

        files = output_plan(self.output_tables(all_rows), Path(target), format, table)  # type: ignore[arg-type]
        return write_files(
            files,
            bom=bom,  # None: by content, as Excel on Chinese Windows needs it
            escape=escape,
            for_excel=for_excel,
            lang=lang,
            info={"as_of": self.as_of, "version": __version__},
        )


PlanResult = Plan
"""The name the plan had before the Python API (kept for code that imports it)."""
