"""The purchasing rules and the plan's tables of a large cluster plan, with the per-series
rows kept on the workers.

When the tasks write part files (`io.parquet_parts`, `partitioned.parts_staging`), every
partition keeps its order rows after the order step and the driver holds only what is
global and small. Each rule is the local plan's own function (`pipeline.purchasing_stage`),
run on exactly the rows it can change:

1. each partition adds override reasons and price breaks to its rows (per line);
2. the budget (`purchasing.apply_budget`) needs the order lines of every partition (rows
   with an order): they come to the driver, the funded lines go back; without a budget
   nothing per line travels;
3. minimum order values (`supplier_rules.meet_minimum_order_value`): the partitions sum
   their order value per supplier, the driver adds the sums and finds the suppliers below
   their minimum; only those suppliers' rows (every row: lines without an order may be
   topped up or brought forward) come to the driver, the changed lines go back;
4. full loads (`supplier_rules.round_to_loads`): the same with volume and weight per
   supplier (`supplier_rules.supplier_load_sums`); only the rows of suppliers whose
   order is not a whole number of loads travel; with a budget, when a rule defers a
   supplier below its minimum, every partition goes back to its rows as priced but the
   deferred suppliers' and steps 2 to 4 (and a strict budget's final cut) run again, so
   the money it held funds other lines (`supplier_rules.deferral_rounds`);
5. each partition reprices and dates its lines, sums them per supplier
   (`purchasing.supplier_order_sums`) and counts what the buyer's notes say; the driver
   adds the sums into the supplier orders (`purchasing.supplier_orders_from`), the notes
   and the plan's summary;
6. each partition flags the lines of suppliers below their minimum, adds the item columns,
   sets its risk rows' restock ETA from its orders as placed (`risk.restock_eta`)
   and writes its orders, risk, classes, excess and large orders as part files
   (`io.parts.write_part`), as the writers write a table; transfers, restock notices and
   expiring lots (a few rows) come to the driver.

A rule changes order_qty, order_value and reason of a supplier's lines only from that
supplier's lines (and the budget from the order lines), and the rows reach each function
in the order of the local plan's (sku, location), so the plan is the local one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import polars as pl

from stockplan.calendar import calendar_reason, order_by
from stockplan.caps import beyond_cap_clause, with_item_columns
from stockplan.config import Config
from stockplan.demand import BUCKET_DAYS, SERIES
from stockplan.engines import Cluster
from stockplan.item_rules import item_columns
from stockplan.items import item_names, known_items
from stockplan.leadtime import with_supplier_tier
from stockplan.overrides import active_overrides, with_override_reasons
from stockplan.pipeline import empty_table_notes, side_tables
from stockplan.price_breaks import apply_price_breaks, reprice
from stockplan.purchasing import (
    HOLD_ROUNDS,
    apply_budget,
    budget_is_strict,
    budget_note_from,
    budget_note_sums,
    flag_minimum_order_value,
    supplier_order_sums,
    supplier_orders_from,
)
from stockplan.reorder import (
    explain_late_rule_lines,
    master_data_note_from,
    master_data_note_sums,
    orders_to_show,
    stale_stock_note,
    unreachable_service_note_from,
    unreachable_service_sums,
)
from stockplan.result import PlanResult
from stockplan.risk import restock_eta
from stockplan.segmentation import with_unsold_series
from stockplan.supplier_rules import (
    deferral_rounds,
    load_capacity,
    load_table,
    loads_again,
    loads_to_round,
    meet_minimum_order_value,
    part_load_note,
    round_to_loads,
    rule_rows,
    supplier_load_sums,
    supplier_loads,
    supplier_values,
    unknown_cost_lines,
    unknown_cost_note,
    unknown_cost_settled,
    with_decisions_again,
    with_supplier_decisions,
)

WORKER_TABLES = ("orders", "risk", "classes", "excess", "large_orders")
"""The per-series tables the partitions write as part files on a large run (with the
forecast and the demand history, `partitioned._write_parts`)."""

CHANGED = [*SERIES, "order_qty", "order_value", "reason"]
"""What a purchasing rule changes on an order line."""


@dataclass
class _Step:
    """What one step sends to every partition, under the step's name: one object (an
    engine would scatter the entries of a bare list one by one), and no two steps of a
    run send an equal object (Dask names a scattered object by its content; sending an
    equal one while the last is being released can lose it)."""

    name: str
    value: object


@dataclass
class _Buying:
    """A partition's order rows through the purchasing rules (kept on its worker)."""

    part: object  # partitioned._Part after the order step
    config: Config
    priced: pl.DataFrame  # every order row with override reasons and price breaks
    funded: pl.DataFrame  # ... and the rules decided so far
    demand_rows: pl.DataFrame  # `supplier_rules.rule_rows`
    budgeted: pl.DataFrame | None = None  # the rows as the budget left them (its note)


@dataclass
class _Written:
    """What the driver gets of a partition's last step: empty frames with the columns of
    the tables it wrote, its few rows of the small tables and the plan summary's counts."""

    schemas: dict[str, pl.DataFrame]
    small: dict[str, pl.DataFrame]
    series: int
    lines: int
    value: float
    high: int
    missing_cost: int  # order lines without a unit cost (value unknown, not counted)
    excess: int = 0  # rows of the excess table


@dataclass
class _Final:
    """What every partition gets for its last step (one object, not scattered entry by
    entry): the supplier orders, where to write and whether every row is an order line."""

    by_supplier: pl.DataFrame
    staging: str
    include_all: bool
    config: Config = field(repr=False)
    decisions: pl.DataFrame  # the minimum-value decisions (`unknown_cost_lines`)


def _step_priced(part, step: _Step) -> _Buying:
    """Override reasons and price breaks on the partition's order rows (sorted by sku,
    location as the local plan's); `step.value`: the plan's config."""
    config = step.value
    assert isinstance(config, Config)
    demand, ordered = part.demand, part.ordered
    tables, policy = demand.tables, config.policy
    every = with_override_reasons(
        ordered.orders, active_overrides(tables.get("overrides"), ordered.orders, demand.as_of)
    )
    every = apply_price_breaks(
        every,
        tables.get("price_breaks"),
        policy.ordering_cost,
        policy.holding_cost_rate,
        ordered.caps,
    ).sort(SERIES, maintain_order=True)
    demand_rows = rule_rows(ordered.rebalanced, every, ordered.caps, config.excess.buffer_days)
    return _Buying(part, config, every, every, demand_rows)


BUDGET_COLUMNS = [
    *SERIES,
    "order_qty",
    "order_value",
    "reason",
    "unit_cost",
    "moq",
    "pack_size",
    "inventory_position",
    "reorder_point",
    "safety_stock",
    "sigma_lead_time_demand",
    "lead_time_days",
    "review_days",
    "demand_pattern",
]
"""The columns of an order line the budget reads (`purchasing.budget_blocks`,
`purchasing.apply_budget`): only these travel to the driver."""


def _order_lines(buying: _Buying) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows with an order (the budget's columns) and their demand rows."""
    lines = buying.funded.filter(pl.col("order_qty") > 0).select(BUDGET_COLUMNS)
    return lines, buying.demand_rows.join(lines.select(SERIES), on=SERIES, how="semi")


def _rows_of(buying: _Buying, step: _Step) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every row of the suppliers in `step.value` (a frame with a supplier column) and
    their demand rows."""
    suppliers = step.value
    assert isinstance(suppliers, pl.DataFrame)
    rows = buying.funded.join(suppliers.select("supplier"), on="supplier", how="semi")
    return rows, buying.demand_rows.join(rows.select(SERIES), on=SERIES, how="semi")


def _value_sums(buying: _Buying) -> pl.DataFrame:
    """supplier, supplier_value, no_cost_lines of the partition's order lines
    (`supplier_rules.supplier_values`: sums that add up over the partitions)."""
    return supplier_values(buying.funded).drop("order_lines")


def _load_sums(buying: _Buying) -> pl.DataFrame:
    return supplier_load_sums(buying.funded, buying.part.demand.tables.get("products"))


def _with_changes(buying: _Buying, step: _Step) -> _Buying:
    """The rows as a rule on the driver left them (`step.value`: SERIES, order_qty,
    order_value, reason of the lines it changed)."""
    changes = step.value
    assert isinstance(changes, pl.DataFrame)
    if changes.height:
        mine = changes.join(buying.funded.select(SERIES), on=SERIES, how="semi")
        if mine.height:
            buying.funded = buying.funded.update(mine, on=SERIES, how="left")
    return buying


def _step_reset(buying: _Buying, step: _Step) -> _Buying:
    """The rows as priced, before any rule, but those of the suppliers in `step.value` (a
    frame with a supplier column: deferred in an earlier round) as they were left, for
    the next round of the rules (`supplier_rules.deferral_rounds`)."""
    held = step.value
    assert isinstance(held, pl.DataFrame)
    out = pl.col("supplier").is_in(held["supplier"].implode()).fill_null(False)
    buying.funded = (
        pl.concat([buying.priced.filter(~out), buying.funded.filter(out)], how="diagonal_relaxed")
        .select(buying.priced.columns)
        .sort(SERIES, maintain_order=True)
    )
    return buying


def _step_budgeted(buying: _Buying) -> _Buying:
    """Keep the rows as the budget left them: its note tells what later rules added."""
    buying.budgeted = buying.funded
    return buying


def _step_dated(buying: _Buying) -> _Buying:
    """Repriced at the quantity finally ordered and dated on the supplier's calendar."""
    config = buying.config
    part = buying.part
    demand, supply, ordered = part.demand, part.supply, part.ordered
    days = BUCKET_DAYS[config.planning.bucket]
    funded = reprice(buying.funded, demand.tables.get("price_breaks"), demand.attributes)
    horizon_days = config.planning.horizon_periods * days
    funded = calendar_reason(
        order_by(funded, ordered.risk, supply.closures, demand.as_of, horizon_days)
    )
    buying.funded = explain_late_rule_lines(
        funded,
        ordered.orders,
        ordered.risk,
        ordered.backups,
        demand.as_of,
        supply.closures,
        config.policy.review_days,
    )
    return buying


def _step_repriced(buying: _Buying) -> _Buying:
    """The partition's lines at the price of the quantity they now order."""
    demand = buying.part.demand
    buying.funded = reprice(buying.funded, demand.tables.get("price_breaks"), demand.attributes)
    return buying


def _order_value(buying: _Buying) -> float:
    return float(buying.funded["order_value"].fill_null(0.0).sum())


def _hold_budget(
    cl: Cluster, handles: list, budget: float, discrete: list[str], tag: str = ""
) -> list:
    """`purchasing.hold_budget` with the lines on the workers: priced there, their total
    added on the driver, and while it is above the budget the order lines come to the
    driver for the budget's cut at the prices paid, and go back to be priced again."""
    handles = cl.map(_step_repriced, handles)
    for round_ in range(HOLD_ROUNDS):
        if sum(cl.gather(cl.map(_order_value, handles))) <= budget + 1e-6:
            break
        lines, demand = _stacked(cl.gather(cl.map(_order_lines, handles)))
        cut = apply_budget(lines, demand, budget, discrete)
        handles = cl.map(_with_changes, handles, _Step(f"hold {round_}{tag}", _changes(lines, cut)))
        handles = cl.map(_step_repriced, handles)
    return handles


def _meet_minimum(
    cl: Cluster,
    handles: list,
    minimum: pl.DataFrame,
    suppliers: pl.DataFrame | None,
    action: str,
    rules: dict,
    decisions: pl.DataFrame,
    label: str = "",
) -> tuple[list, pl.DataFrame]:
    """`supplier_rules.meet_minimum_order_value` on the rows of the suppliers whose total
    (added on the driver from the partitions' sums) is below their minimum: (handles, the
    decisions, a second pass's replacing the first's for the suppliers it decided)."""
    totals = pl.concat(cl.gather(cl.map(_value_sums, handles)))
    short = (
        totals.group_by("supplier")
        .agg(pl.col("supplier_value").sum(), pl.col("no_cost_lines").sum())
        .join(minimum, on="supplier")
        .filter(pl.col("supplier_value") < pl.col("moq_value") - 1e-9)
    )
    if action == "flag":  # only the lines of a supplier whose minimum cannot be judged change
        short = short.filter(pl.col("no_cost_lines") > 0)
    if short.height == 0:
        return handles, decisions
    rows, demand = _stacked(
        cl.gather(cl.map(_rows_of, handles, _Step(f"short {label}", short.select("supplier"))))
    )
    met, decided = meet_minimum_order_value(rows, demand, suppliers, action=action, **rules)
    handles = cl.map(_with_changes, handles, _Step(f"minimum {label}", _changes(rows, met)))
    return handles, with_decisions_again(decisions, decided)


def _sums(buying: _Buying) -> tuple:
    """The partition's supplier order sums, the budget note's and the notes' counts."""
    funded = buying.funded
    return (
        supplier_order_sums(funded),
        budget_note_sums(
            buying.priced, buying.budgeted if buying.budgeted is not None else funded, funded
        ),
        master_data_note_sums(funded),
        unreachable_service_sums(funded),
    )


def _step_write(buying: _Buying, final: _Final) -> _Written:
    """Flag the lines below a minimum, add the item columns, write the per-series tables
    as part files (named as the forecast's, `partitioned._write_parts`); return the rest."""
    from stockplan.io.parts import write_part
    from stockplan.io.writers import finite
    from stockplan.items import for_people

    config = final.config
    part = buying.part
    demand, supply, ordered = part.demand, part.supply, part.ordered
    tables, as_of = demand.tables, demand.as_of
    funded = flag_minimum_order_value(
        unknown_cost_lines(buying.funded, final.by_supplier, final.decisions), final.by_supplier
    )
    columns = item_columns(
        ordered.series, demand.classes, tables, ordered.expiring, ordered.caps, as_of
    )
    funded = with_item_columns(beyond_cap_clause(funded, ordered.caps), columns)
    # the notices in the plan's language only: a plan whose tables are part files is
    # never kept in the plan cache, so never re-read in another language
    side, _ = side_tables(
        demand,
        supply,
        buying.priced,
        funded,
        config,
        ordered.transfers,
        other_languages=(),
        expiring=ordered.expiring,
    )
    risk = restock_eta(ordered.risk, supply.open_po, funded, ordered.transfers, as_of)
    excess = side.pop("excess")
    small: dict[str, pl.DataFrame] = {"transfers": ordered.transfers, **side}
    if ordered.slow_transfers is not None:
        small["slow_transfers"] = ordered.slow_transfers
    orders = funded if final.include_all else orders_to_show(funded)
    out = {
        "orders": with_supplier_tier(orders, ordered.scorecard),
        "risk": risk,
        "classes": with_unsold_series(demand.classes, funded),
        "excess": excess,
        "large_orders": demand.large_orders,
    }
    buying_lines = out["orders"].filter(pl.col("order_qty") > 0)
    written = for_people(out, item_names(tables), as_of)
    if demand.classes.height:
        first = pl.Series([demand.classes["sku"].min()], dtype=pl.String).hash(seed=0)[0]
        for table in WORKER_TABLES:
            write_part(final.staging, table, f"{first:016x}", finite(written[table]))
    return _Written(
        {table: frame.clear() for table, frame in out.items()},
        small,
        demand.classes.height,
        buying_lines.height,
        float(buying_lines["order_value"].fill_null(0.0).sum()),
        risk.filter(pl.col("risk_level") == "high").height,
        buying_lines["order_value"].null_count(),
        excess.height,
    )


# ---- the driver ----


def _stacked(pairs: list[tuple[pl.DataFrame, pl.DataFrame]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The partitions' rows as one frame in (sku, location) order, and their demand rows."""
    rows = pl.concat([r for r, _ in pairs], how="diagonal_relaxed").sort(SERIES)
    demand = pl.concat([d for _, d in pairs], how="diagonal_relaxed")
    return rows, demand


def _changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The lines a rule changed: SERIES, order_qty, order_value, reason as it left them."""
    old = before.select(CHANGED).rename({c: f"_{c}" for c in CHANGED[2:]})
    both = after.select(CHANGED).join(old, on=SERIES, how="left")
    differs = pl.any_horizontal(*[pl.col(c).ne_missing(pl.col(f"_{c}")) for c in CHANGED[2:]])
    return both.filter(differs).select(CHANGED)


def purchase_on_workers(
    cl: Cluster,
    handles: list,
    tables: dict[str, pl.DataFrame],
    config: Config,
    staging: str,
    scorecard: pl.DataFrame,
    *,
    include_all: bool,
) -> PlanResult:
    """The purchasing rules, side tables and plan tables of `pipeline.plan_result` with the
    per-series rows on the workers (module docstring); the per-series tables are written
    as part files into `staging`."""
    from stockplan.io.parts import offered

    policy, purchasing = config.policy, config.purchasing
    target = offered()
    # the orders part files hold the lines a buyer must see, as the CLI writes the
    # table, unless the output asks for every row (`plan --all`)
    include_all = target.all_rows if target is not None else include_all
    suppliers, products = tables.get("suppliers"), tables.get("products")
    strict = budget_is_strict(config)
    handles = cl.map(_step_priced, handles, _Step("priced", config))
    rules = {
        "holding_rate": policy.holding_cost_rate,
        "review_days": policy.review_days,
        "discrete_patterns": policy.discrete_patterns,
    }
    minimum = (
        suppliers.select("supplier", "moq_value")
        if suppliers is not None and "moq_value" in suppliers.columns
        else None
    )
    capacity = load_capacity(suppliers)
    rounds = count()

    def buy(held: pl.DataFrame) -> tuple[tuple[list, pl.DataFrame], pl.DataFrame]:
        """One round of `supplier_rules.budget_after_deferrals` with the lines on the
        workers: every partition's rows priced again but the held suppliers' (deferred in
        an earlier round, order 0), then the rules in the local plan's order."""
        nonlocal handles
        tag = f" {next(rounds)}"
        if held.height:
            handles = cl.map(_step_reset, handles, _Step(f"reset{tag}", held.select("supplier")))
        if purchasing.budget is not None:
            lines, demand = _stacked(cl.gather(cl.map(_order_lines, handles)))
            funded = apply_budget(lines, demand, purchasing.budget, policy.discrete_patterns)
            handles = cl.map(_with_changes, handles, _Step(f"budget{tag}", _changes(lines, funded)))
            handles = cl.map(_step_budgeted, handles)
        decisions = meet_minimum_order_value(
            pl.DataFrame(schema={"supplier": pl.String}),
            pl.DataFrame(),
            None,
            action="flag",
            **rules,
        )[1]
        if minimum is not None:  # `flag`: only the suppliers with lines without a cost
            handles, decisions = _meet_minimum(
                cl,
                handles,
                minimum,
                suppliers,
                purchasing.minimum_order_value,
                rules,
                decisions,
                tag,
            )
        loads = pl.DataFrame(schema={"supplier": pl.String, "volume_m3": pl.Float64})
        if capacity is not None:
            loads = supplier_loads(pl.concat(cl.gather(cl.map(_load_sums, handles))), capacity)
            to_round = loads_to_round(loads)
            rounded = load_table(
                loads.join(to_round, on="supplier", how="anti"),
                pl.DataFrame(schema={"supplier": pl.String, "load_action": pl.String}),
            )
            if to_round.height:
                step = _Step(f"to round{tag}", to_round.select("supplier"))
                rows, demand = _stacked(cl.gather(cl.map(_rows_of, handles, step)))
                moved, table = round_to_loads(
                    rows, demand, suppliers, products, **rules, round_up=not strict
                )
                handles = cl.map(
                    _with_changes, handles, _Step(f"loads{tag}", _changes(rows, moved))
                )
                rounded = pl.concat([rounded, table], how="diagonal_relaxed")
            loads = rounded
        if strict and purchasing.budget is not None:  # as `supplier_rules.budget_after_deferrals`
            handles = _hold_budget(cl, handles, purchasing.budget, policy.discrete_patterns, tag)
            if minimum is not None and purchasing.minimum_order_value == "defer":
                handles, decisions = _meet_minimum(
                    cl, handles, minimum, suppliers, "defer", rules, decisions, f"again{tag}"
                )
            sums = pl.concat(cl.gather(cl.map(_load_sums, handles)))
            loads = loads_again(sums, capacity, loads)
        return (handles, loads), decisions

    (handles, loads), decisions, deferred = deferral_rounds(buy, purchasing.budget)
    handles = cl.map(_step_dated, handles)
    sums = cl.gather(cl.map(_sums, handles))
    by_supplier = supplier_orders_from(pl.concat([s[0] for s in sums]), suppliers)
    decisions = unknown_cost_settled(decisions, by_supplier)  # as `pipeline.purchasing_stage`
    notes = [
        note
        for note in (
            stale_stock_note(tables["stock"], config.planning.missing_from_latest_snapshot),
            master_data_note_from([s[2] for s in sums]),
            unreachable_service_note_from([s[3] for s in sums]),
            budget_note_from(pl.concat([s[1] for s in sums]), purchasing.budget, deferred),
            part_load_note(loads),
            unknown_cost_note(decisions),
        )
        if note is not None
    ]
    final = _Final(by_supplier, staging, include_all, config, decisions)
    written: list[_Written] = cl.gather(cl.map(_step_write, handles, final))
    return _result(tables, config, written, by_supplier, decisions, loads, scorecard, notes)


def _result(
    tables: dict[str, pl.DataFrame],
    config: Config,
    written: list[_Written],
    by_supplier: pl.DataFrame,
    decisions: pl.DataFrame,
    loads: pl.DataFrame,
    scorecard: pl.DataFrame,
    notes: list[str],
) -> PlanResult:
    """The plan the driver holds: the per-series tables as empty frames of their columns
    (their rows are in the part files), the small tables whole and the summary's counts."""
    as_of = config.planning.as_of
    assert as_of is not None
    # the columns of a partition that planned series (an empty one may lack some)
    first = next((w for w in written if w.series), written[0])
    names = dict.fromkeys(name for w in written for name in w.small)
    small = {
        name: pl.concat([w.small[name] for w in written if name in w.small], how="diagonal_relaxed")
        for name in names
    }
    small["transfers"] = small["transfers"].sort(["sku", "to_location", "from_location"])
    excess = sum(w.excess for w in written)
    slow = small.pop("slow_transfers", None)
    notes = notes + empty_table_notes(tables, config, small["transfers"], excess, scorecard, slow)
    return PlanResult(
        as_of=as_of,
        notes=notes,
        history=pl.DataFrame(),
        open_po=None,
        bucket_days=BUCKET_DAYS[config.planning.bucket],
        plan_rows=None,
        items=known_items(tables),
        totals={
            "lines": sum(w.lines for w in written),
            "value": sum(w.value for w in written),
            "high": sum(w.high for w in written),
            "missing_cost": sum(w.missing_cost for w in written),
        },
        tables={
            **first.schemas,
            "transfers": small.pop("transfers"),
            "supplier_orders": with_supplier_decisions(by_supplier, decisions, loads),
            "forecast": pl.DataFrame(),
            "suppliers": scorecard,
            **small,
        },
    )
