"""The visual report: one self-contained HTML page with inline SVG charts (no script, no
remote resource), built from the plan's frames. `io` writes it; nothing here touches files.

Charts: value at risk and stockout dates of the top items (risk), stock cover by ABC class
against the policy's target (median on-hand days of cover vs median safety_stock / d + R / 2,
the average cover an order-up-to policy aims for), excess and dead stock value (excess),
supplier on-time rate and lead-time mean +/- std (suppliers), and, when a simulation is
given, fill rate against average inventory value for the policy and the baseline.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass

import polars as pl

from stockplan import i18n

WIDTH = 560
ROW = 24
COLORS = {
    "risk": "#c0392b",
    "date": "#e67e22",
    "actual": "#2e86c1",
    "target": "#a9cce3",
    "excess": "#d4ac0d",
    "dead": "#7f8c8d",
    "on_time": "#27ae60",
    "lead": "#8e44ad",
    "policy": "#2e86c1",
    "baseline": "#c0392b",
}
CHART_IDS = (
    "chart-value-at-risk",
    "chart-stockout-dates",
    "chart-cover-by-class",
    "chart-excess",
    "chart-supplier-on-time",
    "chart-supplier-lead-time",
    "chart-simulation",
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _code(escaped: str) -> str:
    """An escaped text with its `command` spans as <code>: no literal backticks on the page."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escaped)


def _short(text: str, width: int = 26) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _item_label(sku: str, location: str, width: int = 26) -> str:
    """`sku @ location` within `width` characters, the code shortened first (to 8 at
    least), then the location: one item at two warehouses must not read as two equal
    rows, and two warehouses whose names differ early keep that difference."""
    if len(sku) + 3 + len(location) <= width:
        return f"{sku} @ {location}"
    code = _short(sku, max(width - 3 - len(location), 8))
    return f"{code} @ {_short(location, width - 3 - len(code))}"


def _t(key: str, lang: str, **fields: object) -> str:
    """The report's text `key` in `lang` (`report.*` of the message catalogue)."""
    return i18n.message(f"report.{key}", lang, **fields)


def _money(value: float, currency: str | None, lang: str = "en") -> str:
    """An amount for a chart, one rule for every figure of the page: in Chinese in 万 (10⁴)
    from 10,000 and 亿 (10⁸) from 100,000,000 with one decimal (`99.0 万元`); in English k
    from 1,000 and M from 1,000,000 with one decimal (`8.1k CNY`, `989.5k CNY`); smaller
    amounts whole (one decimal below 10). With the unit of `currency` (`i18n.currency_word`)."""
    unit = i18n.currency_word(currency, lang)
    size = abs(value)
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e6, "M"), (1e3, "k"))
    for step, word in steps:
        if size >= step:
            number = f"{value / step:,.1f}"
            return (
                f"{number} {word}{unit}".rstrip()
                if lang == "zh"
                else f"{number}{word} {unit}".rstrip()
            )
    number = f"{value:,.0f}" if size >= 10 or value == 0 else f"{value:,.1f}"
    return f"{number} {unit}".rstrip()


@dataclass
class Chart:
    chart_id: str
    title: str
    note: str
    svg: str


def _svg(chart_id: str, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg id="{chart_id}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{_e(label)}"><title>{_e(label)}</title>' + "".join(body) + "</svg>"
    )


def _empty(chart_id: str, message: str) -> str:
    return _svg(
        chart_id,
        60,
        [
            f'<rect x="0" y="0" width="{WIDTH}" height="60" fill="#f4f6f7"/>',
            f'<text x="{WIDTH / 2}" y="35" text-anchor="middle" fill="#566573">'
            f"{_e(message)}</text>",
        ],
        message,
    )


def _hbars(
    chart_id: str,
    labels: list[str],
    values: list[float],
    colors: list[str],
    texts: list[str],
    label: str,
    scale_max: float | None = None,
) -> str:
    """Horizontal bars, one row per label, the value text at the bar's end; the longest
    bar is `scale_max` (default: the largest value)."""
    left, right = 170, 190
    height = ROW * len(labels) + 16
    top = scale_max or (max(values) if values and max(values) > 0 else 1.0)
    body = []
    for i, (name, value, color, text) in enumerate(zip(labels, values, colors, texts, strict=True)):
        y = 8 + i * ROW
        width = max((WIDTH - left - right) * max(value, 0.0) / top, 1.0)
        body.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{_e(_short(name))}</text>"
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
            f'fill="{color}"/>'
            f'<text x="{left + width + 5:.1f}" y="{y + 15}" font-size="12">{_e(text)}</text>'
        )
    return _svg(chart_id, height, body, label)


def value_at_risk_charts(
    risk: pl.DataFrame, top: int, currency: str, lang: str = "en"
) -> list[Chart]:
    """The `top` items by revenue at risk: a bar each, and their stockout dates on a line;
    equal values by sku and location (a row each), so the same items are shown each run."""
    items = (
        risk.filter(pl.col("revenue_at_risk") > 0)
        .sort(["revenue_at_risk", "sku", "location"], descending=[True, False, False])
        .head(top)
    )
    if items.height == 0:
        short = pl.col("expected_shortage") > 0 if "expected_shortage" in risk.columns else True
        unpriced = risk.filter(short & pl.col("revenue_at_risk").is_null()).height
        said = (  # short items without a price are not "no revenue at risk"
            _t("risk_without_price", lang, count=f"{unpriced:,}")
            if unpriced
            else _t("no_revenue_at_risk", lang)
        )
        return [
            Chart(
                "chart-value-at-risk",
                _t("value_at_risk", lang),
                "",
                _empty("chart-value-at-risk", said),
            ),
            Chart(
                "chart-stockout-dates",
                _t("stockout_dates", lang),
                "",
                _empty("chart-stockout-dates", said),
            ),
        ]
    labels = [_item_label(s, loc) for s, loc in items.select("sku", "location").iter_rows()]
    values = items["revenue_at_risk"].to_list()
    dates = items["stockout_date"].to_list()
    texts = [
        _money(v, currency, lang) + (_t("out", lang, date=d.isoformat()) if d else "")
        for v, d in zip(values, dates, strict=True)
    ]
    bars = _hbars(
        "chart-value-at-risk",
        labels,
        values,
        [COLORS["risk"]] * len(values),
        texts,
        _t("value_at_risk_label", lang, count=len(values)),
    )
    total = risk["revenue_at_risk"].sum()
    return [
        Chart(
            "chart-value-at-risk",
            _t("value_at_risk_top", lang),
            _t("value_at_risk_note", lang, total=_money(total, currency, lang)),
            bars,
        ),
        Chart(
            "chart-stockout-dates",
            _t("stockout_dates_same", lang),
            _t("stockout_dates_note", lang),
            _timeline("chart-stockout-dates", labels, dates, lang),
        ),
    ]


def _timeline(
    chart_id: str, labels: list[str], dates: list[dt.date | None], lang: str = "en"
) -> str:
    known = [d for d in dates if d is not None]
    left, right = 180, 40
    height = ROW * len(labels) + 40
    if not known:
        return _empty(chart_id, _t("no_stockout", lang))
    first, last = min(known), max(known)
    span = max((last - first).days, 1)
    plot = WIDTH - left - right
    body = [
        f'<line x1="{left}" y1="{height - 26}" x2="{WIDTH - right}" y2="{height - 26}" '
        'stroke="#566573"/>',
        f'<text x="{left}" y="{height - 8}" font-size="11">{first.isoformat()}</text>',
        f'<text x="{WIDTH - right}" y="{height - 8}" font-size="11" text-anchor="end">'
        f"{last.isoformat()}</text>",
    ]
    for i, (name, day) in enumerate(zip(labels, dates, strict=True)):
        y = 8 + i * ROW + 12
        body.append(
            f'<text x="{left - 16}" y="{y + 4}" text-anchor="end" font-size="12">'
            f"{_e(_short(name))}</text>"
            f'<line x1="{left}" y1="{y}" x2="{WIDTH - right}" y2="{y}" stroke="#eaeded"/>'
        )
        if day is None:
            body.append(
                f'<text x="{left + 4}" y="{y + 4}" font-size="11" fill="#7f8c8d">'
                f"{_e(_t('none', lang))}</text>"
            )
            continue
        x = left + plot * (day - first).days / span
        body.append(
            f'<circle class="mark" cx="{x:.1f}" cy="{y}" r="6" fill="{COLORS["date"]}"/>'
            f'<text x="{x + 9:.1f}" y="{y + 4}" font-size="11">{day.strftime("%m-%d")}</text>'
        )
    return _svg(chart_id, height, body, _t("stockout_label", lang))


def cover_by_class_chart(risk: pl.DataFrame, plan_rows: pl.DataFrame, lang: str = "en") -> Chart:
    """Median on-hand days of cover per ABC class against the median target
    safety_stock / d + R / 2 (items with forecast demand only)."""
    chart_id = "chart-cover-by-class"
    frame = (
        plan_rows.filter(pl.col("forecast_per_day") > 0)
        .select(
            "sku",
            "location",
            "abc",
            (pl.col("safety_stock") / pl.col("forecast_per_day") + pl.col("review_days") / 2).alias(
                "target"
            ),
        )
        .join(risk.select("sku", "location", "days_of_cover"), on=["sku", "location"])
        .group_by("abc")
        .agg(
            pl.col("days_of_cover").clip(lower_bound=0.0).median().alias("actual"),
            pl.col("target").median(),
            pl.len().alias("items"),
        )
        .sort("abc")
    )
    title, note = _t("cover_title", lang), _t("cover_note", lang)
    if frame.height == 0:
        return Chart(chart_id, title, note, _empty(chart_id, _t("no_forecast_item", lang)))
    rows = frame.to_dicts()
    top = max(max(r["actual"] or 0.0, r["target"] or 0.0) for r in rows) or 1.0
    base, plot_h = 210, 170
    slot = (WIDTH - 60) / len(rows)
    body = [f'<line x1="40" y1="{base}" x2="{WIDTH - 10}" y2="{base}" stroke="#566573"/>']
    for i, row in enumerate(rows):
        x0 = 50 + i * slot
        bar_w = min(slot / 3, 70)
        for j, (key, color) in enumerate(
            (("actual", COLORS["actual"]), ("target", COLORS["target"]))
        ):
            value = row[key] or 0.0
            h = max(plot_h * value / top, 1.0)
            x = x0 + j * (bar_w + 4)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}"/>'
                f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 4:.1f}" font-size="11" '
                f'text-anchor="middle">{value:,.0f}</text>'
            )
        body.append(
            f'<text x="{x0 + bar_w + 2:.1f}" y="{base + 18}" font-size="13" text-anchor="middle" '
            f'font-weight="bold">{_e(_t("class_items", lang, abc=row["abc"], count=row["items"]))}'
            "</text>"
        )
    body.append(
        f'<rect x="{WIDTH - 200}" y="4" width="12" height="12" fill="{COLORS["actual"]}"/>'
        f'<text x="{WIDTH - 184}" y="14" font-size="11">{_e(_t("on_hand_cover", lang))}</text>'
        f'<rect x="{WIDTH - 200}" y="20" width="12" height="12" fill="{COLORS["target"]}"/>'
        f'<text x="{WIDTH - 184}" y="30" font-size="11">{_e(_t("target_cover", lang))}</text>'
    )
    return Chart(chart_id, title, note, _svg(chart_id, 240, body, title))


def excess_chart(excess: pl.DataFrame, top: int, currency: str, lang: str = "en") -> Chart:
    """Top items by excess value, dead stock in grey, with the totals of each kind at cost
    (`_known_value`: the lines without a cost are counted beside them, never as 0). When no
    excess line has a cost, the bars are the items' excess units instead."""
    chart_id = "chart-excess"
    dead = pl.col("reason").str.starts_with("dead stock")
    overstock, _ = _known_value(excess.filter(~dead)["excess_value"], currency, lang)
    dead_stock, _ = _known_value(excess.filter(dead)["excess_value"], currency, lang)
    uncosted = excess["excess_value"].null_count()
    title = _t("excess_title", lang)
    sentences = [_t("excess_note", lang, excess=overstock, dead=dead_stock)]
    if uncosted:
        sentences.append(_t("excess_not_counted", lang, count=f"{uncosted:,}"))
    items = excess.filter(pl.col("excess_value") > 0).head(top)
    by_units = items.height == 0 and uncosted > 0
    if by_units:  # no line with a value: their units, never "no excess"
        items = excess.sort(["excess_qty", "sku", "location"], descending=[True, False, False])
        items = items.head(top)
        sentences.append(_t("excess_by_units", lang))
    note = ("" if lang == "zh" else " ").join(sentences)
    if items.height == 0:
        return Chart(chart_id, title, note, _empty(chart_id, _t("no_excess", lang)))
    labels = [_item_label(s, loc) for s, loc in items.select("sku", "location").iter_rows()]
    kinds = items.select(dead.alias("dead"))["dead"].to_list()
    values = items["excess_qty" if by_units else "excess_value"].to_list()
    texts = (
        [_t("units", lang, units=f"{v:,.0f}") for v in values]
        if by_units
        else [_money(v, currency, lang) for v in values]
    )
    return Chart(
        chart_id,
        title,
        note,
        _hbars(
            chart_id,
            labels,
            values,
            [COLORS["dead"] if k else COLORS["excess"] for k in kinds],
            texts,
            _t("excess_units_title", lang) if by_units else title,
        ),
    )


def _known_value(values: pl.Series, currency: str, lang: str) -> tuple[str, int]:
    """(the sum of the known amounts of `values`, how many lines it leaves out for want of
    a cost): a missing cost is never 0; with lines and none of them known the amount is
    missing (`n/a`), not 0, and then no line is said to be left out of it."""
    known = values.drop_nulls()
    if values.len() and known.len() == 0:
        return i18n.message("missing", lang), 0
    return _money(known.sum(), currency, lang), values.len() - known.len()


def _with_not_counted(
    label: str, uncosted: int, lang: str, key: str = "summary.not_counted"
) -> str:
    """`label` with the lines without a cost (`key`: or a price) it leaves out beside it,
    as the xlsx summary says it: "order value (1 line without a cost, not counted)"."""
    if not uncosted:
        return label
    not_counted = i18n.message(key, lang, count=f"{uncosted:,}")
    return label + (f"（{not_counted}）" if lang == "zh" else f" ({not_counted})")


def supplier_charts(suppliers: pl.DataFrame, top: int, lang: str = "en") -> list[Chart]:
    """On-time rate per supplier, and lead-time mean +/- one standard deviation."""
    rows = suppliers.sort(["receipts", "supplier"], descending=[True, False]).head(top)
    on_time_id, lead_id = "chart-supplier-on-time", "chart-supplier-lead-time"
    if rows.height == 0:
        missing = _t("no_receipts", lang)
        return [
            Chart(on_time_id, _t("on_time_title", lang), "", _empty(on_time_id, missing)),
            Chart(lead_id, _t("lead_title", lang), "", _empty(lead_id, missing)),
        ]
    tier = (
        rows["supplier_tier"]
        if "supplier_tier" in rows.columns
        else pl.Series([None] * rows.height)
    )
    labels = [
        f"{_short(str(name), 14)} ({i18n.value('supplier_tier', t, lang)})"
        if t
        else _short(str(name))
        for name, t in zip(rows["supplier"].to_list(), tier.to_list(), strict=True)
    ]
    rates = [r if r is not None else 0.0 for r in rows["on_time_rate"].to_list()]
    on_time = _hbars(
        on_time_id,
        labels,
        rates,
        [COLORS["on_time"]] * len(rates),
        [
            f"{r:.0%}" if r is not None else _t("no_expected_dates", lang)
            for r in rows["on_time_rate"].to_list()
        ],
        _t("on_time_label", lang),
        scale_max=1.0,
    )
    means = [m or 0.0 for m in rows["lead_time_mean_days"].to_list()]
    stds = [
        s if s is not None and math.isfinite(s) else 0.0
        for s in rows["lead_time_std_days"].to_list()
    ]
    left, right = 170, 110
    height = ROW * len(labels) + 40
    top_days = 1.1 * max(m + s for m, s in zip(means, stds, strict=True)) or 1.0
    plot = WIDTH - left - right
    body = [
        f'<line x1="{left}" y1="{height - 26}" x2="{left + plot}" y2="{height - 26}" '
        'stroke="#566573"/>',
        f'<text x="{left}" y="{height - 8}" font-size="11">{_e(_t("days", lang, days=0))}</text>',
        f'<text x="{left + plot}" y="{height - 8}" font-size="11" text-anchor="end">'
        f"{_e(_t('days', lang, days=f'{top_days:,.0f}'))}</text>",
    ]
    for i, (name, mean, std) in enumerate(zip(labels, means, stds, strict=True)):
        y = 8 + i * ROW + 12
        lo, hi = max(mean - std, 0.0), mean + std
        x_lo, x_hi, x_mean = (left + plot * v / top_days for v in (lo, hi, mean))
        body.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="12">'
            f"{_e(_short(name))}</text>"
            f'<line x1="{x_lo:.1f}" y1="{y}" x2="{x_hi:.1f}" y2="{y}" stroke="{COLORS["lead"]}" '
            'stroke-width="3"/>'
            f'<circle class="mark" cx="{x_mean:.1f}" cy="{y}" r="6" fill="{COLORS["lead"]}"/>'
            f'<text x="{left + plot + 6}" y="{y + 4}" font-size="11">'
            f"{_e(_t('mean_sd', lang, mean=f'{mean:.1f}', sd=f'{std:.1f}'))}</text>"
        )
    return [
        Chart(
            on_time_id,
            _t("on_time_title", lang),
            _t("on_time_note", lang),
            on_time,
        ),
        Chart(
            lead_id,
            _t("lead_title", lang),
            _t("lead_note", lang),
            _svg(lead_id, height, body, _t("lead_label", lang)),
        ),
    ]


def simulation_chart(simulation: pl.DataFrame | None, currency: str, lang: str = "en") -> Chart:
    """Fill rate (x) against average inventory value (y): the policy and the baseline."""
    chart_id = "chart-simulation"
    title = _t("sim_title", lang)
    if simulation is None or simulation.height == 0:
        return Chart(
            chart_id,
            title,
            _t("sim_missing", lang),
            _empty(chart_id, _t("no_simulation", lang)),
        )
    left, bottom, width, height = 70, 220, WIDTH - 90, 190
    x_lo = simulation["fill_rate"].min() * 100
    x_hi = simulation["fill_rate"].max() * 100
    y_hi = simulation["avg_inventory_value"].max() or 1.0
    x_span = max(x_hi - x_lo, 1e-6)

    def xy(fill: float, value: float) -> tuple[float, float]:
        return left + width * (fill * 100 - x_lo) / x_span, bottom - height * value / y_hi

    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{left + width}" y2="{bottom}" stroke="#566573"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{left}" y2="{bottom - height}" stroke="#566573"/>',
        f'<text x="{left}" y="{bottom + 16}" font-size="11">{x_lo:.1f}%</text>',
        f'<text x="{left + width}" y="{bottom + 16}" font-size="11" text-anchor="end">'
        f"{x_hi:.1f}%</text>",
        f'<text x="{left + width / 2}" y="{bottom + 30}" font-size="11" text-anchor="middle">'
        f"{_e(_t('sim_x', lang))}</text>",
        f'<text x="{left - 4}" y="{bottom - height + 4}" font-size="11" text-anchor="end">'
        f"{_e(_money(y_hi, None, lang))}</text>",
        f'<text x="{left - 4}" y="{bottom}" font-size="11" text-anchor="end">0</text>',
        f'<text x="12" y="{bottom - height / 2}" font-size="11" transform="rotate(-90 12 '
        f'{bottom - height / 2})" text-anchor="middle">'
        f"{_e(_t('sim_y', lang, currency=i18n.currency_word(currency, lang)))}</text>",
    ]
    groups = (
        ("policy", simulation.filter(pl.col("policy") == "stockplan"), _t("sim_policy", lang)),
        ("baseline", simulation.filter(pl.col("policy") != "stockplan"), _t("sim_baseline", lang)),
    )
    for n, (key, rows, name) in enumerate(groups):
        points = [
            xy(f, v)
            for f, v in rows.sort("fill_rate")
            .select("fill_rate", "avg_inventory_value")
            .iter_rows()
        ]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = ' stroke-dasharray="6 4"' if key == "baseline" else ""
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{COLORS[key]}" stroke-width="2"{dash}/>'
        )
        body.extend(
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{COLORS[key]}"/>'
            for x, y in points
        )
        body.append(
            f'<rect x="{left + 10}" y="{8 + n * 16}" width="12" height="4" fill="{COLORS[key]}"/>'
            f'<text x="{left + 26}" y="{14 + n * 16}" font-size="11">{_e(name)}</text>'
        )
    return Chart(
        chart_id,
        title,
        " ".join([_t("sim_note", lang), *_written_off(simulation, currency, lang)]),
        _svg(chart_id, 260, body, title),
    )


def _written_off(simulation: pl.DataFrame, currency: str, lang: str) -> list[str]:
    """The sentence on stock written off unsold in the replays (items with a shelf life,
    `expired_value` at cost): the policy's at each target, the rule of thumb's from its
    least to its most over the scales; none when nothing expired."""
    if "expired_value" not in simulation.columns or not simulation["expired_value"].gt(0).any():
        return []
    policy = simulation.filter(pl.col("policy") == "stockplan").sort("target")
    rule = simulation.filter(pl.col("policy").str.starts_with("baseline"))["expired_value"]
    at_targets = ("，" if lang == "zh" else ", ").join(
        f"{target:.0%} {_money(value, currency, lang)}"
        for target, value in policy.select("target", "expired_value").iter_rows()
    )
    spread = (
        f"{_money(rule.min(), currency, lang)} – {_money(rule.max(), currency, lang)}"
        if rule.len()
        else "–"
    )
    return [_t("sim_expired", lang, policy=at_targets or "–", baseline=spread)]


STYLE = """
body { font-family: "Segoe UI", "Microsoft YaHei", "PingFang SC", "Noto Sans", "Noto Sans CJK SC",
       Arial, sans-serif;
       margin: 24px; color: #1b2631; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #566573; margin: 0 0 16px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 20px; }
.kpi { border: 1px solid #d5d8dc; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.kpi b { display: block; font-size: 20px; }
.kpi span { color: #566573; font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(580px, 1fr)); gap: 18px; }
section { border: 1px solid #d5d8dc; border-radius: 6px; padding: 10px 12px; }
section h2 { font-size: 15px; margin: 0 0 4px; }
section p { font-size: 12px; color: #566573; margin: 0 0 8px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
"""


def html_report(
    tables: dict[str, pl.DataFrame],
    plan_rows: pl.DataFrame,
    as_of: dt.date,
    currency: str,
    top_items: int = 10,
    simulation: pl.DataFrame | None = None,
    lang: str = "en",
) -> str:
    """The report page in `lang`: headline figures, then every chart (CHART_IDS, in that
    order)."""
    risk, excess, suppliers = tables["risk"], tables["excess"], tables["suppliers"]
    orders = plan_rows.filter(pl.col("order_qty") > 0)
    charts = [
        *value_at_risk_charts(risk, top_items, currency, lang),
        cover_by_class_chart(risk, plan_rows, lang),
        excess_chart(excess, top_items, currency, lang),
        *supplier_charts(suppliers, top_items, lang),
        simulation_chart(simulation, currency, lang),
    ]
    high = risk.filter(pl.col("risk_level") == "high").height
    order_value, uncosted = _known_value(orders["order_value"], currency, lang)
    excess_value, excess_uncosted = _known_value(excess["excess_value"], currency, lang)
    # revenue at risk = expected shortage x unit price: a line short without a price is
    # left out and said, never 0; a line without a shortage risks nothing, priced or not
    short = (
        risk.filter(pl.col("expected_shortage") > 0)
        if "expected_shortage" in risk.columns
        else risk
    )["revenue_at_risk"]
    revenue_at_risk, unpriced = _known_value(short, currency, lang)
    if not short.len():
        revenue_at_risk = _money(0.0, currency, lang)
    kpis = [
        (f"{orders.height:,}", _t("kpi_lines", lang)),
        (order_value, _with_not_counted(_t("kpi_value", lang), uncosted, lang)),
        (f"{high:,}", _t("kpi_high", lang)),
        (
            revenue_at_risk,
            _with_not_counted(_t("kpi_risk", lang), unpriced, lang, "summary.not_priced"),
        ),
        (excess_value, _with_not_counted(_t("kpi_excess", lang), excess_uncosted, lang)),
    ]
    date = as_of.isoformat()
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(_t('page_title', lang, date=date))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(_t('heading', lang, date=date))}</h1>",
        f'<p class="sub">{_e(_t("sub", lang))}</p>',
        '<div class="kpis">',
        *[f'<div class="kpi"><b>{_e(v)}</b><span>{_e(t)}</span></div>' for v, t in kpis],
        '</div><div class="grid">',
        *[
            f"<section><h2>{_e(c.title)}</h2><p>{_code(_e(c.note))}</p>{c.svg}</section>"
            for c in charts
        ],
        "</div></body></html>",
    ]
    return "\n".join(parts) + "\n"
