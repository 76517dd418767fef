"""Purchase orders per supplier: an optional budget cap, totals, minimum order values.

Budget rule (documented for the buyer): money goes where it protects the most sales.
Each order line is split into blocks: its MOQ (rounded up to whole packs) as one block,
then one pack at a time (several packs per block when a line would have more than
`MAX_BLOCKS`). A block is worth the expected shortage it avoids in the window this order
protects, from its arrival at L to the next order's arrival at L + R:

    shortage(q) = (owed - q)^+ + E[(D_W - e - (q - owed)^+)^+]
    avoided(block from q0 to q1) = shortage(q0) - shortage(q1)

with owed = max(-position, 0) (customers already waiting take the first units), e the
stock expected at arrival, E[(x - D_L)^+] = x - mu_L + E[(D_L - x)^+] for x = max(position,
0) (sales lost before L cannot be saved by this order), D_L and D_W the demand over L and
over the window (mean mu_(L+R) - mu_L, sigma_LTD * sqrt(R / (L + R))), normal, or Poisson
for discrete patterns. Its priority is avoided x unit_price / (block units x unit_cost):
sales protected per unit of money. A block costs what it adds to its line's value in
cents (`line_value`), so the budget holds the sum of the values the lines show. Blocks are
funded in descending priority (a prioritised purchase list, Silver-Pyke-Thomas 7.3 in
spirit); a block that does not fit what is left is skipped and cheaper ones after it are
still funded; a line's later blocks need its earlier ones. Every cut line says so and why
in `reason`. Lines without a unit cost cannot be priced and are kept as planned.

A supplier whose total falls short of its minimum order value (suppliers.moq_value) is
flagged on its lines and in the `purchase_orders` summary; quantities are not inflated
to reach it: the buyer decides to add lines or wait.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from stockplan.config import Config
from stockplan.demand import SERIES
from stockplan.i18n import counted_format, counted_text
from stockplan.reorder import fmt_number, line_value
from stockplan.risk import expected_shortage

PO_SUMMARY_COLUMNS = [
    "supplier",
    "lines",
    "order_value",
    "min_order_value",
    "meets_minimum",
    "order_date",
    "first_arrival",
    "last_arrival",
]
MAX_BLOCKS = 50
"""Blocks per line at most: beyond it a block holds several packs (keeps the list short)."""


def stock_at_arrival(
    position: np.ndarray, lead: tuple[np.ndarray, np.ndarray], discrete: np.ndarray
) -> np.ndarray:
    """E[(x - D_L)^+] = x - mu_L + E[(D_L - x)^+], x = max(position, 0): what is left on the
    shelf when the order lands, sales short before then being lost."""
    stock = np.maximum(position, 0.0)
    return np.maximum(stock - lead[0] + expected_shortage(*lead, stock, discrete), 0.0)


def window_shortage(
    position: np.ndarray,
    leftover: np.ndarray,
    added: np.ndarray,
    window: tuple[np.ndarray, np.ndarray],
    discrete: np.ndarray,
) -> np.ndarray:
    """Expected units short in the window (L, L + R] when `added` units arrive at L:
    (owed - q)^+ + E[(D_W - e - (q - owed)^+)^+], window = (mean, sigma) of D_W."""
    owed = np.maximum(-position, 0.0)
    to_shelf = np.maximum(added - owed, 0.0)
    return np.maximum(owed - added, 0.0) + expected_shortage(*window, leftover + to_shelf, discrete)


def budget_blocks(
    orders: pl.DataFrame, demand: pl.DataFrame, discrete_patterns: list[str]
) -> pl.DataFrame:
    """One row per block of each priced order line: line, step, units_from, units_to, cost,
    priority (sales protected per unit of money, non-increasing along a line)."""
    pack = (
        pl.when(pl.col("pack_size").fill_null(1.0) > 0)
        .then(pl.col("pack_size").fill_null(1.0))
        .otherwise(1.0)
    )
    first = pl.min_horizontal(
        ((pl.max_horizontal(pl.col("moq").fill_null(0.0), pl.lit(1.0)) / pack) - 1e-9).ceil()
        * pack,
        pl.col("order_qty"),
    )
    rest = (pl.col("order_qty") - pl.col("first")).clip(lower_bound=0.0)
    step = pl.col("pack") * ((rest / pl.col("pack") / MAX_BLOCKS).ceil()).clip(lower_bound=1.0)
    lines = (
        orders.join(demand.select(*SERIES, "unit_price", "demand_lead_time"), on=SERIES, how="left")
        .filter((pl.col("order_qty") > 0) & (pl.col("unit_cost") > 0))
        .with_columns(
            pack.alias("pack"),
            (pl.col("reorder_point") - pl.col("safety_stock")).alias("mu_total"),
            pl.col("demand_lead_time").fill_null(0.0).alias("mu_lead"),
            pl.col("sigma_lead_time_demand").fill_null(0.0).alias("sigma"),
            pl.max_horizontal(pl.col("lead_time_days") + pl.col("review_days"), 1e-9).alias("span"),
            pl.col("demand_pattern").is_in(discrete_patterns).alias("discrete"),
            pl.coalesce("unit_price", "unit_cost").alias("price"),
        )
        .with_columns(first.alias("first"))
        .with_columns(step.alias("step_units"))
    )
    lead = (
        lines["mu_lead"].to_numpy(),
        (lines["sigma"] * (lines["lead_time_days"] / lines["span"]).sqrt()).to_numpy(),
    )
    position = lines["inventory_position"].to_numpy()
    leftover = stock_at_arrival(position, lead, lines["discrete"].to_numpy())
    blocks = (
        lines.with_columns(
            pl.Series("leftover", leftover),
            (pl.col("mu_total") - pl.col("mu_lead")).clip(lower_bound=0.0).alias("mu_window"),
            (pl.col("sigma") * (pl.col("review_days") / pl.col("span")).sqrt()).alias(
                "sigma_window"
            ),
            (1 + (rest / pl.col("step_units") - 1e-9).ceil()).cast(pl.Int64).alias("n_blocks"),
        )
        .with_columns(pl.int_ranges(0, "n_blocks").alias("step"))
        .explode("step")
        .with_columns(
            pl.min_horizontal(
                pl.col("first") + pl.col("step") * pl.col("step_units"), pl.col("order_qty")
            ).alias("units_to")
        )
        .with_columns(pl.col("units_to").shift(1, fill_value=0.0).over("line").alias("units_from"))
    )
    window = (blocks["mu_window"].to_numpy(), blocks["sigma_window"].to_numpy())
    args = (blocks["inventory_position"].to_numpy(), blocks["leftover"].to_numpy())
    discrete = blocks["discrete"].to_numpy()
    avoided = window_shortage(
        *args, blocks["units_from"].to_numpy(), window, discrete
    ) - window_shortage(*args, blocks["units_to"].to_numpy(), window, discrete)
    money = ((blocks["units_to"] - blocks["units_from"]) * blocks["unit_cost"]).to_numpy()
    # what the block adds to its line's value in cents (`line_value`): a line's funded blocks
    # then cost what the line shows, and the budget is kept on the cents every total sums
    cost = blocks.select(
        line_value(pl.col("units_to"), pl.col("unit_cost"))
        - line_value(pl.col("units_from"), pl.col("unit_cost"))
    ).to_series()
    return blocks.select(
        "line",
        "step",
        "units_from",
        "units_to",
        cost.alias("cost"),
        pl.Series("priority", np.maximum(avoided, 0.0) * blocks["price"].to_numpy() / money),
    ).with_columns(
        # concave gain: priorities fall along a line; cum_min guards against rounding noise
        pl.col("priority").cum_min().over("line", order_by="step")
    )


def fund_blocks(blocks: pl.DataFrame, budget: float) -> pl.DataFrame:
    """blocks sorted by priority: funded (bool) and left (money left when its turn came).

    The leading run that fits as a whole is funded at once; after it each block is funded
    if it fits what is left and its line's previous block was funded (`take_in_turn`).
    """
    cost = blocks["cost"].to_numpy().astype(float)
    funded, left = take_in_turn(
        cost[:, None],
        blocks["line"].to_numpy(),
        blocks["step"].to_numpy(),
        np.zeros(cost.size, dtype=np.int64),
        np.array([[budget]], dtype=float),
    )
    return blocks.with_columns(pl.Series("funded", funded), pl.Series("left", left[:, 0]))


def take_in_turn(
    size: np.ndarray, line: np.ndarray, step: np.ndarray, group: np.ndarray, room: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The budget's greedy rule over blocks in their turn (most protective first), for
    one or several measures and groups: (taken, left when its turn came).

    size: (n, k) what each block takes of k measures (money; or volume and weight);
    line, step: a line's block `step` is taken only after its step - 1 (steps from 0);
    group: (n,) the index of the row of `room`, (g, k), each block draws on (one budget;
    or each supplier's last container). A block is taken when it fits what its group has
    left in every measure; one that does not is skipped and later ones still get their
    turn. The leading run of each group that fits as a whole is taken at once."""
    n = size.shape[0]
    taken = np.zeros(n, dtype=bool)
    left = room.astype(float).copy()
    left_at = np.empty_like(size, dtype=float)
    if n == 0:
        return taken, left_at
    # each group's cumulative sizes in turn, and its leading run that fits whole
    order = np.argsort(group, kind="stable")
    in_group, sizes = group[order], size[order]
    starts = np.r_[0, np.flatnonzero(np.diff(in_group)) + 1]
    counts = np.diff(np.r_[starts, n])
    cum = np.cumsum(sizes, axis=0)
    through = cum - np.repeat(cum[starts] - sizes[starts], counts, axis=0)
    misfit = ~np.all(through <= room[in_group] + 1e-9, axis=1)
    misfits = np.cumsum(misfit)
    leading = misfits == np.repeat(misfits[starts] - misfit[starts], counts)
    run = np.empty(n, dtype=bool)
    run[order] = leading
    left_at[order] = room[in_group] - (through - sizes)
    spent = np.maximum.reduceat(np.where(leading[:, None], through, 0.0), starts, axis=0)
    left[in_group[starts]] = room[in_group[starts]] - spent
    taken[run] = True
    next_step = np.bincount(line[run], minlength=int(line.max()) + 1)
    rest = np.flatnonzero(~run)
    single = room.shape[0] == 1
    smallest_after = (
        np.minimum.accumulate(size[rest][::-1], axis=0)[::-1] if rest.size else size[rest]
    )
    for j, i in enumerate(rest):  # sequential by nature: a greedy knapsack scan
        g = group[i]
        left_at[i] = left[g]
        if single and np.any(left[g] + 1e-9 < smallest_after[j]):
            left_at[rest[j:]] = left[g]
            break
        if next_step[line[i]] == step[i] and np.all(size[i] <= left[g] + 1e-9):
            taken[i] = True
            left[g] -= size[i]
            next_step[line[i]] += 1
    return taken, left_at


def apply_budget(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    budget: float | None,
    discrete_patterns: list[str] | None = None,
) -> pl.DataFrame:
    """Cut order lines to `budget` by the rule above; None means no cap.

    `orders` are plan rows (order_qty, unit_cost, moq, pack_size, inventory_position,
    reorder_point, safety_stock, sigma_lead_time_demand, lead_time_days, review_days,
    demand_pattern, reason); `demand`: sku, location, unit_price, demand_lead_time.
    """
    if budget is None:
        return orders
    lines = orders.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))
    blocks = budget_blocks(lines, demand, discrete_patterns or [])
    ranked = blocks.sort(["priority", "line", "step"], descending=[True, False, False])
    decided = fund_blocks(ranked, budget)
    funded = decided.filter("funded").group_by("line").agg(pl.col("units_to").max().alias("got"))
    missed = (
        decided.filter(~pl.col("funded"))
        .sort("step")
        .group_by("line")
        .agg(
            (pl.col("units_to") - pl.col("units_from")).first().alias("miss_units"),
            pl.col("cost").first().alias("miss_cost"),
            pl.col("left").first().alias("miss_left"),
            pl.col("priority").first().alias("miss_priority"),
        )
    )
    why = counted_format(
        "the next {units} units ({cost}) did not fit the {left} left after lines protecting "
        "more sales per unit of money (this one {priority} per 1 spent)",
        units=fmt_number(pl.col("miss_units")),
        cost=pl.col("miss_cost").round(2),
        left=pl.col("miss_left").clip(lower_bound=0.0).round(2),
        priority=pl.col("miss_priority").round(2),
    )
    new_qty = (
        pl.when(pl.col("miss_units").is_not_null())
        .then(pl.col("got").fill_null(0.0))
        .otherwise(pl.col("order_qty"))
    )
    return (
        lines.join(funded, on="line", how="left")
        .join(missed, on="line", how="left")
        .with_columns(new_qty.alias("funded_qty"))
        .with_columns(
            pl.when(pl.col("funded_qty") >= pl.col("order_qty"))
            .then(pl.col("reason"))
            .when(pl.col("funded_qty") > 0)
            .then(
                pl.format(
                    "{}; budget: {} of {} funded, {}",
                    "reason",
                    fmt_number(pl.col("funded_qty")),
                    fmt_number(pl.col("order_qty")),
                    why,
                )
            )
            .otherwise(pl.format("{}; not funded by the budget: {}", "reason", why))
            .alias("reason"),
            pl.col("funded_qty").alias("order_qty"),
            line_value(pl.col("funded_qty"), pl.col("unit_cost")).alias("order_value"),
        )
        .select(orders.columns)
        .sort(SERIES)
    )


def budget_is_strict(config: Config) -> bool:
    """A budget the final orders must keep to: set, with suppliers' minimum order values
    only deferred or flagged (a top up or a brought-forward order may pass it, and so may
    rounding up to full container loads; `purchasing.minimum_order_value`)."""
    purchasing = config.purchasing
    return purchasing.budget is not None and purchasing.minimum_order_value in ("defer", "flag")


HOLD_ROUNDS = 8
"""Rounds of `hold_budget` at most (each cut can lose a price break, so prices rise)."""


def hold_budget(
    orders: pl.DataFrame,
    demand: pl.DataFrame,
    budget: float | None,
    discrete_patterns: list[str],
    price: Callable[[pl.DataFrame], pl.DataFrame],
) -> pl.DataFrame:
    """The orders, priced by `price` (`price_breaks.reprice`), within `budget`: after the
    budget's cut a line below its price break pays the higher price, so the total can rise
    above the cap; while it does, the budget cuts again at the prices paid (`apply_budget`,
    its reason saying so) and the lines are priced again. Quantities only fall and prices
    only rise with them; after `HOLD_ROUNDS` rounds (breaks so steep that fewer units cost
    about as much) a total still above the budget is told by the budget note."""
    priced = price(orders)
    if budget is None:
        return priced
    for _ in range(HOLD_ROUNDS):
        if priced["order_value"].sum() <= budget + 1e-6:
            break
        priced = price(apply_budget(priced, demand, budget, discrete_patterns))
    return priced


def budget_note_sums(
    requested: pl.DataFrame, budgeted: pl.DataFrame, funded: pl.DataFrame
) -> pl.DataFrame:
    """One row: the orders as finally placed (`funded`: lines with an order and their
    value, as the orders sheet and supplier_orders count them), the value asked
    (`requested`, at the price it was asked at, a break included), the lines that asked
    and were cut or not funded, and what was added after the budget's cut (`budgeted`) by
    top ups, brought-forward orders and full loads: units above the budget's quantity at
    the price finally paid, on how many lines, how many of them from no order. Rows of
    several sets of series add up (`budget_note_from`)."""
    asked = requested.select(
        *SERIES, pl.col("order_qty").alias("asked"), pl.col("order_value").alias("asked_value")
    )
    after_budget = budgeted.select(*SERIES, pl.col("order_qty").alias("budgeted"))
    both = funded.join(asked, on=SERIES, how="left").join(after_budget, on=SERIES, how="left")
    ordered = pl.col("order_qty") > 0
    did_ask = pl.col("asked").fill_null(0.0) > 0
    added = (pl.col("order_qty") - pl.col("budgeted").fill_null(0.0)).clip(lower_bound=0.0)
    unit_paid = pl.when(ordered).then(pl.col("order_value") / pl.col("order_qty"))
    return both.select(
        (did_ask & ordered & (pl.col("order_qty") < pl.col("asked"))).sum().alias("cut"),
        (did_ask & ~ordered).sum().alias("dropped"),
        ordered.sum().alias("lines"),
        pl.col("order_value").filter(ordered).fill_null(0.0).sum().alias("value"),
        pl.col("asked_value").filter(did_ask).fill_null(0.0).sum().alias("asked"),
        (added * unit_paid).fill_null(0.0).sum().alias("added"),
        (added > 0).sum().alias("added_lines"),
        ((added > 0) & (pl.col("budgeted").fill_null(0.0) <= 0)).sum().alias("from_none"),
    ).cast(
        {c: pl.Int64 for c in ("cut", "dropped", "lines", "added_lines", "from_none")}
        | {c: pl.Float64 for c in ("value", "asked", "added")}
    )


def budget_note(
    requested: pl.DataFrame,
    budgeted: pl.DataFrame,
    funded: pl.DataFrame,
    budget: float | None,
    deferred: pl.DataFrame | None = None,
) -> str | None:
    """One line for the buyer: the orders as placed, what the budget cut and what was
    added after it (`budget_note_sums`), the suppliers deferred to a later cycle whose
    money went to other lines (`deferred`: supplier, deferred_value)."""
    if budget is None:
        return None
    return budget_note_from(budget_note_sums(requested, budgeted, funded), budget, deferred)


def budget_note_from(
    sums: pl.DataFrame, budget: float | None, deferred: pl.DataFrame | None = None
) -> str | None:
    """`budget_note` from the rows of `budget_note_sums` (one per set of series, added)."""
    if budget is None:
        return None
    held = (
        "; "
        + ", ".join(
            f"{name} ({value:,.2f})"
            for name, value in deferred.sort("supplier").select("supplier", "deferred_value").rows()
        )
        + " deferred below their minimum order value, the budget they held funded other lines"
        if deferred is not None and deferred.height
        else ""
    )
    cut, dropped, lines = (int(sums[c].sum()) for c in ("cut", "dropped", "lines"))
    value, asked = float(sums["value"].sum()), float(sums["asked"].sum())
    added_lines = int(sums["added_lines"].sum()) if "added_lines" in sums.columns else 0
    added = (
        counted_text(
            "; {added:,.2f} on {added_lines} lines ({from_none} of them from no order) added "
            "after the budget by top ups, brought-forward orders or full loads",
            added=float(sums["added"].sum()),
            added_lines=added_lines,
            from_none=int(sums["from_none"].sum()),
        )
        if added_lines
        else ""
    )
    above = (
        f"; {value - budget:,.2f} above the budget (top ups, brought-forward orders, full "
        "loads or price breaks the cut lost: purchasing.minimum_order_value)"
        if value > budget + 0.005
        else ""
    )
    return (
        counted_text(
            "budget {budget:,.2f}: orders {value:,.2f} on {lines} lines, {asked:,.2f} asked; "
            "{cut} lines cut, {dropped} not funded (the reason column says why)",
            budget=budget,
            value=value,
            lines=lines,
            asked=asked,
            cut=cut,
            dropped=dropped,
        )
        + f"{added}{above}{held}"
    )


def supplier_orders(orders: pl.DataFrame, suppliers: pl.DataFrame | None) -> pl.DataFrame:
    """One row per supplier with something to order: totals and the minimum-value check
    (`supplier_orders_from` on the one set of `supplier_order_sums`)."""
    return supplier_orders_from(supplier_order_sums(orders), suppliers)


SUPPLIER_SUMS = [
    "supplier",
    "lines",
    "order_value",
    "order_date",
    "first_arrival",
    "last_arrival",
    "no_cost_lines",
]


def supplier_order_sums(orders: pl.DataFrame) -> pl.DataFrame:
    """Per supplier over the lines with an order: lines, order_value (of the known costs),
    the earliest order date, first and last arrival, no_cost_lines (lines without a unit
    cost); the rows of several sets of series combine by `supplier_orders_from` (sums,
    minima, maxima)."""
    return (
        orders.filter(pl.col("order_qty") > 0)
        .group_by("supplier")
        .agg(
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("order_value").sum().alias("order_value"),
            pl.col("order_value").is_null().sum().cast(pl.Int64).alias("no_cost_lines"),
            pl.col("order_date").min().alias("order_date"),
            pl.col("expected_arrival").min().alias("first_arrival"),
            pl.col("expected_arrival").max().alias("last_arrival"),
        )
        .select(SUPPLIER_SUMS)
    )


def supplier_orders_from(sums: pl.DataFrame, suppliers: pl.DataFrame | None) -> pl.DataFrame:
    """`supplier_orders` from the rows of `supplier_order_sums` of several sets of series.
    order_value is of the known costs, null when no order line has a cost; meets_minimum is
    unknown (null) for a supplier below its minimum on its known costs with order lines
    without a unit cost: a missing cost is never 0."""
    minimum = (
        suppliers.select("supplier", pl.col("moq_value").alias("min_order_value"))
        if suppliers is not None and "moq_value" in suppliers.columns
        else pl.DataFrame(schema={"supplier": pl.String, "min_order_value": pl.Float64})
    )
    return (
        sums.group_by("supplier")
        .agg(
            pl.col("lines").sum().cast(pl.UInt32),
            pl.col("order_value").sum(),
            pl.col("order_date").min(),
            pl.col("first_arrival").min(),
            pl.col("last_arrival").max(),
            pl.col("no_cost_lines").sum(),
        )
        .join(minimum, on="supplier", how="left")
        .with_columns(  # no line with a cost: the value is unknown, not 0
            pl.when(pl.col("no_cost_lines") < pl.col("lines"))
            .then(pl.col("order_value"))
            .alias("order_value")
        )
        .with_columns(
            pl.when(pl.col("order_value") >= pl.col("min_order_value").fill_null(0))
            .then(True)
            .when(pl.col("no_cost_lines") > 0)
            .then(None)
            .otherwise(False)
            .alias("meets_minimum")
        )
        .select(PO_SUMMARY_COLUMNS)
        .sort("supplier", nulls_last=True)
    )


def flag_minimum_order_value(orders: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Say on each line of a supplier below its minimum order value by how much."""
    short = summary.filter(~pl.col("meets_minimum")).select(
        "supplier", pl.col("order_value").alias("supplier_total"), "min_order_value"
    )
    return (
        orders.join(short, on="supplier", how="left")
        .with_columns(
            pl.when(pl.col("min_order_value").is_not_null() & (pl.col("order_qty") > 0))
            .then(
                pl.concat_str(
                    pl.col("reason"),
                    pl.format(
                        "; supplier total {} is below its minimum order value {}",
                        pl.col("supplier_total").round(2),
                        pl.col("min_order_value").round(2),
                    ),
                )
            )
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
        .drop("supplier_total", "min_order_value")
    )
