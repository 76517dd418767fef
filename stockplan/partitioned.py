"""The plan on a cluster, partitioned by sku once: every per-series stage runs in the
partition that holds the series, the driver computes only what is global.

Each sku (with all its locations, so transfers between locations stay inside one
partition) goes to partition `hash(sku) mod n`. Three steps over the partitions, each
result kept on the worker that made it:

1. demand stage (`pipeline.demand_stage`: censoring, demand history, classes) on the
   partition's own rows; only (sku, location, annual_value) comes back;
2. the driver ranks ABC by value over every series (`segmentation.abc_by_value`) and
   hands each partition the classes; the partition forecasts (local engine: backtest,
   model choice and combination, error spread), resolves its stock position and draws its
   lead-time demand (`pipeline.supply_stage`); only the standardised backtest-window
   shortfalls come back, one number per series and window, pooled by demand pattern on
   the driver (`series.pooled_error_scores`);
3. with the pooled scores, the partition computes order-up-to levels, orders, transfers,
   stockout risk and backup switches (`pipeline.order_stage`) and returns its per-series
   rows.

Global and small, on the driver: lead times, backup lead times and the supplier
scorecard (they pool each supplier's receipts over all its skus; computed from the
purchase orders before partitioning), ABC, the pooled error scores, then the budget,
minimum order values, full loads and supplier totals over the order lines
(`pipeline.plan_result`).

What is computed within a partition rather than over all series: the lead-time-demand
bootstrap's random draws and its recalibration per demand pattern (`lead_time_demand`),
so under `policy.lead_time_demand: auto | block | days` the levels differ from a local
run by the bootstrap's sampling noise; with `parametric` the plan equals the local one.
Kits (`bom`), successions, promotions (uplift pooled by product category) and
`forecast.pooled_seasonality` link series across skus and are refused.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from stockplan.config import Config
from stockplan.demand import SERIES, default_as_of
from stockplan.engines import Cluster, engine_session
from stockplan.errors import StockplanError
from stockplan.item_rules import item_tables
from stockplan.leadtime import backup_lead_times, resolve_lead_times, supplier_scorecard
from stockplan.pipeline import (
    DemandStage,
    OrderStage,
    Progress,
    SupplyStage,
    demand_stage,
    order_stage,
    plan_result,
    supply_stage,
)
from stockplan.result import PlanResult
from stockplan.segmentation import abc_by_value

SERIES_PER_PARTITION = 10_000
"""Partitions hold about this many sku x location series (and at least one per worker):
small enough that a partition's history and backtest stay well inside a worker's memory."""

CROSS_SKU_TABLES = ("bom", "succession", "promotions")
"""Inputs that link series of different skus: not partitioned yet."""


def _quiet(_message: str, total: int | None = None) -> None:
    return None


def partition_count(series: int, workers: int) -> int:
    """n = max(workers, ceil(series / SERIES_PER_PARTITION))."""
    return max(workers, math.ceil(series / SERIES_PER_PARTITION))


def partition_of(n: int, sku: pl.Expr | None = None) -> pl.Expr:
    """The partition of a row: a seeded hash of its sku (`sku`, else the column `sku`)
    mod n (stable for one polars)."""
    return ((pl.col("sku") if sku is None else sku).hash(seed=18) % n).cast(pl.Int64)


def split_tables(tables: dict[str, pl.DataFrame], n: int) -> list[dict[str, pl.DataFrame]]:
    """Every table with a sku column cut into its n partitions; the others whole in each."""
    parts: list[dict[str, pl.DataFrame]] = [{} for _ in range(n)]
    for name, frame in tables.items():
        if frame is None or "sku" not in frame.columns:
            for part in parts:
                part[name] = frame
            continue
        by_part = frame.with_columns(partition_of(n).alias("_partition")).partition_by(
            "_partition", as_dict=True, include_key=False, maintain_order=True
        )
        empty = frame.clear()
        for index, part in enumerate(parts):
            part[name] = by_part.get((index,), empty)
    return parts


def check_partitionable(tables: dict[str, pl.DataFrame], config: Config) -> None:
    """One-line refusal for the inputs the partitioned plan cannot split by sku yet."""
    for name in CROSS_SKU_TABLES:
        if tables.get(name) is not None:
            raise StockplanError(
                f"forecast.engine {config.forecast.engine}: inputs.{name} links skus across "
                "partitions and is not supported on a cluster yet (use forecast.engine: local)"
            )
    if config.forecast.pooled_seasonality:
        raise StockplanError(
            f"forecast.engine {config.forecast.engine}: forecast.pooled_seasonality pools the "
            "whole catalogue and is not supported on a cluster yet (use forecast.engine: local)"
        )


# ---- the steps each partition runs (module level: the workers import them) ----


@dataclass
class _Part:
    demand: DemandStage
    supply: SupplyStage | None = None
    ordered: OrderStage | None = None


def _step_demand(tables: dict[str, pl.DataFrame], config: Config) -> _Part:
    return _Part(demand_stage(tables, config))


def _annual_values(part: _Part) -> pl.DataFrame:
    return part.demand.classes.select(*SERIES, "annual_value")


def _step_supply(part: _Part, abc: pl.DataFrame, lead_times: pl.DataFrame, config: Config) -> _Part:
    demand = part.demand
    columns = demand.classes.columns
    demand.classes = demand.classes.drop("abc").join(abc, on=SERIES, how="left").select(columns)
    part.supply = supply_stage(demand, config, _quiet, lead_times=lead_times)
    return part


def _error_scores(part: _Part) -> dict[str, np.ndarray]:
    assert part.supply is not None
    return part.supply.error_scores


def _step_orders(
    part: _Part,
    scores: dict[str, np.ndarray],
    scorecard: pl.DataFrame,
    backups: pl.DataFrame,
    config: Config,
) -> _Part:
    assert part.supply is not None
    part.supply.error_scores = scores
    part.ordered = order_stage(
        part.demand, part.supply, config, _quiet, scorecard=scorecard, backups=backups
    )
    part.supply.draws = None  # the draws stay here; the driver needs only the orders
    return part


def _rows(part: _Part) -> _Part:
    """What the driver gets back of a partition: its stages without the input tables, the
    sales lines reduced to each series' last sale (for the excess table) and no excluded
    days; the bucketed demand history stays (for `explain`)."""
    demand = part.demand
    last_sale = (
        demand.sales.filter((pl.col("quantity") > 0) & (pl.col("date") < demand.as_of))
        .group_by(SERIES)
        .agg(pl.col("date").max())
        .with_columns(pl.lit(1.0).alias("quantity"))
    )
    part.demand = replace(demand, tables={}, sales=last_sale, excluded=demand.excluded.clear())
    return part


# ---- the driver ----


def _concat(frames: list[pl.DataFrame | None]) -> pl.DataFrame | None:
    present = [f for f in frames if f is not None]
    if not present:
        return None
    frame = pl.concat([f for f in present if f.height] or present[:1], how="diagonal_relaxed")
    keys = [c for c in (*SERIES, "period_start") if c in frame.columns]
    return frame.sort(keys, maintain_order=True) if "sku" in keys else frame


def _pooled(scores: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    patterns = sorted({p for part in scores for p in part})
    return {
        p: np.concatenate([part[p] for part in scores if p in part]).astype(float) for p in patterns
    }


def partitioned_plan(
    tables: dict[str, pl.DataFrame],
    config: Config,
    *,
    include_all: bool = False,
    progress: Progress | None = None,
    read: WorkerInputs | None = None,
) -> PlanResult:
    """The plan of `pipeline.run_plan`, every per-series stage on the cluster of
    `forecast.engine`, partitioned by sku (module docstring). Without a `sales` table the
    tasks read the sales dataset of `inputs.sales` themselves (`read_on_workers`)."""
    say = progress or _quiet
    check_partitionable(tables, config)
    if "sales" not in tables and read is None:
        with engine_session(config.forecast) as cl:
            assert cl is not None
            read = read_on_workers(cl, tables, config, say)
            result = partitioned_plan(
                read.tables, config, include_all=include_all, progress=progress, read=read
            )
        result.notes = read.notes + result.notes
        return result
    as_of = config.planning.as_of or default_as_of(tables["sales"])
    engine = config.forecast
    # inside a partition the forecast runs in the worker process itself (one core each)
    config = config.model_copy(
        update={
            "planning": config.planning.model_copy(update={"as_of": as_of}),
            "forecast": config.forecast.model_copy(update={"engine": "local", "n_jobs": 1}),
        }
    )
    item_view, lots = item_tables(tables)
    universe = pl.concat(
        [
            item_view[name].select(SERIES)
            for name in ("stock", "sales", "purchase_orders")
            if item_view.get(name) is not None
        ]
    ).unique()
    products, suppliers = tables.get("products"), tables.get("suppliers")
    purchase_orders = tables.get("purchase_orders")
    lead_times = resolve_lead_times(
        universe, products, suppliers, purchase_orders, config.lead_time
    )
    backups = backup_lead_times(universe, products, suppliers, purchase_orders, config.lead_time)
    scorecard = supplier_scorecard(purchase_orders, config.supplier_tiers)
    with engine_session(engine) as cl:
        assert cl is not None
        n = partition_count(universe.height, cl.workers) if read is None else read.n
        say(f"planning {universe.height} series in {n} partitions on {cl.name}")
        handles = cl.scatter(split_tables(tables, n)) if read is None else read.handles
        say("building demand history")
        handles = cl.map(_step_demand, handles, config)
        values = pl.concat(cl.gather(cl.map(_annual_values, handles)))
        abc = abc_by_value(values, config.classify).select(*SERIES, "abc")
        say("forecasting series")
        handles = cl.map(_step_supply, handles, abc, lead_times, config)
        scores = _pooled(cl.gather(cl.map(_error_scores, handles)))
        say("computing safety stock, orders and stockout risk")
        handles = cl.map(_step_orders, handles, scores, scorecard, backups, config)
        staging = parts_staging(config, universe.height)
        if staging is not None:  # the forecast and history stay out of the driver
            handles = cl.map(_write_parts, handles, staging)
        parts: list[_Part] = cl.gather(cl.map(_rows, handles))
    demand, supply, ordered = _combined(parts, item_view, lots, as_of, config, scores, scorecard)
    result = plan_result(tables, demand, supply, ordered, config, include_all=include_all)
    if staging is not None:
        result.notes.append(
            f"the forecast and demand history of {universe.height} series were written by "
            "the workers as part files (forecast/, history/ in the output folder)"
        )
    return result


def _combined(
    parts: list[_Part],
    tables: dict[str, pl.DataFrame],
    lots: pl.DataFrame | None,
    as_of: dt.date,
    config: Config,
    scores: dict[str, np.ndarray],
    scorecard: pl.DataFrame,
) -> tuple[DemandStage, SupplyStage, OrderStage]:
    """The partitions' stages as one, over every series (sorted by sku, location)."""

    def all_of(stage: str, name: str) -> pl.DataFrame | None:
        return _concat([getattr(getattr(p, stage), name) for p in parts])

    demand = DemandStage(
        tables=tables,
        lots=lots,
        sales=all_of("demand", "sales"),
        as_of=as_of,
        excluded=all_of("demand", "excluded"),
        large_orders=all_of("demand", "large_orders"),
        history=all_of("demand", "history"),
        attributes=all_of("demand", "attributes"),
        uplift=all_of("demand", "uplift"),
        # in ABC rank order, as `classify_demand` returns them
        classes=all_of("demand", "classes").sort(
            ["annual_value", *SERIES], descending=[True, False, False]
        ),
    )
    supply = SupplyStage(
        forecast=all_of("supply", "forecast"),
        summary=all_of("supply", "summary"),
        error_scores=scores,
        universe=all_of("supply", "universe"),
        lead_times=all_of("supply", "lead_times"),
        open_po=all_of("supply", "open_po"),
        closures=parts[0].supply.closures if parts[0].supply else None,
        base=all_of("supply", "base"),
        series=all_of("supply", "series"),
        expiring=all_of("supply", "expiring"),
        caps=all_of("supply", "caps"),
        draws=None,
    )
    ordered = OrderStage(
        orders=all_of("ordered", "orders"),
        # the orders of `risk.stockout_risk` and `transfers.plan_transfers`
        risk=all_of("ordered", "risk").sort(
            ["stockout_probability", "revenue_at_risk", *SERIES],
            descending=[True, True, False, False],
            nulls_last=True,
        ),
        transfers=all_of("ordered", "transfers").sort(["sku", "to_location", "from_location"]),
        rebalanced=all_of("ordered", "rebalanced"),
        series=all_of("ordered", "series"),
        caps=all_of("ordered", "caps"),
        scorecard=scorecard,
    )
    return demand, supply, ordered


# ---- sales read by the tasks themselves (a Parquet dataset: folder or glob) ----


@dataclass
class _Read:
    """A task's own sales slice with the partition's other tables, or the error it met."""

    tables: dict[str, pl.DataFrame] | None
    facts: dict[str, pl.DataFrame]
    notes: list[str]
    error: tuple[int, str] | None = None


@dataclass
class WorkerInputs:
    """The partitions' inputs, held by the tasks that read them: `handles` (one per
    partition, `n` of them), and on the driver the small tables with `sales` standing for
    one row per series sold (sku, location, last date), the warnings and notes."""

    n: int
    handles: object
    tables: dict[str, pl.DataFrame]
    notes: list[str]


def _step_read(
    item: tuple[int, dict[str, pl.DataFrame]],
    n: int,
    stock_locations: list[str],
    config: Config,
) -> _Read:
    """Partition `index` of n reads the rows of the sales dataset whose sku hashes to it,
    types and checks them (`io.datasets.read_dataset`, `io.prepare.prepare_sales_slice`).
    A bad cell is returned as its one-line message, not raised: every engine then brings
    it back to the driver as it is (Ray and Spark wrap a raised error in their traceback)."""
    from stockplan.io.datasets import read_dataset
    from stockplan.io.prepare import prepare_sales_slice

    index, tables = item
    spec = config.inputs.sales if config.inputs is not None else None
    notes: list[str] = []
    try:
        sales = read_dataset(
            "sales",
            spec.path,  # type: ignore[union-attr]
            config.columns.get("sales", {}),
            config.io.identify_by,
            notes,
            keep=lambda sku: partition_of(n, sku) == index,
        )
        sales, facts = prepare_sales_slice(sales, stock_locations, tables.get("products"), config)
    except StockplanError as exc:
        return _Read(None, {}, [], (getattr(exc, "part_file_index", -1), str(exc)))
    return _Read({**tables, "sales": sales}, facts, notes)


def _read_facts(read: _Read) -> _Read:
    return _Read(None, read.facts, read.notes, read.error)


def _read_tables(read: _Read) -> dict[str, pl.DataFrame]:
    assert read.tables is not None
    return read.tables


def read_on_workers(
    cl: Cluster, tables: dict[str, pl.DataFrame], config: Config, say: Progress
) -> WorkerInputs:
    """Each partition's task reads and checks its own slice of the sales dataset; the
    driver gets back only small facts: the first bad cell of any partition (raised here as
    its one line, the earliest part file first), unknown skus, late sales, the locations
    and one row per series."""
    from stockplan.io.prepare import UNCHECKED_LOCATIONS, check_sales_facts

    stock = tables["stock"]
    known = pl.concat(
        [tables[t].select(SERIES) for t in ("stock", "purchase_orders") if t in tables]
    ).unique()
    n = partition_count(known.height, cl.workers)
    say(f"reading the sales dataset in {n} partitions on {cl.name}")
    small = {name: frame for name, frame in tables.items() if name != UNCHECKED_LOCATIONS}
    handles = cl.scatter(list(enumerate(split_tables(small, n))))
    locations = sorted(stock["location"].drop_nulls().unique().to_list())
    if config.forecast.engine_address and config.inputs is not None:
        # another machine's workers have another working folder: the absolute path
        spec = config.inputs.sales
        resolved = spec.model_copy(update={"path": spec.path.absolute()})  # type: ignore[union-attr]
        inputs = config.inputs.model_copy(update={"sales": resolved})
        config = config.model_copy(update={"inputs": inputs})
    handles = cl.map(_step_read, handles, n, locations, config)
    reads: list[_Read] = cl.gather(cl.map(_read_facts, handles))
    errors = sorted(r.error for r in reads if r.error is not None)
    if errors:
        raise StockplanError(errors[0][1])
    facts = [r.facts for r in reads]
    series = pl.concat([f["series"] for f in facts])
    if series.height == 0:
        raise StockplanError(f"{config.source('sales')}: has no data rows")
    warnings = check_sales_facts(facts, tables, config)
    sold = series.with_columns(pl.lit(1.0).alias("quantity"))
    notes = [note for r in reads for note in r.notes] + warnings
    return WorkerInputs(n, cl.map(_read_tables, handles), {**small, "sales": sold}, notes)


# ---- the forecast and the demand history written by the tasks (io.parts) ----


def parts_staging(config: Config, series: int) -> str | None:
    """The staging folder the tasks write their part files into: when the command offers
    a Parquet output folder (`io.parts.offering`) and `io.parquet_parts` is on, or auto
    with at least `io.parquet_parts_series` series; else None."""
    from stockplan.io.parts import offered

    target, mode = offered(), config.io.parquet_parts
    if target is None or mode == "off":
        return None
    if mode == "auto" and series < config.io.parquet_parts_series:
        return None
    return str(target.stage())


def _write_parts(part: _Part, staging: str) -> _Part:
    """The partition's forecast and demand history as part files (named by a hash of its
    first sku), as the writers would write them (planning date on every row, no NaN);
    the stages keep empty frames of the same columns."""
    from stockplan.io.parts import write_part
    from stockplan.io.writers import finite
    from stockplan.items import for_people

    assert part.supply is not None
    demand, supply = part.demand, part.supply
    if demand.classes.height:
        first = pl.Series([demand.classes["sku"].min()], dtype=pl.String).hash(seed=0)[0]
        name = f"{first:016x}"
        for table, frame in (("forecast", supply.forecast), ("history", demand.history)):
            keys = [c for c in (*SERIES, "period_start") if c in frame.columns]
            written = for_people({table: frame.sort(keys)}, pl.DataFrame(), demand.as_of)
            write_part(staging, table, name, finite(written[table]))
    supply.forecast = supply.forecast.clear()
    demand.history = demand.history.clear()
    return part
