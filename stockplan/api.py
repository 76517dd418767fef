"""stockplan from Python: load inputs, plan, explain one item, replay history.

    config, inputs = stockplan.load("stockplan.yaml")
    plan = stockplan.plan(inputs, config)
    plan.orders, plan.risk, plan.write("plan.xlsx")
    stockplan.explain(plan, "A-100", location="WH1")
    stockplan.simulate(inputs, config).simulation

Inputs are files named in the config (`load`) or frames built in memory (`Inputs.from_frames`,
or a plain mapping of table name to frame passed to `plan` / `simulate`); frames get the
same header mapping, typing and cross-table checks as files, so bad input fails with the same
one-line `StockplanError`. The command line calls these same functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from stockplan.config import Config
from stockplan.errors import StockplanError
from stockplan.result import Plan

if TYPE_CHECKING:
    from stockplan.pipeline import ForecastReuse
    from stockplan.reproduce import RecordedRun

Progress = Callable[..., object]
"""`progress(message)` names a stage; `progress(message, total=n)` one of n units."""


@dataclass
class Inputs:
    """The prepared input tables by name (`sales`, `stock`, `products`, ...), canonical
    columns, and the warnings found while checking them."""

    tables: dict[str, pl.DataFrame]
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def get(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name)

    @classmethod
    def from_frames(cls, config: Config | None = None, /, **frames: Any) -> Inputs:
        """Input tables from Polars or pandas frames (`sales=`, `stock=`, optional
        `products=`, `suppliers=`, `purchase_orders=`, ...), checked like files."""
        from stockplan.io.frames import frames_to_inputs

        prepared = frames_to_inputs(frames, config or Config())
        return cls(prepared.tables, prepared.warnings)


def _inputs(inputs: Inputs | Mapping[str, Any], config: Config) -> Inputs:
    if isinstance(inputs, Inputs):
        return inputs
    if isinstance(inputs, Mapping):
        return Inputs.from_frames(config, **inputs)
    raise StockplanError(
        f"inputs: expected stockplan.Inputs or a mapping of table name to frame, "
        f"got {type(inputs).__name__}"
    )


def load(config_path: str | Path) -> tuple[Config, Inputs]:
    """The config at `config_path` and every input table it names, read and checked."""
    from stockplan.config import load_config

    config = load_config(config_path)
    return config, read_inputs(config)


def read_inputs(config: Config, *, for_plan: bool = False) -> Inputs:
    """Every input table `config.inputs` names, read, typed and cross-checked.

    `for_plan`: the inputs of `plan` only; on a cluster engine, sales, stock and products
    given as a Parquet dataset (folder or glob) are then left out, for the plan's tasks to
    read and check their own slices (`partitioned`); the plan adds to these tables the
    products' rows and one stock row per series it gathered from the tasks."""
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import engine_read_tables, load_inputs

    if config.inputs is None:
        raise StockplanError("config: no 'inputs' section to read (pass frames instead)")
    notes: list[str] = []
    skip = engine_read_tables(config) if for_plan else set()
    prepared = prepare_inputs(load_inputs(config, notes, skip), config, skip)
    return Inputs(prepared.tables, notes + prepared.warnings)


def read_purchase_orders(config: Config) -> Inputs:
    """Only the purchase-order table `config.inputs` names, read and checked, as it stood
    on `planning.as_of` (`orders_as_of`; all the supplier scorecard needs; empty without
    one); lines without a supplier take their item's from the products table
    (`leadtime.with_item_supplier`)."""
    from stockplan.io.prepare import ROW, check_purchase_orders, orders_as_of, with_open_quantities
    from stockplan.io.readers import read_table

    spec = config.inputs.purchase_orders if config.inputs is not None else None
    notes: list[str] = []
    if spec is None:
        return Inputs({}, notes)
    orders = read_table(
        "purchase_orders",
        spec,
        config.columns.get("purchase_orders", {}),
        notes,
        config.io.identify_by,
    )
    orders = with_open_quantities("purchase_orders", orders)
    check_purchase_orders(orders, getattr(spec, "path", Path("purchase_orders")))
    orders, late = orders_as_of(orders, config)
    products = config.inputs.products if config.inputs is not None else None
    blank = "supplier" not in orders.columns or orders["supplier"].null_count() > 0
    if products is not None and blank:  # a line without a supplier counts for its item's
        from stockplan.leadtime import with_item_supplier

        items = read_table(
            "products", products, config.columns.get("products", {}), notes, config.io.identify_by
        )
        orders = with_item_supplier(orders, items)
    return Inputs({"purchase_orders": orders.drop(ROW)}, notes + late)


def planning_date(inputs: Inputs | Mapping[str, Any], config: Config | None = None) -> dt.date:
    """`planning.as_of`, else the day after the last sale; without sales the day after the
    newest purchase order or receipt; without either, today."""
    config = config or Config()
    if config.planning.as_of is not None:
        return config.planning.as_of
    tables = inputs.tables if isinstance(inputs, Inputs) else dict(inputs)
    sales = tables.get("sales")
    if sales is not None:
        from stockplan.demand import default_as_of

        return default_as_of(sales)
    orders = tables.get("purchase_orders")
    dates = [
        orders[c].max()
        for c in ("order_date", "received_date")
        if orders is not None and c in orders.columns and orders[c].max() is not None
    ]
    return max(dates) + dt.timedelta(days=1) if dates else dt.date.today()


def classify(inputs: Inputs | Mapping[str, Any], config: Config | None = None) -> pl.DataFrame:
    """ABC / XYZ class and demand pattern per sku x location: the plan's `classes` table,
    from the demand history alone (no forecast, no policy)."""
    from stockplan.pipeline import run_classify

    config = config or Config()
    return run_classify(_inputs(inputs, config).tables, config)[1]


def suppliers(inputs: Inputs | Mapping[str, Any], config: Config | None = None) -> pl.DataFrame:
    """The supplier scorecard from purchase-order history (`leadtime.supplier_scorecard`):
    lead time mean and spread, on-time rate, fill rate, tier. `inputs` needs only
    `purchase_orders` (see `read_purchase_orders`)."""
    from stockplan.leadtime import supplier_scorecard

    config = config or Config()
    tables = inputs.tables if isinstance(inputs, Inputs) else _inputs(inputs, config).tables
    return supplier_scorecard(
        tables.get("purchase_orders"), config.supplier_tiers, tables.get("products")
    )


def plan(
    inputs: Inputs | Mapping[str, Any],
    config: Config | None = None,
    *,
    progress: Progress | None = None,
    reuse: ForecastReuse | None = None,
) -> Plan:
    """Every stage of the plan on `inputs`; the orders table has every sku x location
    (`Plan.write(..., all_rows=False)` writes the lines a buyer must see, as the CLI does).
    `reuse`: the forecast stage kept from an earlier run on the same demand history and
    forecast settings (`stockplan.cache.ForecastCache(folder)`; the local engine only)."""
    from stockplan.pipeline import run_plan

    config = config or Config()
    tables = _inputs(inputs, config).tables
    return run_plan(tables, config, include_all=True, progress=progress, reuse=reuse)


def score_overrides(
    inputs: Inputs | Mapping[str, Any],
    config: Config | None = None,
    *,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Forecast value added of every override that started before the planning date:
    |statistical forecast - actual| - |override - actual| over its window's days before
    then (`overrides.score_overrides`); positive when the override helped."""
    from stockplan.pipeline import override_scores

    config = config or Config()
    return override_scores(_inputs(inputs, config).tables, config, progress=progress)[1]


@dataclass
class Explanation:
    """The plan's own rows behind one SKU's order (one per location), and the projected
    stock path `explain.stock_projection` draws from them."""

    sku: str
    as_of: dt.date
    orders: pl.DataFrame
    risk: pl.DataFrame
    forecast: pl.DataFrame
    projection: pl.DataFrame
    history: pl.DataFrame  # the last `history_periods` buckets of demand
    kit_components: list[str] = field(default_factory=list)  # a kit sold, never stocked
    transfers: pl.DataFrame | None = None  # the plan's moves of this sku, with arrival_date


def explain(
    plan: Plan,
    sku: str,
    location: str | None = None,
    *,
    history_periods: int = 52,
    lang: str = "en",
) -> Explanation:
    """The numbers behind `sku`'s order, read from `plan` (so they are the plan's own: after
    promotions, transfers, a backup supplier and the budget). A kit that is only sold, never
    stocked, has no order row: its components are listed instead."""
    from stockplan.i18n import message
    from stockplan.io.writers import unescape_cell
    from stockplan.projection import recent_history, stock_projection

    items = plan.items
    if items is not None and not items.filter(pl.col("sku") == sku).height:
        # a code copied from a CSV as written (`'-3`, `="011491"`): the code itself
        written = pl.select(unescape_cell(pl.lit(sku))).item()
        if items.filter(pl.col("sku") == written).height:
            sku = written
    if items is not None and not items.filter(pl.col("sku") == sku).height:
        # a spreadsheet opening a CSV drops a code's leading zeros (011491 -> 11491)
        padded = items.filter(
            (pl.col("sku").str.strip_chars_start("0") == sku.lstrip("0")) & (sku.lstrip("0") != "")
        )["sku"]
        unknown = message("unknown_sku", lang, sku=sku)
        if padded.len():  # every candidate, when several codes lose their zeros alike
            named = "' / '".join(padded.sort().head(3).to_list())
            unknown += message("unknown_sku_padded", lang, match=named)
        raise StockplanError(unknown)
    orders = plan.tables["orders"].filter(pl.col("sku") == sku)
    key = pl.col("sku") == sku
    if orders.height == 0 and items is not None:
        parts = items.filter(key)["components"].drop_nulls().explode().drop_nulls()
        if parts.len():
            return Explanation(
                sku,
                plan.as_of,
                orders,
                plan.risk.clear(),
                plan.forecast.clear(),
                pl.DataFrame(),
                pl.DataFrame(),
                kit_components=parts.unique().sort().to_list(),
            )
    if location is not None:
        orders = orders.filter(pl.col("location") == location)
        if orders.height == 0:
            raise StockplanError(message("unknown_location", lang, sku=sku, location=location))
        key = key & (pl.col("location") == location)
    if plan.own_history is not None and plan.own_history.height:
        # a successor classed on its own sales until its switch (`succession.own_history`)
        orders = orders.join(
            plan.own_history, on=["sku", "location"], how="left", maintain_order="left"
        )
    forecast = plan.forecast.filter(key)
    open_po = plan.open_po if plan.open_po is not None else pl.DataFrame()
    transfers = plan.tables.get("transfers")
    if transfers is not None:
        transfers = transfers.filter(pl.col("sku") == sku)
    history = plan.history if plan.history is not None else pl.DataFrame()
    return Explanation(
        sku=sku,
        as_of=plan.as_of,
        orders=orders,
        risk=plan.risk.filter(key),
        forecast=forecast,
        projection=stock_projection(
            orders, forecast, open_po, plan.bucket_days, plan.as_of, transfers
        ),
        history=recent_history(history.filter(key), plan.as_of, history_periods),
        transfers=transfers,
    )


def supplier_forecast(plan: Plan, config: Config | None = None) -> pl.DataFrame:
    """The purchase orders the policy will most likely place with each supplier over the
    next `supplier_forecast.weeks`, with a range (`supplier_forecast.project_supplier_orders`)."""
    from stockplan.supplier_projection import project_supplier_orders

    config = config or Config()
    return project_supplier_orders(
        plan.plan_rows,
        plan.forecast,
        plan.as_of,
        plan.bucket_days,
        config.supplier_forecast.weeks,
        config.policy.review_days,
    )


@dataclass
class Simulation:
    """The replay's tables (`simulation`, `simulation_by_pattern`, ...) and what it covered."""

    tables: dict[str, pl.DataFrame]
    as_of: dt.date
    start: dt.date
    days: int
    series: int
    set_aside_units: float = 0.0

    @property
    def simulation(self) -> pl.DataFrame:
        """One row per policy and target: fill rate, service, stockout days, inventory."""
        return self.tables["simulation"]

    def output_tables(self) -> dict[str, pl.DataFrame]:
        """Every table with the planning date as an `as_of` column, as they are written."""
        return {
            name: frame.with_columns(pl.lit(self.as_of).alias("as_of"))
            for name, frame in self.tables.items()
        }


def simulate(
    inputs: Inputs | Mapping[str, Any],
    config: Config | None = None,
    *,
    baselines: Sequence[str] = ("rule",),
    progress: Progress | None = None,
    replaying: Callable[[dt.date, int, int], object] | None = None,
) -> Simulation:
    """Replay the history with the policy at each `simulate.targets` and with `baselines`:
    `rule` (the rule of thumb) and / or `history` (the buyers' own purchase orders).
    `replaying(start, days, series)` is called once the forecasts are refit, before the
    day-by-day replay."""
    from stockplan.demand import default_as_of
    from stockplan.engines import engine_session
    from stockplan.replay import (
        BASELINE_HISTORY_DAYS,
        inventory_at_fill_rate,
        prepare_replay,
        replay_policies,
    )

    config = config or Config()
    tables = _inputs(inputs, config).tables
    unknown = set(baselines) - {"rule", "history"}
    if unknown:
        raise StockplanError(f"baselines: unknown '{sorted(unknown)[0]}' (use rule or history)")
    as_of = config.planning.as_of or default_as_of(tables["sales"])
    if "history" in baselines:
        from stockplan.history_replay import check_history

        check_history(tables.get("purchase_orders"))
    # one cluster for every refit of the replay, not one per refit
    with engine_session(config.forecast):
        # items as plan takes them; the demand replayed is each item's own sales
        replay = prepare_replay(tables, config, progress=progress)
        days = replay.demand.shape[1] - BASELINE_HISTORY_DAYS
        if replaying is not None:
            replaying(replay.start, days, replay.series.height)
        out = replay_policies(replay, config)
    simulation = out["simulation"]
    if "rule" not in baselines:
        simulation = simulation.filter(pl.col("policy") == "stockplan")
    if "history" in baselines:
        from stockplan.history_replay import history_baseline

        backorder = config.simulate.unmet_demand == "backorder"
        row = history_baseline(replay, tables.get("purchase_orders"), backorder)
        row["policy_inventory_at_same_fill"] = inventory_at_fill_rate(simulation, row["fill_rate"])
        buyers = pl.DataFrame([row], schema=simulation.schema)
        simulation = pl.concat([simulation, buyers.select(simulation.columns)])
    out["simulation"] = simulation
    return Simulation(
        tables=out,
        as_of=as_of,
        start=replay.start,
        days=days,
        series=replay.series.height,
        set_aside_units=replay.set_aside_units,
    )


@dataclass
class PlanChanges:
    """Order lines that appeared, vanished or changed between two written plans, each split
    into its causes (`diff.plan_diff`), and the two plans' run records (None without)."""

    changes: pl.DataFrame
    old_record: dict[str, Any] | None
    new_record: dict[str, Any] | None

    def planning_dates(self) -> list[str]:
        """The two plans' planning dates, `?` when a plan has no run record."""
        return [(r or {}).get("planning_date") or "?" for r in (self.old_record, self.new_record)]

    def same_config(self) -> bool | None:
        """Whether both plans ran on the same config file (None: a record is missing)."""
        shas = [((r or {}).get("config") or {}).get("sha256") for r in self.records()]
        return None if None in shas else shas[0] == shas[1]

    def records(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        return self.old_record, self.new_record


def diff_plans(old: str | Path, new: str | Path, *, all_rows: bool = False) -> PlanChanges:
    """Compare two plans written by stockplan (.xlsx, output folder or orders file); with
    `all_rows` lines whose order quantity is unchanged are listed too."""
    from stockplan.diff import NEEDED, plan_diff
    from stockplan.io.planfiles import plan_table, read_plan, same_code_spelling

    old, new = Path(old), Path(new)
    old_tables, old_record = read_plan(old)
    new_tables, new_record = read_plan(new)
    orders = []
    for tables, path in ((old_tables, old), (new_tables, new)):
        table = plan_table(tables, "orders", path)
        missing = [c for c in NEEDED if c not in table.columns]
        if missing:
            from stockplan.i18n import phrase

            raise StockplanError(
                phrase("error.orders_lack", path=str(path), columns=", ".join(missing))
            )
        orders.append(table)
    same_code_spelling((orders[0], orders[1]), (old, new))
    whole = tuple(
        bool(((r or {}).get("options") or {}).get("all")) for r in (old_record, new_record)
    )
    return PlanChanges(plan_diff(*orders, all_rows, whole), old_record, new_record)


def verify(plan_path: str | Path, *, progress: Progress | None = None) -> Verification:
    """Re-run a written plan from its run record: the inputs changed since, the database
    inputs that cannot be proven unchanged, and every cell that differs."""
    from stockplan.reproduce import recorded_run

    run = recorded_run(Path(plan_path))
    if not run.config_path.is_file():
        from stockplan.i18n import phrase

        raise StockplanError(
            phrase("error.config_gone", path=str(plan_path), config=str(run.config_path))
        )
    differences, added = rerun_differences(run, progress)
    return Verification(run.changed, run.unprovable, differences, added)


def rerun_differences(
    run: RecordedRun, progress: Callable[..., object] | None = None
) -> tuple[list[str], list[str]]:
    """Re-run the plan as its record says (config, planning date, options), write it the way
    it was written, and name every cell that differs (empty: reproduced), and the columns
    the plan has that the re-run does not write (a buyer's own: not compared)."""
    from stockplan.config import load_config
    from stockplan.io.planfiles import written_like
    from stockplan.items import for_people, item_names
    from stockplan.pipeline import run_plan
    from stockplan.reproduce import added_columns, compare_plans

    record = run.record
    config = load_config(run.config_path)
    options = record.get("options") or {}
    lang = options.get("lang") or config.planning.language
    as_of = dt.date.fromisoformat(record["planning_date"])
    # the language the plan was made in: it also wrote the customer notices' texts
    planning = config.planning.model_copy(update={"as_of": as_of, "language": lang})
    config = config.model_copy(update={"planning": planning})
    inputs = read_inputs(config)
    command, table = record.get("command", "plan"), options.get("table") or "orders"
    result = run_plan(
        inputs.tables, config, include_all=bool(options.get("all")), progress=progress
    )
    people = for_people(result.tables, item_names(inputs.tables), result.as_of)
    rerun = people if command == "plan" else {table: people[table]}
    if options.get("columns"):  # --columns trimmed the one table written: trimmed alike
        frame = rerun[table]
        rerun[table] = frame.select(c for c in options["columns"] if c in frame.columns)
    again = written_like(run.path, rerun, table, lang)
    return compare_plans(run.tables, again), added_columns(run.tables, again)


@dataclass
class Verification:
    """What `verify` found: reproduced when the first three lists are empty. `added` names
    the columns a buyer added to the plan: not stockplan's, not compared, no difference."""

    changed: list[str]
    unprovable: list[str]
    differences: list[str]
    added: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        """Same inputs (as far as they can be proven) and every number matches."""
        return not (self.changed or self.differences or self.unprovable)
