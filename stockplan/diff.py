"""Why this week's order differs from last week's: an exact, additive attribution.

An order line is the order-up-to rule (docs/design.md §4) followed by the constraints:

    need      = max(S - IP, 0),   S = f x (L + R) + SS
    order_qty = constraints(need)   (reorder trigger, MOQ, pack, max order, budget)

with f the forecast demand per day (demand_protection / (L + R)), L the lead time, R the
review period, SS the safety stock and IP = on_hand + on_order - backorders + other
(other = -allocated + transfers in, read as IP - on_hand - on_order + backorders).

The change of order_qty from OLD to NEW is split by a waterfall (sequential substitution):
starting from OLD's numbers, one group at a time is switched to NEW's, in this order, and
each step's part is the change of `need` it causes:

1. config        R (the line's review_days: policy.review_days or the supplier's own) and
                 the service-level target; the target moves SS
                 by z(new)/z(old) (normal approximation, also when an item changes class)
2. demand        f, over OLD's lead time and NEW's review period
3. lead_time     L
4. safety_stock  SS (what is left of its change: forecast error, lead-time spread)
5. on_hand, on_order, backorders, other_stock   (the stock position, one part each)
6. constraints   order_qty change - need change: reorder trigger, MOQ, pack, max order,
                 budget, inactive items; also the rounding of the plan's printed numbers

The parts add up to the change exactly (a telescoping sum); like every sequential
decomposition the split depends on the order of the steps, which is the one above.
A line present in only one plan (a plan written without `--all` drops lines with nothing
to order) has no causes: the note says so.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from stockplan.demand import SERIES

PARTS = [
    "due_to_config",
    "due_to_demand",
    "due_to_lead_time",
    "due_to_safety_stock",
    "due_to_on_hand",
    "due_to_on_order",
    "due_to_backorders",
    "due_to_other_stock",
    "due_to_constraints",
]
DIFF_COLUMNS = [
    "sku",
    "location",
    "change",
    "old_order_qty",
    "new_order_qty",
    "order_qty_change",
    *PARTS,
    "causes",
    "old_reason",
    "new_reason",
    "note",
]
NEEDED = [
    "order_qty",
    "on_hand",
    "on_order",
    "backorders",
    "inventory_position",
    "lead_time_days",
    "review_days",
    "safety_stock",
    "order_up_to",
]
STATE = ["f", "L", "R", "SS", "OH", "OO", "BO", "OT"]
CAUSE_LABELS = {
    "due_to_config": "config",
    "due_to_demand": "demand",
    "due_to_lead_time": "lead time",
    "due_to_safety_stock": "safety stock",
    "due_to_on_hand": "on hand",
    "due_to_on_order": "on order",
    "due_to_backorders": "backorders",
    "due_to_other_stock": "allocated/transfers",
    "due_to_constraints": "constraints",
}


def causes_text() -> pl.Expr:
    """`demand +42; lead time +84; ...`: the non-zero parts in waterfall order."""
    from stockplan.reorder import fmt_number

    # judged on the number as printed (1 decimal): a part that prints 0 is left out, so
    # no `constraints +0` or `-0` (0.05 is stored as 0.04999.. and rounds to 0)
    shown = {part: pl.col(part).round(1) for part in CAUSE_LABELS}
    parts = [
        pl.when(shown[part] != 0).then(
            pl.format(
                "{} {}{}",
                pl.lit(label),
                pl.when(shown[part] > 0).then(pl.lit("+")).otherwise(pl.lit("")),
                fmt_number(shown[part]),
            )
        )
        for part, label in CAUSE_LABELS.items()
    ]
    return pl.concat_str(parts, separator="; ", ignore_nulls=True).fill_null("")


def _state(frame: pl.DataFrame, suffix: str) -> pl.DataFrame:
    """The waterfall's variables of one plan, named `<var><suffix>`."""
    window = pl.col("lead_time_days") + pl.col("review_days")
    demand = pl.col("order_up_to") - pl.col("safety_stock")
    columns = [
        *SERIES,
        pl.when(window > 0).then(demand / window).otherwise(0.0).alias("f"),
        pl.col("lead_time_days").alias("L"),
        pl.col("review_days").alias("R"),
        pl.col("safety_stock").alias("SS"),
        pl.col("on_hand").alias("OH"),
        pl.col("on_order").alias("OO"),
        pl.col("backorders").alias("BO"),
        (
            pl.col("inventory_position")
            - pl.col("on_hand")
            - pl.col("on_order")
            + pl.col("backorders")
        ).alias("OT"),
        pl.col("order_qty").alias("qty"),
        (pl.col("service_level") if "service_level" in frame.columns else pl.lit(None))
        .cast(pl.Float64)
        .alias("sl"),
    ]
    state = frame.select(columns).with_columns(pl.col(*STATE, "qty").fill_null(0.0))
    return state.rename({c: c + suffix for c in [*STATE, "qty", "sl"]})


def _need(values: dict[str, pl.Expr]) -> pl.Expr:
    position = values["OH"] + values["OO"] - values["BO"] + values["OT"]
    level = values["f"] * (values["L"] + values["R"]) + values["SS"]
    return (level - position).clip(lower_bound=0.0)


def _z(levels: pl.Series) -> pl.Series:
    """z = Phi^-1(service level); null outside (0.5, 1)."""
    values = levels.to_numpy().astype(float)
    with np.errstate(invalid="ignore"):
        z = stats.norm.ppf(values)
    ok = (values > 0.5) & (values < 1.0)
    return pl.Series(np.where(ok, z, np.nan)).fill_nan(None)


def attribute_changes(frame: pl.DataFrame) -> pl.DataFrame:
    """For rows with both plans' state (`<var>_old`, `<var>_new`): the PARTS columns."""
    z_old, z_new = _z(frame["sl_old"]), _z(frame["sl_new"])
    frame = frame.with_columns(
        pl.when(z_old.is_not_null() & z_new.is_not_null() & (z_old > 0))
        .then(pl.col("SS_old") * (z_new / z_old))
        .otherwise(pl.col("SS_old"))
        .alias("SS_config")
    )
    current = {name: pl.col(f"{name}_old") for name in STATE}
    steps = [
        ("due_to_config", {"R": pl.col("R_new"), "SS": pl.col("SS_config")}),
        ("due_to_demand", {"f": pl.col("f_new")}),
        ("due_to_lead_time", {"L": pl.col("L_new")}),
        ("due_to_safety_stock", {"SS": pl.col("SS_new")}),
        ("due_to_on_hand", {"OH": pl.col("OH_new")}),
        ("due_to_on_order", {"OO": pl.col("OO_new")}),
        ("due_to_backorders", {"BO": pl.col("BO_new")}),
        ("due_to_other_stock", {"OT": pl.col("OT_new")}),
    ]
    parts = []
    before = _need(current)
    for name, switch in steps:
        current = current | switch
        after = _need(current)
        parts.append((after - before).round(2).alias(name))
        before = after
    frame = frame.with_columns(parts)
    explained = pl.sum_horizontal(name for name, _ in steps)
    return frame.with_columns(
        (pl.col("qty_new") - pl.col("qty_old") - explained).round(2).alias("due_to_constraints")
    )


NOTE_WITHOUT_ALL = {
    "old": "no line in the old plan: write plans with --all to see causes",
    "new": "no line in the new plan: write plans with --all to see causes",
}
NOTE_COMPLETE = {  # a plan written with --all has every line: an item new or gone, or an edit
    "old": "no line in the old plan, written with --all: a new item, or a line deleted from it",
    "new": "no line in the new plan, written with --all: an item no longer planned, or a line "
    "deleted from it",
}


def plan_diff(
    old: pl.DataFrame,
    new: pl.DataFrame,
    include_unchanged: bool = False,
    written_with_all: tuple[bool, bool] = (False, False),
) -> pl.DataFrame:
    """Per sku x location of two `orders` tables: appeared, vanished, changed (or unchanged),
    the order quantities and the parts of the change (module docstring). A line in one
    plan only is noted as such; `written_with_all` says which plans hold every line."""
    missing = [c for c in NEEDED if c not in old.columns or c not in new.columns]
    if missing:
        from stockplan.errors import StockplanError
        from stockplan.i18n import phrase

        raise StockplanError(phrase("error.diff_columns", columns=", ".join(missing)))
    old_state = _state(old.unique(SERIES, keep="first"), "_old")
    new_state = _state(new.unique(SERIES, keep="first"), "_new")
    reasons = [
        frame.select(*SERIES, pl.col("reason").alias(f"{tag}_reason"))
        if "reason" in frame.columns
        else frame.select(*SERIES, pl.lit(None, pl.String).alias(f"{tag}_reason"))
        for frame, tag in ((old, "old"), (new, "new"))
    ]
    joined = (
        old_state.with_columns(pl.lit(True).alias("in_old"))
        .join(
            new_state.with_columns(pl.lit(True).alias("in_new")),
            on=SERIES,
            how="full",
            coalesce=True,
        )
        .join(reasons[0].unique(SERIES), on=SERIES, how="left")
        .join(reasons[1].unique(SERIES), on=SERIES, how="left")
        .with_columns(pl.col("in_old", "in_new").fill_null(False))
    )
    both = joined.filter(pl.col("in_old") & pl.col("in_new"))
    both = (
        attribute_changes(both)
        if both.height
        else both.with_columns(pl.lit(None, pl.Float64).alias(p) for p in PARTS)
    )
    one = joined.filter(~(pl.col("in_old") & pl.col("in_new"))).with_columns(
        pl.lit(None, pl.Float64).alias(p) for p in PARTS
    )
    frame = pl.concat([both.select(one.columns), one])
    old_qty = pl.col("qty_old").fill_null(0.0)
    new_qty = pl.col("qty_new").fill_null(0.0)
    change = (
        pl.when((old_qty <= 0) & (new_qty > 0))
        .then(pl.lit("appeared"))
        .when((old_qty > 0) & (new_qty <= 0))
        .then(pl.lit("vanished"))
        .when((new_qty - old_qty).abs() > 1e-9)
        .then(pl.lit("changed"))
        .otherwise(pl.lit("unchanged"))
    )
    missing = [
        NOTE_COMPLETE[side] if whole else NOTE_WITHOUT_ALL[side]
        for side, whole in zip(("old", "new"), written_with_all, strict=True)
    ]
    note = (
        pl.when(~pl.col("in_old"))
        .then(pl.lit(missing[0]))
        .when(~pl.col("in_new"))
        .then(pl.lit(missing[1]))
        .otherwise(pl.lit(""))
    )
    result = frame.with_columns(
        change.alias("change"),
        old_qty.alias("old_order_qty"),
        new_qty.alias("new_order_qty"),
        (new_qty - old_qty).alias("order_qty_change"),
        note.alias("note"),
        causes_text().alias("causes"),
        pl.col("old_reason").fill_null(""),
        pl.col("new_reason").fill_null(""),
    )
    if not include_unchanged:
        result = result.filter(pl.col("change") != "unchanged")
    return result.sort(
        [pl.col("order_qty_change").abs(), *SERIES], descending=[True, False, False]
    ).select(DIFF_COLUMNS)


RISK_RANK = {"low": 0, "medium": 1, "high": 2}


def risk_changes(risk: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """`risk` with previous_risk_level and risk_change against a previous plan's risk table:
    `new` (not in the previous plan), `worse` (a higher level), `same` or `better`."""
    before = previous.select(
        *SERIES, pl.col("risk_level").cast(pl.String).alias("previous_risk_level")
    ).unique(SERIES, keep="first")
    now_rank = pl.col("risk_level").replace_strict(RISK_RANK, default=0, return_dtype=pl.Int8)
    was_rank = pl.col("previous_risk_level").replace_strict(
        RISK_RANK, default=0, return_dtype=pl.Int8
    )
    return risk.join(before, on=SERIES, how="left").with_columns(
        pl.when(pl.col("previous_risk_level").is_null())
        .then(pl.lit("new"))
        .when(now_rank > was_rank)
        .then(pl.lit("worse"))
        .when(now_rank < was_rank)
        .then(pl.lit("better"))
        .otherwise(pl.lit("same"))
        .alias("risk_change")
    )


def risk_news(risk: pl.DataFrame, previous: pl.DataFrame, levels: list[str]) -> pl.DataFrame:
    """Items now at one of `levels` whose risk is new or worse than in the previous plan."""
    return risk_changes(risk, previous).filter(
        pl.col("risk_level").is_in(levels) & pl.col("risk_change").is_in(["new", "worse"])
    )
