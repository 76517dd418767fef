"""Supplier orders a supplier accepts: its minimum order value and whole container loads.

Both rules reuse the budget's valuation (`purchasing.budget_blocks`): a block of units is
worth the sales it protects per unit of money, expected shortage avoided x unit_price /
cost, in the window the order protects. Costs compared, in money:

- top up: extra blocks of the supplier's lines, most protective per unit of money first,
  until the gap is closed. The extra E units of a line raise its stock by E until the
  orders they replace would have come, E / d days, so they cost the holding of E / 2 on
  average over that time: r x unit_cost x E^2 / (2 d 365) (r: policy.holding_cost_rate,
  d: forecast per day).
- bring forward: the next cycle's orders of the supplier's lines (the quantity each would
  order at the next review, R days on: order-up-to minus the position then, rounded to
  MOQ and packs, cut to what fits with this cycle's order under max_order), earliest
  first, until the gap is closed; they are paid R days early:
  r x value x R / 365. Only when the next cycle's orders reach the gap.
- defer: the whole order waits one review. It then arrives R days later, so the sales it
  protects in its window are exposed: the sum of avoided shortage x unit_price over its
  blocks.

R is each line's own review period: its supplier's `review_days`, else
`policy.review_days` (`with_review`).

`purchasing.minimum_order_value: cheapest` takes the cheapest; `top_up`, `bring_forward`,
`defer` force one (bring forward falls back to top up when it cannot reach the minimum);
`flag` only flags the lines, as before. Full container loads (suppliers.full_loads) round
the supplier's order to whole loads the same way: down by dropping its least protective
blocks, up by topping up with the most protective ones that fit, whichever costs less;
both measured in volume and in weight (`LOAD_MEASURES`). Whatever a
rule adds to a line is whole packs, within its max_order, on a line with no order at least
its MOQ, and keeps the position after the order at most the line's order-up-to cap (shelf
life, a successor's switch date); a line holding excess of the item takes nothing
(`rule_rows`, `_orderable`, `_legal_room`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

import polars as pl

from stockplan.demand import SERIES
from stockplan.excess import excess_quantity
from stockplan.i18n import counted_format, counted_text
from stockplan.policy import round_order_quantity, smallest_order
from stockplan.purchasing import apply_budget, budget_blocks, hold_budget, take_in_turn
from stockplan.reorder import fmt_number, line_value, stopped, with_clause

DAYS_PER_YEAR = 365.0
DECISION_COLUMNS = [
    "minimum_action",
    "minimum_action_cost",
    "top_up_cost",
    "bring_forward_cost",
    "defer_cost",
    "added_value",
]
LOAD_COLUMNS = ["volume_m3", "weight_kg", "loads", "load_fill", "load_action", "load_note"]
TEXT_LOAD_COLUMNS = ("load_action", "load_note")


def _supplier_frame(suppliers: pl.DataFrame | None, columns: list[str]) -> pl.DataFrame:
    keep = [c for c in columns if suppliers is not None and c in suppliers.columns]
    if not keep:
        return pl.DataFrame(schema={"supplier": pl.String})
    return suppliers.select("supplier", *keep)


def _with_line(orders: pl.DataFrame) -> pl.DataFrame:
    return orders.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))


REVIEW = "_review"
"""A line's own review period R in days (`with_review`), which the rules' costs read."""


def with_review(lines: pl.DataFrame, review_days: float) -> pl.DataFrame:
    """`lines` with REVIEW: the line's review_days less its closure_cover_days (the
    supplier's R, `reorder.plan_orders`), `review_days` (policy.review_days) where a line
    carries none."""
    if "review_days" not in lines.columns:
        return lines.with_columns(pl.lit(float(review_days)).alias(REVIEW))
    cover = (
        pl.col("closure_cover_days").fill_null(0.0)
        if "closure_cover_days" in lines.columns
        else pl.lit(0.0)
    )
    return lines.with_columns((pl.col("review_days") - cover).fill_null(review_days).alias(REVIEW))


def _holding(rate: float, units: pl.Expr) -> pl.Expr:
    """Holding cost of buying `units` now that later reviews would have bought, R the
    line's own review period (REVIEW).

    Unit k replaces a purchase ceil(k / c) reviews later (c = d R units a cycle), so it is
    held R ceil(k / c) days longer. With m = floor(E / c) whole cycles and e = E - m c:
    sum_k ceil(k / c) = c m (m + 1) / 2 + e (m + 1); cost = r x unit_cost x R / 365 x that.
    For E <= c this is r x value x R / 365, the cost of bringing an order forward.
    """
    review = pl.col(REVIEW)
    cycle = (pl.col("forecast_per_day") * review).clip(lower_bound=1e-9)
    whole = (units / cycle + 1e-9).floor()
    rest = (units - whole * cycle).clip(lower_bound=0.0)
    reviews = cycle * whole * (whole + 1) / 2 + rest * (whole + 1)
    return rate * pl.col("unit_cost") * review / DAYS_PER_YEAR * reviews


LIMITS = ["order_up_to_cap", "excess_qty"]
"""What keeps a rule from raising a line, per series (`rule_rows`)."""


def rule_rows(
    rebalanced: pl.DataFrame, orders: pl.DataFrame, caps: pl.DataFrame, buffer_days: float
) -> pl.DataFrame:
    """What the budget and the supplier rules read of each series beside its order row:
    unit_price and demand_lead_time (`purchasing.budget_blocks`), order_up_to_cap (the
    tightest cap of shelf life, a successor's switch date or a kit, `caps`; null: none) and
    excess_qty (as the excess sheet has it, `excess.excess_quantity` of the order row)."""
    limits = orders.select(*SERIES, excess_quantity(buffer_days).alias("excess_qty"))
    if caps.height:
        limits = limits.join(caps.select(*SERIES, "order_up_to_cap"), on=SERIES, how="left")
    else:
        limits = limits.with_columns(pl.lit(None, pl.Float64).alias("order_up_to_cap"))
    return rebalanced.select(*SERIES, "unit_price", "demand_lead_time").join(
        limits, on=SERIES, how="left"
    )


def _with_limits(lines: pl.DataFrame, demand: pl.DataFrame) -> pl.DataFrame:
    """lines with the LIMITS of their series from `demand` (`rule_rows`; null when absent)."""
    have = [c for c in LIMITS if c in demand.columns and c not in lines.columns]
    if have:
        lines = lines.join(demand.select(*SERIES, *have), on=SERIES, how="left")
    return lines.with_columns(
        pl.lit(None, pl.Float64).alias(c) for c in LIMITS if c not in lines.columns
    )


def _orderable(lines: pl.DataFrame | None = None) -> pl.Expr:
    """Lines more may be bought on: priced, with demand, not stopped (`reorder.stopped`:
    inactive, conflicting master data, a kit, a replaced item), not sending stock to
    another location (`transfer_qty` below 0: a warehouse that gives its surplus away
    should not buy more of the item), and not holding excess of the item (`excess_qty`
    above 0, as the excess sheet lists it: more would only add to it)."""
    giving = (
        (pl.col("transfer_qty").fill_null(0.0) < 0)
        if lines is None or "transfer_qty" in lines.columns
        else pl.lit(False)
    )
    excess = (
        (pl.col("excess_qty").fill_null(0.0) > 0)
        if lines is None or "excess_qty" in lines.columns
        else pl.lit(False)
    )
    return (
        (pl.col("unit_cost") > 0)
        & (pl.col("forecast_per_day") > 0)
        & ~stopped()
        & ~giving
        & ~excess
    )


def under_cap() -> pl.Expr:
    """Units a line may still take before its position after the order passes its
    order-up-to cap: cap - inventory_position - order_qty, at least 0; null without a cap.
    A cap is a limit, not a target: units beyond it would expire before they sell (shelf
    life) or outlive the item (a successor's switch date), `caps.cap_order_up_to`."""
    return (pl.col("order_up_to_cap") - pl.col("inventory_position") - pl.col("order_qty")).clip(
        lower_bound=0.0
    )


def _open_blocks(
    lines: pl.DataFrame, room: pl.Expr, demand: pl.DataFrame, discrete: list[str]
) -> pl.DataFrame:
    """Blocks beyond each line's order_qty, up to order_qty + room: line, units_from,
    units_to, cost, priority (valued as the budget values them)."""
    widened = lines.filter(_orderable(lines)).with_columns(
        pl.col("order_qty").alias("ordered"),
        (pl.col("order_qty") + room).alias("order_qty"),
    )
    if widened.height == 0:
        return pl.DataFrame(
            schema={
                "line": pl.Int64,
                "step": pl.Int64,
                "units_from": pl.Float64,
                "units_to": pl.Float64,
                "cost": pl.Float64,
                "priority": pl.Float64,
            }
        )
    blocks = budget_blocks(widened, demand, discrete)
    return (
        blocks.join(widened.select("line", "ordered", "unit_cost"), on="line")
        .filter(pl.col("units_to") > pl.col("ordered") + 1e-9)
        .with_columns(pl.max_horizontal("units_from", "ordered").alias("units_from"))
        .with_columns(
            ((pl.col("units_to") - pl.col("units_from")) * pl.col("unit_cost")).alias("cost")
        )
        .select("line", "step", "units_from", "units_to", "cost", "priority")
    )


def _fill(blocks: pl.DataFrame, gaps: pl.DataFrame, size: str) -> pl.DataFrame:
    """Per line: the units the most protective blocks add until each supplier's gap
    (gaps: supplier, gap, in the unit of block column `size`) is closed. Blocks that
    protect as much come by `carry` (days of the line's demand they reach), fewest first."""
    return (
        blocks.join(gaps, on="supplier")
        .sort(
            ["supplier", "priority", "carry", "line", "step"],
            descending=[False, True, False, False, False],
        )
        .with_columns(pl.col(size).cum_sum().over("supplier").alias("_filled"))
        .filter(pl.col("_filled") - pl.col(size) < pl.col("gap") - 1e-9)
        .group_by("line")
        .agg(pl.col("units_to").max().alias("topped_to"))
    )


def _pack() -> pl.Expr:
    size = pl.col("pack_size").fill_null(1.0)
    return pl.when(size > 0).then(size).otherwise(1.0)


def _legal_room(room: pl.Expr) -> pl.Expr:
    """Of `room` more units on a line, what keeps it orderable: whole packs, under its
    order-up-to cap (`under_cap`), order_qty plus them at most max_order, and on a line
    with no order at least its MOQ in whole packs (`policy.smallest_order`), else none."""
    pack = _pack()
    packs = (pl.min_horizontal(room, under_cap()) / pack + 1e-9).floor() * pack
    headroom = (pl.col("max_order") - pl.col("order_qty")).clip(lower_bound=0.0) / pack + 1e-9
    within = (
        pl.when(pl.col("max_order") > 0)
        .then(pl.min_horizontal(packs, headroom.floor() * pack))
        .otherwise(packs)
    )
    least = smallest_order(pl.col("moq"), pl.col("pack_size"))
    too_few = (pl.col("order_qty") <= 0) & (within < least - 1e-9)
    return pl.when(too_few).then(0.0).otherwise(within)


def _next_cycle(lines: pl.DataFrame) -> pl.Expr:
    """Units each line would order at the next review, its own R on (REVIEW; module
    docstring), as many of them as this cycle's order leaves room for under max_order
    (`_legal_room`)."""
    after = (
        pl.col("inventory_position")
        + pl.col("order_qty")
        - pl.col("forecast_per_day") * pl.col(REVIEW)
    )
    due = (
        pl.when(pl.col("policy_type") == "rs")
        .then(after < pl.col("order_up_to") - 1e-9)
        .otherwise(after <= pl.col("reorder_point"))
    )
    need = round_order_quantity(
        pl.col("order_up_to") - after, pl.col("moq"), pl.col("pack_size"), pl.col("max_order")
    )
    return pl.when(due & _orderable(lines)).then(_legal_room(need)).otherwise(0.0)


def supplier_values(lines: pl.DataFrame) -> pl.DataFrame:
    """supplier, supplier_value, no_cost_lines, order_lines per supplier of the order lines
    of `lines` (order_qty > 0): their order value (of the known costs), how many of them
    have no unit cost, and how many there are. The partitions of a cluster plan send the
    first three, which add up (`partitioned_purchasing`)."""
    return (
        lines.filter(pl.col("order_qty") > 0)
        .group_by("supplier")
        .agg(
            pl.col("order_value").sum().alias("supplier_value"),
            pl.col("order_value").is_null().sum().cast(pl.Int64).alias("no_cost_lines"),
            pl.len().cast(pl.Int64).alias("order_lines"),
        )
    )


def meet_minimum_order_value(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    suppliers: pl.DataFrame | None,
    *,
    action: str,
    holding_rate: float,
    review_days: float,
    discrete_patterns: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(orders with the chosen action applied, one row per supplier below its minimum:
    supplier, min_order_value, order_value, DECISION_COLUMNS)."""
    minimum = _supplier_frame(suppliers, ["moq_value"])
    empty = pl.DataFrame(
        schema={
            "supplier": pl.String,
            "min_order_value": pl.Float64,
            **{c: pl.Float64 for c in DECISION_COLUMNS},
        }
    ).with_columns(pl.col("minimum_action").cast(pl.String))
    if "moq_value" not in minimum.columns:
        return orders, empty
    lines = with_review(_with_limits(_with_line(orders), demand), review_days)
    totals = (
        supplier_values(lines)
        .join(minimum.rename({"moq_value": "min_order_value"}), on="supplier")
        .filter(pl.col("supplier_value") < pl.col("min_order_value") - 1e-9)
        .with_columns((pl.col("min_order_value") - pl.col("supplier_value")).alias("gap"))
    )
    # a missing cost is never 0: below the minimum on its known costs, a supplier with an
    # order line without a unit cost may still reach it; its orders stay as planned
    unknown = totals.filter(pl.col("no_cost_lines") > 0)
    totals = totals.filter(pl.col("no_cost_lines") == 0)
    if action == "flag":
        totals = totals.clear()
    if totals.height == 0:
        return _unknown_cost(orders, unknown, empty)
    short = lines.join(totals.select("supplier"), on="supplier", how="semi")
    # room per line: enough to close the gap alone, in whole packs above any MOQ, under
    # its order-up-to cap (`_legal_room`)
    headroom = pl.col("max_order") - pl.col("order_qty")
    room = (
        pl.when(headroom < 1)  # at its max_order already
        .then(0.0)
        .otherwise(
            round_order_quantity(
                pl.col("gap") / pl.col("unit_cost") + pl.col("pack_size").fill_null(1.0),
                pl.when(pl.col("order_qty") > 0).then(None).otherwise(pl.col("moq")),
                pl.col("pack_size"),
                headroom,
            )
        )
    )
    room = _legal_room(room)
    short = short.join(totals.select("supplier", "gap"), on="supplier")
    extra = _open_blocks(
        short.with_columns(room.alias("_room")), pl.col("_room"), demand, discrete_patterns
    )
    extra = extra.join(
        short.select("line", "supplier", "forecast_per_day"), on="line"
    ).with_columns((pl.col("units_to") / pl.col("forecast_per_day")).alias("carry"))
    topped = _fill(extra, totals.select("supplier", "gap"), "cost")
    top_up = (
        short.join(topped, on="line", how="left")
        .with_columns(
            (pl.col("topped_to").fill_null(pl.col("order_qty")) - pl.col("order_qty")).alias("_add")
        )
        .with_columns(_holding(holding_rate, pl.col("_add")).alias("_hold"))
    )
    top_up_sums = (
        top_up.group_by("supplier")
        .agg(
            pl.col("_hold").sum().alias("top_up_cost"),
            (pl.col("_add") * pl.col("unit_cost")).sum().alias("top_up_value"),
        )
        .join(totals.select("supplier", "gap"), on="supplier")
        .with_columns(  # nothing orderable enough to reach the minimum: no top up
            pl.when(pl.col("top_up_value") >= pl.col("gap") - 1e-9)
            .then(pl.col("top_up_cost"))
            .otherwise(None)
            .alias("top_up_cost")
        )
        .drop("gap")
    )
    nxt = short.with_columns(_next_cycle(short).alias("_next")).with_columns(
        (pl.col("_next") * pl.col("unit_cost")).alias("_next_value"),
        (
            (pl.col("inventory_position") + pl.col("order_qty") - pl.col("reorder_point"))
            / pl.col("forecast_per_day").clip(lower_bound=1e-9)
        ).alias("_slack_days"),
    )
    brought = (
        nxt.filter(pl.col("_next") > 0)
        .sort(["supplier", "_slack_days", "line"])
        .with_columns(pl.col("_next_value").cum_sum().over("supplier").alias("_cum"))
        .join(totals.select("supplier", "gap"), on="supplier")
        .filter(pl.col("_cum") - pl.col("_next_value") < pl.col("gap") - 1e-9)
    )
    forward_sums = (
        brought.group_by("supplier")
        .agg(
            pl.col("_next_value").sum().alias("forward_value"),
            _holding(holding_rate, pl.col("_next")).sum().alias("bring_forward_cost"),
        )
        .join(totals.select("supplier", "gap"), on="supplier")
        .with_columns(
            pl.when(pl.col("forward_value") >= pl.col("gap") - 1e-9)
            .then(pl.col("bring_forward_cost"))
            .otherwise(None)
            .alias("bring_forward_cost")
        )
        .drop("gap")
    )
    current = budget_blocks(short.filter(pl.col("order_qty") > 0), demand, discrete_patterns)
    defer = (
        current.join(short.select("line", "supplier"), on="line")
        .group_by("supplier")
        .agg((pl.col("priority") * pl.col("cost")).sum().alias("defer_cost"))
    )
    options = (
        totals.join(top_up_sums, on="supplier", how="left")
        .join(forward_sums, on="supplier", how="left")
        .join(defer, on="supplier", how="left")
        .with_columns(pl.col("defer_cost").fill_null(0.0))
    )
    if action == "cheapest":
        inf = float("inf")
        costs = {
            "top_up": pl.col("top_up_cost").fill_null(inf),
            "bring_forward": pl.col("bring_forward_cost").fill_null(inf),
            "defer": pl.col("defer_cost"),
        }
        best = pl.min_horizontal(*costs.values())
        chosen = (
            pl.when(costs["bring_forward"] <= best)
            .then(pl.lit("bring_forward"))
            .when(costs["top_up"] <= best)
            .then(pl.lit("top_up"))
            .otherwise(pl.lit("defer"))
        )
    elif action == "bring_forward":
        chosen = (
            pl.when(pl.col("bring_forward_cost").is_not_null())
            .then(pl.lit("bring_forward"))
            .otherwise(pl.lit("top_up"))
        )
    else:
        chosen = pl.lit(action)
    decided = options.with_columns(chosen.alias("minimum_action")).with_columns(
        pl.when(pl.col("minimum_action") == "top_up")
        .then(pl.col("top_up_cost"))
        .when(pl.col("minimum_action") == "bring_forward")
        .then(pl.col("bring_forward_cost"))
        .otherwise(pl.col("defer_cost"))
        .alias("minimum_action_cost"),
        pl.when(pl.col("minimum_action") == "top_up")
        .then(pl.col("top_up_value"))
        .when(pl.col("minimum_action") == "bring_forward")
        .then(pl.col("forward_value"))
        .otherwise(-pl.col("supplier_value"))
        .alias("added_value"),
    )
    action_of = decided.select(
        "supplier", "minimum_action", "min_order_value", "top_up_cost", "bring_forward_cost"
    )
    add = (
        lines.join(action_of, on="supplier", how="left")
        .join(top_up.select("line", "_add"), on="line", how="left")
        .join(brought.select("line", "_next"), on="line", how="left")
    )
    minimum_text = fmt_number(pl.col("min_order_value"))
    new_qty = (
        pl.when(pl.col("minimum_action") == "top_up")
        .then(pl.col("order_qty") + pl.col("_add").fill_null(0.0))
        .when(pl.col("minimum_action") == "bring_forward")
        .then(pl.col("order_qty") + pl.col("_next").fill_null(0.0))
        .when(pl.col("minimum_action") == "defer")
        .then(0.0)
        .otherwise(pl.col("order_qty"))
    )
    clause = (
        pl.when((pl.col("minimum_action") == "top_up") & (pl.col("_add").fill_null(0.0) > 0))
        .then(
            pl.format(
                "topped up by {} to reach the supplier's minimum order value {}",
                fmt_number(pl.col("_add")),
                minimum_text,
            )
        )
        .when((pl.col("minimum_action") == "bring_forward") & (pl.col("_next").fill_null(0.0) > 0))
        .then(
            pl.format(
                "{} brought forward from the next cycle to reach the supplier's minimum "
                "order value {}",
                fmt_number(pl.col("_next")),
                minimum_text,
            )
        )
        .when((pl.col("minimum_action") == "defer") & (pl.col("order_qty") > 0))
        .then(
            pl.format(
                "deferred {}: the supplier's total is below its minimum order value {} {}",
                fmt_number(pl.col("order_qty")),
                minimum_text,
                _why_deferred(action),
            )
        )
    )
    changed = add.with_columns(
        with_clause(clause, new_qty).alias("reason"), new_qty.alias("order_qty")
    ).with_columns(line_value(pl.col("order_qty"), pl.col("unit_cost")).alias("order_value"))
    table = decided.select("supplier", "min_order_value", *DECISION_COLUMNS)
    return _unknown_cost(changed.select(orders.columns), unknown, table)


def _why_deferred(action: str) -> pl.Expr:
    """Why a supplier's order waits a cycle, as it was decided: forced by
    `purchasing.minimum_order_value: defer` (a strict budget's final cut defers so too),
    else the cheapest way out (`cheapest`): waiting costs less than topping up or bringing
    forward, or neither reaches the minimum (no top up cost nor bring forward cost)."""
    if action == "defer":
        return pl.lit("and purchasing.minimum_order_value is defer")
    return (
        pl.when(pl.col("top_up_cost").is_null() & pl.col("bring_forward_cost").is_null())
        .then(pl.lit("and no top up or brought-forward order can reach it"))
        .otherwise(pl.lit("and waiting a cycle costs less than topping up"))
    )


UNKNOWN_COST = "unknown_cost"
"""`minimum_action` of a supplier whose minimum order value cannot be judged: below it on
its known costs, with order lines that have no unit cost (`meet_minimum_order_value`)."""


def _unknown_cost(
    orders: pl.DataFrame, unknown: pl.DataFrame, table: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The orders of the suppliers in `unknown` (supplier, min_order_value, supplier_value,
    no_cost_lines, order_lines) as planned, each order line saying why the minimum was not
    checked; their rows in the decisions `table` (minimum_action UNKNOWN_COST, nothing
    added, no costs weighed; no_cost_lines and order_lines for the plan's note)."""
    if unknown.height == 0:
        return orders, table
    said = unknown.select(
        "supplier",
        pl.format(
            "minimum order value {} not checked: no unit cost on {} of the supplier's order lines",
            fmt_number(pl.col("min_order_value")),
            pl.col("no_cost_lines"),
        ).alias("_unknown"),
    )
    clause = (
        pl.when(
            (pl.col("order_qty") > 0)
            & pl.col("_unknown").is_not_null()
            & ~pl.col("reason").fill_null("").str.contains(pl.col("_unknown"), literal=True)
        )
        .then(pl.col("_unknown"))
        .otherwise(None)
    )
    marked = (
        orders.join(said, on="supplier", how="left")
        .with_columns(with_clause(clause, pl.col("order_qty")).alias("reason"))
        .select(orders.columns)
    )
    rows = unknown.select(
        "supplier",
        "min_order_value",
        pl.lit(UNKNOWN_COST).alias("minimum_action"),
        *[pl.lit(None, pl.Float64).alias(c) for c in DECISION_COLUMNS[1:-1]],
        pl.lit(0.0).alias("added_value"),
        "no_cost_lines",
        "order_lines",
    )
    return marked, pl.concat([table, rows], how="diagonal_relaxed")


UNKNOWN_COST_CLAUSE = (
    r"; minimum order value [^;]+ not checked: no unit cost on \d+ of the supplier's order lines"
)
"""The clause `_unknown_cost` adds to a line (after the reason before it)."""


def unknown_cost_lines(
    orders: pl.DataFrame, summary: pl.DataFrame, decisions: pl.DataFrame
) -> pl.DataFrame:
    """`orders` as placed with the "not checked" clause true after the rules that follow
    the minimum's (full loads): gone from the lines of the suppliers `summary`
    (`purchasing.supplier_orders` of these orders) finds at their minimum on known costs
    alone (met whatever the lines without a cost add), and on every order line of the
    suppliers still UNKNOWN_COST in `decisions` (`unknown_cost_settled`), a line a full
    load added among them."""
    met = summary.filter(pl.col("meets_minimum").fill_null(False)).select("supplier")
    mine = pl.col("supplier").is_in(met["supplier"].implode())
    orders = orders.with_columns(
        pl.when(mine)
        .then(pl.col("reason").str.replace(UNKNOWN_COST_CLAUSE, ""))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    if "no_cost_lines" not in decisions.columns:
        return orders
    unknown = decisions.filter(pl.col("minimum_action") == UNKNOWN_COST)
    return _unknown_cost(orders, unknown, decisions.clear())[0]


def unknown_cost_settled(decisions: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """The decisions with each UNKNOWN_COST row measured on the orders as placed
    (`summary`, `purchasing.supplier_orders`): gone where the known value now reaches the
    minimum (a full load lifted it: the supplier meets it, minimum_action none), else with
    order_lines counted again (a full load may have added lines, each with a cost)."""
    if "no_cost_lines" not in decisions.columns or decisions.height == 0:
        return decisions
    placed = summary.select(
        "supplier",
        pl.col("meets_minimum").fill_null(False).alias("_met"),
        pl.col("lines").cast(pl.Int64).alias("_lines"),
    )
    unknown = pl.col("minimum_action") == UNKNOWN_COST
    return (
        decisions.join(placed, on="supplier", how="left")
        .filter(~(unknown & pl.col("_met").fill_null(False)))
        .with_columns(
            pl.when(unknown & pl.col("_lines").is_not_null())
            .then(pl.col("_lines"))
            .otherwise(pl.col("order_lines"))
            .alias("order_lines")
        )
        .select(decisions.columns)
    )


def unknown_cost_note(decisions: pl.DataFrame) -> str | None:
    """One line for the buyer naming the suppliers whose minimum order value was not
    checked because order lines lack a unit cost (`_unknown_cost`); None when none."""
    if "no_cost_lines" not in decisions.columns:
        return None
    rows = decisions.filter(pl.col("minimum_action") == UNKNOWN_COST).sort("supplier")
    if rows.height == 0:
        return None
    shown = [
        counted_text(
            "{supplier} (minimum {minimum:,.2f}, {no_cost} of {lines} lines without a cost)",
            supplier=row["supplier"],
            minimum=row["min_order_value"],
            no_cost=row["no_cost_lines"],
            lines=row["order_lines"],
        )
        for row in rows.head(5).iter_rows(named=True)
    ]
    more = f" and {rows.height - 5} more" if rows.height > 5 else ""
    return (
        f"suppliers: minimum order value not checked for {rows.height} "
        f"{'supplier' if rows.height == 1 else 'suppliers'} whose order "
        f"lines lack a unit cost, their orders kept as planned: {', '.join(shown)}{more}; "
        "add unit_cost to products or stock"
    )


def load_per_unit(orders: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """orders with volume_m3 and weight_kg per unit from the product master (0 if none)."""
    keep = [c for c in ("volume_m3", "weight_kg") if products is not None and c in products.columns]
    if keep:
        orders = orders.join(products.select("sku", *keep), on="sku", how="left")
    return orders.with_columns(
        *[
            (pl.col(c).fill_null(0.0) if c in keep else pl.lit(0.0)).alias(c)
            for c in ("volume_m3", "weight_kg")
        ]
    )


def _loads(lines: pl.DataFrame, capacity: pl.DataFrame) -> pl.DataFrame:
    """Per supplier with a capacity: volume_m3, weight_kg, loads (the binding one of
    volume / container_m3 and weight / container_kg) and _volume_binds (which binds)."""
    return (
        lines.filter(pl.col("order_qty") > 0)
        .group_by("supplier")
        .agg(
            (pl.col("order_qty") * pl.col("volume_m3")).sum().alias("volume_m3"),
            (pl.col("order_qty") * pl.col("weight_kg")).sum().alias("weight_kg"),
        )
        .join(capacity, on="supplier")
        .with_columns(
            (pl.col("volume_m3") / pl.col("container_m3")).fill_null(0.0).alias("_by_volume"),
            (pl.col("weight_kg") / pl.col("container_kg")).fill_null(0.0).alias("_by_weight"),
        )
        .with_columns(
            pl.max_horizontal("_by_volume", "_by_weight").alias("loads"),
            (pl.col("_by_volume") >= pl.col("_by_weight")).alias("_volume_binds"),
        )
        .filter(pl.col("loads") > 0)
    )


def load_capacity(suppliers: pl.DataFrame | None) -> pl.DataFrame | None:
    """supplier, container_m3, container_kg, full_loads (bool) of the suppliers with a
    container capacity; None when the suppliers table gives none."""
    capacity = _supplier_frame(suppliers, ["container_m3", "container_kg", "full_loads"])
    if "container_m3" not in capacity.columns and "container_kg" not in capacity.columns:
        return None
    return capacity.with_columns(
        *[
            (
                pl.col(c).cast(pl.Float64) if c in capacity.columns else pl.lit(None, pl.Float64)
            ).alias(c)
            for c in ("container_m3", "container_kg")
        ],
        (
            pl.col("full_loads").cast(pl.String).str.strip_chars().str.to_lowercase()
            if "full_loads" in capacity.columns
            else pl.lit(None, pl.String)
        )
        .is_in(["true", "1", "yes", "y", "是", "x"])
        .fill_null(False)
        .alias("full_loads"),
    ).filter(pl.col("container_m3").is_not_null() | pl.col("container_kg").is_not_null())


def loads_to_round(loads: pl.DataFrame) -> pl.DataFrame:
    """The suppliers of `_loads` (or `supplier_loads`) whose order `round_to_loads` rounds:
    full_loads and not already a whole number of loads."""
    whole = (pl.col("loads") - pl.col("loads").round()).abs() < 1e-6
    return loads.filter(pl.col("full_loads") & ~whole)


def supplier_load_sums(orders: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """Per supplier over the lines with an order: volume_m3 and weight_kg (order_qty x the
    product's volume and weight); the rows of several sets of series add up."""
    return (
        load_per_unit(orders, products)
        .filter(pl.col("order_qty") > 0)
        .group_by("supplier")
        .agg(
            (pl.col("order_qty") * pl.col("volume_m3")).sum().alias("volume_m3"),
            (pl.col("order_qty") * pl.col("weight_kg")).sum().alias("weight_kg"),
        )
    )


def supplier_loads(sums: pl.DataFrame, capacity: pl.DataFrame) -> pl.DataFrame:
    """`_loads` per supplier from the rows of `supplier_load_sums` of several sets of series."""
    added = sums.group_by("supplier").agg(pl.col("volume_m3").sum(), pl.col("weight_kg").sum())
    return _loads(added.with_columns(pl.lit(1.0).alias("order_qty")), capacity)


def loads_again(
    sums: pl.DataFrame, capacity: pl.DataFrame | None, before: pl.DataFrame
) -> pl.DataFrame:
    """The LOAD_COLUMNS measured again from `supplier_load_sums` rows after a later cut
    (a strict budget's, `purchasing.hold_budget`), each supplier keeping the load_action
    of `before` (the table `round_to_loads` made)."""
    if capacity is None:
        return before
    actions = before.select("supplier", "load_action") if "load_action" in before.columns else None
    table = load_table(
        supplier_loads(sums, capacity),
        actions
        if actions is not None
        else pl.DataFrame(schema={"supplier": pl.String, "load_action": pl.String}),
    )
    if "load_note" not in before.columns:
        return table
    return table.drop("load_note").join(
        before.select("supplier", "load_note"), on="supplier", how="left"
    )


def with_decisions_again(before: pl.DataFrame, again: pl.DataFrame) -> pl.DataFrame:
    """The minimum-value decisions of `before`, those of `again` (a second pass) replacing
    the first for the suppliers it decided."""
    if again.height == 0:
        return before
    return pl.concat(
        [before.join(again.select("supplier"), on="supplier", how="anti"), again],
        how="diagonal_relaxed",
    )


def load_table(
    loads: pl.DataFrame, actions: pl.DataFrame, notes: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The LOAD_COLUMNS per supplier of `_loads` (`actions`: supplier, load_action; `notes`:
    supplier, load_note, `part_load_notes`)."""
    notes = (
        notes
        if notes is not None
        else pl.DataFrame(schema={"supplier": pl.String, "load_note": pl.String})
    )
    return (
        loads.join(actions, on="supplier", how="left")
        .join(notes, on="supplier", how="left")
        .select(
            "supplier",
            "volume_m3",
            "weight_kg",
            "loads",
            (pl.col("loads") / pl.col("loads").ceil().clip(lower_bound=1.0)).alias("load_fill"),
            pl.col("load_action").fill_null("none"),
            "load_note",
        )
    )


LOAD_MEASURES = (("volume_m3", "container_m3", "_m3"), ("weight_kg", "container_kg", "_kg"))
"""A load's measures: (the line's per unit and the supplier's total column, the container's
capacity column, the suffix of the columns the rounding derives from them)."""


def _takes_space() -> pl.Expr:
    """A line whose units take room in a measure the supplier's container is limited by."""
    return pl.any_horizontal(
        (pl.col(per_unit) > 0) & pl.col(capacity).is_not_null()
        for per_unit, capacity, _ in LOAD_MEASURES
    )


def _space_left() -> list[pl.Expr]:
    """Per supplier of `_loads`: the room left in its last container, ceil(loads) x
    capacity - total, in volume (_space_m3) and weight (_space_kg); infinite in a measure
    the container has no capacity for."""
    return [
        (pl.col("loads").ceil() * pl.col(capacity) - pl.col(total))
        .clip(lower_bound=0.0)
        .fill_null(float("inf"))
        .alias(f"_space{measure}")
        for total, capacity, measure in LOAD_MEASURES
    ]


def _fit_blocks(blocks: pl.DataFrame, gaps: pl.DataFrame) -> pl.DataFrame:
    """line, up_to: of `blocks` (line, step, supplier, units_from, units_to, pack,
    volume_m3 and weight_kg per unit, in their turn), those that fit their supplier's room
    left (`gaps`: supplier, _space_m3, _space_kg) in volume and in weight, taken as the
    budget takes its blocks (`purchasing.take_in_turn`: one that does not fit is skipped,
    the next ones still get their turn; a line's block needs its earlier ones). A block
    holds several packs on a long line; the room its turn could not use is then offered,
    pack by pack, to each line's first block not taken (a MOQ block stays whole)."""
    if blocks.height == 0:
        return pl.DataFrame(schema={"line": pl.Int64, "up_to": pl.Float64})
    rooms = gaps.select("supplier", "_space_m3", "_space_kg").with_row_index("_group")
    blocks = blocks.join(
        rooms.select("supplier", "_group"), on="supplier", maintain_order="left"
    ).with_columns(pl.col("step") - pl.col("step").min().over("line"))
    room = rooms.select("_space_m3", "_space_kg").to_numpy()
    taken = _take_fitting(blocks, room)
    room = room - (
        blocks.filter(taken)
        .group_by("_group")
        .agg(load.sum() for load in _block_loads())
        .join(rooms.select("_group"), on="_group", how="right")
        .sort("_group")
        .select(pl.col(p).fill_null(0.0) for p, _, _ in LOAD_MEASURES)
        .to_numpy()
    )
    got = blocks.filter(taken).group_by("line").agg(pl.col("step").max() + 1)
    first_left = (
        blocks.filter(~taken)
        .join(got, on="line", how="left")
        .filter(pl.col("step") == pl.col("step_right").fill_null(0))
        .filter(pl.col("units_from") > 0)  # a MOQ block stays whole
    )
    packs = (
        first_left.with_columns(
            ((pl.col("units_to") - pl.col("units_from")) / pl.col("pack") - 1e-9)
            .ceil()
            .cast(pl.Int64)
            .alias("_n")
        )
        .with_columns(pl.int_ranges(0, "_n").alias("step"))
        .explode("step")
        .with_columns(
            pl.min_horizontal(
                pl.col("units_from") + (pl.col("step") + 1) * pl.col("pack"), "units_to"
            ).alias("units_to"),
            (pl.col("units_from") + pl.col("step") * pl.col("pack")).alias("units_from"),
        )
        .select(blocks.columns)
    )
    by_pack = _take_fitting(packs, room) if packs.height else pl.Series([], dtype=pl.Boolean)
    return (
        pl.concat([blocks.filter(taken), packs.filter(by_pack)])
        .group_by("line")
        .agg(pl.col("units_to").max().alias("up_to"))
    )


def _block_loads() -> list[pl.Expr]:
    """A block's volume and weight: its units x the line's per unit."""
    block = pl.col("units_to") - pl.col("units_from")
    return [(block * pl.col(per_unit)).alias(per_unit) for per_unit, _, _ in LOAD_MEASURES]


def _take_fitting(blocks: pl.DataFrame, room) -> pl.Series:
    """`purchasing.take_in_turn` of `blocks` (line, step from 0, _group, units, per-unit
    volume and weight, in their turn) in `room` (per _group: volume, weight)."""
    taken, _ = take_in_turn(
        blocks.select(_block_loads()).to_numpy(),
        blocks["line"].to_numpy(),
        blocks["step"].to_numpy(),
        blocks["_group"].cast(pl.Int64).to_numpy(),
        room,
    )
    return pl.Series(taken)


TIE_BREAK = ("supplier", "sku", "location")
"""The order of a supplier's lines when their blocks protect as much (`round_to_loads`):
by item and location, so the plan does not depend on the order of the input rows."""


def round_to_loads(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    suppliers: pl.DataFrame | None,
    products: pl.DataFrame | None,
    *,
    holding_rate: float,
    review_days: float,
    discrete_patterns: list[str],
    round_up: bool = True,
    _fill_only: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(orders, per supplier with a container capacity: LOAD_COLUMNS).

    loads = max(volume / container_m3, weight / container_kg); load_fill = loads /
    ceil(loads) (how full the containers used are). A supplier with full_loads true is
    rounded to whole loads (module docstring): load_action `down` or `up`, or `none`.
    `round_up` False (a budget kept strict): only `down`, and a part load below one
    container stays (`none`): rounding up would spend money the budget did not give.
    A cut whose last block is a whole MOQ can go below the whole load it aimed at: the
    load it left is then filled again with the most protective blocks that fit, as `up`
    fills one (`_fill_only`, the second pass, which leaves the measuring of loads to the
    first and returns no table), and the supplier keeps `down`. Loads are measured once
    before rounding and once after, only when a quantity changed."""
    capacity = load_capacity(suppliers)
    if capacity is None:
        return orders, pl.DataFrame(schema={"supplier": pl.String, "volume_m3": pl.Float64})
    lines = with_review(
        load_per_unit(_with_limits(_with_line(orders), demand), products), review_days
    )
    loads = _loads(lines, capacity)
    to_round = loads_to_round(loads)
    unit = lines.join(
        to_round.select("supplier", "container_m3", "container_kg"), on="supplier"
    ).filter(_takes_space())
    gaps = to_round.select(
        "supplier",
        *_space_left(),
        *[
            (pl.col(total) - pl.col("loads").floor() * pl.col(capacity))
            .clip(lower_bound=0.0)
            .fill_null(0.0)
            .alias(f"_over{measure}")
            for total, capacity, measure in LOAD_MEASURES
        ],
        (pl.col("loads").floor() >= 1).alias("can_round_down"),
        pl.col("loads").floor().cast(pl.Int64).alias("_whole"),
    )
    # up: the most protective extra blocks that still fit in the last load, in volume and
    # in weight, in whole packs under max_order, a line with no order at least its MOQ;
    # a block that does not fit is skipped and the next ones still get their turn, as the
    # budget funds its blocks (`purchasing.take_in_turn`)
    fits = pl.min_horizontal(
        *[
            pl.when(pl.col(per_unit) > 0)
            .then(pl.col(f"_space{measure}") / pl.col(per_unit))
            .otherwise(float("inf"))
            for per_unit, _, measure in LOAD_MEASURES
        ]
    ).floor() + pl.col("pack_size").fill_null(1.0)
    widened = unit.join(gaps, on="supplier").with_columns(_legal_room(fits).alias("_room"))
    extra = (
        _open_blocks(widened, pl.col("_room"), demand, discrete_patterns)
        .join(
            unit.select(
                "line",
                *TIE_BREAK,
                "volume_m3",
                "weight_kg",
                "forecast_per_day",
                _pack().alias("pack"),
            ),
            on="line",
        )
        .with_columns((pl.col("units_to") / pl.col("forecast_per_day")).alias("carry"))
    )
    added = _fit_blocks(
        extra.sort(
            ["supplier", "priority", "carry", *TIE_BREAK[1:], "step"],
            descending=[False, True, False, False, False, False],
        ),
        gaps,
    )
    up = (
        unit.join(added, on="line", how="left")
        .with_columns(
            (pl.col("up_to").fill_null(pl.col("order_qty")) - pl.col("order_qty")).alias("_up")
        )
        .with_columns(_holding(holding_rate, pl.col("_up")).alias("_up_cost"))
    )
    # down: drop the least protective blocks until the part load is gone, in volume and in
    # weight: a block is dropped while a measure it takes is still over the whole loads
    held = budget_blocks(unit.filter(pl.col("order_qty") > 0), demand, discrete_patterns).join(
        unit.select("line", *TIE_BREAK, "volume_m3", "weight_kg"), on="line"
    )
    block = pl.col("units_to") - pl.col("units_from")
    dropped = (
        held.with_columns(
            *[(block * pl.col(per_unit)).alias(f"_load{m}") for per_unit, _, m in LOAD_MEASURES]
        )
        .join(gaps, on="supplier")
        .sort(
            ["supplier", "priority", *TIE_BREAK[1:], "step"],
            descending=[False, False, False, False, True],
        )
        .with_columns(
            pl.col(f"_load{m}").cum_sum().over("supplier").alias(f"_cum{m}")
            for _, _, m in LOAD_MEASURES
        )
        .filter(
            pl.any_horizontal(
                (pl.col(f"_load{m}") > 0)
                & (pl.col(f"_cum{m}") - pl.col(f"_load{m}") < pl.col(f"_over{m}") - 1e-9)
                for _, _, m in LOAD_MEASURES
            )
        )
        .group_by("line")
        .agg(
            pl.col("units_from").min().alias("down_to"),
            (pl.col("priority") * pl.col("cost")).sum().alias("_down_cost"),
            pl.col("cost").sum().alias("_down_value"),
        )
    )
    costs = (
        up.group_by("supplier")
        .agg(
            pl.col("_up_cost").sum().alias("up_cost"),
            pl.col("_up").sum().alias("up_units"),
        )
        .join(
            dropped.join(unit.select("line", "supplier"), on="line")
            .group_by("supplier")
            .agg(pl.col("_down_cost").sum(), pl.col("_down_value").sum())
            .rename({"_down_cost": "down_cost"}),
            on="supplier",
            how="left",
        )
        .join(gaps, on="supplier")
        .join(_minimum_kept(lines, suppliers), on="supplier", how="left")
        # a cut must not take a supplier that met its minimum below it; a strict budget,
        # which never rounds up, still cuts: its final check defers or flags the supplier
        .with_columns(
            (
                (pl.col("_value") >= pl.col("moq_value") - 1e-9)
                & (
                    pl.col("_value") - pl.col("_down_value").fill_null(0.0)
                    < pl.col("moq_value") - 1e-9
                )
            )
            .fill_null(False)
            .alias("_below_minimum")
        )
        .with_columns(
            pl.when(pl.lit(_fill_only))
            .then(pl.lit("up"))
            .when(
                pl.col("can_round_down")
                & ~(pl.col("_below_minimum") & pl.lit(round_up))
                & ((pl.col("down_cost").fill_null(0.0) < pl.col("up_cost")) | (not round_up))
            )
            .then(pl.lit("down"))
            .when(pl.lit(round_up) & (pl.col("up_units") > 1e-9))
            .then(pl.lit("up"))
            .otherwise(pl.lit("none"))
            .alias("load_action")
        )
    )
    moved = (
        lines.join(costs.select("supplier", "load_action"), on="supplier", how="left")
        .join(up.select("line", "_up"), on="line", how="left")
        .join(dropped.select("line", "down_to"), on="line", how="left")
    )
    new_qty = (
        pl.when((pl.col("load_action") == "up") & (pl.col("_up").fill_null(0.0) > 0))
        .then(pl.col("order_qty") + pl.col("_up"))
        .when((pl.col("load_action") == "down") & pl.col("down_to").is_not_null())
        .then(pl.col("down_to"))
        .otherwise(pl.col("order_qty"))
    )
    changed = moved.with_columns(new_qty.alias("order_qty")).select(orders.columns)
    actions = costs.select("supplier", "load_action")
    cut = actions.filter(pl.col("load_action") == "down").select("supplier")
    # the loads of `changed`, measured again only after its quantities changed: a supplier
    # not rounded keeps the loads measured above, and nothing moves when none is rounded
    measured = loads if to_round.height == 0 else None
    rules = {
        "holding_rate": holding_rate,
        "review_days": review_days,
        "discrete_patterns": discrete_patterns,
    }
    if round_up and not _fill_only and cut.height and suppliers is not None:
        measured = _loads(load_per_unit(changed, products), capacity)
        short = loads_to_round(measured.join(cut, on="supplier"))
        if short.height:  # a whole MOQ block cut past the whole load: fill what it left
            changed, _ = round_to_loads(
                changed,
                demand,
                suppliers.join(short.select("supplier"), on="supplier"),
                products,
                **rules,
                _fill_only=True,
            )
            measured = _loads(load_per_unit(changed, products), capacity)
        # still below the whole load the cut aimed at (the block was most of it, or the
        # gap too small for any pack): rounding down could not land on a whole load, so
        # the supplier's order is rounded up from where it was instead
        aimed = to_round.select("supplier", pl.col("loads").floor().alias("_aimed"))
        missed = (
            measured.select("supplier", "loads")
            .join(aimed, on="supplier", how="right")
            .join(cut, on="supplier")
            # fewer containers than the whole loads aimed at (a part load left below the
            # aim by packs that do not fit exactly is what rounding down accepts)
            .filter((pl.col("loads").fill_null(0.0) - 1e-9).ceil() < pl.col("_aimed"))
            .select("supplier")
        )
        if missed.height:
            mine = pl.col("supplier").is_in(missed["supplier"].implode())
            raised, _ = round_to_loads(
                orders.filter(mine),
                demand,
                suppliers.join(missed, on="supplier"),
                products,
                **rules,
                _fill_only=True,
            )
            changed = pl.concat([changed.filter(~mine), raised], how="vertical_relaxed")
            measured = None
            actions = actions.with_columns(
                pl.when(pl.col("supplier").is_in(missed["supplier"].implode()))
                .then(pl.lit("up"))
                .otherwise(pl.col("load_action"))
                .alias("load_action")
            )
    if not _fill_only:  # one clause per line, for the change of both passes together
        final = changed.select("sku", "location", pl.col("order_qty").alias("_final"))
        changed = (
            orders.join(final, on=["sku", "location"], how="left", maintain_order="left")
            .with_columns(
                with_clause(_load_clause(pl.col("_final")), pl.col("_final")).alias("reason"),
                pl.col("_final").alias("order_qty"),
            )
            .drop("_final")
        )
    changed = changed.with_columns(
        line_value(pl.col("order_qty"), pl.col("unit_cost")).alias("order_value")
    )
    if _fill_only:  # the first pass measures what the second left
        return changed.select(orders.columns), pl.DataFrame(schema={"supplier": pl.String})
    if measured is None:
        measured = _loads(load_per_unit(changed, products), capacity)
    # a cut to whole loads may stop a little below one (packs that do not fit exactly):
    # only a supplier rounded up, or left as it was, is told why its last load is not full
    final = load_per_unit(_with_limits(_with_line(changed), demand), products)
    not_cut = measured.join(
        actions.filter(pl.col("load_action") == "down"), on="supplier", how="anti"
    )
    kept = costs.filter(
        pl.col("can_round_down") & pl.col("_below_minimum") & (pl.col("load_action") == "none")
    ).select(
        "supplier",
        pl.format(
            "not cut to {} whole loads: the cut would take the order below the supplier's "
            "minimum order value {}",
            "_whole",
            fmt_number(pl.col("moq_value")),
        ).alias("_kept"),
    )
    notes = part_load_notes(final, not_cut)
    if kept.height:  # the cut was possible: the minimum, not the lines, kept the part load
        notes = pl.concat(
            [notes.join(kept, on="supplier", how="anti"), kept.rename({"_kept": "load_note"})]
        )
    return changed.select(orders.columns), load_table(measured, actions, notes)


def _minimum_kept(lines: pl.DataFrame, suppliers: pl.DataFrame | None) -> pl.DataFrame:
    """supplier, _value (its order value before rounding), moq_value: the suppliers whose
    minimum order value a cut to whole loads must keep; a supplier with an order line
    without a unit cost has no known value (its minimum is not judged) and is left out."""
    minimum = _supplier_frame(suppliers, ["moq_value"])
    if "moq_value" not in minimum.columns:
        return pl.DataFrame(
            schema={"supplier": pl.String, "_value": pl.Float64, "moq_value": pl.Float64}
        )
    return (
        supplier_values(lines)
        .filter(pl.col("no_cost_lines") == 0)
        .join(minimum.with_columns(pl.col("moq_value").cast(pl.Float64)), on="supplier")
        .select("supplier", pl.col("supplier_value").alias("_value"), "moq_value")
    )


def part_load_notes(lines: pl.DataFrame, loads: pl.DataFrame) -> pl.DataFrame:
    """supplier, load_note: why a supplier with full loads stays at a part load that one
    pack of its items would still fit (`_loads` of the final `lines`). Rounding fills the
    last load only on lines that may take more (`_legal_room`); the note counts the lines
    that could not: capped by shelf life or a successor's switch date (`under_cap`),
    holding excess, at max_order or not orderable, or whose next pack (MOQ on a line with
    no order) is larger than the space left. Load fractions are of the last container."""
    part = loads_to_round(loads).with_columns(
        (pl.col("loads") - pl.col("loads").floor()).alias("_part"), *_space_left()
    )
    unit = lines.join(
        part.select("supplier", "container_m3", "container_kg", "_space_m3", "_space_kg"),
        on="supplier",
    ).filter(_takes_space())

    def fits(units: pl.Expr) -> pl.Expr:  # in volume and in weight
        return pl.all_horizontal(
            units * pl.col(per_unit) <= pl.col(f"_space{m}") + 1e-9
            for per_unit, _, m in LOAD_MEASURES
        )

    excess = pl.col("excess_qty").fill_null(0.0) > 0
    capped = pl.col("order_up_to_cap").is_not_null() & (under_cap() < _pack() - 1e-9)
    closed = ~_orderable(unit) | (_legal_room(pl.lit(1e15)) <= 0)
    block = (
        pl.when(pl.col("order_qty") <= 0)
        .then(smallest_order(pl.col("moq"), pl.col("pack_size")))
        .otherwise(_pack())
    )
    why = (
        pl.when(excess)
        .then(pl.lit("excess"))
        .when(capped)
        .then(pl.lit("capped"))
        .when(closed)
        .then(pl.lit("closed"))
        .when(~fits(block))
        .then(pl.lit("too_big"))
        .otherwise(pl.lit("room"))
    )
    counts = unit.group_by("supplier").agg(
        *[(why == kind).sum().alias(kind) for kind in ("capped", "excess", "closed", "too_big")],
        fits(_pack()).any().alias("_pack_fits"),
    )

    def clause(kind: str, text: str) -> pl.Expr:
        return pl.when(pl.col(kind) > 0).then(counted_format(text, n=pl.col(kind)))

    return (
        part.join(counts, on="supplier")
        .filter(pl.col("_pack_fits"))
        .select(
            "supplier",
            pl.concat_str(
                pl.format(
                    "part load {} of a container could not be filled",
                    pl.col("_part").round(2).cast(pl.String),
                ),
                clause("capped", "{n} lines capped by shelf life or a successor's switch date"),
                clause("excess", "{n} lines holding excess"),
                clause("closed", "{n} lines at max_order or not orderable"),
                clause("too_big", "{n} lines whose next pack or MOQ does not fit the space left"),
                separator="; ",
                ignore_nulls=True,
            ).alias("load_note"),
        )
    )


def _load_clause(new_qty: pl.Expr) -> pl.Expr:
    """What rounding to whole loads did to a line (null: nothing)."""
    return (
        pl.when(new_qty > pl.col("order_qty") + 1e-9)
        .then(
            pl.format(
                "raised by {} to fill whole container loads",
                fmt_number(new_qty - pl.col("order_qty")),
            )
        )
        .when(new_qty < pl.col("order_qty") - 1e-9)
        .then(
            pl.format(
                "cut by {} to whole container loads", fmt_number(pl.col("order_qty") - new_qty)
            )
        )
    )


def part_load_note(loads: pl.DataFrame) -> str | None:
    """A note of the plan naming the suppliers with full loads left at a part load no line
    could fill (a `load_note` in `loads`, the LOAD_COLUMNS table), each with its loads."""
    if "load_note" not in loads.columns:
        return None
    part = loads.filter(pl.col("load_note").is_not_null()).sort("supplier")
    if part.height == 0:
        return None
    named = [f"{s} {loads:.2f}" for s, loads in part.select("supplier", "loads").head(5).rows()]
    more = f" and {part.height - 5} more" if part.height > 5 else ""
    verb = "stays" if part.height == 1 else "stay"
    return (
        f"containers: {part.height} supplier{'s' if part.height > 1 else ''} with full loads "
        f"{verb} at a part load no line can fill ({', '.join(named)}{more}); "
        "load_note in supplier_orders says why"
    )


SUPPLIER_ORDER_EXTRA = [*DECISION_COLUMNS, *LOAD_COLUMNS]
"""Columns this module adds to the supplier_orders table (after PO_SUMMARY_COLUMNS)."""


def with_supplier_decisions(
    summary: pl.DataFrame, decisions: pl.DataFrame, loads: pl.DataFrame
) -> pl.DataFrame:
    """supplier_orders with the minimum-value decision and the container fill per supplier;
    a deferred supplier keeps a row (0 lines) so the buyer sees the choice and its cost."""
    deferred = decisions.filter(pl.col("minimum_action") == "defer").join(
        summary, on="supplier", how="anti"
    )
    rows = pl.concat(
        [
            summary,
            deferred.select(
                "supplier",
                pl.lit(0, pl.UInt32).alias("lines"),
                pl.lit(0.0).alias("order_value"),
                "min_order_value",
                pl.lit(False).alias("meets_minimum"),
            ),
        ],
        how="diagonal_relaxed",
    ).select(summary.columns)
    extra_loads = [c for c in LOAD_COLUMNS if c in loads.columns]
    out = rows.join(decisions.drop("min_order_value"), on="supplier", how="left").join(
        loads.select("supplier", *extra_loads), on="supplier", how="left"
    )
    return (
        out.with_columns(
            pl.col("minimum_action").fill_null("none"),
            *[
                pl.lit(None, pl.String if c in TEXT_LOAD_COLUMNS else pl.Float64).alias(c)
                for c in LOAD_COLUMNS
                if c not in out.columns
            ],
        )
        .select(*summary.columns, *SUPPLIER_ORDER_EXTRA)
        .sort("supplier", nulls_last=True)
    )


PRICE_ROUNDS = 3
"""Top ups again at most this many times after the price paid moved (`minimum_at_prices_paid`)."""


def minimum_at_prices_paid(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    suppliers: pl.DataFrame | None,
    *,
    action: str,
    price: Callable[[pl.DataFrame], pl.DataFrame],
    holding_rate: float,
    review_days: float,
    discrete_patterns: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`meet_minimum_order_value` of `orders`, the minimum then checked again at the
    prices the topped-up or brought-forward lines pay (`price`: `price_breaks.reprice`):
    a top up across
    a price break pays less for every unit of the line, and can leave the supplier below
    its minimum (2,001 at 10 = 20,010 valued, 19,809.90 paid at 9.9); it is then topped up
    again at the price paid (to 2,021 x 9.9 = 20,007.90), at most PRICE_ROUNDS times.
    The decisions keep the way out chosen; added_value is what it added at the prices
    paid, its cost that of every top up."""
    rules = {
        "holding_rate": holding_rate,
        "review_days": review_days,
        "discrete_patterns": discrete_patterns,
    }
    funded, decisions = meet_minimum_order_value(orders, demand, suppliers, action=action, **rules)
    raised = decisions.filter(pl.col("minimum_action").is_in(["top_up", "bring_forward"]))
    if raised.height == 0 or suppliers is None:
        return funded, decisions
    funded = price(funded)
    mine = suppliers.join(raised.select("supplier"), on="supplier", how="semi")
    more = pl.DataFrame(schema={"supplier": pl.String, "_more": pl.Float64})
    for _ in range(PRICE_ROUNDS):
        again_lines, again = meet_minimum_order_value(
            funded, demand, mine, action="top_up", **rules
        )
        again = again.filter(
            (pl.col("minimum_action") == "top_up") & (pl.col("added_value") > 1e-9)
        )
        if again.height == 0:
            break
        funded = price(again_lines)
        more = pl.concat(
            [more, again.select("supplier", pl.col("top_up_cost").fill_null(0.0).alias("_more"))]
        )

    paid = (
        supplier_values(funded)
        .join(supplier_values(orders), on="supplier", how="left", suffix="_before")
        .select(
            "supplier",
            (pl.col("supplier_value") - pl.col("supplier_value_before").fill_null(0.0)).alias(
                "_added"
            ),
        )
    )
    more = more.group_by("supplier").agg(pl.col("_more").sum())
    raising = pl.col("minimum_action").is_in(["top_up", "bring_forward"])
    decisions = (
        decisions.join(paid, on="supplier", how="left")
        .join(more, on="supplier", how="left")
        .with_columns(
            pl.when(raising & pl.col("_added").is_not_null())
            .then(pl.col("_added"))
            .otherwise(pl.col("added_value"))
            .alias("added_value"),
            pl.when(raising)
            .then(pl.col("minimum_action_cost") + pl.col("_more").fill_null(0.0))
            .otherwise(pl.col("minimum_action_cost"))
            .alias("minimum_action_cost"),
        )
        .drop("_added", "_more")
    )
    return funded, decisions


T = TypeVar("T")

DEFERRAL_ROUNDS = 5
"""At most this many rounds of a budget refunded after suppliers are deferred
(`deferral_rounds`); each round defers at least one more supplier."""


def deferral_rounds(
    buy: Callable[[pl.DataFrame], tuple[T, pl.DataFrame]], budget: float | None
) -> tuple[T, pl.DataFrame, pl.DataFrame]:
    """The purchasing rules run by `buy` until no further supplier is deferred below its
    minimum order value: `buy(held)` runs every rule on the lines of the suppliers not in
    `held` (supplier, deferred_value), the lines of those in it as they were when
    deferred (order 0), and returns (its result, the minimum-value decisions). The money
    a supplier deferred in a round held (its order value then, -added_value) is spent
    again by the next round, by the same priority, on the other suppliers' lines, whose
    minimums are checked again, at the budget's first cut and at a strict budget's final
    one alike (at most DEFERRAL_ROUNDS rounds after the first; a supplier once deferred
    stays deferred). Without a budget nothing is spent again. Returns (the last round's
    result, the decisions with those of the held suppliers, the held suppliers)."""
    held = pl.DataFrame(schema={"supplier": pl.String, "deferred_value": pl.Float64})
    kept: pl.DataFrame | None = None  # the decisions of the held suppliers
    for round_ in range(DEFERRAL_ROUNDS + 1):
        bought, decisions = buy(held)
        if kept is not None:
            decisions = pl.concat([decisions, kept], how="diagonal_relaxed")
        new = decisions.filter(pl.col("minimum_action") == "defer").join(
            held, on="supplier", how="anti"
        )
        if budget is None or new.height == 0 or round_ == DEFERRAL_ROUNDS:
            break
        held = pl.concat(
            [held, new.select("supplier", (-pl.col("added_value")).alias("deferred_value"))]
        )
        kept = decisions.join(held, on="supplier", how="semi")
    return bought, decisions, held


class Bought(NamedTuple):
    """The order lines through the purchasing rules (`budget_after_deferrals`)."""

    budgeted: pl.DataFrame  # as the budget's first cut left them (its note)
    funded: pl.DataFrame  # after the minimum order values, full loads and a strict cut
    decisions: pl.DataFrame  # the minimum-value decisions, one row per supplier
    loads: pl.DataFrame  # LOAD_COLUMNS per supplier with a container capacity
    deferred: pl.DataFrame  # supplier, deferred_value: deferred, their money spent again


def budget_after_deferrals(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    suppliers: pl.DataFrame | None,
    products: pl.DataFrame | None,
    budget: float | None,
    *,
    action: str,
    strict: bool,
    price: Callable[[pl.DataFrame], pl.DataFrame],
    holding_rate: float,
    review_days: float,
    discrete_patterns: list[str],
) -> Bought:
    """The budget (`purchasing.apply_budget`), the minimum order values
    (`meet_minimum_order_value`), full loads (`round_to_loads`, only down when `strict`)
    and, under a `strict` budget, its final cut at the prices paid (`purchasing.
    hold_budget`, `price`: `price_breaks.reprice`) with the minimums deferred again under
    `defer`; the money a deferred supplier's lines held spent again on the others' lines
    by the same priority (`deferral_rounds`)."""
    rules = {
        "holding_rate": holding_rate,
        "review_days": review_days,
        "discrete_patterns": discrete_patterns,
    }
    capacity = load_capacity(suppliers)
    last: pl.DataFrame | None = None  # the lines the last round left

    def buy(held: pl.DataFrame) -> tuple[Bought, pl.DataFrame]:
        nonlocal last
        lines = orders
        if last is not None and held.height:
            out = pl.col("supplier").is_in(held["supplier"].implode()).fill_null(False)
            lines = pl.concat([orders.filter(~out), last.filter(out)], how="diagonal_relaxed")
            lines = lines.select(orders.columns).sort(SERIES)
        budgeted = apply_budget(lines, demand, budget, discrete_patterns)
        funded, decisions = minimum_at_prices_paid(
            budgeted, demand, suppliers, action=action, price=price, **rules
        )
        funded, loads = round_to_loads(
            funded, demand, suppliers, products, **rules, round_up=not strict
        )
        funded = hold_budget(funded, demand, budget if strict else None, discrete_patterns, price)
        if strict:  # the hold's cut comes after the minimum values and the loads
            if action == "defer":  # below a minimum again: defer
                funded, again = meet_minimum_order_value(
                    funded, demand, suppliers, action="defer", **rules
                )
                decisions = with_decisions_again(decisions, again)
                funded = price(funded)
            loads = loads_again(supplier_load_sums(funded, products), capacity, loads)
        last = funded
        return Bought(budgeted, funded, decisions, loads, held), decisions

    bought, decisions, held = deferral_rounds(buy, budget)
    return bought._replace(decisions=decisions, deferred=held)
