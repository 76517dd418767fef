"""Rich terminal tables and explain text for output frames (built here, printed by the CLI).

Terminal tables are readable at 80 columns: a number, date or code is never wrapped (its
column is as wide as its widest value); columns are chosen by priority and the ones that
do not fit are dropped and named; names are shortened with an ellipsis and reasons wrap
at words. Numbers are formatted per column: quantities with the same decimals down a
column, money with 2 decimals (a missing cost shows as missing, never 0), probabilities
and service levels as percentages, days of cover never below 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl
from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from stockplan.i18n import (
    REASON_COLUMNS,
    header,
    message,
    money,
    render_causes,
    render_reason,
    value,
)
from stockplan.io.writers import BUYER_COLUMNS, buyer_layout

# (columns in display order, the same columns by priority: the first that fit are shown)
TERMINAL_COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "orders": (
        # the sheet's decision columns, with the policy numbers before the reason
        [
            *BUYER_COLUMNS["orders"][:-1],
            "inventory_position",
            "reorder_point",
            "safety_stock",
            "order_up_to",
            "reason",
        ],
        [
            "sku",
            "order_qty",
            "location",
            "risk_level",
            "name",
            "order_value",
            "expected_arrival",
            "supplier",
            "order_by",
            "order_date",
            "reason",
            "inventory_position",
            "reorder_point",
            "safety_stock",
            "order_up_to",
        ],
    ),
    "risk": (
        BUYER_COLUMNS["risk"],  # the sheet's decision order
        [
            "sku",
            "risk_level",
            "location",
            "stockout_probability",
            "stockout_date",
            "name",
            "days_of_cover",
            "restock_eta",
            "on_hand",
            "on_order",
            "next_receipt_date",
            "revenue_at_risk",
            "expected_shortage",
        ],
    ),
    "excess": (
        [
            "sku",
            "name",
            "location",
            "excess_qty",
            "excess_value",
            "days_of_cover",
            "last_sale_date",
            "on_hand",
            "on_order",
            "order_up_to",
            "reason",
        ],
        [
            "sku",
            "location",
            "excess_value",
            "excess_qty",
            "name",
            "days_of_cover",
            "last_sale_date",
            "reason",
            "on_hand",
            "on_order",
            "order_up_to",
        ],
    ),
    "notices": (
        [
            "order_id",
            "customer",
            "sku",
            "name",
            "location",
            "quantity",
            "promised_date",
            "expected_fill_date",
            "days_late",
            "filled_from",
            "message",
            "order_date",
        ],
        [
            "order_id",
            "sku",
            "quantity",
            "expected_fill_date",
            "message",
            "customer",
            "days_late",
            "name",
            "location",
            "promised_date",
            "filled_from",
            "order_date",
        ],
    ),
    "diff": (
        ["sku", "location", "change", "old_order_qty", "new_order_qty", "causes", "note"],
        ["sku", "location", "change", "new_order_qty", "old_order_qty", "causes", "note"],
    ),
}
MONEY = {
    "order_value",
    "revenue_at_risk",
    "excess_value",
    "unit_cost",
    "unit_price",
    "annual_value",
    "min_order_value",
    "avg_inventory_value",
    "policy_inventory_at_same_fill",
    "rule_inventory_at_same_fill",
}
RATES = {
    "stockout_probability",
    "service_level",
    "on_time_rate",
    "fill_rate",
    "quantity_fill_rate",
    "quality_rate",
    "kit_share",
    "cycle_service_level",
    "target",
    "promised_service",
    "reachable_service",
    "unreachable_promised",
    "unreachable_service",
    "unreachable_demand_share",
    "achieved_service",
    "rule_fill_rate_compared",
}
NEVER_NEGATIVE = {"days_of_cover"}
# text columns that may be shortened (name) or wrapped (reason): (min width, max width)
FLEXIBLE = {"name": (8, 24), "customer": (8, 16), "reason": (24, 200), "message": (24, 200)}
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}
GAP = 3  # cells between two columns: padding on both sides and the divider


def _format_column(
    frame: pl.DataFrame, column: str, lang: str, currency: str | None = None
) -> list[str]:
    """Every value of `column` as text, one format down the column."""
    dtype = frame.schema[column]
    values = frame[column].to_list()
    missing = "-"
    if column in MONEY:
        missing = message("missing", lang)
        return [missing if v is None else f"{v:,.2f}" for v in values]
    if column in RATES and dtype.is_numeric():
        return [missing if v is None else f"{v:.1%}" for v in values]
    if dtype.is_float():
        if column in NEVER_NEGATIVE:
            values = [None if v is None else max(v, 0.0) for v in values]
        present = [v for v in values if v is not None]
        whole = all(abs(v - round(v)) < 1e-9 for v in present)
        digits = 0 if whole or column in NEVER_NEGATIVE else 1
        return [missing if v is None else f"{v:,.{digits}f}" for v in values]
    if dtype.is_integer():
        return [missing if v is None else f"{v:,}" for v in values]
    if dtype == pl.Date:
        return [missing if v is None else v.isoformat() for v in values]
    if column in REASON_COLUMNS:
        return [missing if v is None else render_reason(v, lang, currency) for v in values]
    if column == "causes":
        return [missing if v is None else render_causes(v, lang) for v in values]
    return [missing if v is None else str(value(column, str(v), lang)) for v in values]


def _header_width(text: str, lang: str) -> int:
    """Cells a header needs if it may wrap: its longest word (Chinese: 4 characters)."""
    if lang == "zh" and not text.isascii():
        return min(cell_len(text), 8)
    return max(cell_len(word) for word in text.replace("_", " ").split()) if text else 1


@dataclass
class TerminalTable:
    table: Table
    shown: list[str]
    hidden: list[str] = field(default_factory=list)
    more_rows: int = 0
    notes: list[str] = field(default_factory=list)


def terminal_table(
    frame: pl.DataFrame,
    name: str,
    title: str,
    *,
    width: int = 80,
    limit: int = 20,
    columns: list[str] | None = None,
    lang: str = "en",
    currency: str | None = None,
) -> TerminalTable:
    """The first `limit` rows of `frame` (already in urgency order) as a rich Table that
    fits `width` cells; columns by priority, the dropped ones named in `notes`."""
    if columns:
        display = priority = [c for c in columns if c in frame.columns]
    elif name in TERMINAL_COLUMNS:
        display, priority = TERMINAL_COLUMNS[name]
        display = [c for c in display if c in frame.columns]
        priority = [c for c in priority if c in frame.columns]
    else:  # the buyer's columns first (name next to the code), the others after
        display = priority = [c for c in buyer_layout(frame, name)[0].columns if c != "as_of"]
    if not columns:  # a column with nothing in it says nothing
        display = [c for c in display if frame[c].null_count() < frame.height]
        priority = [c for c in priority if c in display]
    shown_rows = frame.head(limit)
    cells = {c: _format_column(shown_rows, c, lang, currency) for c in display}
    labels = {c: header(c, lang).replace("_", " ") for c in display}
    natural = {
        c: max([_header_width(labels[c], lang), *(cell_len(v) for v in cells[c])]) for c in display
    }
    need = {c: min(natural[c], FLEXIBLE[c][0]) if c in FLEXIBLE else natural[c] for c in display}
    chosen: list[str] = []
    used = -GAP
    for column in priority:
        if used + GAP + need[column] <= width:
            chosen.append(column)
            used += GAP + need[column]
    hidden = [c for c in priority if c not in chosen]
    widths = {c: need[c] for c in chosen}
    spare = width - used
    for column in [c for c in chosen if c in FLEXIBLE]:  # names first, then reasons
        limit_width = min(natural[column], FLEXIBLE[column][1])
        grow = max(0, min(spare, limit_width - widths[column]))
        widths[column] += grow
        spare -= grow
    order = [c for c in display if c in chosen]
    table = Table(
        title=Text(title),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        expand=False,
    )
    for column in order:
        numeric = frame.schema[column].is_numeric() or column in MONEY
        shortened = column in FLEXIBLE and column not in ("reason", "message")
        # values fit their width, so only a header (at spaces) or a reason wraps; a name
        # wider than its column is shortened with an ellipsis
        table.add_column(
            labels[column],
            justify="right" if numeric else "left",
            width=widths[column],
            min_width=widths[column],
            no_wrap=shortened,
            overflow="ellipsis" if shortened else "fold",
        )
    levels = shown_rows["risk_level"].to_list() if "risk_level" in shown_rows.columns else None
    for i in range(shown_rows.height):
        style = RISK_STYLE.get(levels[i]) if levels else None
        # Text, not markup: a name like '[bold]x[/]' or '[/]' is shown as it is written
        table.add_row(*[Text(cells[c][i]) for c in order], style=style)
    more = frame.height - shown_rows.height
    notes = []
    if more > 0:
        notes.append(message("more_rows", lang, more=more))
    if hidden:
        notes.append(
            message(
                "hidden_columns",
                lang,
                width=width,
                columns=", ".join(header(c, lang) for c in hidden),
            )
        )
    if frame.height == 0:
        notes.append(message("no_rows", lang))
    return TerminalTable(table, order, hidden, more, notes)


def _n(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def explain_lines(
    order: dict,
    risk: dict | None,
    service_measure: str,
    currency: str,
    lang: str = "en",
    bucket: str = "week",
) -> list[str]:
    """The arithmetic behind one order row, one formula per line with the numbers put in
    (σ_e is per forecast `bucket`, `planning.bucket`)."""
    L, R = order["lead_time_days"], order["review_days"]
    ss, rop, s_up = order["safety_stock"], order["reorder_point"], order["order_up_to"]
    mu = rop - ss
    sigma = order["sigma_lead_time_demand"]
    factor = ss / sigma if sigma else 0.0
    measure = message(f"measure.{service_measure}", lang)
    discrete = order["demand_pattern"] in ("intermittent", "lumpy")
    level = f"{order['service_level']:.1%}"
    value_text = money(order["order_value"], currency, lang)
    lines = [
        message(
            "explain.supplier",
            lang,
            supplier=order["supplier"] or "-",
            L=_n(L),
            sd=_n(order["lead_time_std_days"]),
            source=value("lead_time_source", order["lead_time_source"], lang),
            R=_n(R),
            policy=value("policy_type", order["policy_type"], lang),
        ),
        message(
            "explain.demand",
            lang,
            pattern=value("demand_pattern", order["demand_pattern"], lang),
            abc=order["abc"],
            xyz=order["xyz"],
            model=order["model"],
            per_day=_n(order["forecast_per_day"], 2),
            sigma_e=_n(order["sigma_e"], 2),
            bucket=message(f"bucket.{bucket}", lang),
        ),
        message(
            "explain.position",
            lang,
            on_hand=_n(order["on_hand"]),
            on_order=_n(order["on_order"]),
            backorders=_n(order["backorders"]),
            allocated=_n(order["allocated"]),
            transfer=_n(order["transfer_qty"]),
            position=_n(order["inventory_position"]),
        ),
        message("explain.window", lang, days=_n(L + R), mu=_n(mu)),
        message("explain.sigma", lang, sigma=_n(sigma, 2)),
        message(
            "explain.safety_discrete"
            if discrete and service_measure == "cycle"
            else "explain.safety_normal",
            lang,
            ss=_n(ss),
            measure=measure,
            level=level,
            k=f"{factor:.2f}",
        ),
        message("explain.rop", lang, mu=_n(mu), ss=_n(ss), rop=_n(rop), s=_n(s_up)),
        *(
            [
                message(
                    "explain.promised",
                    lang,
                    measure=measure,
                    promised=f"{order.get('promised_service') or 0.0:.1%}",
                    level=level,
                    note=order["service_note"],
                )
            ]
            if order.get("service_note")
            else []
        ),
        message(
            "explain.order",
            lang,
            qty=_n(order["order_qty"]),
            value=value_text,
            arrival=order["expected_arrival"],
            reason=render_reason(order["reason"], lang, currency),
        ),
    ]
    if order.get("order_by") is not None:
        planned = order.get("order_date")
        late = (planned - order["order_by"]).days if planned is not None else 0
        lines.append(
            message(
                "explain.order_by_past" if late > 0 and order["order_qty"] else "explain.order_by",
                lang,
                date=order["order_by"],
                days=late,
                # the calendar counts whole open days, rounded half up (`leadtime.whole_days`)
                L=math.floor((order.get("open_lead_time_days") or L) + 0.5),
                closed=_n(order.get("closure_days") or 0.0),
            )
        )
    if risk is not None:
        cover = risk["days_of_cover"]
        lines.append(
            message(
                "explain.risk",
                lang,
                level=value("risk_level", risk["risk_level"], lang),
                p=f"{risk['stockout_probability']:.0%}",
                stockout=risk["stockout_date"] or message("explain.no_stockout", lang),
                cover=_n(None if cover is None else max(cover, 0.0)),
                receipt=risk["next_receipt_date"] or "-",
            )
        )
    return lines


def explain_chart(
    history: pl.DataFrame,
    projection: pl.DataFrame,
    forecast: pl.DataFrame,
    order: dict,
    width: int,
    bucket: str,
) -> str:
    """Terminal chart (plotext): demand history and forecast band above; projected stock
    with and without the order, reorder point and safety stock below. x: buckets from now."""
    import plotext

    figure = plotext.figure
    figure.clear()
    figure.subplots(2, 1)
    figure.plot_size(width, 34)
    past_x = list(range(-history.height, 0))
    future_x = list(range(forecast.height))
    top = figure.subplot(1, 1)
    top.title(f"demand per {bucket}: history and forecast with lo / hi band ({bucket}s from now)")
    if past_x:
        top.draw(top.signal(past_x, history["demand"].to_list()).lines().label("history"))
    if future_x:
        top.draw(top.signal(future_x, forecast["forecast"].to_list()).lines().label("forecast"))
        for edge in ("lo", "hi"):
            top.draw(top.signal(future_x, forecast[edge].to_list(), marker="dot").label(edge))
    bottom = figure.subplot(2, 1)
    bottom.title(f"projected stock at the end of each {bucket} (below 0: short)")
    if future_x:
        bottom.draw(
            bottom.signal(future_x, projection["projected_stock"].to_list())
            .lines()
            .label("with this order")
        )
        bottom.draw(
            bottom.signal(
                future_x, projection["projected_without_order"].to_list(), marker="dot"
            ).label("without it")
        )
        bottom.line(order["reorder_point"], label="reorder point")
        bottom.line(order["safety_stock"], label="safety stock", style="dotted")
    return str(figure.build())
