"""Rich terminal tables and explain text for output frames (built here, printed by the CLI).

Terminal tables are readable at 80 columns: a number, date or code is never wrapped (its
column is as wide as its widest value); columns are chosen by priority and the ones that
do not fit are dropped and named; names are shortened with an ellipsis and reasons wrap
at words. Numbers are formatted per column: quantities with the same decimals down a
column, money with 2 decimals (a missing cost shows as missing, never 0), probabilities
and service levels as percentages. A Chinese header wraps between words, never inside one.
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
    currency_word,
    header,
    message,
    money,
    render_causes,
    render_inheritance,
    render_reason,
    value,
)
from stockplan.io.writers import BUYER_COLUMNS, buyer_layout
from stockplan.tables import SIMULATION_COLUMNS

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
    "simulation": (
        # the policy, its target, then service against stock
        SIMULATION_COLUMNS,
        [
            "policy",
            "target",
            "fill_rate",
            "avg_inventory_value",
            "stockout_days",
            "cycle_service_level",
            "orders_placed",
            "policy_inventory_at_same_fill",
            "unmet_units",
            "expired_units",
            "expired_value",
            "avg_inventory_units",
            "promised_service",
            "reachable_series",
            "reachable_service",
            "unreachable_series",
            "unreachable_demand_share",
            "unreachable_promised",
            "unreachable_service",
            "rule_inventory_at_same_fill",
            "inventory_vs_rule",
            "rule_fill_rate_compared",
            "series",
            "days",
        ],
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
    "expired_value",
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
# text columns that may be shortened (name) or wrapped (reason): (min width, max width)
FLEXIBLE = {
    "name": (8, 24),
    "customer": (8, 16),
    "reason": (24, 200),
    "message": (24, 200),
    "causes": (20, 200),
    "policy": (28, 48),  # a rule of thumb on two lines
}
SHORTENED = {"name", "customer"}  # the other FLEXIBLE columns wrap at spaces
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}
GAP = 3  # cells between two columns: padding on both sides and the divider
# Chinese words of the headers: a Chinese header wraps only between two of them or before
# a bracket, never inside a word (建议/采购量, 平均提前期/(天)); a header with a word not
# listed here wraps only before its bracket
_ZH_WORDS = (
    "商品 编码 名称 仓库 供应商 建议 采购量 采购 金额 下单 日期 预计 到货 现存量 在途量 "
    "欠货量 库存 位置 日均 预测 提前期 盘点 订货 周期 安全 再订货点 最高 服务 水平 分类 "
    "需求 模式 模型 原因 补货 策略 已分配 调入量 调拨量 标准差 来源 误差 单位 成本 最小 起订量 "
    "包装数 最大 订货量 风险 等级 可售 天数 缺货 下次 概率 缺货量 销售额 调出 调入 数量 "
    "超储 最近 销售 行数 下限 上限 状态 最低 达到 起订 最早 最晚 期间 开始 预测量 促销 "
    "提升 期数 平均 间隔 变异 系数 年 实测 次数 准时率 满足率 合格率 客户 优先级 "
    "补偿 方式 说明 订单号 承诺 发货 延迟 货源 通知 内容 计划 目标 未满足 同 经验 法则 "
    "经验法则 之比 对比 可承诺 序列数 可达 序列 实际 不可达 占比 单日 变化 原 新 影响 "
    "配置 约束 备注 处理 变化原因 计划原因 常规 倍数 单行 有效期至 批次 售出 过期 过期量 "
    "距 最后 销售日 调整 调整人 统计 评估 结论 增值 停工 覆盖 加长 工作日 柜数 装载率 "
    "整柜 体积 重量 补足 推迟 增加 套件 占比 所属 替代 继承自 临期 不可售量 上限 方法 "
    "说明 需求占比 库存金额 库存数量 下单次数 缺货天数 缺货日期 缺货概率 风险等级"
)
ZH_HEADER_WORDS = frozenset(_ZH_WORDS.split())
_BRACKETS = "(（"


def _header_words(text: str) -> list[str]:
    """A Chinese header cut where it may wrap: before a bracket and between two words of
    ZH_HEADER_WORDS (longest first); a character of no known word stays with its
    neighbour, so an unknown word is never cut."""
    words: list[str] = []
    i = 0
    while i < len(text):
        if text[i] in _BRACKETS:
            words.append(text[i:])
            break
        size = next((n for n in (5, 4, 3, 2, 1) if text[i : i + n] in ZH_HEADER_WORDS), 0)
        if size:
            words.append(text[i : i + size])
        elif words:  # not a known word: it stays with the word before it
            words[-1] += text[i]
        else:
            words.append(text[i])
        i += size or 1
    return words


def _wrap_header(text: str, lang: str, width: int) -> str:
    """The header on lines of at most `width` cells, cut only where `_header_words`
    allows (Chinese); an English header is left to wrap at its spaces."""
    if lang != "zh" or text.isascii() or cell_len(text) <= width:
        return text
    lines = [""]
    for word in _header_words(text):
        if lines[-1] and cell_len(lines[-1] + word) > width:
            lines.append(word)
        else:
            lines[-1] += word
    return "\n".join(lines)


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
        present = [v for v in values if v is not None]
        whole = all(abs(v - round(v)) < 1e-9 for v in present)
        digits = 0 if whole else 1
        return [missing if v is None else _signed(f"{v:,.{digits}f}") for v in values]
    if dtype.is_integer():
        return [missing if v is None else f"{v:,}" for v in values]
    if dtype == pl.Date:
        return [missing if v is None else v.isoformat() for v in values]
    if column in REASON_COLUMNS:
        return [missing if v is None else render_reason(v, lang, currency) for v in values]
    if column == "causes":
        return [missing if v is None else render_causes(v, lang) for v in values]
    if column == "inherits_from":
        return [missing if v is None else render_inheritance(v, lang) for v in values]
    if dtype == pl.Boolean:  # the catalogue's words are the CSV's true / false
        values = [None if v is None else str(v).lower() for v in values]
    return [missing if v is None else str(value(column, str(v), lang)) for v in values]


def _signed(text: str) -> str:
    """A formatted number that rounds to zero is 0, never -0 (-0.04 days of cover)."""
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _header_width(text: str, lang: str) -> int:
    """Cells a header needs if it may wrap: its longest word (Chinese: `_header_words`)."""
    if lang == "zh" and not text.isascii():
        return max(cell_len(word) for word in _header_words(text))
    return max(cell_len(word) for word in text.replace("_", " ").split()) if text else 1


def _pack_clauses(text: str, width: int) -> str:
    """Causes (`config -151.2; demand +417.3`) on lines of `width` cells, broken between
    two causes rather than between a cause and its number."""
    wide = "；" in text
    clauses = text.split("；" if wide else "; ")
    pieces = [c + ("；" if wide else ";") for c in clauses[:-1]] + clauses[-1:]
    lines: list[str] = []
    for piece in pieces:
        joined = f"{lines[-1]}{'' if wide else ' '}{piece}" if lines else piece
        if lines and cell_len(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(piece)
    return "\n".join(lines)


def _empty(column: pl.Series) -> bool:
    """Nothing in any row: every value missing or blank text."""
    if column.dtype == pl.String:
        return column.str.strip_chars().fill_null("").eq("").all()
    return column.null_count() == column.len()


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
    bucket: str | None = None,
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
    same: list[str] = []
    if not columns:  # a column with nothing in it, or the same on every row, says nothing
        display = [c for c in display if not _empty(frame[c])]
        same = [
            c for c in display if frame.height > 1 and c != priority[0] and frame[c].n_unique() == 1
        ]
        display = [c for c in display if c not in same]
        priority = [c for c in priority if c in display]
    shown_rows = frame.head(limit)
    cells = {c: _format_column(shown_rows, c, lang, currency) for c in display}
    labels = {c: header(c, lang, bucket).replace("_", " ") for c in display}
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

    def grow(column: str, to: int) -> None:
        nonlocal spare
        step = max(0, min(spare, to - widths[column]))
        widths[column] += step
        spare -= step

    for column in [c for c in chosen if c in SHORTENED]:  # names first,
        grow(column, min(natural[column], FLEXIBLE[column][1]))
    for column in chosen:  # then a header on one line where it fits,
        if cell_len(labels[column]) - widths[column] <= spare:
            grow(column, cell_len(labels[column]))
    for column in [c for c in chosen if c in FLEXIBLE and c not in SHORTENED]:  # then reasons
        grow(column, min(natural[column], FLEXIBLE[column][1]))
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
        shortened = column in SHORTENED
        # values fit their width, so only a header (at spaces, Chinese between words) or a
        # reason wraps; a name wider than its column is shortened with an ellipsis
        table.add_column(
            _wrap_header(labels[column], lang, widths[column]),
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
        table.add_row(
            *[
                Text(_pack_clauses(cells[c][i], widths[c]) if c == "causes" else cells[c][i])
                for c in order
            ],
            style=style,
        )
    more = frame.height - shown_rows.height
    notes = []
    if more > 0:
        notes.append(message("more_rows", lang, more=more))
    same_note = ""
    if same:  # what every row shares, once (e.g. the replay's days, a single warehouse)
        first = frame.head(1)
        same_note = message(
            "same_columns",
            lang,
            columns=", ".join(
                f"{header(c, lang, bucket)} {_format_column(first, c, lang)[0]}" for c in same
            ),
        )
    if hidden:
        notes.append(
            message(
                "hidden_columns",
                lang,
                width=width,
                columns=", ".join(header(c, lang, bucket) for c in hidden),
            )
            + (message("note_separator", lang) + same_note if same_note else "")
        )
    elif same_note:
        notes.append(same_note)
    if frame.height == 0:
        notes.append(message("no_rows", lang))
    return TerminalTable(table, order, hidden, more, notes)


def _n(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
        return _signed(text.rstrip("0").rstrip(".") if "." in text else text)
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
    reason = render_reason(order["reason"], lang, currency) or ""
    if not order["order_qty"]:  # nothing ordered: no value and no arrival, only why
        no_order = reason.startswith(message("explain.no_order_word", lang))
        order_line = reason if no_order else message("explain.order_zero", lang, reason=reason)
    else:
        order_line = message(
            "explain.order" if order["order_value"] is not None else "explain.order_no_cost",
            lang,
            qty=_n(order["order_qty"]),
            value=money(order["order_value"], currency, lang),
            arrival=order["expected_arrival"],
            reason=reason,
        )
    lines = [
        message(
            "explain.supplier" if order["supplier"] else "explain.no_supplier",
            lang,
            supplier=order["supplier"],
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
            transfer=message(
                "explain.position_transfer_out"
                if (order["transfer_qty"] or 0) < 0
                else "explain.position_transfer_in",
                lang,
                qty=_n(abs(order["transfer_qty"] or 0)),
            ),
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
            sigma=_n(sigma, 2),
        ),
        # (s, Q) orders multiples of Q, not up to S = s + Q: the reason says how many
        message(
            "explain.rop_sq" if order.get("policy_type") == "sq" else "explain.rop",
            lang,
            mu=_n(mu),
            ss=_n(ss),
            rop=_n(rop),
            s=_n(s_up),
        ),
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
        order_line,
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
                cover=_n(cover),
                receipt=risk["next_receipt_date"] or "-",
            )
        )
    return lines


NO_DEMAND_PATTERNS = ("dead", "none")


def simulate_pattern_lines(
    by_pattern: pl.DataFrame, lang: str = "en", currency: str | None = None
) -> list[str]:
    """`simulate`'s lines per demand pattern: the rule of thumb's stock against the
    policy's at the same fill rate, and each target's stock against the rule's. A pattern
    without demand (dead, none), or a comparison where neither side holds stock, has
    nothing to say and is left out."""
    lines: list[str] = []
    unit = f" {currency_word(currency, lang)}" if currency else ""  # 元 in Chinese for CNY
    if "demand_pattern" not in by_pattern.columns:
        return lines
    rows = by_pattern.filter(~pl.col("demand_pattern").is_in(NO_DEMAND_PATTERNS))
    if "policy_inventory_at_same_fill" in rows.columns:
        for row in rows.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
            if row["avg_inventory_value"] < 0.5 and row["policy_inventory_at_same_fill"] < 0.5:
                continue
            lines.append(
                message(
                    "simulate.same_fill",
                    lang,
                    pattern=value("demand_pattern", row["demand_pattern"], lang),
                    policy=value("policy", row["policy"], lang),
                    fill=f"{row['fill_rate']:.1%}",
                    value=f"{row['avg_inventory_value']:,.0f}{unit}",
                    policy_value=f"{row['policy_inventory_at_same_fill']:,.0f}{unit}",
                )
            )
    if "inventory_vs_rule" in rows.columns:
        for row in rows.drop_nulls("inventory_vs_rule").iter_rows(named=True):
            if row["avg_inventory_value"] < 0.5 and row["rule_inventory_at_same_fill"] < 0.5:
                continue
            above = row["rule_fill_rate_compared"] < row["fill_rate"] - 1e-12
            lines.append(
                message(
                    "simulate.vs_rule_at_most" if above else "simulate.vs_rule",
                    lang,
                    pattern=value("demand_pattern", row["demand_pattern"], lang),
                    target=f"{row['target'] * 100:g}%",
                    fill=f"{row['fill_rate']:.1%}",
                    value=f"{row['avg_inventory_value']:,.0f}{unit}",
                    ratio=f"{row['inventory_vs_rule']:.2f}",
                    rule_fill=f"{row['rule_fill_rate_compared']:.1%}",
                    rule_value=f"{row['rule_inventory_at_same_fill']:,.0f}{unit}",
                )
            )
    return lines


def simulate_waste_lines(
    simulation: pl.DataFrame,
    by_pattern: pl.DataFrame,
    lang: str = "en",
    currency: str | None = None,
) -> list[str]:
    """`simulate`'s lines on expired stock: per policy row that wrote units off (items with a
    shelf life), the units and their value at cost, then the same per demand pattern."""
    lines: list[str] = []
    if "expired_units" not in simulation.columns:
        return lines
    unit = f" {currency_word(currency, lang)}" if currency else ""
    wasted = by_pattern.filter(pl.col("expired_units") > 0) if by_pattern.height else by_pattern
    for row in simulation.filter(pl.col("expired_units") > 0).iter_rows(named=True):
        target = "" if row["target"] is None else f" {row['target'] * 100:g}%"
        same = wasted.filter(
            (pl.col("policy") == row["policy"]) & (pl.col("target").eq_missing(row["target"]))
        )
        patterns = ", ".join(
            f"{value('demand_pattern', p, lang)} {units:,.0f}"
            for p, units in same.select("demand_pattern", "expired_units").iter_rows()
        )
        lines.append(
            message(
                "simulate.expired",
                lang,
                policy=value("policy", row["policy"], lang) + target,
                units=f"{row['expired_units']:,.0f}",
                value=f"{row['expired_value']:,.0f}{unit}",
                patterns=message("simulate.expired_patterns", lang, patterns=patterns)
                if patterns
                else "",
            )
        )
    return lines


def nice_ticks(low: float, high: float, count: int = 5) -> list[int]:
    """About `count` whole-number ticks covering [low, high], a step of 1, 2, 2.5 or 5
    times a power of ten (at least 1), so an axis reads 0, 500, 1,000 and never 2.7e2."""
    span = max(high - low, 1.0)
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, next((m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw), 10 * power))
    if step != int(step):  # 2.5 below 10 is not a whole number
        step = 5 * power
    step = int(step)
    first, last = math.floor(low / step) * step, math.ceil(high / step) * step
    return list(range(int(first), int(last) + 1, step))


def _axis(ruler: object, values: list[float], count: int) -> None:
    """Whole-number ticks inside the values' range, labelled with thousands separators."""
    present = [v for v in values if v is not None and math.isfinite(v)]
    if not present:
        return
    low, high = min(present), max(present)
    every = nice_ticks(low, high, count)
    step = every[1] - every[0] if len(every) > 1 else 1
    ticks = [t for t in every if low <= t <= high]
    for end in (round(low), round(high)):  # the ends too, unless a tick is near
        if all(abs(end - t) > step / 2 for t in ticks):
            ticks.append(end)
    ticks.sort()
    ruler.ticks(ticks, [f"{t:,}" for t in ticks])


def explain_chart(
    history: pl.DataFrame,
    projection: pl.DataFrame,
    forecast: pl.DataFrame,
    order: dict,
    width: int,
    bucket: str,
    lang: str = "en",
) -> list[tuple[list[str], str]]:
    """Two terminal charts (plotext), each with its title and legend lines: demand history
    and forecast band; projected stock with and without the order, reorder point and
    safety stock. x: buckets from now. The lines are in `lang`, for the caller to print
    above the chart: the canvas holds only ASCII, whose cells the chart library counts
    right (it counts a Chinese character as one cell)."""
    import plotext

    unit = message(f"chart.{bucket}", lang)
    past_x = list(range(-history.height, 0))
    future_x = list(range(forecast.height))
    charts = []
    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, 17)
    demand_values: list[float] = []
    if past_x:
        demand_values += history["demand"].to_list()
        figure.draw(figure.signal(past_x, history["demand"].to_list()).lines())
    if future_x:
        figure.draw(figure.signal(future_x, forecast["forecast"].to_list()).lines())
        for edge in ("lo", "hi"):
            demand_values += forecast[edge].to_list()
            figure.draw(figure.signal(future_x, forecast[edge].to_list(), marker="dot"))
    _axis(figure.ruler("y"), [*demand_values, *forecast["forecast"].to_list()], 6)
    _axis(figure.ruler("x"), [*past_x, *future_x], 9)
    charts.append(
        (
            [message(f"chart.demand{part}", lang, bucket=unit) for part in ("", "_legend")],
            str(figure.build()),
        )
    )
    figure.clear()
    figure.plot_size(width, 17)
    if future_x:
        with_order = projection["projected_stock"].to_list()
        without = projection["projected_without_order"].to_list()
        figure.draw(figure.signal(future_x, with_order).lines())
        figure.draw(figure.signal(future_x, without, marker="dot"))
        figure.line(order["reorder_point"])
        figure.line(order["safety_stock"], style="dotted")
        _axis(
            figure.ruler("y"),
            [*with_order, *without, order["reorder_point"], order["safety_stock"]],
            6,
        )
        _axis(figure.ruler("x"), future_x, 7)
    charts.append(
        (
            [message(f"chart.stock{part}", lang, bucket=unit) for part in ("", "_legend")],
            str(figure.build()),
        )
    )
    return charts
