"""Rich terminal tables for output frames (built here, printed by the CLI)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from rich.table import Table

from stockplan.io.writers import presentable
from stockplan.risk import RISK_COLUMNS

TERMINAL_COLUMNS = {
    "orders": [
        "sku",
        "location",
        "supplier",
        "order_qty",
        "order_value",
        "expected_arrival",
        "inventory_position",
        "reorder_point",
        "order_up_to",
        "safety_stock",
        "abc",
        "demand_pattern",
        "model",
    ],
    "risk": RISK_COLUMNS,
    "diff": ["sku", "location", "change", "old_order_qty", "new_order_qty", "causes", "note"],
}
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.3g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def rich_table(frame: pl.DataFrame, title: str, name: str, limit: int = 40) -> Table:
    """The first `limit` rows of `frame` as a rich Table, with the table's key columns."""
    columns = [c for c in TERMINAL_COLUMNS.get(name, frame.columns) if c in frame.columns]
    shown = presentable(frame.select(columns).head(limit))
    more = frame.height - shown.height
    caption = f"{more} more rows: write them with -o FILE" if more > 0 else None
    table = Table(title=title, caption=caption, header_style="bold", show_lines=False)
    for column in columns:
        numeric = frame.schema[column].is_numeric()
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in shown.iter_rows(named=True):
        style = RISK_STYLE.get(str(row.get("risk_level"))) if name == "risk" else None
        table.add_row(*[_cell(row[c]) for c in columns], style=style)
    return table


def _n(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def explain_lines(order: dict, risk: dict | None, service_measure: str, currency: str) -> list[str]:
    """The arithmetic behind one order row, one formula per line with the numbers put in."""
    L, R = order["lead_time_days"], order["review_days"]
    ss, rop, s_up = order["safety_stock"], order["reorder_point"], order["order_up_to"]
    mu = rop - ss
    sigma = order["sigma_lead_time_demand"]
    factor = ss / sigma if sigma else 0.0
    measure = "cycle service level" if service_measure == "cycle" else "fill rate"
    discrete = order["demand_pattern"] in ("intermittent", "lumpy")
    lines = [
        f"supplier {order['supplier'] or '-'}: lead time L = {_n(L)} days "
        f"(σ_L {_n(order['lead_time_std_days'])}, from {order['lead_time_source']}), "
        f"review R = {_n(R)} days, policy {order['policy_type']}",
        f"demand pattern {order['demand_pattern']}, class {order['abc']}{order['xyz']}, "
        f"model {order['model']}: forecast {_n(order['forecast_per_day'], 2)} / day, "
        f"backtest error σ_e {_n(order['sigma_e'], 2)} per bucket",
        f"inventory position = on hand {_n(order['on_hand'])} + on order {_n(order['on_order'])}"
        f" - backorders {_n(order['backorders'])} - allocated {_n(order['allocated'])}"
        f" + transfer in {_n(order['transfer_qty'])} = {_n(order['inventory_position'])}",
        f"demand over L + R = {_n(L + R)} days: {_n(mu)}",
        f"σ_LTD = √((L+R)·σ_d² + d²·σ_L²) = {_n(sigma, 2)}",
        (
            f"safety stock = {_n(ss)} ({measure} {order['service_level']:.1%}"
            + (
                ", discrete Poisson / negative binomial quantile"
                if discrete and service_measure == "cycle"
                else f", k = {factor:.2f} × σ_LTD"
            )
            + ")"
        ),
        f"reorder point = {_n(mu)} + {_n(ss)} = {_n(rop)}; order-up-to S = {_n(s_up)}",
        f"order {_n(order['order_qty'])} = {_n(order['order_value'], 2)} {currency}, "
        f"arriving {order['expected_arrival']}: {order['reason']}",
    ]
    if risk is not None:
        lines.append(
            f"risk {risk['risk_level']}: P(stockout before the next possible receipt) "
            f"{risk['stockout_probability']:.0%}, projected stockout "
            f"{risk['stockout_date'] or 'none in the horizon'}, "
            f"days of cover {_n(risk['days_of_cover'])}, next receipt "
            f"{risk['next_receipt_date'] or '-'}"
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
