"""The plan on a cluster, partitioned by sku once: every per-series stage runs in the
partition that holds the series, the driver computes only what is global.

Each sku (with all its locations, so transfers between locations stay inside one
partition) goes to partition `hash(sku) mod n`; skus linked by a kit (parent and
components) or a succession (predecessor and successor) go where the smallest sku of
their connected group goes (`linked_groups`). Steps over the partitions, each result
kept on the worker that made it; only small things travel:

1. demand stage (`pipeline.demand_stage`: censoring, demand history, classes) on the
   partition's own rows; back come (sku, location, annual_value), the established
   series with a category (`forecast.prior_inputs`, a few numbers per series), the
   promotion sums per category (`promotions.category_uplift_sums`) and the dead-item
   check's counts per length of silence (`forecast.come_back_sums`);
2. the driver ranks ABC by value over every series (`segmentation.abc_by_value`); the
   partition measures its promotion lift again with every partition's category sums and
   backtests (`pipeline.backtest_stage`, category priors measured on every
   partition's established series, the dead-item rule checked on every partition's
   counts) and returns the intermittent pools' MAE / scale sums per pattern and model
   or combination of models (`forecast.pool_scores`);
3. with the pools ranked over every partition (`forecast.pool_ranking`) the partition
   forecasts (`forecast.forecast_paths`, its short intermittent / lumpy items with their
   pattern's pooled models) and keeps the band's signed conformity scores per pool,
   pattern and step; the driver finds their quantiles over every partition from counts
   (`ranks.order_statistics`: a few passes, each returning at most `ranks.BINS` numbers
   per quantile, never the scores);
4. with those band widths (`forecast.pooled_band_widths`) the partition finishes the
   forecast, resolves its stock position and runs the lead-time-demand calibration
   (`pipeline.supply_stage`, draws deferred); back come the calibration counts per
   method, half, measure, level and pattern and, with `quantile_method: conformal`, the
   service levels planned per pattern; the standardised backtest-window shortfalls stay
   and are ranked as the band scores are;
5. with the conformal safety factors per pattern and service level
   (`policy.ConformalFactors`) and the counts
   added (`lead_time_demand.add_calibration_sums`), the partition draws its lead-time
   demand (each series from its own random stream, `random_streams`), computes
   order-up-to levels, orders, transfers, stockout risk and backup switches
   (`pipeline.order_stage`) and returns its per-series rows.

The local plan runs the same functions on one set of series (its own sums, scores and
ranking), so with the same inputs the two plans are the same.

Global and small, on the driver: each supplier's lead-time statistics
(`leadtime.supplier_lead_time_stats`, one row per supplier, with which each partition
resolves its own series' lead times and backup lead times in steps 4 and 5) and the
supplier scorecard (they pool each supplier's receipts over all its skus; computed from
the purchase orders before partitioning), ABC, the pooled statistics above, then the budget,
minimum order values, full loads and supplier totals over the order lines
(`pipeline.plan_result`); on a large run (part files, `parts_staging`) these from
per-supplier sums and only the rows the rules act on, the per-series tables written by
the workers (`partitioned_purchasing`).

With `forecast.pooled_seasonality` the catalogue's seasonal profile is summed over every
partition too (`forecast.seasonal_sums` at the latest forecast origin of any partition,
returned in step 2, the factors sent with the ranking in step 3).

A promotion row without a sku (a whole category) goes to every partition.

Sales, stock and products given as Parquet datasets are read by the partitions' tasks,
each its own slice of skus (`read_on_workers`); the driver gets back small facts, one row
per series sold and per series stocked, and the products' rows (one per sku: the
purchasing rules and item names need them). The purchase orders and suppliers are read on
the driver: the suppliers' lead-time statistics and the scorecard pool each supplier's
receipts.
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
from stockplan.errors import StockplanError, input_error
from stockplan.forecast import (
    ForecastBacktests,
    ForecastPaths,
    backtest_periods,
    band_rank,
    come_back_sums,
    forecast_paths,
    history_origin,
    pool_ranking,
    pooled_band_widths,
    pooled_factors,
    prior_inputs,
    series_stats,
)
from stockplan.i18n import counted_text, phrase, place
from stockplan.io.columns import ROW
from stockplan.io.datasets import SOURCE_FILE
from stockplan.item_rules import item_tables
from stockplan.lead_time_demand import add_calibration_sums
from stockplan.leadtime import (
    backup_lead_times,
    resolve_lead_times,
    supplier_lead_time_stats,
    supplier_scorecard,
)
from stockplan.pipeline import (
    DemandStage,
    OrderStage,
    Progress,
    SupplyStage,
    backtest_stage,
    demand_stage,
    finish_draws,
    order_stage,
    plan_result,
    supply_stage,
)
from stockplan.policy import MIN_CONFORMAL_SCORES, ConformalFactors, conformal_rank
from stockplan.promotions import category_uplift_sums, uplift_from
from stockplan.ranks import Request, Summarise, Summary, add_summaries, answer, order_statistics
from stockplan.reorder import service_levels
from stockplan.result import PlanResult
from stockplan.segmentation import abc_by_value, in_value_order
from stockplan.series import product_categories

SERIES_PER_PARTITION = 10_000
"""Partitions hold about this many sku x location series (and at least one per worker):
small enough that a partition's history and backtest stay well inside a worker's memory."""

CROSS_SKU_TABLES: tuple[str, ...] = ()
"""Inputs that link series of different skus and are not partitioned yet (none)."""

LINKS = {"bom": ("kit_sku", "component_sku"), "succession": ("old_sku", "new_sku")}
"""Tables whose rows link two skus that must plan in one partition (kit and component,
predecessor and successor)."""


def _quiet(_message: str, total: int | None = None) -> None:
    return None


def partition_count(series: int, workers: int) -> int:
    """n = max(workers, ceil(series / SERIES_PER_PARTITION))."""
    return max(workers, math.ceil(series / SERIES_PER_PARTITION))


def partition_of(n: int, sku: pl.Expr | None = None, groups: pl.DataFrame | None = None) -> pl.Expr:
    """The partition of a row: a seeded hash of its sku (`sku`, else the column `sku`)
    mod n (stable for one polars); with `groups` (`linked_groups`) a linked sku's group's
    smallest sku instead (as `partition_of_group`)."""
    key = pl.col("sku") if sku is None else sku
    if groups is not None:
        key = key.cast(pl.String).replace(groups["sku"], groups["group"])
    return (key.hash(seed=18) % n).cast(pl.Int64)


def linked_groups(tables: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    """sku, group: the skus linked by a kit (parent and components) or a succession
    (predecessor and successor), each with the smallest sku of its connected group; None
    without links. Connected components by label propagation: every sku takes the
    smallest label among its neighbours' until none changes (one pass per link of the
    longest chain; the tables are small)."""
    pairs = [
        tables[name].select(pl.col(a).alias("a"), pl.col(b).alias("b"))
        for name, (a, b) in LINKS.items()
        if tables.get(name) is not None and tables[name].height
    ]
    if not pairs:
        return None
    edges = pl.concat(pairs).cast(pl.String).unique()
    edges = pl.concat([edges, edges.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    label = (
        edges.select(pl.col("a").alias("sku")).unique().with_columns(pl.col("sku").alias("group"))
    )
    while True:
        lowest = (
            edges.join(label, left_on="b", right_on="sku")
            .group_by("a")
            .agg(pl.col("group").min().alias("neighbour"))
        )
        moved = label.join(lowest, left_on="sku", right_on="a", how="left").with_columns(
            pl.min_horizontal("group", "neighbour").alias("group")
        )
        if (moved["group"] == label.join(moved, on="sku")["group"]).all():
            return label.sort("sku")
        label = moved.select("sku", "group")


def partition_of_group(n: int) -> pl.Expr:
    """`partition_of` for a row with a `_group` column (a linked sku's group, else null)."""
    return (pl.coalesce("_group", "sku").hash(seed=18) % n).cast(pl.Int64)


def split_tables(
    tables: dict[str, pl.DataFrame], n: int, groups: pl.DataFrame | None = None
) -> list[dict[str, pl.DataFrame]]:
    """Every table with a sku column cut into its n partitions; the others whole in each.
    `groups` (`linked_groups`): a linked sku goes where its group's smallest sku goes."""
    parts: list[dict[str, pl.DataFrame]] = [{} for _ in range(n)]
    for name, frame in tables.items():
        if frame is None or "sku" not in frame.columns:
            for part in parts:
                part[name] = frame
            continue
        keyed, where = frame, partition_of(n)
        if groups is not None:
            keyed = frame.join(
                groups.rename({"group": "_group"}), on="sku", how="left", maintain_order="left"
            )
            where = partition_of_group(n)
        by_part = (
            keyed.with_columns(where.alias("_partition"))
            .drop("_group", strict=False)
            .partition_by("_partition", as_dict=True, include_key=False, maintain_order=True)
        )
        everywhere = frame.filter(pl.col("sku").is_null())  # a promotion by category
        empty = frame.clear()
        for index, part in enumerate(parts):
            own = by_part.get((index,), empty)
            if everywhere.height:
                own = pl.concat([own.filter(pl.col("sku").is_not_null()), everywhere])
            part[name] = own
    return parts


def check_partitionable(tables: dict[str, pl.DataFrame], config: Config) -> None:
    """One-line refusal for the inputs the partitioned plan cannot split by sku yet."""
    for name in CROSS_SKU_TABLES:
        if tables.get(name) is not None:
            raise StockplanError(
                phrase("error.engine_cross_sku", engine=config.forecast.engine, table=name)
            )


# ---- the steps each partition runs (module level: the workers import them) ----


@dataclass
class _Part:
    demand: DemandStage
    supply: SupplyStage | None = None
    ordered: OrderStage | None = None
    backtests: ForecastBacktests | None = None
    paths: ForecastPaths | None = None


def _step_demand(tables: dict[str, pl.DataFrame], config: Config) -> _Part:
    return _Part(demand_stage(tables, config))


def _annual_values(part: _Part) -> pl.DataFrame:
    return part.demand.classes.select(*SERIES, "annual_value")


def _prior_inputs(part: _Part, config: Config) -> tuple[pl.DataFrame, pl.DataFrame, tuple]:
    """The partition's established series with a category (`forecast.prior_inputs`), its
    promotion sums per category (`promotions.category_uplift_sums`) and the dead-item
    check's sums (`forecast.come_back_sums`)."""
    demand = part.demand
    settings, bucket = config.forecast, config.planning.bucket
    series = series_stats(demand.history, demand.classes, settings, bucket)
    products = demand.tables.get("products")
    sums = demand.uplift_sums if demand.uplift_sums is not None else pl.DataFrame()
    return (
        prior_inputs(series, product_categories(products)),
        category_uplift_sums(sums, products),
        come_back_sums(series, settings.dead_probability, backtest_periods(settings, bucket)),
    )


def _with_category_uplift(demand: DemandStage, category_sums: pl.DataFrame, config: Config) -> None:
    """The measured promotion lift again, pooled by category over every partition."""
    if demand.uplift_sums is None:
        return
    products = demand.tables.get("products")
    uplift = uplift_from(
        demand.uplift_sums, demand.history, products, config.promotions, category_sums
    )
    demand.uplift = uplift
    demand.classes = (
        demand.classes.join(uplift.rename({"measured_uplift": "_uplift"}), on=SERIES, how="left")
        .with_columns(pl.col("_uplift").alias("measured_uplift"))
        .drop("_uplift")
    )


def _history_origin(part: _Part, config: Config) -> dt.date | None:
    return history_origin(part.demand.history, config.planning.bucket)


@dataclass
class _Shared:
    """What every partition gets for its backtest (one object: an engine would scatter the
    entries of a bare tuple or dict one by one)."""

    abc: pl.DataFrame
    prior_series: pl.DataFrame
    origin: dt.date | None
    category_uplift: pl.DataFrame
    come_back: list


def _step_backtest(part: _Part, shared: _Shared, config: Config) -> _Part:
    demand = part.demand
    columns = demand.classes.columns
    demand.classes = (
        demand.classes.drop("abc").join(shared.abc, on=SERIES, how="left").select(columns)
    )
    _with_category_uplift(demand, shared.category_uplift, config)
    part.backtests = backtest_stage(
        demand, config, _quiet, shared.prior_series, shared.origin, shared.come_back
    )
    return part


def _pool_scores(part: _Part) -> tuple[pl.DataFrame, tuple[int, np.ndarray]]:
    """The intermittent pools' MAE / scale sums and the pooled seasonality's sums."""
    assert part.backtests is not None
    return part.backtests.pool_scores, part.backtests.seasonal


def _step_forecast(part: _Part, ranked: pl.DataFrame, factors: pl.DataFrame) -> _Part:
    assert part.backtests is not None
    part.paths = forecast_paths(part.backtests, ranked, factors)
    part.backtests = None
    return part


def _own_lead_times(
    demand: DemandStage, supplier_lead_times: pl.DataFrame, config: Config, backup: bool
) -> pl.DataFrame:
    """The partition's series' (backup) lead times from its own purchase orders and
    products, with the lead-time statistics of every supplier pooled over every partition."""
    tables = demand.tables
    purchase_orders = tables.get("purchase_orders")
    series = pl.concat(
        [tables["stock"].select(SERIES), demand.history.select(SERIES)]
        + ([purchase_orders.select(SERIES)] if purchase_orders is not None else [])
    )
    resolve = backup_lead_times if backup else resolve_lead_times
    return resolve(
        series,
        tables.get("products"),
        tables.get("suppliers"),
        purchase_orders,
        config.lead_time,
        supplier_lead_times,
    )


def _step_supply(
    part: _Part, widths: pl.DataFrame, supplier_lead_times: pl.DataFrame, config: Config
) -> _Part:
    lead_times = _own_lead_times(part.demand, supplier_lead_times, config, backup=False)
    part.supply = supply_stage(
        part.demand,
        config,
        _quiet,
        lead_times=lead_times,
        paths=part.paths,
        widths=widths,
        defer_draws=True,
    )
    part.paths = None
    return part


def _calibration_counts(part: _Part) -> dict[str, np.ndarray]:
    """The partition's lead-time-demand calibration counts."""
    assert part.supply is not None
    pending = part.supply.pending
    return pending.sums if pending is not None else {}


@dataclass
class _Pooled:
    """What the driver pooled over every partition after the supply step (one object, as
    an engine would scatter the entries of a bare dict one by one): the conformal safety
    factors per pattern at its service levels and the lead-time-demand calibration counts."""

    scores: dict[str, ConformalFactors]
    calibration: dict[str, np.ndarray]


def _step_orders(
    part: _Part,
    pooled: _Pooled,
    scorecard: pl.DataFrame,
    supplier_lead_times: pl.DataFrame,
    config: Config,
) -> _Part:
    assert part.supply is not None
    backups = _own_lead_times(part.demand, supplier_lead_times, config, backup=True)
    part.supply.error_scores = pooled.scores
    finish_draws(part.supply, pooled.calibration)
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


# ---- quantiles pooled over the partitions with the scores left where they are ----


def _band_values(part: _Part) -> dict[tuple, np.ndarray]:
    """The partition's signed band scores per (pool, pattern, step, "signed") and their
    absolute values per (pool, pattern, step, "abs")."""
    assert part.paths is not None
    values: dict[tuple, np.ndarray] = {}
    for key, scores in part.paths.band_scores.items():
        values[(*key, "signed")] = scores
        values[(*key, "abs")] = np.abs(scores)
    return values


def _band_ranks(part: _Part, request: Request) -> object:
    return answer(_band_values(part), request)


def _pooled_band_widths(cl: Cluster, handles: object, config: Config) -> pl.DataFrame:
    """`forecast.band_widths` of every partition's band scores, with the scores left on
    the workers: per (pool, pattern, step) the count and sum of squares of the signed
    scores s of every partition, then the exact order statistics `band_quantiles` takes
    (`ranks.order_statistics`): |s| at rank `band_rank(n, level)`, s at r =
    `band_rank(n, (1 + level) / 2)` and, for the lower tail, -s at r, the negative of s
    at rank n - r + 1 (NaN last in both orders)."""

    def fetch(request: Request) -> list:
        return cl.gather(cl.map(_band_ranks, handles, request))

    summaries: dict = add_summaries(fetch(Summarise()))
    level = config.forecast.interval_level / 100.0
    tail = (1 + level) / 2

    def ranks_of(s: Summary) -> tuple[int, int, int]:
        upper = band_rank(s.count, tail)
        return band_rank(s.count, level), upper, s.count - upper + 1

    signed = {key[:-1]: s for key, s in summaries.items() if key[-1] == "signed" and s.count}
    wanted: dict = {}
    for key, s in signed.items():
        width, upper, lower = ranks_of(s)
        wanted[(*key, "abs")] = [width]
        wanted[(*key, "signed")] = [upper, lower]
    found = order_statistics(fetch, summaries, wanted)
    quantiles = {}
    for key, s in signed.items():
        width, upper, lower = ranks_of(s)
        quantiles[key] = (
            found[((*key, "abs"), width)],
            found[((*key, "signed"), upper)],
            -found[((*key, "signed"), lower)],
            s.sum_squares / s.count,
        )
    return pooled_band_widths(quantiles, config.planning.horizon_periods)


def _error_ranks(part: _Part, request: Request) -> object:
    """`ranks.answer` on the partition's standardised backtest-window shortfalls per
    demand pattern (`series.pooled_error_scores` of its series)."""
    assert part.supply is not None
    return answer(part.supply.error_scores, request)


def _planned_levels(part: _Part, config: Config) -> dict[str, np.ndarray]:
    """Demand pattern -> the distinct service levels its series are planned at
    (`reorder.service_levels`, as `reorder.plan_orders` sets them)."""
    assert part.supply is not None
    series = part.supply.series
    levels = (
        series.select("demand_pattern", service_levels(series, config.policy))
        .drop_nulls("demand_pattern")
        .group_by("demand_pattern")
        .agg(pl.col("service_level").unique())
    )
    return {pattern: np.asarray(found, dtype=float) for pattern, found in levels.iter_rows()}


def _pooled_conformal_factors(
    cl: Cluster, handles: object, config: Config
) -> dict[str, ConformalFactors]:
    """Demand pattern -> its conformal safety factors (`policy.conformal_factor` of the
    shortfalls of every partition) at every service level its series are planned at, the
    shortfalls left on the workers: the pooled count per pattern (`MIN_CONFORMAL_SCORES`
    holds on it), the levels of every partition, then the exact order statistic at each
    level's `policy.conformal_rank` (`ranks.order_statistics`); NaN if a shortfall is
    NaN, as numpy's quantile gives. Nothing without `quantile_method: conformal` (cycle
    service), which alone reads them."""
    policy = config.policy
    if policy.quantile_method != "conformal" or policy.service_measure != "cycle":
        return {}

    def fetch(request: Request) -> list:
        return cl.gather(cl.map(_error_ranks, handles, request))

    summaries: dict = add_summaries(fetch(Summarise()))
    levels: dict[str, np.ndarray] = {}
    for part in cl.gather(cl.map(_planned_levels, handles, config)):
        for pattern, found in part.items():
            levels[pattern] = np.union1d(levels.get(pattern, np.zeros(0)), found)
    none = np.zeros(0)
    factors = {pattern: ConformalFactors(s.count, none, none) for pattern, s in summaries.items()}
    wanted = {
        pattern: sorted(set(conformal_rank(s.count, levels[pattern]).tolist()))
        for pattern, s in summaries.items()
        if pattern in levels and s.count >= MIN_CONFORMAL_SCORES
    }
    found = order_statistics(fetch, summaries, wanted)
    for pattern in wanted:
        s, at = summaries[pattern], levels[pattern]
        values = np.array([found[(pattern, rank)] for rank in conformal_rank(s.count, at)])
        factors[pattern] = ConformalFactors(
            s.count, at, np.full(at.size, np.nan) if s.nans else values
        )
    return factors


# ---- the driver ----


def _concat(frames: list[pl.DataFrame | None]) -> pl.DataFrame | None:
    present = [f for f in frames if f is not None]
    if not present:
        return None
    frame = pl.concat([f for f in present if f.height] or present[:1], how="diagonal_relaxed")
    keys = [c for c in (*SERIES, "period_start") if c in frame.columns]
    return frame.sort(keys, maintain_order=True) if "sku" in keys else frame


def partitioned_plan(
    tables: dict[str, pl.DataFrame],
    config: Config,
    *,
    include_all: bool = False,
    progress: Progress | None = None,
    read: WorkerInputs | None = None,
) -> PlanResult:
    """The plan of `pipeline.run_plan`, every per-series stage on the cluster of
    `forecast.engine`, partitioned by sku (module docstring). Without a `sales` table (or
    a `stock`, `products` table given as a dataset) the tasks read those datasets
    themselves (`read_on_workers`); the products' rows and one row per stocked series
    they gather are then added to `tables` (the names in the outputs)."""
    from stockplan.io.readers import engine_read_tables

    say = progress or _quiet
    check_partitionable(tables, config)
    if read is None and (engine_read_tables(config) | {"sales"}) - set(tables):
        with engine_session(config.forecast) as cl:
            assert cl is not None
            read = read_on_workers(cl, tables, config, say)
            # the products' rows and the stocked series the tasks read, for item names
            tables.update(
                {
                    k: read.tables[k]
                    for k in ("products", "stock")
                    if k in read.tables.keys() - tables.keys()
                }
            )
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
    purchase_orders = tables.get("purchase_orders")
    # pooled over every sku of a supplier: one row per supplier; each partition resolves
    # its own series' lead times and backup lead times with it
    products = tables.get("products")  # a line without a supplier counts for the item's
    supplier_lead_times = supplier_lead_time_stats(purchase_orders, products)
    scorecard = supplier_scorecard(purchase_orders, config.supplier_tiers, products)
    with engine_session(engine) as cl:
        assert cl is not None
        n = partition_count(universe.height, cl.workers) if read is None else read.n
        say(
            counted_text(
                "planning {series} series in {n} partitions on {cluster}",
                series=universe.height,
                n=n,
                cluster=cl.name,
            )
        )
        handles = (
            cl.scatter(split_tables(tables, n, linked_groups(tables)))
            if read is None
            else read.handles
        )
        say("building demand history")
        handles = cl.map(_step_demand, handles, config)
        values = pl.concat(cl.gather(cl.map(_annual_values, handles)))
        abc = abc_by_value(values, config.classify).select(*SERIES, "abc")
        pooled_inputs = cl.gather(cl.map(_prior_inputs, handles, config))
        priors = pl.concat([inputs for inputs, _, _ in pooled_inputs]).sort(SERIES)
        category_uplift = pl.concat([sums for _, sums, _ in pooled_inputs])
        come_back = [sums for _, _, sums in pooled_inputs]
        ends = [d for d in cl.gather(cl.map(_history_origin, handles, config)) if d is not None]
        origin = max(ends) if ends else None
        say("forecasting series")
        shared = _Shared(abc, priors, origin, category_uplift, come_back)
        handles = cl.map(_step_backtest, handles, shared, config)
        scored = cl.gather(cl.map(_pool_scores, handles))
        ranked = pool_ranking([pools for pools, _ in scored], config.forecast.combine_top)
        horizon = config.planning.horizon_periods
        factors = pooled_factors(
            [sums for _, sums in scored], origin, config.forecast, config.planning.bucket, horizon
        )
        handles = cl.map(_step_forecast, handles, ranked, factors)
        widths = _pooled_band_widths(cl, handles, config)
        handles = cl.map(_step_supply, handles, widths, supplier_lead_times, config)
        scores = _pooled_conformal_factors(cl, handles, config)
        calibration = add_calibration_sums(cl.gather(cl.map(_calibration_counts, handles)))
        say("computing safety stock, orders and stockout risk")
        pooled = _Pooled(scores, calibration)
        handles = cl.map(_step_orders, handles, pooled, scorecard, supplier_lead_times, config)
        staging = parts_staging(config, universe.height)
        if staging is not None:  # the per-series tables stay out of the driver
            from stockplan.partitioned_purchasing import WORKER_TABLES, purchase_on_workers

            handles = cl.map(_write_parts, handles, staging)
            result = purchase_on_workers(
                cl, handles, tables, config, staging, scorecard, include_all=include_all
            )
            written = ", ".join(f"{t}/" for t in ("forecast", "history", *WORKER_TABLES))
            result.notes.append(part_files_note(universe.height, written))
            return result
        parts: list[_Part] = cl.gather(cl.map(_rows, handles))
    demand, supply, ordered = _combined(parts, item_view, lots, as_of, config, scores, scorecard)
    return plan_result(tables, demand, supply, ordered, config, include_all=include_all)


def _combined(
    parts: list[_Part],
    tables: dict[str, pl.DataFrame],
    lots: pl.DataFrame | None,
    as_of: dt.date,
    config: Config,
    scores: dict[str, ConformalFactors],
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
        # in ABC rank order, as `classify_demand` returns them: on the raw value, two
        # series equal to 1e-6 came out by their last bits, not by sku and location
        classes=in_value_order(all_of("demand", "classes")),
        own_history=all_of("demand", "own_history"),
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
        backups=all_of("ordered", "backups"),
        slow_transfers=all_of("ordered", "slow_transfers"),
        expiring=all_of("ordered", "expiring"),
    )
    return demand, supply, ordered


# ---- sales, stock and products read by the tasks themselves (Parquet datasets) ----


@dataclass
class _Read:
    """A task's own slices of the datasets with the partition's other tables, or the
    error it met; `index`: its partition."""

    tables: dict[str, pl.DataFrame] | None
    facts: dict
    notes: list[str]
    error: tuple[int, str] | None = None
    index: int = -1


@dataclass
class WorkerInputs:
    """The partitions' inputs, held by the tasks that read them: `handles` (one per
    partition, `n` of them), and on the driver the small tables with `sales` standing for
    one row per series sold (sku, location, last date), `stock` for one row per stocked
    series (sku, location, last snapshot date, name) when the tasks read them, the
    products' rows, the warnings and notes."""

    n: int
    handles: object
    tables: dict[str, pl.DataFrame]
    notes: list[str]


def _read_slice(name: str, n: int, index: int, config: Config, groups, notes) -> pl.DataFrame:
    """The rows of dataset `inputs.<name>` whose sku falls in partition `index` of n."""
    from stockplan.io.datasets import read_dataset

    return read_dataset(
        name,
        getattr(config.inputs, name).path,
        config.columns.get(name, {}),
        config.io.identify_by,
        notes,
        keep=lambda sku: partition_of(n, sku, groups) == index,
    )


def _failed(exc: StockplanError) -> _Read:
    return _Read(None, {}, [], (getattr(exc, "part_file_index", -1), str(exc)))


def _step_read_items(
    item: tuple[int, dict[str, pl.DataFrame]],
    n: int,
    later: set[str],
    config: Config,
    groups: pl.DataFrame | None = None,
) -> _Read:
    """Partition `index` of n reads its slices of the stock and products datasets; the
    products are typed and checked here (`io.prepare.check_products`), the stock once the
    driver has placed rows without a location (`_step_read`). Facts: the stock's
    locations (`io.prepare.stock_location_facts`) and the products' rows. A bad cell is
    returned as its one-line message, not raised: every engine then brings it back to the
    driver as it is (Ray and Spark wrap a raised error in their traceback)."""
    from stockplan.io.prepare import check_products, stock_location_facts

    index, tables = item
    tables, facts, notes = dict(tables), {}, []
    try:
        if "products" in later:
            products = _read_slice("products", n, index, config, groups, notes)
            products = check_products(products, config.source("products"))
            facts["products"] = products
            tables["products"] = products  # its rows for `prepare_items_slice`'s facts
        if "stock" in later:
            tables["stock"] = _read_slice("stock", n, index, config, groups, notes)
            facts.update(stock_location_facts(tables["stock"]))
    except StockplanError as exc:
        return _failed(exc)
    return _Read(tables, facts, notes, index=index)


def _step_read(
    read: _Read,
    n: int,
    later: set[str],
    stock_locations: list[str],
    default_location: str,
    config: Config,
    groups: pl.DataFrame | None = None,
) -> _Read:
    """The partition places and checks its stock slice (`io.prepare.prepare_items_slice`)
    and reads the rows of the sales dataset whose sku hashes to it, types and checks them
    (`io.prepare.prepare_sales_slice`); errors returned as in `_step_read_items`."""
    from stockplan.io.prepare import prepare_items_slice, prepare_sales_slice

    assert read.tables is not None
    notes: list[str] = []
    try:
        tables, facts = prepare_items_slice(read.tables, later, default_location, config)
        if "sales" in later:
            sales = _read_slice("sales", n, read.index, config, groups, notes)
            products = tables.get("products")
            sales, sold = prepare_sales_slice(sales, stock_locations, products, config)
            tables["sales"] = sales
            facts.update(sold)
    except StockplanError as exc:
        return _failed(exc)
    tables = {name: frame.drop(ROW, SOURCE_FILE, strict=False) for name, frame in tables.items()}
    return _Read(tables, facts, notes, index=read.index)


def _read_facts(read: _Read) -> _Read:
    return _Read(None, read.facts, read.notes, read.error, read.index)


def _read_tables(read: _Read) -> dict[str, pl.DataFrame]:
    assert read.tables is not None
    return read.tables


def _gathered(cl: Cluster, handles: object) -> list[_Read]:
    """Every partition's facts; the first bad cell of any partition (the earliest part
    file first) raised as its one line."""
    reads: list[_Read] = cl.gather(cl.map(_read_facts, handles))
    errors = sorted(r.error for r in reads if r.error is not None)
    if errors:
        raise StockplanError(errors[0][1])
    return reads


def _series_estimate(tables: dict[str, pl.DataFrame], later: set[str], config: Config) -> int:
    """The series the partitions are sized for: the stock's and purchase orders' series,
    or with the stock left to the tasks its rows (from the part files' footers)."""
    from stockplan.io.datasets import dataset_rows

    known = [
        tables[t].select(c for c in SERIES if c in tables[t].columns)  # orders placed later
        for t in ("stock", "purchase_orders")
        if t in tables
    ]
    series = pl.concat(known, how="diagonal").unique().height if known else 0
    if "stock" in later:
        series = max(series, dataset_rows(config.inputs.stock.path))  # type: ignore[union-attr]
    return series


def _absolute_inputs(config: Config, later: set[str]) -> Config:
    """Another machine's workers have another working folder: the datasets' absolute
    paths."""
    assert config.inputs is not None
    update = {
        name: getattr(config.inputs, name).model_copy(
            update={"path": getattr(config.inputs, name).path.absolute()}
        )
        for name in later
    }
    return config.model_copy(update={"inputs": config.inputs.model_copy(update=update)})


def read_on_workers(
    cl: Cluster, tables: dict[str, pl.DataFrame], config: Config, say: Progress
) -> WorkerInputs:
    """Each partition's task reads and checks its own slices of the sales, stock and
    products datasets (those not in `tables`), in two steps: the stock and products, then
    (with the stock's locations of every partition) the sales. The driver gets back only
    small facts: the first bad cell of any partition (raised here as its one line), the
    stock's locations, unknown skus, negative stock, late sales, the sales' locations, one
    row per series sold and per series stocked, and the products' rows (warned about
    here: `io.prepare.product_notes`)."""
    from stockplan.io.prepare import (
        SPELLED_LOCATIONS,
        SPELLED_SKUS,
        UNCHECKED_LOCATIONS,
        UNCHECKED_SKUS,
        check_read_facts,
        fill_locations,
        product_notes,
        stock_locations,
    )
    from stockplan.io.readers import engine_read_tables

    later = (engine_read_tables(config) | {"sales"}) - set(tables)
    n = partition_count(_series_estimate(tables, later, config), cl.workers)
    say(
        counted_text(
            "reading {tables} in {n} partitions on {cluster}",
            tables=", ".join(sorted(later)),
            n=n,
            cluster=cl.name,
        )
    )
    unchecked = (UNCHECKED_LOCATIONS, UNCHECKED_SKUS, SPELLED_SKUS, SPELLED_LOCATIONS)
    small = {name: frame for name, frame in tables.items() if name not in unchecked}
    groups = linked_groups(small)  # kits and successions plan in one partition
    handles = cl.scatter(list(enumerate(split_tables(small, n, groups))))
    if config.forecast.engine_address and config.inputs is not None:
        config = _absolute_inputs(config, later)
    handles = cl.map(_step_read_items, handles, n, later, config, groups)
    items = _gathered(cl, handles)
    if "stock" in later:
        default, locations = stock_locations([r.facts for r in items], small, config)
        small = fill_locations(small, default)
    else:
        default = config.planning.default_location
        locations = sorted(small["stock"]["location"].drop_nulls().unique().to_list())
    handles = cl.map(_step_read, handles, n, later, locations, default, config, groups)
    reads = _gathered(cl, handles)
    facts = [r.facts for r in reads]
    driver = dict(small)
    warnings: list[str] = []
    if "products" in later:
        products = pl.concat([r.facts["products"] for r in items], how="diagonal_relaxed")
        # the product master's warnings over every part file, each row named in its own
        warnings += product_notes(products, small.get("suppliers"), config)
        driver["products"] = products.sort(SOURCE_FILE, ROW).drop(ROW, SOURCE_FILE)
    if "stock" in later:
        driver["stock"] = pl.concat([f["stock"] for f in facts], how="diagonal_relaxed").sort(
            SERIES
        )
        if driver["stock"].height == 0:
            raise input_error(config.source("stock"), "has a header but no data rows")
    if "sales" in later:
        series = pl.concat([f["series"] for f in facts])
        if series.height == 0:
            raise StockplanError(phrase("error.no_data_rows", where=place(config.source("sales"))))
        driver["sales"] = series.with_columns(pl.lit(1.0).alias("quantity"))
    products = driver.get("products")
    skus = products["sku"] if products is not None else None
    warnings += check_read_facts(facts, {**tables, **driver}, config, skus)
    notes = [note for r in (*items, *reads) for note in r.notes] + warnings
    return WorkerInputs(n, cl.map(_read_tables, handles), driver, notes)


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


def part_files_note(series: int, folders: str) -> str:
    """The plan's note for the buyer when the workers wrote the per-series tables."""
    return (
        f"the per-series tables of {series} series were written by the workers as part "
        f"files ({folders} in the output folder)"
    )
