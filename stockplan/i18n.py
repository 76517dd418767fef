"""The one catalogue of words a buyer reads: table titles, column headers, values, reasons
and messages, in English (`en`) and Chinese (`zh`).

Canonical column names and values stay the machine contract (JSON, Parquet,
`--headers canonical`); this module only renders them for people. English headers are
the canonical names themselves, so English CSV files keep their contract.

Reasons are kept canonical (English) in the tables. Each reason is a `"; "`-joined list
of clauses built from fixed templates; `render_reason` matches every clause against the
`REASONS` templates and fills the Chinese template with the same numbers. A name holding
`"; "` stays inside its clause (`clauses`). A clause no template matches is left as it is
(tests check the pipeline's reasons are all covered).

Pure Python (no polars): the CLI imports it before any heavy module.
"""

from __future__ import annotations

import collections
import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from stockplan.errors import Phrase, StockplanError

Language = Literal["en", "zh"]
LANGUAGES: tuple[str, ...] = ("en", "zh")

# table -> sheet / table title
TABLES: dict[str, dict[str, str]] = {
    "summary": {"en": "summary", "zh": "汇总"},
    "orders": {"en": "orders", "zh": "采购建议"},
    "order_details": {"en": "order_details", "zh": "采购明细"},
    "risk": {"en": "risk", "zh": "缺货风险"},
    "transfers": {"en": "transfers", "zh": "调拨"},
    "excess": {"en": "excess", "zh": "超储"},
    "supplier_orders": {"en": "supplier_orders", "zh": "供应商订单"},
    "forecast": {"en": "forecast", "zh": "需求预测"},
    "classes": {"en": "classes", "zh": "需求分类"},
    "suppliers": {"en": "suppliers", "zh": "供应商评分"},
    "notices": {"en": "notices", "zh": "客户到货通知"},
    "simulation": {"en": "simulation", "zh": "策略模拟"},
    "expiry_risk": {"en": "expiry_risk", "zh": "过期风险"},
    "large_orders": {"en": "large_orders", "zh": "大额一次性订单"},
    "lines": {"en": "lines", "zh": "预计采购明细"},
    "simulation_by_pattern": {"en": "simulation_by_pattern", "zh": "分模式模拟"},
    "simulation_unreachable": {"en": "simulation_unreachable", "zh": "目标不可达商品"},
    "overrides": {"en": "overrides", "zh": "预测调整评估"},
    "diff": {"en": "diff", "zh": "采购变化"},
}

# canonical column -> Chinese header (the English header is the canonical name)
_ZH_HEADERS: dict[str, str] = {
    "sku": "商品编码",
    "name": "商品名称",
    "location": "仓库",
    "supplier": "供应商",
    "order_qty": "建议采购量",
    "order_value": "采购金额",
    "order_date": "下单日期",
    "expected_arrival": "预计到货",
    "on_hand": "现存量",
    "on_order": "在途量",
    "backorders": "欠货量",
    "inventory_position": "库存位置",
    "forecast_per_day": "日均预测",
    "lead_time_days": "提前期(天)",
    "review_days": "订货周期(天)",
    "safety_stock": "安全库存",
    "reorder_point": "再订货点",
    "order_up_to": "最高库存",
    "service_level": "服务水平",
    "abc": "ABC分类",
    "xyz": "XYZ分类",
    "demand_pattern": "需求模式",
    "model": "预测模型",
    "reason": "原因",
    "policy_type": "补货策略",
    "allocated": "已分配",
    "transfer_qty": "调拨量(+调入/-调出)",
    "lead_time_std_days": "提前期标准差(天)",
    "lead_time_source": "提前期来源",
    "sigma_e": "回测误差σ_e(每期)",
    "sigma_lead_time_demand": "提前期需求标准差σ_LTD",
    "unit_cost": "单位成本",
    "unit_price": "单价",
    "moq": "最小起订量",
    "pack_size": "包装数",
    "max_order": "最大订货量",
    "risk_level": "风险等级",
    "days_of_cover": "可售天数",
    "stockout_date": "预计缺货日期",
    "next_receipt_date": "下次到货日期",
    "stockout_probability": "缺货概率",
    "expected_shortage": "预计缺货量",
    "revenue_at_risk": "风险销售额",
    "restock_eta": "补货到货日期",
    "from_location": "调出仓库",
    "to_location": "调入仓库",
    "arrival_date": "调拨到货日期",
    "quantity": "数量",
    "excess_qty": "超储数量",
    "excess_value": "超储金额",
    "last_sale_date": "最近销售日期",
    "lines": "行数",
    "projected_qty": "预计采购量",
    "qty_low": "采购量下限",
    "qty_high": "采购量上限",
    "projected_value": "预计采购金额",
    "status": "状态",
    "min_order_value": "起订金额",
    "meets_minimum": "达到起订金额",
    "first_arrival": "最早到货",
    "last_arrival": "最晚到货",
    "period_start": "期间开始",
    "forecast": "每期预测量",
    "lo": "预测下限",
    "hi": "预测上限",
    "promo_uplift": "促销提升",
    "promo_lift_risk": "促销提升误差",
    "demand_before_as_of": "计划日前已过天数需求",
    "n_periods": "期数",
    "adi": "平均需求间隔",
    "cv2": "CV²",
    "cv": "变异系数",
    "mean_demand": "平均需求",
    "annual_value": "年销售额",
    "abc_basis": "ABC依据",
    "stockout_periods": "缺货期数",
    "promo_periods": "促销期数",
    "measured_uplift": "实测促销提升",
    "receipts": "到货次数",
    "lead_time_mean_days": "平均提前期(天)",
    "on_time_rate": "准时率",
    "quantity_fill_rate": "数量满足率",
    "quality_rate": "合格率",
    "supplier_tier": "供应商等级",
    "customer_tier": "客户等级",
    "priority": "优先级",
    "compensation_type": "补偿方式",
    "compensation_value": "补偿金额",
    "compensation_text": "补偿说明",
    "fill_rate": "满足率",
    "order_id": "订单号",
    "customer": "客户",
    "promised_date": "承诺日期",
    "expected_fill_date": "预计发货日期",
    "days_late": "延迟天数",
    "filled_from": "货源",
    "message": "通知内容",
    "as_of": "计划日期",
    "policy": "策略",
    "target": "目标",
    "cycle_service_level": "周期服务水平",
    "stockout_days": "缺货天数",
    "avg_inventory_value": "平均库存金额",
    "avg_inventory_units": "平均库存数量",
    "orders_placed": "下单次数",
    "unmet_units": "未满足数量",
    "expired_units": "过期报废数量",
    "expired_value": "过期报废金额",
    "policy_inventory_at_same_fill": "同满足率策略库存",
    "rule_inventory_at_same_fill": "同满足率经验法则库存",
    "inventory_vs_rule": "库存对经验法则之比",
    "rule_fill_rate_compared": "经验法则对比满足率",
    "total": "合计",
    "high_risk": "高缺货风险商品数",
    "missing_cost_lines": "缺成本行数",
    "medium_risk": "中缺货风险商品数",
    "value": "值",
    "key": "参数",
    "date": "日期",
    "item": "项目",
    # kits, successors, shelf life, overrides
    "kit_share": "套件需求占比",
    "kits": "所属套件",
    "replaced_by": "替代商品",
    "replaced_from": "替代日期",
    "inherits_from": "继承自",
    "forecast_override": "预测调整",
    "unsellable_qty": "临期不可售量",
    "order_up_to_cap": "最高库存上限",
    "expiry_date": "有效期至",
    "sell_by_date": "最后销售日期",
    "lot_qty": "批次数量",
    "expected_sold": "预计售出",
    "expiring_qty": "预计过期量",
    "expiring_value": "预计过期金额",
    "days_to_sell_by": "距最后销售日(天)",
    "start": "开始日期",
    "end": "结束日期",
    "author": "调整人",
    "override_reason": "调整原因",
    "override": "调整内容",
    "scored_days": "评估天数",
    "actual": "实际销量",
    "statistical_forecast": "统计预测",
    "override_forecast": "调整后预测",
    "statistical_error": "统计预测误差",
    "override_error": "调整后误差",
    "forecast_value_added": "预测增值(FVA)",
    "verdict": "结论",
    # lead-time demand and large one-off orders
    "ltd_method": "提前期需求方法",
    "promised_service": "可承诺服务水平",
    "reachable_series": "目标可达商品×仓库数",
    "reachable_service": "目标可达商品×仓库实际服务水平",
    "unreachable_series": "目标不可达商品×仓库数",
    "unreachable_demand_share": "目标不可达商品×仓库需求占比",
    "unreachable_promised": "目标不可达商品×仓库可承诺服务水平",
    "unreachable_service": "目标不可达商品×仓库实际服务水平",
    "achieved_service": "实际服务水平",
    "demand_units": "需求数量",
    "largest_day_units": "单日最大需求",
    "service_note": "服务水平说明",
    "usual_line_qty": "常规单行数量",
    "times_usual": "常规倍数",
    "treatment": "处理方式",
    # supplier calendars, minimum order value, containers, price breaks
    "order_by": "最晚下单日期",
    "open_lead_time_days": "供应商工作日提前期(天)",
    "closure_days": "停工天数",
    "closure_note": "停工原因",
    "closure_cover_days": "停工加长覆盖(天)",
    "minimum_action": "起订金额处理",
    "minimum_action_cost": "处理成本",
    "top_up_cost": "补足成本",
    "bring_forward_cost": "提前下单成本",
    "defer_cost": "推迟成本",
    "added_value": "增加金额",
    "volume_m3": "体积(m³)",
    "weight_kg": "重量(kg)",
    "loads": "柜数",
    "load_fill": "装载率",
    "load_action": "整柜调整",
    "load_note": "整柜说明",
    # plan diff and simulation counts
    "change": "变化",
    "old_order_qty": "原建议采购量",
    "new_order_qty": "新建议采购量",
    "order_qty_change": "采购量变化",
    "due_to_config": "配置影响",
    "due_to_demand": "需求影响",
    "due_to_lead_time": "提前期影响",
    "due_to_safety_stock": "安全库存影响",
    "due_to_on_hand": "现存量影响",
    "due_to_on_order": "在途量影响",
    "due_to_backorders": "欠货量影响",
    "due_to_other_stock": "分配/调拨影响",
    "due_to_constraints": "约束影响",
    "causes": "变化原因",
    "old_reason": "原计划原因",
    "new_reason": "新计划原因",
    "note": "备注",
    "series": "商品×仓库数",
    "days": "天数",
}
HEADERS: dict[str, dict[str, str]] = {
    column: {"en": column, "zh": zh} for column, zh in _ZH_HEADERS.items()
}

# headers that name the planning bucket their numbers are per (`planning.bucket`): a buyer
# reads 每周预测量 / "forecast per week", not 每期 ("per period"); `header(..., bucket=)`
BUCKET_HEADERS: dict[str, dict[str, str]] = {
    "forecast": {"en": "forecast per {unit}", "zh": "每{unit}预测量"},
}
BUCKET_UNITS: dict[str, dict[str, str]] = {
    "day": {"en": "day", "zh": "天"},
    "week": {"en": "week", "zh": "周"},
    "month": {"en": "month", "zh": "月"},
}

# canonical value -> rendered value, per column that holds words
VALUES: dict[str, dict[str, dict[str, str]]] = {
    "risk_level": {
        "high": {"en": "high", "zh": "高"},
        "medium": {"en": "medium", "zh": "中"},
        "low": {"en": "low", "zh": "低"},
    },
    "demand_pattern": {
        "smooth": {"en": "smooth", "zh": "平稳"},
        "erratic": {"en": "erratic", "zh": "波动"},
        "intermittent": {"en": "intermittent", "zh": "间歇"},
        "lumpy": {"en": "lumpy", "zh": "块状"},
        "new": {"en": "new", "zh": "新品"},
        "dead": {"en": "dead", "zh": "呆滞"},
        "none": {"en": "none", "zh": "无"},
    },
    "lead_time_source": {
        "sku history": {"en": "sku history", "zh": "商品历史"},
        "supplier history": {"en": "supplier history", "zh": "供应商历史"},
        "products": {"en": "products", "zh": "商品档案"},
        "suppliers": {"en": "suppliers", "zh": "供应商档案"},
        "default": {"en": "default", "zh": "默认值"},
        "backup supplier": {"en": "backup supplier", "zh": "备用供应商"},
    },
    "filled_from": {
        "stock on hand": {"en": "stock on hand", "zh": "现有库存"},
        "open purchase order": {"en": "open purchase order", "zh": "在途采购单"},
        "this week's suggested order": {"en": "this week's suggested order", "zh": "本周建议采购"},
        "not covered yet": {"en": "not covered yet", "zh": "尚无货源"},
    },
    "supplier_tier": {
        "core": {"en": "core", "zh": "核心"},
        "strategic": {"en": "strategic", "zh": "战略"},
        "standard": {"en": "standard", "zh": "普通"},
        "unrated": {"en": "unrated", "zh": "未评级"},
    },
    "compensation_type": {
        "coupon": {"en": "coupon", "zh": "优惠券"},
        "points": {"en": "points", "zh": "积分"},
        "text": {"en": "text", "zh": "说明"},
    },
    "verdict": {
        "added value": {"en": "added value", "zh": "有增值"},
        "made it worse": {"en": "made it worse", "zh": "变差"},
        "no difference": {"en": "no difference", "zh": "无差别"},
    },
    "status": {
        "this week's order": {"en": "this week's order", "zh": "本周订单"},
        "projected": {"en": "projected", "zh": "预计"},
    },
    "meets_minimum": {
        "true": {"en": "true", "zh": "是"},
        "false": {"en": "false", "zh": "否"},
    },
    "minimum_action": {
        "none": {"en": "none", "zh": "无需处理"},
        "top_up": {"en": "top_up", "zh": "补足"},
        "bring_forward": {"en": "bring_forward", "zh": "提前下单"},
        "defer": {"en": "defer", "zh": "推迟"},
        "unknown_cost": {"en": "unknown_cost", "zh": "缺成本未核对"},
    },
    "policy_type": {
        "rs": {"en": "rs", "zh": "(R,S) 定期补货至最高库存"},
        "ss": {"en": "ss", "zh": "(s,S) 最低最高"},
        "sq": {"en": "sq", "zh": "(s,Q) 定量"},
    },
    "policy": {
        "stockplan": {"en": "stockplan", "zh": "本工具策略"},
        "your buyers (purchase history)": {
            "en": "your buyers (purchase history)",
            "zh": "采购员实际（采购历史）",
        },
    },
    "change": {
        "appeared": {"en": "appeared", "zh": "新增"},
        "vanished": {"en": "vanished", "zh": "不再建议"},
        "changed": {"en": "changed", "zh": "变化"},
        "unchanged": {"en": "unchanged", "zh": "不变"},
    },
    "note": {
        "no line in the old plan: write plans with --all to see causes": {
            "en": "no line in the old plan: write plans with --all to see causes",
            "zh": "原计划没有这一行：用 --all 写出计划才能看到原因",
        },
        "no line in the new plan: write plans with --all to see causes": {
            "en": "no line in the new plan: write plans with --all to see causes",
            "zh": "新计划没有这一行：用 --all 写出计划才能看到原因",
        },
        "no line in the old plan, written with --all: a new item, or a line deleted from it": {
            "en": "no line in the old plan, written with --all: a new item, or a line deleted "
            "from it",
            "zh": "原计划（用 --all 写出）没有这一行：新商品，或这一行已从文件中删除",
        },
        "no line in the new plan, written with --all: an item no longer planned, or a line "
        "deleted from it": {
            "en": "no line in the new plan, written with --all: an item no longer planned, or a "
            "line deleted from it",
            "zh": "新计划（用 --all 写出）没有这一行：不再计划的商品，或这一行已从文件中删除",
        },
    },
    "treatment": {
        "covered": {"en": "covered", "zh": "计入备货"},
        "make_to_order": {"en": "make_to_order", "zh": "按单采购"},
    },
    "ltd_method": {
        "normal": {"en": "normal", "zh": "正态分布"},
        "discrete": {"en": "discrete", "zh": "离散分布"},
        "parametric": {"en": "parametric", "zh": "参数分布"},
        "bootstrap_days": {"en": "bootstrap_days", "zh": "按日抽样"},
        "bootstrap_block": {"en": "bootstrap_block", "zh": "按段抽样"},
    },
    "abc_basis": {
        "value": {"en": "value", "zh": "金额"},
        "units": {"en": "units", "zh": "数量（无价格或成本）"},
    },
    "load_action": {
        "none": {"en": "none", "zh": "不调整"},
        "up": {"en": "up", "zh": "凑满整柜"},
        "down": {"en": "down", "zh": "减至整柜"},
    },
}

# messages the CLI and the renderers print; {name} fields filled by `message`
MESSAGES: dict[str, dict[str, str]] = {
    "title.orders": {
        "en": "Purchase suggestions as of {as_of}",
        "zh": "采购建议（计划日期 {as_of}）",
    },
    "title.risk": {"en": "Stockout risk as of {as_of}", "zh": "缺货风险（计划日期 {as_of}）"},
    "title.transfers": {"en": "Transfers as of {as_of}", "zh": "调拨建议（计划日期 {as_of}）"},
    "title.excess": {"en": "Excess stock as of {as_of}", "zh": "超储库存（计划日期 {as_of}）"},
    "title.supplier_orders": {
        "en": "Orders per supplier as of {as_of}",
        "zh": "供应商订单（计划日期 {as_of}）",
    },
    "title.forecast": {"en": "Forecast as of {as_of}", "zh": "需求预测（计划日期 {as_of}）"},
    "title.classes": {"en": "Demand classes as of {as_of}", "zh": "需求分类（计划日期 {as_of}）"},
    "title.suppliers": {"en": "Suppliers as of {as_of}", "zh": "供应商评分（计划日期 {as_of}）"},
    "title.notices": {
        "en": "Customer restock notices as of {as_of}",
        "zh": "客户到货通知（计划日期 {as_of}）",
    },
    "title.large_orders": {
        "en": "Large one-off order lines as of {as_of}",
        "zh": "大额一次性订单（计划日期 {as_of}）",
    },
    "title.expiry_risk": {
        "en": "Stock expiring unsold as of {as_of}",
        "zh": "预计过期未售库存（计划日期 {as_of}）",
    },
    "title.overrides": {
        "en": "Forecast overrides scored as of {as_of}",
        "zh": "预测调整评估（计划日期 {as_of}）",
    },
    "no_expiry": {
        "en": "there is no expiry_risk table without an expiry_date column in the stock file",
        "zh": "库存文件缺少“有效期至”列，无法生成过期风险表",
    },
    "no_overrides": {
        "en": "no overrides table: set inputs.overrides",
        "zh": "没有预测调整表：请设置 inputs.overrides",
    },
    "explain.kit_only": {
        "en": "{sku} is a kit and is not stocked: its sales are planned as demand for its "
        "components {parts}",
        "zh": "{sku} 是套件，不单独备货：其销售计入组件 {parts} 的需求",
    },
    "explain.kits": {
        "en": "kits: {share} of the units sold came from kits {kits}",
        "zh": "套件：已售数量中 {share} 来自套件 {kits}",
    },
    "explain.replaced_by": {
        "en": "successor: replaced by {new} from {date}",
        "zh": "替代：自 {date} 起由 {new} 替代",
    },
    "explain.inherits": {
        "en": "successor: inherits the sales history of {old}",
        "zh": "替代：继承 {old} 的销售历史",
    },
    "explain.own_classes": {
        "en": "successor: until its switch on {date} it is classed ({abc}, {xyz}, {pattern}) "
        "and its forecast floor and safety stock sized on its own sales; the inherited "
        "history counts from that date",
        "zh": "替代：在 {date} 切换前，按其自身销售分类（{abc}、{xyz}、{pattern}）并确定预测下限"
        "和安全库存；自该日起计入继承的销售历史",
    },
    "explain.own_value": {
        "en": "successor: until its switch on {date} its ABC class ({abc}), forecast floor and "
        "safety stock come from its own sales; its own history measures no pattern ({own}), "
        "so its pattern and XYZ class ({pattern}, {xyz}) are the inherited history's; the "
        "inherited history counts from that date",
        "zh": "替代：在 {date} 切换前，其 ABC 分类（{abc}）、预测下限和安全库存按其自身销售确定；"
        "自身历史尚不能测定需求模式（{own}），需求模式和 XYZ 分类（{pattern}、{xyz}）沿用继承的"
        "历史；自该日起计入继承的销售历史",
    },
    "explain.override": {
        "en": "planner override: {text}",
        "zh": "人工预测调整：{text}",
    },
    "explain.unsellable": {
        "en": "shelf life: {qty} units on hand will expire unsold: not counted",
        "zh": "保质期：现存量中 {qty} 件在售出前过期，不计入可用库存",
    },
    "explain.cap": {
        "en": "order-up-to cap {cap}",
        "zh": "最高库存上限 {cap}",
    },
    "explain.transfer_in": {
        "en": "transfer in {qty} from {place}, lands {date}: in the position now, in stock "
        "from then",
        "zh": "从 {place} 调入 {qty}，{date} 到货：现已计入库存位置，到货后计入库存",
    },
    "explain.transfer_out": {
        "en": "transfer out {qty} to {place}, leaves today",
        "zh": "调出 {qty} 到 {place}，今天发出",
    },
    "title.diff": {
        "en": "Plan changes {old} -> {new}",
        "zh": "采购建议变化 {old} → {new}",
    },
    "diff.dates": {
        "en": "plans as of {old} and {new}, with {config}",
        "zh": "计划日期 {old} 与 {new}，{config}",
    },
    "diff.same_config": {"en": "the same config", "zh": "配置相同"},
    "diff.changed_config": {"en": "a changed config", "zh": "配置有变"},
    "diff.counts": {
        "en": "{appeared} appeared, {vanished} vanished, {changed} changed order lines",
        "zh": "采购行：新增 {appeared}，不再建议 {vanished}，变化 {changed}",
    },
    "diff.without_all": {
        "en": "{path} was written without --all: its lines with nothing to order are "
        "missing, so a line that appears or vanishes there has no causes",
        "zh": "{path} 写出时没有用 --all：其中不订货的行缺失，因此在它里面新增或取消的行没有原因",
    },
    "report.page_title": {
        "en": "stockplan report {date}",
        "zh": "stockplan 报告 {date}",
    },
    "report.heading": {
        "en": "Stock report as of {date}",
        "zh": "库存报告（计划日期 {date}）",
    },
    "report.sub": {
        "en": "What will run out, what it costs, where cash is tied up, and how suppliers "
        "deliver. Generated by stockplan.",
        "zh": "什么会缺货、会损失多少、资金压在哪里、供应商交付如何。由 stockplan 生成。",
    },
    "report.kpi_lines": {
        "en": "order lines this week",
        "zh": "本周采购行数",
    },
    "report.kpi_value": {
        "en": "order value",
        "zh": "采购金额",
    },
    "report.kpi_high": {
        "en": "items at high stockout risk",
        "zh": "高缺货风险商品数",
    },
    "report.kpi_risk": {
        "en": "revenue at risk",
        "zh": "风险销售额",
    },
    "report.kpi_excess": {
        "en": "excess and dead stock",
        "zh": "超储与呆滞库存",
    },
    "report.value_at_risk": {
        "en": "Value at risk",
        "zh": "风险销售额",
    },
    "report.stockout_dates": {
        "en": "Stockout dates",
        "zh": "预计缺货日期",
    },
    "report.no_revenue_at_risk": {
        "en": "no item has revenue at risk",
        "zh": "没有商品有风险销售额",
    },
    "report.risk_without_price": {
        "en": "{count} items short without a price: give them a unit_price to value them",
        "zh": "{count} 个商品将缺货但缺售价：补上 unit_price（售价）才能估值",
    },
    "report.out": {
        "en": " · out {date}",
        "zh": " · {date} 缺货",
    },
    "report.value_at_risk_label": {
        "en": "revenue at risk of the top {count} items",
        "zh": "风险销售额最高的 {count} 个商品",
    },
    "report.value_at_risk_top": {
        "en": "Value at risk: top items",
        "zh": "风险销售额：最高的商品",
    },
    "report.value_at_risk_note": {
        "en": "Expected lost sales before the next possible receipt; all items: {total}.",
        "zh": "下次可能到货之前预计损失的销售额；全部商品：{total}。",
    },
    "report.stockout_dates_same": {
        "en": "Stockout dates: the same items",
        "zh": "预计缺货日期：同一批商品",
    },
    "report.stockout_dates_note": {
        "en": "Projected day each item runs out (forecast rate and open purchase orders); none: "
        "not within the horizon.",
        "zh": "按预测销量和在途采购单推算的缺货日；无：计划期内不缺货。",
    },
    "report.no_stockout": {
        "en": "no stockout within the horizon",
        "zh": "计划期内不缺货",
    },
    "report.none": {
        "en": "none",
        "zh": "无",
    },
    "report.stockout_label": {
        "en": "projected stockout dates",
        "zh": "预计缺货日期",
    },
    "report.cover_title": {
        "en": "Stock cover by ABC class against target",
        "zh": "各 ABC 分类的库存可售天数与目标",
    },
    "report.cover_note": {
        "en": "Median days the stock on hand lasts at the forecast rate, against the average "
        "cover the policy aims for (safety stock / daily demand + half a review period).",
        "zh": "现有库存按预测销量可售天数的中位数，对比策略目标的平均覆盖天数"
        "（安全库存 / 日均需求 + 半个订货周期）。",
    },
    "report.no_forecast_item": {
        "en": "no item with forecast demand",
        "zh": "没有有预测需求的商品",
    },
    "report.class_items": {
        "en": "{abc} ({count} items)",
        "zh": "{abc}（{count} 个商品）",
    },
    "report.on_hand_cover": {
        "en": "on-hand cover (days)",
        "zh": "现有库存可售天数",
    },
    "report.target_cover": {
        "en": "target cover (days)",
        "zh": "目标覆盖天数",
    },
    "report.excess_title": {
        "en": "Excess and dead stock value",
        "zh": "超储与呆滞库存金额",
    },
    "report.excess_note": {
        "en": "Cash tied up at cost: overstock {excess}, dead stock {dead} (grey).",
        "zh": "按成本计的占用资金：超储 {excess}，呆滞 {dead}（灰色）。",
    },
    "report.excess_not_counted": {
        "en": "{count} lines without a cost, not counted.",
        "zh": "{count} 行缺成本，未计入。",
    },
    "report.excess_by_units": {
        "en": "No line has a value at cost: the bars are the units in excess.",
        "zh": "没有一行有成本金额：条形为超储数量。",
    },
    "report.excess_units_title": {
        "en": "Excess and dead stock units",
        "zh": "超储与呆滞库存数量",
    },
    "report.units": {
        "en": "{units} units, no cost",
        "zh": "{units} 件，缺成本",
    },
    "report.no_excess": {
        "en": "no excess or dead stock",
        "zh": "没有超储或呆滞库存",
    },
    "report.no_receipts": {
        "en": "no purchase-order receipts with a supplier",
        "zh": "没有带供应商的采购到货记录",
    },
    "report.on_time_label": {"en": "supplier on-time rate", "zh": "供应商准时率"},
    "report.on_time_title": {
        "en": "Supplier on-time rate",
        "zh": "供应商准时率",
    },
    "report.on_time_note": {
        "en": "Share of receipts on or before the expected date; tier in brackets.",
        "zh": "按时或提前到货的比例；括号内为供应商等级。",
    },
    "report.no_expected_dates": {
        "en": "no expected dates",
        "zh": "无预计到货日期",
    },
    "report.lead_title": {
        "en": "Supplier lead-time spread",
        "zh": "供应商提前期波动",
    },
    "report.lead_note": {
        "en": "Mean lead time (dot) and one standard deviation either side (bar).",
        "zh": "平均提前期（圆点）及两侧各一个标准差（横线）。",
    },
    "report.lead_label": {
        "en": "supplier lead time mean and spread",
        "zh": "供应商平均提前期与波动",
    },
    "report.days": {
        "en": "{days} days",
        "zh": "{days} 天",
    },
    "report.mean_sd": {
        "en": "{mean} ± {sd} d",
        "zh": "{mean} ± {sd} 天",
    },
    "report.sim_title": {
        "en": "Service against inventory (simulation)",
        "zh": "服务水平与库存（模拟）",
    },
    "report.sim_missing": {
        "en": "Run `stockplan report --simulate` to replay history and draw the trade-off.",
        "zh": "运行 `stockplan report --simulate` 回放历史，画出服务与库存的权衡。",
    },
    "report.no_simulation": {
        "en": "no simulation in this report",
        "zh": "本报告没有模拟",
    },
    "report.sim_x": {
        "en": "simulated fill rate",
        "zh": "模拟满足率",
    },
    "report.sim_y": {
        "en": "avg inventory ({currency})",
        "zh": "平均库存（{currency}）",
    },
    "report.sim_policy": {
        "en": "stockplan policy",
        "zh": "stockplan 策略",
    },
    "report.sim_baseline": {
        "en": "rule-of-thumb baseline",
        "zh": "经验法则基准",
    },
    "report.sim_note": {
        "en": "Each point a replay of history at one target (policy) or scale (baseline): "
        "further right is better service, lower is less stock.",
        "zh": "每个点是按一个目标（策略）或一个倍数（基准）回放历史的结果："
        "越靠右服务越好，越低库存越少。",
    },
    "report.sim_expired": {
        "en": "Written off unsold, at cost: policy {policy}; rule of thumb {baseline}.",
        "zh": "过期未售出报废（成本）：策略 {policy}；经验法则 {baseline}。",
    },
    "title.simulation": {
        "en": "Policy simulation as of {as_of} ({measure} targets, {unmet} sales)",
        "zh": "策略模拟（计划日期 {as_of}；目标：{measure}；缺货需求按{unmet}计）",
    },
    "more_rows": {
        "en": "{more:,} more rows: see them with --limit or -o FILE",
        "zh": "另有 {more:,} 行：用 --limit 或 -o 文件 查看",
    },
    "hidden_columns": {
        "en": "not shown at {width} columns: {columns} (wider terminal or --columns)",
        "zh": "终端宽 {width} 列，未显示：{columns}（加宽终端或用 --columns）",
    },
    "same_columns": {
        "en": "the same on every row: {columns}",
        "zh": "各行相同，未列出：{columns}",
    },
    "note_separator": {"en": "; ", "zh": "；"},
    "no_rows": {"en": "no rows", "zh": "无数据"},
    "missing": {"en": "n/a", "zh": "缺失"},
    "loaded": {"en": "loaded {counts} rows", "zh": "已读取：{counts}"},
    "plan_summary": {
        "en": "plan as of {as_of}: {lines} order lines, value {value} {currency}; "
        "{high} items at high stockout risk",
        "zh": "计划日期 {as_of}：{lines} 条采购建议，金额 {value} {currency}；"
        "{high} 个商品缺货风险高",
    },
    "plan_summary_missing_cost": {
        "en": "plan as of {as_of}: {lines} order lines, value {value} {currency} ({missing} of "
        "them without a unit cost, not counted); {high} items at high stockout risk",
        "zh": "计划日期 {as_of}：{lines} 条采购建议，金额 {value} {currency}"
        "（其中 {missing} 条缺单位成本，未计入）；{high} 个商品缺货风险高",
    },
    "plan_summary_no_cost": {
        "en": "plan as of {as_of}: {lines} order lines, value n/a (none of them has a unit "
        "cost); {high} items at high stockout risk",
        "zh": "计划日期 {as_of}：{lines} 条采购建议，金额缺失（均缺单位成本）；"
        "{high} 个商品缺货风险高",
    },
    "verify.changed": {"en": "input changed: {line}", "zh": "输入已变：{line}"},
    "verify.version": {
        "en": "written by stockplan {old}, re-run with {new}",
        "zh": "由 stockplan {old} 写出，用 {new} 重算",
    },
    "verify.config_gone": {
        "en": "{path}: NOT reproduced (its config is gone): exit {code}",
        "zh": "{path}：未能复现（配置文件已不在）：退出码 {code}",
    },
    "verify.differs": {"en": "differs: {line}", "zh": "不一致：{line}"},
    "verify.added": {"en": "note: {line}", "zh": "提示：{line}"},
    "verify.unprovable": {
        "en": "cannot be proven unchanged (a database): {line}",
        "zh": "无法证明未变（数据库）：{line}",
    },
    "verify.not_reproduced": {
        "en": "{path}: NOT reproduced: exit {code}",
        "zh": "{path}：未能复现：退出码 {code}",
    },
    "verify.unprovable_exit": {
        "en": "{path}: every number matches, but a database input cannot be proven "
        "unchanged: exit {code}",
        "zh": "{path}：每个数字都一致，但数据库输入无法证明未变：退出码 {code}",
    },
    "verify.reproduced": {
        "en": "{path}: reproduced: same inputs, every number matches",
        "zh": "{path}：已复现：输入相同，每个数字都一致",
    },
    "risk_exit": {
        "en": "{hits} items at {level} stockout risk or worse: exit {code}",
        "zh": "{hits} 个商品缺货风险为{level}或更高：退出码 {code}",
    },
    "wrote": {"en": "wrote {paths}", "zh": "已写入 {paths}"},
    "csv_excel_codes": {
        "en": "{file}: Excel changes codes in column {column} when it opens this CSV "
        "(e.g. '{example}': leading zeros, long numbers and codes like 1-2 or 3/4 become "
        "numbers or dates); write .xlsx (-o plan.xlsx), or CSV for Excel (--csv-for-excel "
        "or io.csv_for_excel: true)",
        "zh": "{file}：Excel 打开此 CSV 时会改动「{column}」列的编码（如 '{example}'："
        "前导 0、长数字以及 1-2、3/4 这类编码会变成数字或日期）；请输出 .xlsx（-o plan.xlsx），"
        "或适合 Excel 的 CSV（--csv-for-excel 或 io.csv_for_excel: true）",
    },
    "removed_stale": {
        "en": "removed {paths} from {folder}: tables of an earlier plan that this run does "
        "not write (they would be read as this plan's)",
        "zh": "已从 {folder} 删除 {paths}：这些是之前计划的表，本次运行不再写出（留着会被当作"
        "本次计划的表）",
    },
    "cache.reused": {
        "en": "reused the plan computed earlier on these inputs ({folder})",
        "zh": "沿用此前用相同输入算出的计划（{folder}）",
    },
    "cache.forecast_reused": {
        "en": "reused the forecast computed earlier on the same sales history ({folder})",
        "zh": "沿用此前用相同销售历史算出的预测（{folder}）",
    },
    "cache.not_kept": {
        "en": "cannot keep the plan in the cache folder {folder} ({problem}): every run "
        "computes it again; set STOCKPLAN_CACHE_DIR to a folder you may write",
        "zh": "无法把计划保存到缓存文件夹 {folder}（{problem}）：每次运行都要重新计算；"
        "请把 STOCKPLAN_CACHE_DIR 设为可写入的文件夹",
    },
    "notify.none": {
        "en": "no item at high stockout risk: no alert sent (notify.always: true sends one)",
        "zh": "没有高缺货风险商品：未发送提醒（设 notify.always: true 则总会发送）",
    },
    "notify.none_new": {
        "en": "no item newly at high stockout risk: no alert sent (notify.always: true sends one)",
        "zh": "没有新进入高缺货风险的商品：未发送提醒（设 notify.always: true 则总会发送）",
    },
    "notify.sent": {"en": "notified {name}", "zh": "已通知 {name}"},
    "risk.news_high": {
        "en": "{count} items newly at high stockout risk since --previous: exit {code}",
        "zh": "{count} 个商品比上次计划（--previous）新进入高缺货风险：退出码 {code}",
    },
    "risk.news_higher": {
        "en": "{count} items at a higher stockout risk level than in --previous: exit {code}",
        "zh": "{count} 个商品的缺货风险等级比上次计划（--previous）升高：退出码 {code}",
    },
    "supplier_forecast.none": {
        "en": "supplier forecast: no orders projected, no workbook written",
        "zh": "供应商预测：没有预计采购，未写出工作簿",
    },
    "supplier_forecast.wrote": {
        "en": "supplier forecast: wrote {count} workbooks to {folder}",
        "zh": "供应商预测：已向 {folder} 写出 {count} 个工作簿",
    },
    "simulate.same_fill": {
        "en": "{pattern}, {policy}: fill rate {fill} with {value}; the policy reaches it with "
        "{policy_value}",
        "zh": "{pattern}，{policy}：满足率 {fill}，库存金额 {value}；策略达到同一满足率只需 "
        "{policy_value}",
    },
    "simulate.vs_rule": {
        "en": "{pattern}, target {target}: fill rate {fill} with {value}, {ratio} x the rule "
        "of thumb's stock at {rule_fill} ({rule_value})",
        "zh": "{pattern}，目标 {target}：满足率 {fill}，库存金额 {value}，是经验法则在满足率 "
        "{rule_fill} 时库存（{rule_value}）的 {ratio} 倍",
    },
    "simulate.vs_rule_at_most": {
        "en": "{pattern}, target {target}: fill rate {fill} with {value}, at most {ratio} x "
        "the rule of thumb's stock at {rule_fill} ({rule_value})",
        "zh": "{pattern}，目标 {target}：满足率 {fill}，库存金额 {value}，至多是经验法则在满足率 "
        "{rule_fill} 时库存（{rule_value}）的 {ratio} 倍",
    },
    "simulate.expired": {
        "en": "{policy}: {units} units expired unsold, {value} at cost{patterns}",
        "zh": "{policy}：{units} 件过期未售出报废，成本 {value}{patterns}",
    },
    "simulate.expired_patterns": {
        "en": " (by pattern: {patterns})",
        "zh": "（按需求模式：{patterns}）",
    },
    "simulate.set_aside": {
        "en": "{units} units of large one-off order lines were replayed as make-to-order "
        "demand, not served from stock",
        "zh": "{units} 件大额一次性订单按“按单采购”回放，不由库存供应",
    },
    "valid": {"en": "{config}: config and inputs are valid", "zh": "{config}：配置和输入文件有效"},
    "error": {"en": "error", "zh": "错误"},
    "warning": {"en": "warning", "zh": "警告"},
    "interrupted": {"en": "interrupted", "zh": "已中断"},
    # usage errors (exit 2): the frame typer prints around one, then the messages, each
    # `usage.` key's English text exactly as typer or the option checks write it (the
    # Chinese is found by matching the English; `{detail}` is itself a message)
    "usage_line": {"en": "Usage: {usage}", "zh": "用法：{usage}"},
    "usage_help": {"en": "Try '{command} {option}' for help.", "zh": "帮助：{command} {option}"},
    "usage_error": {"en": "Error: {detail}", "zh": "错误：{detail}"},
    "usage.invalid_value_for": {
        "en": "Invalid value for {hint}: {detail}",
        "zh": "{hint} 的值无效：{detail}",
    },
    "usage.invalid_value": {"en": "Invalid value: {detail}", "zh": "值无效：{detail}"},
    "usage.value_error": {"en": "Value error, {detail}", "zh": "{detail}"},
    "usage.no_such_option_possible": {
        "en": "No such option: {option} (Possible options: {options})",
        "zh": "没有这个选项：{option}（可能是：{options}）",
    },
    "usage.no_such_option": {"en": "No such option: {option}", "zh": "没有这个选项：{option}"},
    "usage.no_such_command_similar": {
        "en": "No such command {name}. Did you mean {similar}?",
        "zh": "没有这个命令：{name}，是否是 {similar}？",
    },
    "usage.no_such_command": {"en": "No such command {name}.", "zh": "没有这个命令：{name}"},
    "usage.missing_command": {"en": "Missing command.", "zh": "缺少命令"},
    "usage.missing_argument": {"en": "Missing argument {hint}.", "zh": "缺少参数 {hint}"},
    "usage.missing_option": {"en": "Missing option {hint}.", "zh": "缺少选项 {hint}"},
    "usage.extra_arguments": {
        "en": "Got unexpected extra argument(s) ({arguments})",
        "zh": "多余的参数（{arguments}）",
    },
    "usage.needs_value": {
        "en": "Option {option} requires an argument.",
        "zh": "选项 {option} 后面需要一个值",
    },
    "usage.needs_values": {
        "en": "Option {option} requires {n} arguments.",
        "zh": "选项 {option} 后面需要 {n} 个值",
    },
    "usage.takes_no_value": {
        "en": "Option {option} does not take a value.",
        "zh": "选项 {option} 不带值",
    },
    "usage.not_one_of": {
        "en": "{value} is not one of {choices}.",
        "zh": "{value} 不是可选的值（可选：{choices}）",
    },
    "usage.date_format": {
        "en": "{value} does not match the formats {formats}.",
        "zh": "{value} 不是有效的日期（格式 {formats}，如 2025-03-31）",
    },
    "usage.date_range": {
        "en": "{value} must be a date between {first} and {last}.",
        "zh": "{value} 应为 {first} 至 {last} 之间的日期",
    },
    "usage.file_missing": {"en": "file {path} does not exist.", "zh": "文件 {path} 不存在"},
    "usage.folder_missing": {"en": "dir {path} does not exist.", "zh": "文件夹 {path} 不存在"},
    "usage.path_missing": {"en": "path {path} does not exist.", "zh": "路径 {path} 不存在"},
    "usage.at_least": {
        "en": "Input should be greater than or equal to {n}",
        "zh": "应大于或等于 {n}",
    },
    "usage.above": {"en": "Input should be greater than {n}", "zh": "应大于 {n}"},
    "usage.at_most": {"en": "Input should be less than or equal to {n}", "zh": "应小于或等于 {n}"},
    "usage.integer": {
        "en": "Input should be a valid integer, unable to parse string as an integer",
        "zh": "应为整数",
    },
    "usage.number": {
        "en": "Input should be a valid number, unable to parse string as a number",
        "zh": "应为数字",
    },
    "usage.folder_with_suffix": {
        "en": "'{value}' ends with / (a folder) but has the file suffix {suffix}: drop the / "
        "to write the file, or the suffix to write a folder",
        "zh": "'{value}' 以 / 结尾（文件夹），却带有文件后缀 {suffix}：去掉 / 则写成文件，"
        "去掉后缀则写成文件夹",
    },
    "usage.output_type": {
        "en": "unknown output type '{suffix}' (choose from {suffixes}, a folder, or - for CSV "
        "on stdout)",
        "zh": "未知的输出类型 '{suffix}'（可选 {suffixes}、文件夹，或 - 表示 CSV 写到标准输出）",
    },
    "usage.not_to_stdout": {
        "en": "{format} cannot go to stdout (choose csv, or -o FILE.{format})",
        "zh": "{format} 不能写到标准输出（请用 csv，或 -o 文件名.{format}）",
    },
    "usage.format_suffix": {
        "en": "{format} does not match the file suffix {suffix} of {output}",
        "zh": "{format} 与 {output} 的文件后缀 {suffix} 不符",
    },
    "usage.columns_workbook": {
        "en": "'{output}' is a workbook, which holds every table whole: --columns trims the "
        "terminal table, stdout (-o -) or a one-table file (.csv, .json, .parquet)",
        "zh": "'{output}' 是工作簿，完整保存每张表：--columns 只用于终端表格、标准输出（-o -）"
        "或单表文件（.csv、.json、.parquet）",
    },
    "usage.columns_folder": {
        "en": "'{output}' is a folder, which holds every table whole: --columns trims the "
        "terminal table, stdout (-o -) or a one-table file (.csv, .json, .parquet)",
        "zh": "'{output}' 是文件夹，完整保存每张表：--columns 只用于终端表格、标准输出（-o -）"
        "或单表文件（.csv、.json、.parquet）",
    },
    "usage.sort_order": {
        "en": "'{sort}': order must be asc or desc",
        "zh": "'{sort}'：排序方向只能是 asc 或 desc",
    },
    "usage.unknown_column": {
        "en": "unknown column '{column}' (choose from {columns})",
        "zh": "没有列 '{column}'（可选：{columns}）",
    },
    "usage.plot_png": {
        "en": "{plot}: the chart is a PNG file (use a .png name)",
        "zh": "{plot}：图表是 PNG 文件（请用 .png 文件名）",
    },
    "usage.report_html": {
        "en": "{output}: the report is an HTML file (use a .html name)",
        "zh": "{output}：报告是 HTML 文件（请用 .html 文件名）",
    },
    "usage.needs_previous": {
        "en": "{level} needs --previous PLAN",
        "zh": "{level} 需要同时给出 --previous PLAN（上一期的计划）",
    },
    "chart.tradeoff_title": {
        "en": "Service vs inventory on replayed history",
        "zh": "历史回放：服务水平与库存",
    },
    "chart.tradeoff_x": {"en": "simulated fill rate (%)", "zh": "模拟满足率（%）"},
    "chart.tradeoff_y": {
        "en": "average inventory value ({currency})",
        "zh": "平均库存金额（{currency}）",
    },
    "chart.tradeoff_policy": {
        "en": "stockplan policy ({measure} targets)",
        "zh": "stockplan 策略（{measure}目标）",
    },
    "chart.tradeoff_baseline": {
        "en": "rule-of-thumb baseline (scaled)",
        "zh": "经验法则基准（按比例缩放）",
    },
    "chart.tradeoff_expired": {"en": "written off {value}", "zh": "报废 {value}"},
    "chart.no_chinese_font": {
        "en": "{path}: the chart's labels stay in English: no Chinese font was found (install "
        "one, e.g. Noto Sans CJK SC or WenQuanYi Zen Hei)",
        "zh": "{path}：图表的文字仍为英文，因为没有找到中文字体（可安装 Noto Sans CJK SC "
        "或文泉驿正黑等中文字体）",
    },
    "no_table": {
        "en": "there is no {table} table without inputs.{input}",
        "zh": "没有 inputs.{input} 就没有{table}表",
    },
    "unknown_sku": {
        "en": "SKU '{sku}' is in neither the sales nor the stock file",
        "zh": "商品 '{sku}' 既不在销售文件也不在库存文件中",
    },
    "override.set_to": {"en": "set to {q}", "zh": "调整为 {q}"},
    "override.times": {"en": "x {m}", "zh": "乘以 {m}"},
    "unknown_sku_padded": {
        "en": "; did you mean '{match}' (a spreadsheet drops leading zeros)?",
        "zh": "；是否是 '{match}'（电子表格会去掉编码前面的 0）？",
    },
    "unknown_location": {
        "en": "SKU '{sku}' has no stock or sales at location '{location}'",
        "zh": "商品 '{sku}' 在仓库 '{location}' 没有库存或销售",
    },
    "budget_note": {
        "en": "purchasing.budget is applied across the whole plan, so these rows are before "
        "any budget cut; `stockplan plan` shows the cut lines",
        "zh": "purchasing.budget 作用于整个计划，这里的数字是预算削减之前的；"
        "`stockplan plan` 显示削减后的行",
    },
    "simulate_line": {
        "en": "{policy}: fill rate {fill:.1%} with {value:,.0f} {currency} of stock; "
        "the policy reaches it with {policy_value:,.0f} {currency}",
        "zh": "{policy}：满足率 {fill:.1%}，库存金额 {value:,.0f} {currency}；"
        "本策略达到同一满足率只需 {policy_value:,.0f} {currency}",
    },
    "replaying": {
        "en": "replaying {days} days from {start} for {series} series",
        "zh": "从 {start} 起回放 {days} 天，共 {series} 个商品×仓库",
    },
    "explain.panel": {
        "en": "{sku} @ {location} as of {as_of}{name}",
        "zh": "{sku} @ {location}（计划日期 {as_of}）{name}",
    },
    "explain.supplier": {
        "en": "supplier {supplier}: lead time L = {L} days (σ_L {sd}, from {source}), "
        "review R = {R} days, policy {policy}",
        "zh": "供应商 {supplier}：提前期 L = {L} 天（σ_L {sd}，来源：{source}），"
        "订货周期 R = {R} 天，补货策略 {policy}",
    },
    "explain.no_supplier": {
        "en": "supplier: none given; lead time L = {L} days (σ_L {sd}, from {source}), "
        "review R = {R} days, policy {policy}",
        "zh": "供应商：未指定；提前期 L = {L} 天（σ_L {sd}，来源：{source}），"
        "订货周期 R = {R} 天，补货策略 {policy}",
    },
    "explain.demand": {
        "en": "demand pattern {pattern}, class {abc}{xyz}, model {model}: forecast {per_day} / "
        "day, backtest error σ_e {sigma_e} per {bucket}",
        "zh": "需求模式 {pattern}，分类 {abc}{xyz}，模型 {model}：日均预测 {per_day}，"
        "回测误差 σ_e {sigma_e}（{bucket}）",
    },
    "explain.position": {
        "en": "inventory position = on hand {on_hand} + on order {on_order} - backorders "
        "{backorders} - allocated {allocated} {transfer} = {position}",
        "zh": "库存位置 = 现存量 {on_hand} + 在途量 {on_order} - 欠货量 {backorders} "
        "- 已分配 {allocated} {transfer} = {position}",
    },
    # the signed transfer_qty in `explain.position`: a location that sends stock away
    "explain.position_transfer_in": {"en": "+ transfer in {qty}", "zh": "+ 调入量 {qty}"},
    "explain.position_transfer_out": {"en": "- transfer out {qty}", "zh": "- 调出量 {qty}"},
    "explain.window": {
        "en": "demand over L + R = {days} days: {mu}",
        "zh": "L + R = {days} 天内的需求：{mu}",
    },
    "explain.sigma": {
        "en": "σ_LTD = √((L+R)·σ_d² + d²·σ_L²) = {sigma}",
        "zh": "提前期需求标准差 σ_LTD = √((L+R)·σ_d² + d²·σ_L²) = {sigma}",
    },
    "explain.safety_discrete": {
        "en": "safety stock = {ss} ({measure} {level}, discrete Poisson / negative binomial "
        "quantile)",
        "zh": "安全库存 = {ss}（{measure} {level}，泊松 / 负二项分布分位数）",
    },
    "explain.safety_normal": {
        "en": "safety stock = k × σ_LTD = {k} × {sigma} = {ss} ({measure} {level})",
        "zh": "安全库存 = k × σ_LTD = {k} × {sigma} = {ss}（{measure} {level}）",
    },
    "explain.rop": {
        "en": "reorder point = {mu} + {ss} = {rop}; order-up-to S = {s}",
        "zh": "再订货点 = {mu} + {ss} = {rop}；最高库存 S = {s}",
    },
    "explain.rop_sq": {
        "en": "reorder point s = {mu} + {ss} = {rop}; (s, Q): order whole multiples of Q once "
        "position ≤ s",
        "zh": "再订货点 s = {mu} + {ss} = {rop}；(s, Q) 定量：库存位置 ≤ s 时按 Q 的整数倍订货",
    },
    "explain.promised": {
        "en": "promised {measure} {promised} (target {level}): {note}",
        "zh": "可承诺{measure} {promised}（目标 {level}）：{note}",
    },
    "explain.order": {
        "en": "order {qty} = {value}, arriving {arrival}: {reason}",
        "zh": "建议采购 {qty}，金额 {value}，预计到货 {arrival}：{reason}",
    },
    "explain.order_no_cost": {
        "en": "order {qty} = value n/a (no unit cost), arriving {arrival}: {reason}",
        "zh": "建议采购 {qty}，金额：缺单位成本，预计到货 {arrival}：{reason}",
    },
    "explain.order_zero": {"en": "order 0 ({reason})", "zh": "建议采购 0（{reason}）"},
    "explain.no_order_word": {"en": "no order", "zh": "不订货"},
    "explain.order_by": {
        "en": "order by {date}: the last day to order and still receive it before the "
        "shelf runs empty ({L} open days of the supplier; {closed} days closed before this "
        "order arrives)",
        "zh": "最晚下单日期 {date}：此日之前下单才能在预计缺货前到货（供应商 {L} 个工作日；"
        "本单到货前停工 {closed} 天）",
    },
    "explain.order_by_past": {
        "en": "order by {date}: already {days} days past, order today: the last day to order "
        "and still receive it before the shelf runs empty ({L} open days of the supplier; "
        "{closed} days closed before this order arrives)",
        "zh": "最晚下单日期 {date}：已过去 {days} 天，请今天下单：此日之前下单才能在预计缺货前"
        "到货（供应商 {L} 个工作日；本单到货前停工 {closed} 天）",
    },
    "explain.risk": {
        "en": "risk {level}: P(stockout before the next possible receipt) {p}, projected "
        "stockout {stockout}, days of cover {cover}, next receipt {receipt}",
        "zh": "缺货风险{level}：下次可能到货前缺货概率 {p}，预计缺货日期 {stockout}，"
        "可售天数 {cover}，下次到货 {receipt}",
    },
    "explain.no_stockout": {"en": "none in the horizon", "zh": "计划期内无"},
    "chart.day": {"en": "day", "zh": "天"},
    "chart.week": {"en": "week", "zh": "周"},
    "chart.demand": {
        "en": "demand per {bucket}: history and forecast (x: {bucket}s from now)",
        "zh": "每{bucket}需求：历史与预测（横轴：距今{bucket}数）",
    },
    "chart.demand_legend": {
        "en": "left of 0: history; from 0: forecast; dots: its lo / hi band",
        "zh": "0 左侧：历史；0 起：预测；点：预测上下限",
    },
    "chart.stock": {
        "en": "projected stock at the end of each {bucket} (below 0: short)",
        "zh": "每{bucket}末预计库存（低于 0 即缺货）",
    },
    "chart.stock_legend": {
        "en": "line: with this order; dots: without it; flat lines: reorder point, safety "
        "stock (dotted)",
        "zh": "实线：下此单后；点：不下此单；水平线：再订货点，虚线：安全库存",
    },
    "bucket.week": {"en": "week", "zh": "每周"},
    "bucket.day": {"en": "day", "zh": "每天"},
    "bucket.month": {"en": "month", "zh": "每月"},
    "measure.cycle": {"en": "cycle service level", "zh": "周期服务水平"},
    "measure.fill_rate": {"en": "fill rate", "zh": "满足率"},
    "unmet.lost": {"en": "lost", "zh": "流失"},
    "unmet.backorder": {"en": "backorder", "zh": "欠货补发"},
    "compensation.coupon": {
        "en": "a coupon worth {value} {currency} for the wait",
        "zh": "补偿您的等待：{value} {currency} 优惠券",
    },
    "compensation.points": {
        "en": "{value} points for the wait",
        "zh": "补偿您的等待：{value} 积分",
    },
    "notice.ship": {
        "en": "Order {order}: {quantity} x {sku} {name} is expected to ship on {date}",
        "zh": "订单 {order}：{sku} {name} × {quantity}，预计发货日期 {date}",
    },
    "notice.unconfirmed": {
        "en": "Order {order}: {quantity} x {sku} {name} is not covered by stock, open purchase "
        "orders or this week's order yet; we will confirm a date",
        "zh": "订单 {order}：{sku} {name} × {quantity} 暂无库存或在途货源，预计到货日期待确认，"
        "我们会尽快通知您",
    },
    "notice.line": {"en": "line {row}", "zh": "第 {row} 行"},
    "init.file": {"en": "{file}: {table} ({mapped})", "zh": "{file}：{table}（{mapped}）"},
    "init.unmapped": {"en": "  not recognised: {headers}", "zh": "  未识别的列：{headers}"},
    "init.unknown": {
        "en": "{file}: not recognised ({problem})",
        "zh": "{file}：未识别（{problem}）",
    },
    "init.no_table": {
        "en": "no table's required columns found",
        "zh": "未找到任何表的必需列",
    },
    "init.not_products": {
        "en": "only its SKU column fits the products master, and its other headers are "
        "those of dated quantities or of another table; map them under `columns:` for the "
        "table it is",
        "zh": "只有商品编码列符合商品档案，其他列是带日期的数量或属于别的表；"
        "请在 `columns:` 中按它实际对应的表映射",
    },
    "init.two_row_header": {
        "en": "the header takes two rows, row {row} under it ('{group}' over {labels}); "
        "make it one row with one name per column (such as '{group}{first}'), then map "
        "that name under `columns:` if it is not recognised",
        "zh": "表头占了两行，第 {row} 行在下（'{group}' 下分 {labels}）；请改成一行、每列一个名称"
        "（如 '{group}{first}'），如该名称未被识别，再在 `columns:` 中映射",
    },
    "init.clash": {
        "en": "  {others} also looks like {name}: {chosen} written under columns: in the "
        "config (base units over boxes, on hand over available); check it",
        "zh": "  {others} 也像是 {name}：已在配置的 columns: 中写为 {chosen}"
        "（基本单位优先于箱，现存量优先于可用量）；请核对",
    },
    "init.sheet": {
        "en": "  read from sheet '{sheet}' (no sheet before it holds this table)",
        "zh": "  读取工作表 '{sheet}'（之前的工作表都不是这张表）",
    },
    "init.own_output": {
        "en": "{file}: a plan stockplan wrote (it has its {record}), not an export; skipped",
        "zh": "{file}：这是 stockplan 写出的计划（带有 {record}），不是导出文件；已跳过",
    },
    "init.run_sheet": {
        "en": "run record sheet 'run'",
        "zh": "运行记录工作表 run",
    },
    "init.twice": {
        "en": "{file}: also looks like {table}; using {used}",
        "zh": "{file}：也像是 {table}；使用 {used}",
    },
    "init.missing": {
        "en": "no {tables} file found: add it to {config}",
        "zh": "未找到{tables}文件：请在 {config} 中补上",
    },
    "init.wrote": {
        "en": "wrote {config}; check it, then: stockplan validate -c {command}",
        "zh": "已写入 {config}；请检查，然后运行：stockplan validate -c {command}",
    },
    "summary.planning_date": {"en": "planning date", "zh": "计划日期"},
    "summary.version": {"en": "stockplan version", "zh": "stockplan 版本"},
    "summary.config": {"en": "config", "zh": "配置文件"},
    "summary.input": {"en": "input {table}", "zh": "输入 {table}"},
    "summary.order_lines": {"en": "order lines", "zh": "采购行数"},
    "summary.order_value": {"en": "order value", "zh": "采购金额"},
    "summary.missing_cost": {"en": "order lines without a cost", "zh": "缺成本的采购行"},
    "summary.not_priced": {
        "en": "{count} lines short without a price, not counted",
        "zh": "{count} 行缺货但缺售价，未计入",
    },
    "summary.not_counted": {
        "en": "{count} lines without a cost, not counted",
        "zh": "{count} 行缺成本，未计入",
    },
    "summary.no_name": {"en": "(none)", "zh": "未指定"},
    "summary.high_risk": {"en": "items at high stockout risk", "zh": "高缺货风险商品数"},
    "summary.medium_risk": {"en": "items at medium stockout risk", "zh": "中缺货风险商品数"},
    "summary.by_supplier": {"en": "orders per supplier", "zh": "按供应商汇总"},
    "summary.by_location": {"en": "orders per location", "zh": "按仓库汇总"},
    "summary.details_note": {
        "en": "technical columns are grouped after the reason: click + above the columns",
        "zh": "技术列已分组折叠在原因列之后：点击列上方的 + 展开",
    },
}

# one clause of a canonical reason -> its rendering; {p} fields are numbers or names
_REASON_TEMPLATES: list[tuple[str, str]] = [
    ("no order: product status is inactive", "不订货：商品已停用"),
    ("no order: no forecast demand", "不订货：无预测需求"),
    (
        "no order: conflicting master data: max_order {x} is below the MOQ {m} in the "
        "products file",
        "不订货：商品档案数据冲突：最大订货量 {x} 低于最小起订量 {m}",
    ),
    (
        "no order: conflicting master data: max_order {x} is below {s}, the MOQ {m} in whole "
        "packs of {k}, in the products file",
        "不订货：商品档案数据冲突：最大订货量 {x} 低于 {s}（最小起订量 {m} 按每包 {k} 取整）",
    ),
    # a transfer still on the road (`reorder.transfer_in_clause`): before the clause without
    # its date, which would take "40 (lands ...)" for the quantity
    (
        "no order: a transfer in of {t} (lands {d}) lifts position to {p} (reorder point {r})",
        "不订货：调入 {t}（{d} 到货）后库存位置升至 {p}（再订货点 {r}）",
    ),
    (
        "no order: a transfer in of {t} lifts position to {p} (reorder point {r})",
        "不订货：调入 {t} 后库存位置升至 {p}（再订货点 {r}）",
    ),
    # open customer orders at a line without forecast demand (`reorder.committed_need`)
    (
        "no order: a transfer in of {t} (lands {d}) covers the open customer orders, no "
        "forecast demand (position {p})",
        "不订货：调入 {t}（{d} 到货）满足未发客户订单，无预测需求（库存位置 {p}）",
    ),
    (
        "no order: a transfer in of {t} covers the open customer orders, no forecast demand "
        "(position {p})",
        "不订货：调入 {t} 满足未发客户订单，无预测需求（库存位置 {p}）",
    ),
    (
        "no order: position {p} not below reorder point {r}",
        "不订货：库存位置 {p} 不低于再订货点 {r}",
    ),
    (
        "no order: position {p} is only {n} below order-up-to {s}, under half a unit",
        "不订货：库存位置 {p} 仅比最高库存 {s} 低 {n}，不足半件",
    ),
    # the same findings on a line a later rule orders on after all (`reorder.with_clause`)
    (
        "a transfer in of {t} (lands {d}) lifts position to {p} (reorder point {r})",
        "调入 {t}（{d} 到货）后库存位置升至 {p}（再订货点 {r}）",
    ),
    (
        "a transfer in of {t} lifts position to {p} (reorder point {r})",
        "调入 {t} 后库存位置升至 {p}（再订货点 {r}）",
    ),
    (
        "a transfer in of {t} (lands {d}) covers the open customer orders, no forecast demand "
        "(position {p})",
        "调入 {t}（{d} 到货）满足未发客户订单，无预测需求（库存位置 {p}）",
    ),
    (
        "a transfer in of {t} covers the open customer orders, no forecast demand (position {p})",
        "调入 {t} 满足未发客户订单，无预测需求（库存位置 {p}）",
    ),
    ("position {p} not below reorder point {r}", "库存位置 {p} 不低于再订货点 {r}"),
    (
        "position {p} is only {n} below order-up-to {s}, under half a unit",
        "库存位置 {p} 仅比最高库存 {s} 低 {n}，不足半件",
    ),
    (
        "after a transfer in of {t} (lands {d}), position {p} below reorder point {r}: need {n} "
        "to reach {s}",
        "调入 {t}（{d} 到货）后库存位置 {p} 仍低于再订货点 {r}：需 {n} 补至最高库存 {s}",
    ),
    (
        "after a transfer in of {t}, position {p} below reorder point {r}: need {n} to reach {s}",
        "调入 {t} 后库存位置 {p} 仍低于再订货点 {r}：需 {n} 补至最高库存 {s}",
    ),
    (
        "position {p} below reorder point {r}: need {n} to reach {s}",
        "库存位置 {p} 低于再订货点 {r}：需 {n} 补至最高库存 {s}",
    ),
    (
        "after a transfer in of {t} (lands {d}), position {p} below 0 for open customer "
        "orders, no forecast demand: need {n} to cover them",
        "调入 {t}（{d} 到货）后库存位置 {p} 仍因未发客户订单低于 0，无预测需求："
        "需 {n} 满足这些订单",
    ),
    (
        "after a transfer in of {t}, position {p} below 0 for open customer orders, no "
        "forecast demand: need {n} to cover them",
        "调入 {t} 后库存位置 {p} 仍因未发客户订单低于 0，无预测需求：需 {n} 满足这些订单",
    ),
    (
        "position {p} below 0 for open customer orders, no forecast demand: need {n} to cover them",
        "库存位置 {p} 因未发客户订单低于 0，无预测需求：需 {n} 满足这些订单",
    ),
    # (s, Q): whole multiples of Q, lifting the position to p + nQ (`reorder.sq_clause`)
    (
        "after a transfer in of {t} (lands {d}), position {p} at or below reorder point {r}: "
        "order {k} × Q {q} = {n}, lifting the position to {s}",
        "调入 {t}（{d} 到货）后库存位置 {p} 仍不高于再订货点 {r}：订 {k} × Q {q} = {n}，"
        "库存位置升至 {s}",
    ),
    (
        "after a transfer in of {t}, position {p} at or below reorder point {r}: order {k} × "
        "Q {q} = {n}, lifting the position to {s}",
        "调入 {t} 后库存位置 {p} 仍不高于再订货点 {r}：订 {k} × Q {q} = {n}，库存位置升至 {s}",
    ),
    (
        "position {p} at or below reorder point {r}: order {k} × Q {q} = {n}, lifting the "
        "position to {s}",
        "库存位置 {p} 不高于再订货点 {r}：订 {k} × Q {q} = {n}，库存位置升至 {s}",
    ),
    ("overdue by {n} days: order today", "已逾期 {n} 天：请今天下单"),
    ("overdue by {n} day: order today", "已逾期 {n} 天：请今天下单"),
    ("raised to MOQ {m}", "按最小起订量提高到 {m}"),
    ("rounded up to packs of {k}", "按包装数 {k} 向上取整"),
    ("capped at max order {x}", "受最大订货量 {x} 限制"),
    ("cut from {q} by the budget", "因预算从 {q} 削减"),
    ("not funded: budget {b} spent", "未获预算：预算 {b}{u} 已用完"),
    (
        "budget: {f} of {q} funded, the next {n} units ({c}) did not fit the {l} left after "
        "lines protecting more sales per unit of money (this one {p} per 1 spent)",
        "预算：批准 {q} 中的 {f}；接下来的 {n} 件（{c}{u}）放不进剩余的 {l}{u}，"
        "预算先给每单位金额保护销售更多的行（本行每花 1{u}保护 {p}）",
    ),
    (
        "not funded by the budget: the next {n} units ({c}) did not fit the {l} left after "
        "lines protecting more sales per unit of money (this one {p} per 1 spent)",
        "未获预算：接下来的 {n} 件（{c}{u}）放不进剩余的 {l}{u}，"
        "预算先给每单位金额保护销售更多的行（本行每花 1{u}保护 {p}）",
    ),
    (
        "supplier total {t} is below its minimum order value {m}",
        "供应商合计 {t}{u} 低于其起订金额 {m}{u}",
    ),
    # a supplier whose minimum cannot be judged: order lines without a unit cost
    (
        "minimum order value {m} not checked: no unit cost on {n} of the supplier's order lines",
        "未核对起订金额 {m}{u}：该供应商有 {n} 行采购缺单位成本",
    ),
    (
        "topped up by {n} to reach the supplier's minimum order value {m}",
        "为达到供应商起订金额 {m}{u} 补足 {n}",
    ),
    (
        "{n} brought forward from the next cycle to reach the supplier's minimum order value {m}",
        "为达到供应商起订金额 {m}{u} 将下一周期的 {n} 提前下单",
    ),
    (
        "deferred {n}: the supplier's total is below its minimum order value {m} and waiting "
        "a cycle costs less than topping up",
        "推迟 {n}：供应商合计低于其起订金额 {m}{u}，等一个周期比补足更划算",
    ),
    (
        "deferred {n}: the supplier's total is below its minimum order value {m} and "
        "purchasing.minimum_order_value is defer",
        "推迟 {n}：供应商合计低于其起订金额 {m}{u}，"
        "配置 purchasing.minimum_order_value 为 defer（推迟）",
    ),
    (
        "deferred {n}: the supplier's total is below its minimum order value {m} and no top "
        "up or brought-forward order can reach it",
        "推迟 {n}：供应商合计低于其起订金额 {m}{u}，补足或提前下单都无法达到",
    ),
    ("raised by {n} to fill whole container loads", "为凑满整柜增加 {n}"),
    ("cut by {n} to whole container loads", "为按整柜发货减少 {n}"),
    # supplier_orders.load_note (`supplier_rules.part_load_notes`)
    ("part load {f} of a container could not be filled", "最后一柜只装到 {f}，无法凑满"),
    (
        "{n} lines capped by shelf life or a successor's switch date",
        "{n} 行已到保质期或替代品切换日期的上限",
    ),
    (
        "not cut to {n} whole loads: the cut would take the order below the supplier's "
        "minimum order value {m}",
        "未减到 {n} 整柜：减量会使订单低于供应商起订金额 {m}{u}",
    ),
    ("{n} lines holding excess", "{n} 行已超储"),
    ("{n} lines at max_order or not orderable", "{n} 行已到最大订货量或不可订购"),
    (
        "{n} lines whose next pack or MOQ does not fit the space left",
        "{n} 行的下一整包或最小起订量放不进剩余空间",
    ),
    (
        "price break: {q} at {p} instead of {q0} at {p0} saves {s} a year after holding",
        "价格折扣：按 {p}{u} 采购 {q}（而非按 {p0}{u} 采购 {q0}），扣除持有成本后每年节省 {s}{u}",
    ),
    ("unit cost {p} from the price break table", "单位成本 {p}{u} 取自价格折扣表"),
    (
        "pays {p} a unit for {q}: the break price {b} needs more",
        "采购 {q} 按单价 {p}{u} 计：折扣价 {b}{u} 需要更大的数量",
    ),
    ("pays the break price {p} a unit for {q}", "采购 {q} 达到折扣，按单价 {p}{u} 计"),
    (
        "supplier closed {n} days ({w}) before arrival: lead time {l} open days is {d} days",
        "供应商到货前停工 {n} 天（{w}）：{l} 个工作日的提前期实为 {d} 天",
    ),
    (
        "covers {n} more days: the supplier's closure delays the next order",
        "多覆盖 {n} 天：供应商停工推迟下一次到货",
    ),
    (
        "backup supplier {b} instead of {p}: stock runs out about {d}, {p2} would deliver {a}",
        "改用备用供应商 {b}（代替 {p}）：约 {d} 缺货，{p2} 要到 {a} 才能到货",
    ),
    # a line only a purchasing rule orders, too late where its backup would not be
    (
        "arrives {a}, after stock runs out about {d}: backup supplier {b} would deliver {c}",
        "{a} 才到货，晚于约 {d} 的缺货：备用供应商 {b} 可于 {c} 到货",
    ),
    ("no order: a kit, bought as its components", "不订货：套件，按组件采购"),
    ("need {n} to reach the cap {s}", "需 {n} 补至上限 {s}"),
    # a minimum order or pack larger than the room under the cap
    ("{n} units beyond what sells before expiry (cap {c})", "{n} 件到期前卖不完（上限 {c}）"),
    ("{n} units beyond the cap {c}", "{n} 件超出上限 {c}"),
    # after a master-data conflict: the need left unordered (after the cap's clause above)
    ("need {n} to reach {s}", "需 {n} 补至最高库存 {s}"),
    ("no order: replaced by {n} from {d}", "不订货：自 {d} 起由 {n} 替代"),
    (
        "no order: an order today would arrive on {a}, on or after {n} replaces it on {d}",
        "不订货：今天下单将于 {a} 到货，不早于 {d} 由 {n} 替代之日",
    ),
    (
        "order-up-to capped at {c}: position {p} runs out before an order arrives on {a}, "
        "which sells only {m} until {n} replaces it on {d}",
        "最高库存限为 {c}：库存位置 {p} 在订货 {a} 到货前即售完，"
        "到货后至 {d} 由 {n} 替代前只能卖出 {m}",
    ),
    (
        "order-up-to capped at {c}: demand until {n} replaces it on {d}",
        "最高库存限为 {c}：{d} 由 {n} 替代前的需求",
    ),
    (
        "order-up-to capped at {c} by shelf life: {d} a day over lead time {l} + {v} sellable days",
        "受保质期限制，最高库存限为 {c}：日均 {d} × (提前期 {l} + 可售 {v} 天)",
    ),
    (
        "order-up-to capped at 0 by shelf life: {t} days is not more than the {b} sell-by "
        "days, so nothing received could be sold",
        "受保质期限制，最高库存限为 0：保质期 {t} 天不超过停售前 {b} 天，到货后无法销售",
    ),
    (
        "forecast set to {q} for {s} to {e} by {a} ({r})",
        "{s} 至 {e} 的预测由 {a} 调整为 {q}（{r}）",
    ),
    (
        "forecast x {m} for {s} to {e} by {a} ({r})",
        "{s} 至 {e} 的预测由 {a} 乘以 {m}（{r}）",
    ),
    # without the author, the reason or both (blank cells): the longer templates first,
    # and a reason before an author (a reason may say "agreed by sales")
    ("forecast set to {q} for {s} to {e} ({r})", "{s} 至 {e} 的预测调整为 {q}（{r}）"),
    ("forecast x {m} for {s} to {e} ({r})", "{s} 至 {e} 的预测乘以 {m}（{r}）"),
    ("forecast set to {q} for {s} to {e} by {a}", "{s} 至 {e} 的预测由 {a} 调整为 {q}"),
    ("forecast x {m} for {s} to {e} by {a}", "{s} 至 {e} 的预测由 {a} 乘以 {m}"),
    ("forecast set to {q} for {s} to {e}", "{s} 至 {e} 的预测调整为 {q}"),
    ("forecast x {m} for {s} to {e}", "{s} 至 {e} 的预测乘以 {m}"),
    (
        "{to} is below its reorder point ({p} < {r})",
        "{to} 低于再订货点（{p} < {r}）",
    ),
    (
        "{to} owes open customer orders with no forecast demand (position {p})",
        "{to} 有未发客户订单，无预测需求（库存位置 {p}）",
    ),
    ("{frm} holds {s} above its order-up-to", "{frm} 超出最高库存 {s}"),
    ("{n} would expire unsold at {frm} by {d}", "{frm} 有 {n} 将于 {d} 前过期未售"),
    ("dead stock: never sold", "呆滞库存：从未售出"),
    ("dead stock: no sale for {n} days", "呆滞库存：{n} 天无销售"),
    (
        "position {p} above order-up-to {s} plus {d} days of demand",
        "库存位置 {p} 高于最高库存 {s} 加 {d} 天需求",
    ),
    # the `service_note` of the policy (policy.protection_levels), clause by clause
    (
        "fill rate {a}% held over the demand pattern's items at the least stock value",
        "同一需求模式的商品合计达到填充率 {a}%，库存金额最低",
    ),
    (
        "cycle service {a}% held over the demand pattern's items at the least stock value",
        "同一需求模式的商品合计达到周期服务水平 {a}%，库存金额最低",
    ),
    (
        "this item's stock promises fill rate {f}% (cycle service {c}%)",
        "本商品的库存可承诺填充率 {f}%（周期服务水平 {c}%）",
    ),
    (
        "target not reachable at sane stock: safety stock capped at {d} days of demand",
        "合理库存下无法达到目标：安全库存上限为 {d} 天需求",
    ),
    (
        "fill rate {a}% is not reachable, this stock promises fill rate {f}% (cycle service {c}%)",
        "填充率 {a}% 无法达到，此库存可承诺填充率 {f}%（周期服务水平 {c}%）",
    ),
    (
        "cycle service {a}% is not reachable, this stock promises fill rate {f}% "
        "(cycle service {c}%)",
        "周期服务水平 {a}% 无法达到，此库存可承诺填充率 {f}%（周期服务水平 {c}%）",
    ),
    (
        "target above the demand pattern's backtest: no level reached fill rate {a}% on the "
        "pattern's pooled windows",
        "目标高于该需求模式回测所达：在该模式的合并回测窗口上，没有任何水平达到填充率 {a}%",
    ),
    (
        "target above the demand pattern's backtest: no level reached cycle service {a}% on "
        "the pattern's pooled windows",
        "目标高于该需求模式回测所达：在该模式的合并回测窗口上，没有任何水平达到周期服务水平 {a}%",
    ),
    (
        "this stock promises fill rate {f}% (cycle service {c}%) there, a figure for the "
        "pattern, not for this item alone",
        "此库存在该模式的回测上可承诺填充率 {f}%（周期服务水平 {c}%），"
        "这是需求模式整体的数字，并非仅指本商品",
    ),
    ("safety stock capped at {d} days of demand", "安全库存上限为 {d} 天需求"),
    ("the target still holds", "目标仍可达到"),
    (
        "an order covers about {n} review periods' demand (MOQ or pack), so it runs short at "
        "most once per order",
        "每次订货约覆盖 {n} 个订货周期的需求（最小起订量或包装），因此每次订货最多缺货一次",
    ),
]
REASONS: dict[str, dict[str, str]] = {en: {"en": en, "zh": zh} for en, zh in _REASON_TEMPLATES}

# errors raised as phrases (`phrase`): the whole sentence in either language. Fields whose
# value is a mapping of language -> text (`place`, `input_column`) are said in the language.
ERROR_MESSAGES: dict[str, dict[str, str]] = {
    "error.replay_too_long": {
        "en": "simulate.periods: {periods} {unit} replayed need sales before {start}, but the "
        "sales history holds {held} {held_unit} (from {first}): set simulate.periods to at "
        "most {largest}",
        "zh": "simulate.periods：回放 {periods} {unit}需要 {start} 之前的销售，但销售历史只有 "
        "{held} {held_unit}（自 {first} 起）：请把 simulate.periods 设为不超过 {largest}",
    },
    "error.replay_history_short": {
        "en": "simulate.periods: {periods} {unit} replayed need sales before {start}, but the "
        "sales history holds {held} {held_unit} (from {first}), too few for any replay: the "
        "shortest, {shortest} {unit}, needs {needed} {unit} of sales history",
        "zh": "simulate.periods：回放 {periods} {unit}需要 {start} 之前的销售，但销售历史只有 "
        "{held} {held_unit}（自 {first} 起），不够任何回放：最短的回放（{shortest} {unit}）"
        "需要 {needed} {unit}的销售历史",
    },
    "error.replay_no_series": {
        "en": "simulate: no active item sold before {start}, the first day replayed: nothing "
        "to replay",
        "zh": "simulate：回放首日 {start} 之前没有在售商品的销售，无可回放",
    },
    "error.missing_column": {
        "en": "{where}: missing required column '{column}' (found {found}); rename it or map "
        "it under columns.{table} in the config",
        "zh": "{where}：缺少必需列 {column}（现有列：{found}）；请改列名，或在配置 "
        "columns.{table} 下映射",
    },
    "error.columns_clash": {
        "en": "{where}: columns '{first}' and '{second}' both look like '{column}'; say which "
        "one under columns.{table} in the config",
        "zh": "{where}：列 '{first}' 和 '{second}' 都像是 {column}；请在配置 columns.{table} "
        "下指定用哪一列",
    },
    "error.mapping_two_headers": {
        "en": "{where}: columns.{table} maps '{written}' to {target}, and that names two headers, "
        "'{first}' and '{second}': write the header exactly as the file has it, unit included",
        "zh": "{where}：columns.{table} 把 '{written}' 映射到 {target}，但它对应两个表头 "
        "'{first}' 和 '{second}'：请按文件中的原样写出表头，包括括号里的单位",
    },
    "error.empty_required": {
        "en": "{where}: empty value in a required column",
        "zh": "{where}：必填列为空",
    },
    "error.not_a_date": {
        "en": "{where}: '{value}' is not a date I can read (use YYYY-MM-DD)",
        "zh": "{where}：无法识别的日期 '{value}'（请用 2026-01-08 这样的格式）",
    },
    "error.implausible_date": {
        "en": "{where}: '{value}' is not a plausible date (outside {low} .. {high}; a "
        "placeholder for no date?)",
        "zh": "{where}：'{value}' 不是合理的日期（不在 {low} .. {high} 之间；是表示无日期的"
        "占位值吗？）",
    },
    "warn.negative_stock": {
        "en": "{where}: on hand {value} is below zero ({count} rows below zero in all); "
        "counted as backorders with on hand 0",
        "zh": "{where}：现存量 {value} 小于零（共 {count} 行）；按欠货计，现存量记为 0",
    },
    "error.two_digit_year": {
        "en": "{where}: '{value}' has a two-digit year, read as the year {year}; write the "
        "year in four digits (format the column as a date in Excel, or export it as "
        "YYYY-MM-DD)",
        "zh": "{where}：'{value}' 的年份只有两位，被读成公元 {year} 年；请写四位年份"
        "（在 Excel 中把该列设为日期格式，或按 YYYY-MM-DD 导出）",
    },
    "error.not_a_number": {
        "en": "{where}: '{value}' is not a number",
        "zh": "{where}：'{value}' 不是数字",
    },
    "error.number_with_unit": {
        "en": "{where}: '{value}' is a number with its unit; write the number alone "
        "({number}) and name the unit in the column's header, as in '{header}'",
        "zh": "{where}：'{value}' 是带单位的数字；请只写数字（{number}），单位写在列标题里，"
        "如 '{header}'",
    },
    "error.not_finite": {
        "en": "{where}: '{value}' is not a finite number",
        "zh": "{where}：'{value}' 不是有限数字",
    },
    "error.too_large": {
        "en": "{where}: '{value}' is implausibly large",
        "zh": "{where}：'{value}' 数值大得不合理",
    },
    "error.too_many_days": {
        "en": "{where}: '{value}' days is more than ten years ({longest} days)",
        "zh": "{where}：'{value}' 天超过十年（{longest} 天）",
    },
    "error.review_days_range": {
        "en": "{where}: '{value}' is not a review period: give the days between orders, "
        "above 0 and at most {longest}, or leave the cell empty for {setting}",
        "zh": "{where}：'{value}' 不是订货周期：请填写两次订货之间的天数，大于 0 且不超过 "
        "{longest}，或留空以使用 {setting}",
    },
    "error.supplier_currency": {
        "en": "{where}: the supplier buys in '{value}', not the planning currency {currency}: "
        "give its rate in planning.exchange_rates ({code}: {currency} per {code}) or write "
        "the supplier's amounts in {currency}",
        "zh": "{where}：该供应商以 '{value}' 计价，不是计划币种 {currency}：请在 "
        "planning.exchange_rates 中填写其汇率（{code}: 每 1 {code} 折合多少 {currency}），"
        "或将该供应商的金额改为 {currency}",
    },
    "error.negative": {
        "en": "{where}: '{value}' must not be negative",
        "zh": "{where}：'{value}' 不能为负数",
    },
    "error.too_long": {
        "en": "{where}: '{value}' is longer than the {limit} characters a spreadsheet cell holds",
        "zh": "{where}：'{value}' 超过电子表格单元格可容纳的 {limit} 个字符",
    },
    "error.too_long_quoted": {
        "en": "{where}: '{value}' is longer than {longest} characters: a notice or reason "
        "quoting it would not fit the {limit} characters a spreadsheet cell holds",
        "zh": "{where}：'{value}' 超过 {longest} 个字符：引用它的通知或原因会超出电子表格"
        "单元格可容纳的 {limit} 个字符",
    },
    "error.notice_too_long": {
        "en": "{where}: the customer notice for this order would be {length} characters, more "
        "than the {limit} a spreadsheet cell holds: it quotes the order_id ({order_id} "
        "characters), the customer ({customer}) and the name of item '{sku}' ({name}, "
        "{source}); shorten them",
        "zh": "{where}：此订单的客户通知会有 {length} 个字符，超出电子表格单元格可容纳的 {limit} "
        "个：它引用订单号（{order_id} 个字符）、客户（{customer} 个）和商品 '{sku}' 的名称（{name} "
        "个，{source}）；请缩短",
    },
    "error.not_utf8_gb18030": {
        "en": "{where}: not valid UTF-8 or GB18030 text; set inputs.<table>.encoding",
        "zh": "{where}：既不是有效的 UTF-8 也不是 GB18030 文本；请设置 inputs.<表>.encoding",
    },
    "error.mixed_utf8_row": {
        "en": "{where}: this row is UTF-8 text, row {other} is not (GBK / GB18030): the file "
        "mixes two encodings (two exports joined?) and either reading garbles one part; save "
        "the whole file in one encoding",
        "zh": "{where}：此行是 UTF-8 文本，第 {other} 行却不是（GBK / GB18030）：文件混有两种"
        "编码（两份导出拼接？），按哪一种读都会把另一部分读成乱码；请把整个文件存为同一种编码",
    },
    "error.mixed_other_row": {
        "en": "{where}: this row is not UTF-8 (GBK / GB18030?), row {other} is UTF-8 text: the "
        "file mixes two encodings (two exports joined?) and either reading garbles one part; "
        "save the whole file in one encoding",
        "zh": "{where}：此行不是 UTF-8（GBK / GB18030？），第 {other} 行却是 UTF-8 文本：文件混有"
        "两种编码（两份导出拼接？），按哪一种读都会把另一部分读成乱码；请把整个文件存为同一种编码",
    },
    "error.ragged_row": {
        "en": "{where}: has {fields} fields where the header has {width}",
        "zh": "{where}：有 {fields} 个字段，而表头有 {width} 个",
    },
    "error.encrypted": {
        "en": "{where}: is password-protected (encrypted); save an unprotected copy and use that",
        "zh": "{where}：文件有密码保护（已加密）；请另存一份不加密的副本再用",
    },
    "error.no_such_sheet": {
        "en": "{where}: {setting}: {value} names no sheet of the workbook; its {count} sheets are "
        "{sheets} (a number counts them from 0)",
        "zh": "{where}：{setting}：{value} 不是工作簿中的工作表；它的 {count} 个工作表是 {sheets}"
        "（数字从 0 开始数）",
    },
    "error.sheet_both": {
        "en": "{where}: {setting}: {value} is both the sheet at position {value} (from 0), "
        "'{position}', and the sheet named '{name}'; write sheet: '{name}' (in quotes) for "
        "the one named so, or the other sheet's name",
        "zh": "{where}：{setting}：{value} 既是位置 {value}（从 0 数起）的工作表 '{position}'，"
        "也是名为 '{name}' 的工作表；要读名为 '{name}' 的工作表请写 sheet: '{name}'（带引号），"
        "否则请写另一个工作表的名称",
    },
    "note.sheet_with_header": {
        "en": "{file}: reading sheet '{sheet}', the first with a {table} header (none in "
        "{passed}); set `sheet:` to choose another",
        "zh": "{file}：读取工作表 '{sheet}'，第一个有{table}表头的工作表（{passed} 中没有）；"
        "用 `sheet:` 指定其他工作表",
    },
    "note.sheets_stacked": {
        "en": "{file}: sheets {sheets} have the same {table} header and are read as one "
        "table (messages name the sheet and its row); set `sheet:` to read one only",
        "zh": "{file}：工作表 {sheets} 的{table}表头相同，合并为一张表读取"
        "（提示中注明工作表和行号）；只读其中一个请用 `sheet:` 指定",
    },
    "note.sheets_left": {
        "en": "{file}: sheets {sheets} not read: their header does not map to the columns of "
        "sheet '{first}' ({columns}); set `sheet:` to read one of them instead",
        "zh": "{file}：未读取工作表 {sheets}：其表头与工作表 '{first}' 的列（{columns}）不一致；"
        "要改读其中一个请用 `sheet:` 指定",
    },
    "error.two_row_header": {
        "en": "{where}: the header takes two rows ('{group}' over {labels}); make it one row "
        "with one name per column (such as '{group}{first}' for '{first}' under '{group}'), "
        "then map that name under `columns:` if it is not recognised",
        "zh": "{where}：表头占了两行（'{group}' 下分 {labels}）；请改成一行、每列一个名称"
        "（如 '{group}' 下的 '{first}' 写作 '{group}{first}'），"
        "如该名称未被识别，再在 `columns:` 中映射",
    },
    "error.no_sheets": {
        "en": "{where}: the workbook has no sheets",
        "zh": "{where}：工作簿中没有工作表",
    },
    "error.config": {"en": "{source}: {problem}", "zh": "{source}：{problem}"},
    "error.same_input_file": {
        "en": "{source}: keys '{first_key}' and '{second_key}' name the same file ({path}): "
        "the {second} table would be read from the {first} file; name each table's own export",
        "zh": "{source}：配置项 '{first_key}' 和 '{second_key}' 指向同一个文件（{path}）："
        "{second}表会从{first}文件中读取；请为每个表指定它自己的导出文件",
    },
    "error.config_not_file": {
        "en": "{path}: config is not a regular file (a folder, pipe or device)",
        "zh": "{path}：配置不是普通文件（而是文件夹、管道或设备）",
    },
    "error.no_channel": {
        "en": "--notify {name}: no such channel under notify.channels in the config ({known})",
        "zh": "--notify {name}：配置的 notify.channels 下没有这个通道（{known}）",
    },
    "error.no_plan": {
        "en": "{path}: no such plan file or folder",
        "zh": "{path}：找不到这个计划文件或文件夹",
    },
    "error.no_plan_tables": {
        "en": "{path}: no plan tables (.csv, .json, .parquet) in this folder",
        "zh": "{path}：此文件夹中没有计划表（.csv、.json、.parquet）",
    },
    "error.plan_is_record": {
        "en": "{path}: this is a plan's run record: name the {what} ({plan}), not its record",
        "zh": "{path}：这是计划的运行记录：请给出{what}（{plan}），而不是它的运行记录",
    },
    "error.not_a_plan": {
        "en": "{path}: not a plan (an .xlsx workbook, a folder, .csv, .json, .parquet)",
        "zh": "{path}：不是计划文件（应为 .xlsx 工作簿、文件夹、.csv、.json 或 .parquet）",
    },
    "error.plan_no_table": {
        "en": "{path}: the plan has no {table} table",
        "zh": "{path}：该计划中没有{table}表",
    },
    "error.plan_no_column": {
        "en": "{path}: the {table} table has no {columns} column",
        "zh": "{path}：{table}表中没有 {columns} 列",
    },
    "error.diff_columns": {
        "en": "the orders tables lack {columns}: compare plans written by stockplan",
        "zh": "采购建议表缺少 {columns}：请比较由 stockplan 写出的计划",
    },
    "error.plan_unreadable": {
        "en": "{path}: cannot read the plan {what} ({detail})",
        "zh": "{path}：无法读取计划{what}（{detail}）",
    },
    "error.config_gone": {
        "en": "{path}: its config {config} is gone",
        "zh": "{path}：它的配置文件 {config} 已不存在",
    },
    "error.plan_line_twice": {
        "en": "{where}: '{sku}' at '{location}' is listed twice (also row {other}): a plan has "
        "one line per sku and location; put the quantities in one line",
        "zh": "{where}：'{sku}' 在 '{location}' 出现两次（另见第 {other} 行）：计划中每个商品和"
        "仓库只有一行；请把数量合并到一行",
    },
    "error.run_record_entry": {
        "en": "{path}: run record, {entry}: {problem}; "
        "write the plan again with `stockplan plan -o`",
        "zh": "{path}：运行记录的 {entry}：{problem}；请用 `stockplan plan -o` 重新写出计划",
    },
    "error.run_record_missing": {"en": "missing", "zh": "缺失"},
    "error.run_record_not_group": {
        "en": "'{value}' is not a group of entries",
        "zh": "'{value}' 不是一组条目",
    },
    "error.run_record_not_columns": {
        "en": "'{value}' is not a list of column names",
        "zh": "'{value}' 不是列名的列表",
    },
    "error.run_record_not_date": {
        "en": "'{value}' is not a date (YYYY-MM-DD)",
        "zh": "'{value}' 不是日期（YYYY-MM-DD）",
    },
    "error.no_run_record": {
        "en": "{path}: no run record (`stockplan plan -o` writes one into a workbook or a "
        "folder, and beside a single table file as FILE.run.json)",
        "zh": "{path}：没有运行记录（`stockplan plan -o` 会把运行记录写进工作簿或文件夹，"
        "单个表格文件则写在旁边的 FILE.run.json）",
    },
    "error.unknown_sku": {
        "en": "{where}: '{sku}' is not in the products table ({unknown} in {table}); "
        "add them to products or set planning.unknown_sku: warn",
        "zh": "{where}：'{sku}' 不在商品档案中（{table}中共 {unknown}）；"
        "请把它们加入商品档案，或设置 planning.unknown_sku: warn",
    },
    "error.received_before_ordered": {
        "en": "{where}: {received} is before the order_date {ordered}",
        "zh": "{where}：到货日期 {received} 早于下单日期（order_date）{ordered}",
    },
    "error.stray_location": {
        "en": "{where}: '{location}' is in neither the stock nor the sales file",
        "zh": "{where}：'{location}' 既不在库存文件中，也不在销售文件中",
    },
    "error.service_level": {
        "en": "{where}: {level} is not a service level above 50 % and below 100 % "
        "(e.g. 0.95 or 95)",
        "zh": "{where}：{level} 不是高于 50 %、低于 100 % 的服务水平（例如 0.95 或 95）",
    },
    "error.no_location_column": {
        "en": "{path}: has no location column, but the stock file has {count} locations "
        "({shown}); add a location column",
        "zh": "{path}：没有仓库（location）列，但库存文件有 {count} 个仓库（{shown}）；"
        "请加上仓库列",
    },
    "error.web_page_xls": {
        "en": "{where}: is a web page saved with an .xls name, not a workbook; open it in Excel "
        "and save it as .xlsx, or export CSV",
        "zh": "{where}：是以 .xls 命名保存的网页，不是工作簿；请用 Excel 打开后另存为 .xlsx，"
        "或导出 CSV",
    },
    "error.not_regular_file": {
        "en": "{where}: is not a regular file (a pipe, socket or device); export to a file",
        "zh": "{where}：不是普通文件（而是管道、套接字或设备）；请导出到文件",
    },
    "error.bad_utf16": {
        "en": "{where}: starts like UTF-16 text but does not decode as it",
        "zh": "{where}：开头像 UTF-16 文本，却无法按 UTF-16 解码",
    },
    "error.no_parquet_files": {
        "en": "{where}: no Parquet files in this dataset (folder or glob)",
        "zh": "{where}：此数据集（文件夹或通配符）中没有 Parquet 文件",
    },
    "error.mapped_to_unknown": {
        "en": "{source}: columns.{table} maps to '{target}', which is not a {table} column "
        "(expected one of: {known})",
        "zh": "{source}：columns.{table} 映射到的 '{target}' 不是 {table} 的列"
        "（应为以下之一：{known}）",
    },
    "error.config_too_large": {
        "en": "{path}: config is larger than {limit} bytes",
        "zh": "{path}：配置文件超过 {limit} 字节",
    },
    "error.config_too_many": {
        "en": "{path}: config expands to more than {limit} values (YAML aliases repeating one "
        "block?)",
        "zh": "{path}：配置展开后超过 {limit} 个值（YAML 别名重复引用同一块？）",
    },
    "error.cannot_write": {
        "en": "cannot write{target}: {problem}; {outcome}",
        "zh": "无法写入{target}：{problem}；{outcome}",
    },
    "error.nothing_written": {"en": "nothing was written", "zh": "没有写入任何内容"},
    "error.part_file": {
        "en": "{path}: cannot write the part file ({problem})",
        "zh": "{path}：无法写入分块文件（{problem}）",
    },
    "error.undone": {
        "en": "{paths} had already been put in place and were undone: every file is as before",
        "zh": "已放置的 {paths} 已撤销：所有文件都与之前相同",
    },
    "error.not_undone": {
        "en": "{paths} could not be undone{kept}; every other file is as before",
        "zh": "{paths} 无法撤销{kept}；其余文件都与之前相同",
    },
    "error.kept_as": {
        "en": " (the earlier files are kept as {backups})",
        "zh": "（原来的文件保存在 {backups}）",
    },
    "error.disk_full": {"en": "the disk is full", "zh": "磁盘已满"},
    "error.file_too_large": {
        "en": "the file is larger than this system allows",
        "zh": "文件超过了本系统允许的大小",
    },
    "error.rows_over_excel": {
        "en": "table {table}: {rows} rows do not fit an Excel sheet ({limit}); write CSV or "
        "Parquet (-o folder or -o {name}.parquet)",
        "zh": "表 {table}：{rows} 行超出 Excel 工作表的上限（{limit}）；请写成 CSV 或 Parquet"
        "（-o 文件夹 或 -o {name}.parquet）",
    },
    "error.cell_over_excel": {
        "en": "{where}: a text of {length} characters does not fit an Excel cell ({limit}); "
        "write CSV instead",
        "zh": "{where}：{length} 个字符的文本超出 Excel 单元格的上限（{limit}）；请改写成 CSV",
    },
    "error.folder_not_file": {
        "en": "{path}: is an existing folder, not a {suffix} file; remove it or choose another "
        "name",
        "zh": "{path}：是已有的文件夹，不是 {suffix} 文件；请删除它或换一个名字",
    },
    "error.format_mismatch": {
        "en": "{path}: --format {format} does not match the file suffix {suffix}",
        "zh": "{path}：--format {format} 与文件后缀 {suffix} 不符",
    },
    "error.unknown_output": {
        "en": "{path}: unknown output type '{suffix}' (use .csv, .xlsx, .json, .parquet or a "
        "folder)",
        "zh": "{path}：未知的输出类型 '{suffix}'（请用 .csv、.xlsx、.json、.parquet 或文件夹）",
    },
    "error.not_a_folder_output": {
        "en": "{path}: exists and is not a folder; give a file name with a suffix",
        "zh": "{path}：已存在且不是文件夹；请给出带后缀的文件名",
    },
    "error.supplier_folder_is_file": {
        "en": "--supplier-forecast {folder}: is a file, expected a folder",
        "zh": "--supplier-forecast {folder}：这是文件，应为文件夹",
    },
    "error.supplier_folder_parent": {
        "en": "--supplier-forecast {folder}: folder {parent} does not exist",
        "zh": "--supplier-forecast {folder}：文件夹 {parent} 不存在",
    },
    "error.orders_lack": {
        "en": "{path}: the orders table lacks {columns}: compare plans written by stockplan",
        "zh": "{path}：采购建议表缺少 {columns}：请比较由 stockplan 写出的计划",
    },
    "error.appears_again": {
        "en": "{where}: {what} {keys} appears again (first at {first})",
        "zh": "{where}：{what} {keys} 重复出现（首次出现在{first}）",
    },
    "error.output_is_folder": {
        "en": "{path}: is an existing folder; give a file name or remove it",
        "zh": "{path}：是已有的文件夹；请给出文件名，或删除该文件夹",
    },
    "error.output_is_input": {
        "en": "{path}: would write over the input {source}; choose another output",
        "zh": "{path}：会覆盖输入文件 {source}；请换一个输出位置",
    },
    "error.output_in_dataset": {
        "en": "{path}: would write into the input dataset folder {source}, whose every file "
        "is read as data; choose another output",
        "zh": "{path}：会写进输入数据集文件夹 {source}（其中每个文件都作为数据读取）；"
        "请换一个输出位置",
    },
    # database inputs (`io.database`): {where} names the input and its url, password hidden;
    # {detail} is the driver's own text
    "error.env_unset": {
        "en": "{where}: environment variable {name} is not set",
        "zh": "{where}：环境变量 {name} 未设置",
    },
    "error.env_empty": {
        "en": "{where}: environment variable {name} is set but empty: set it to the folder "
        "or name it stands for",
        "zh": "{where}：环境变量 {name} 已设置但为空：请设为它所代表的文件夹或名称",
    },
    "error.input_path_empty": {
        "en": "{where}: the path is empty: give the file's path, e.g. {example}",
        "zh": "{where}：路径为空：请填写文件路径，如 {example}",
    },
    "error.db_unsupported_url": {
        "en": "{where}: unsupported database url '{url}' (use postgresql://, sqlite:///, "
        "duckdb:///, mssql:// or mysql://)",
        "zh": "{where}：不支持的数据库地址 '{url}'（请用 postgresql://、sqlite:///、duckdb:///、"
        "mssql:// 或 mysql://）",
    },
    "error.db_file_url": {
        "en": "{where}: write a database file as sqlite:///relative/path or "
        "sqlite:////absolute/path",
        "zh": "{where}：数据库文件请写成 sqlite:///相对路径 或 sqlite:////绝对路径",
    },
    "error.db_file_missing": {
        "en": "{where}: database file {path} not found",
        "zh": "{where}：找不到数据库文件 {path}",
    },
    "error.db_driver": {
        "en": "{where}: reading {database} needs its driver; install the database extra: "
        "pip install 'stockplan[database]'",
        "zh": "{where}：读取 {database} 需要它的驱动；请安装数据库扩展：pip install "
        "'stockplan[database]'",
    },
    "error.db_connectorx": {
        "en": "{where}: reading {scheme}:// needs connectorx: pip install connectorx",
        "zh": "{where}：读取 {scheme}:// 需要 connectorx：pip install connectorx",
    },
    "error.db_refused": {
        "en": "{where}: connection refused (is the database server running, and the host and "
        "port right?)",
        "zh": "{where}：连接被拒绝（数据库服务器是否在运行？主机和端口是否正确？）",
    },
    "error.db_unknown_host": {
        "en": "{where}: unknown database host",
        "zh": "{where}：找不到数据库主机",
    },
    "error.db_login": {
        "en": "{where}: the database refused the login (check the user and password)",
        "zh": "{where}：数据库拒绝登录（请检查用户名和密码）",
    },
    "error.db_no_answer": {
        "en": "{where}: no answer from the database server within {timeout} s (timeout_seconds)",
        "zh": "{where}：数据库服务器 {timeout} 秒内没有应答（timeout_seconds）",
    },
    "error.db_query_timeout": {
        "en": "{where}: the query took longer than {timeout} s (timeout_seconds); it was cancelled",
        "zh": "{where}：查询超过 {timeout} 秒（timeout_seconds），已取消",
    },
    "error.db_no_database": {
        "en": "{where}: no such database",
        "zh": "{where}：没有这个数据库",
    },
    "error.db_cannot_connect": {
        "en": "{where}: cannot connect: {detail}",
        "zh": "{where}：无法连接：{detail}",
    },
    "error.db_cannot_open": {
        "en": "{where}: cannot open the database ({detail})",
        "zh": "{where}：无法打开数据库（{detail}）",
    },
    "error.db_query_failed": {
        "en": "{where}: the query failed: {detail}",
        "zh": "{where}：查询失败：{detail}",
    },
    "error.db_no_result": {
        "en": "{where}: the query returned no result (use a SELECT)",
        "zh": "{where}：查询没有返回结果（请用 SELECT 查询）",
    },
    "error.db_no_rows": {
        "en": "{where}: the query returned no rows",
        "zh": "{where}：查询没有返回任何行",
    },
    "error.db_column_twice": {
        "en": "{where}: the query returns the column '{column}' twice",
        "zh": "{where}：查询结果中列 '{column}' 出现了两次",
    },
    "error.db_blob": {
        "en": "{where}: a binary value (BLOB) where text or a number belongs",
        "zh": "{where}：二进制值（BLOB），此处应为文本或数字",
    },
    # alert delivery (`notify`): {where} is the robot or the mail server with its address,
    # {detail} the server's own words
    "error.notify_failed": {
        "en": "notify {name} ({type}): {problem}",
        "zh": "通知 {name}（{type}）：{problem}",
    },
    "notify.wecom_robot": {"en": "WeCom robot {url}", "zh": "企业微信机器人 {url}"},
    "notify.dingtalk_robot": {"en": "DingTalk robot {url}", "zh": "钉钉机器人 {url}"},
    "notify.mail_server": {"en": "mail server {server}", "zh": "邮件服务器 {server}"},
    "error.webhook_not_http": {
        "en": "{where}: the webhook is not an http(s) url",
        "zh": "{where}：webhook 不是 http(s) 地址",
    },
    "error.http_status": {
        "en": "{where} answered HTTP {code} {reason}",
        "zh": "{where} 返回 HTTP {code} {reason}",
    },
    "error.no_answer": {
        "en": "{where} did not answer within {timeout} s",
        "zh": "{where} 在 {timeout} 秒内没有应答",
    },
    "error.cannot_reach": {
        "en": "cannot reach {where} ({detail})",
        "zh": "无法连接 {where}（{detail}）",
    },
    "error.answer_not_json": {
        "en": "{where} gave an answer that is not JSON",
        "zh": "{where} 的应答不是 JSON",
    },
    "error.robot_refused": {
        "en": "{where} refused the message: errcode {code}{detail}",
        "zh": "{where} 拒收消息：errcode {code}{detail}",
    },
    "error.smtp_login": {
        "en": "{where} refused the login (check username and password)",
        "zh": "{where} 拒绝登录（请检查用户名和密码）",
    },
    "error.smtp_unsupported": {
        "en": "{where} does not support this ({detail})",
        "zh": "{where} 不支持此操作（{detail}）",
    },
    "error.smtp_recipients": {
        "en": "{where} refused the recipients {recipients}",
        "zh": "{where} 拒收收件人 {recipients}",
    },
    "error.smtp_refused": {
        "en": "{where} refused the message ({detail})",
        "zh": "{where} 拒收邮件（{detail}）",
    },
    # cluster engines (`engines`, `partitioned`)
    "error.engine_missing": {
        "en": "forecast.engine {engine}: {package} is not installed "
        '(pip install "stockplan[{engine}]")',
        "zh": 'forecast.engine {engine}：未安装 {package}（pip install "stockplan[{engine}]"）',
    },
    "error.engine_package": {"en": "a package", "zh": "所需的包"},
    "error.no_data_rows": {"en": "{where}: has no data rows", "zh": "{where}：没有数据行"},
    # the buyers' own purchase history replayed (`simulate --baseline history`)
    "error.history_needs_orders": {
        "en": "--baseline history needs inputs.purchase_orders (your PO history)",
        "zh": "--baseline history 需要 inputs.purchase_orders（你的采购订单历史）",
    },
    "error.history_needs_receipts": {
        "en": "--baseline history: inputs.purchase_orders has no received_date column, so the "
        "buyers' receipts cannot be replayed",
        "zh": "--baseline history：inputs.purchase_orders 没有到货日期（received_date）列，"
        "无法重放采购员的到货",
    },
    # kits, successors and overrides (`io.item_tables`, `bom`)
    "error.kit_lists_itself": {
        "en": "{where}: kit '{kit}' lists itself",
        "zh": "{where}：套件 '{kit}' 把自己列为组件",
    },
    "error.kit_quantity": {
        "en": "{where}: quantity per kit must be above 0",
        "zh": "{where}：每套用量必须大于 0",
    },
    "error.kit_component_twice": {
        "en": "{where}: '{component}' appears twice in kit '{kit}'",
        "zh": "{where}：'{component}' 在套件 '{kit}' 中出现了两次",
    },
    "error.kit_cycle": {
        "en": "{where}: kit '{kit}' contains itself through '{through}' (or kits nest deeper "
        "than {depth} levels)",
        "zh": "{where}：套件 '{kit}' 经由 '{through}' 包含了它自己（或套件嵌套超过 {depth} 层）",
    },
    "error.succeeds_itself": {
        "en": "{where}: '{sku}' succeeds itself",
        "zh": "{where}：'{sku}' 的替代商品是它自己",
    },
    "error.two_successors": {
        "en": "{where}: '{sku}' has two successors",
        "zh": "{where}：'{sku}' 有两个替代商品",
    },
    "error.succession_circle": {
        "en": "{where}: the successions go round in a circle: {path}",
        "zh": "{where}：替代关系形成了循环：{path}",
    },
    "error.share_ambiguous": {
        "en": "{where}: share {value} is ambiguous: above 1 reads as a percentage ({value} %); "
        "write {fraction} for {value} % or at most 1 for all of the old item's demand",
        "zh": "{where}：替代比例 {value} 有歧义：大于 1 按百分比读作 {value} %；"
        "如指 {value} % 请写 {fraction}，如指全部需求请写不超过 1 的小数",
    },
    "error.share_range": {
        "en": "{where}: share must be above 0 and at most 1 (or 100 %)",
        "zh": "{where}：替代比例须大于 0 且不超过 1（或 100 %）",
    },
    "error.override_end_before_start": {
        "en": "{where}: {end} is before the start {start}",
        "zh": "{where}：结束日期 {end} 早于开始日期 {start}",
    },
    "error.override_both": {
        "en": "{where}: give either a quantity or a multiplier, not both",
        "zh": "{where}：数量（quantity）和倍数（multiplier）只能填一个，不能都填",
    },
    "error.override_neither": {
        "en": "{where}: give either a quantity or a multiplier, not neither",
        "zh": "{where}：数量（quantity）和倍数（multiplier）须填一个",
    },
    "error.promotion_for_nothing": {
        "en": "{where}: a promotion needs a sku or a category; this row has neither",
        "zh": "{where}：促销须填商品编码（sku）或类别（category），此行两者都没有",
    },
    "error.override_overlap": {
        "en": "{where}: overlaps another override of '{sku}'",
        "zh": "{where}：与 '{sku}' 的另一条调整时间重叠",
    },
    "error.override_every_overlap": {
        "en": "{where}: an override of '{sku}' for every location overlaps one for "
        "'{location}' ({other})",
        "zh": "{where}：'{sku}' 的全仓库调整与 '{location}' 的调整（{other}）时间重叠",
    },
    "error.cluster_unreachable": {
        "en": "forecast.engine_address {address}: cannot reach the {engine} cluster (is its "
        "scheduler running, and the address right?)",
        "zh": "forecast.engine_address {address}：无法连接 {engine} 集群（其调度器是否在运行？"
        "地址是否正确？）",
    },
    "error.engine_cross_sku": {
        "en": "forecast.engine {engine}: inputs.{table} links skus across partitions and is not "
        "supported on a cluster yet (use forecast.engine: local)",
        "zh": "forecast.engine {engine}：inputs.{table} 把不同商品联系在一起，无法按商品分区，"
        "集群上暂不支持（请用 forecast.engine: local）",
    },
}
MESSAGES.update(ERROR_MESSAGES)

# what `verify` found (`runrecord.changed_inputs`, `reproduce.compare_table`), as phrases:
# tables and columns by the names the plan's sheets carry, values as the sheets show them
VERIFY_MESSAGES: dict[str, dict[str, str]] = {
    "verify.input_gone": {"en": "{name}: {path} is gone", "zh": "{name}：{path} 已不存在"},
    "verify.input_changed": {
        "en": "{name}: {path} changed (SHA-256 differs; {was} bytes then, {size} now)",
        "zh": "{name}：{path} 已改变（SHA-256 不同；当时 {was} 字节，现在 {size} 字节）",
    },
    "verify.cells_differ": {
        "en": "{table}.{column}: {count} cells differ ({cells})",
        "zh": "{table}·{column}：{count} 个单元格不一致（{cells}）",
    },
    "verify.cell": {
        "en": "{row}: {plan} in the plan, {rerun} re-run",
        "zh": "{row}：计划中 {plan}，重算 {rerun}",
    },
    "verify.only_in_plan": {
        "en": "{table}: {count} rows only in the plan ({rows})",
        "zh": "{table}：{count} 行只在计划中（{rows}）",
    },
    "verify.only_in_rerun": {
        "en": "{table}: {count} rows only in the re-run ({rows})",
        "zh": "{table}：{count} 行只在重算中（{rows}）",
    },
    "verify.row_counts": {
        "en": "{table}: {plan} rows in the plan, {rerun} in the re-run",
        "zh": "{table}：计划中 {plan} 行，重算 {rerun} 行",
    },
    "verify.columns_differ": {
        "en": "{table}: the columns differ ({detail})",
        "zh": "{table}：列不一致（{detail}）",
    },
    "verify.columns_gone": {
        "en": "not in the plan, deleted or renamed: {columns}",
        "zh": "计划中没有（已删除或改名）：{columns}",
    },
    "verify.columns_added": {
        "en": "{table}: {columns}: not a column stockplan writes (added to the plan), not compared",
        "zh": "{table}：{columns}：不是 stockplan 写出的列（在计划中添加），未比较",
    },
    "verify.table_gone": {
        "en": "{table}: the re-run writes this table, the plan does not have it",
        "zh": "{table}：重算写出了这张表，计划中却没有",
    },
    "verify.no_table": {
        "en": "{table}: the re-run does not produce this table",
        "zh": "{table}：重算没有产生这张表",
    },
    "verify.empty": {"en": "empty", "zh": "空"},
    "verify.row": {"en": "row {row}", "zh": "第 {row} 行"},
}
MESSAGES.update(VERIFY_MESSAGES)

# the comments of the starter config `stockplan init` writes, in the language it sets
INIT_MESSAGES: dict[str, dict[str, str]] = {
    "init.comment.title": {
        "en": "# stockplan starter config written by `stockplan init`; see config.example.yaml",
        "zh": "# stockplan 初始配置，由 `stockplan init` 生成；各项说明见 config.example.yaml",
    },
    "init.comment.missing": {
        "en": "  # {name}: FILE   <- required, not found among the exports",
        "zh": "  # {name}: 文件名   <- 必需的表，导出文件中没有找到",
    },
    "init.comment.unmapped": {
        "en": "# headers no alias recognised; to use one, map it to a canonical column:",
        "zh": "# 未能识别的表头；要使用其中一列，请把它映射到标准列名：",
    },
    "init.comment.clash": {
        "en": "# {others} also looks like {name}: this one chosen (base units over boxes, "
        "on hand over available); swap the header here if the other is meant",
        "zh": "# {others} 也像是 {name}：这里选了这一列（基本单位优先于箱，现存量优先于可用量）；"
        "如要用另一列，请把这里的表头换掉",
    },
    "init.comment.column": {"en": "COLUMN", "zh": "标准列名"},
    "init.comment.language": {
        "en": "  language: zh   # headers, reasons and messages in Chinese (en: English)",
        "zh": "  language: zh   # 表头、原因和提示用中文（en：英文）",
    },
}
MESSAGES.update(INIT_MESSAGES)


# what reading an input corrected or refused (`io.readers`, `io.columns`, `io.prepare`):
# a `{where}` is `i18n.place` (the file's own header, the canonical name in brackets); a
# field that differs by language (`{lines}`, `{fix}`) is a mapping of language -> text
READING_MESSAGES: dict[str, dict[str, str]] = {
    "note.totals_rows": {
        "en": "{where}: {rows}{what} dropped, not read as items or demand",
        "zh": "{where}：丢弃 {rows}{what}，不计入商品或需求",
    },
    "note.returns_netted": {
        "en": "{where}: returns subtracted from {target} on their rows ({rows} rows, {total} in "
        "all), netted as negative sales lines are",
        "zh": "{where}：退货已在所在行从 {target} 中扣除（{rows} 行，共 {total}），与负数销售行"
        "一样冲减",
    },
    "note.return_lines": {
        "en": "{where}: {rows} lines of type {values} with a positive quantity read as returns "
        "(quantity and revenue negative), netted from the sales",
        "zh": "{where}：{rows} 行单据类型为 {values} 且数量为正，按退货读取（数量和金额取负），"
        "从销售中冲减",
    },
    "note.scaled_column": {
        "en": "{where}: the header's unit {unit} is a scale: its values are read times {factor}",
        "zh": "{where}：表头单位 {unit} 是数量级：该列数值乘以 {factor} 读取",
    },
    "note.tiny_number": {
        "en": "{where}: '{value}' read as 0 ({count} such cells in the column): no quantity, "
        "price or time is so near 0; a rounding residue or a damaged cell",
        "zh": "{where}：'{value}' 按 0 读取（该列共 {count} 个这样的单元格）：没有哪个数量、"
        "价格或时间这么接近 0；是舍入残差或损坏的单元格",
    },
    "note.user_defined_characters": {
        "en": "{where}: '{cell}' holds a user-defined character (造字; {count} in the file), "
        "kept as GB18030 reads it: check the name if it matters",
        "zh": "{where}：'{cell}' 含用户自造字（文件中共 {count} 个），已按 GB18030 原样读取；"
        "如该名称要紧，请核对",
    },
    "note.decimal_mark": {
        "en": "{file}: numbers read with a decimal comma ({evidence}), so '{value}' ({cell}) "
        "is {reading}",
        "zh": "{file}：本文件以逗号作小数点（{evidence}），因此 '{value}'（{cell}）读作 {reading}",
    },
    "error.decimal_ambiguous": {
        "en": "{where}: '{value}' could be {whole} or {decimal}: {why}; write {whole} or {decimal}",
        "zh": "{where}：'{value}' 可能是 {whole}，也可能是 {decimal}：{why}；请写成 {whole} 或 "
        "{decimal}",
    },
    "reading.decimals_both_ways": {
        "en": "the file writes decimals both ways ({comma}; {dot})",
        "zh": "文件中两种小数写法都有（{comma}；{dot}）",
    },
    "reading.decimal_unshown": {
        "en": "nothing in the file shows its decimal mark, and {other} reads the other way round",
        "zh": "文件中没有能说明小数点的数字，而 {other} 的写法正相反",
    },
    "note.footer_rows": {
        "en": "{where}: {footers} under the data ({labels}) skipped, not read as items or demand",
        "zh": "{where}：跳过数据下方的 {footers}（{labels}），不计入商品或需求",
    },
    "warn.repeated_blocks": {
        "en": "{where}: {lines} earlier lines exactly, {id_column} included, in {blocks} of "
        "consecutive lines (an export that ran twice?); added up as written: delete the "
        "repeats if they are not real",
        "zh": "{where}：{lines}与前面的行完全相同（连 {id_column} 也相同），连续成 {blocks}"
        "（导出运行了两次？）；已按原样相加：如不是真实数据，请删除重复行",
    },
    "warn.unknown_supplier": {
        "en": "{where}: '{supplier}' is not in the suppliers table ({suppliers}): its items "
        "are planned without the lead time and minimum order value that table gives; use "
        "its spelling",
        "zh": "{where}：'{supplier}' 不在供应商档案中（{suppliers}）：其商品的计划不用该档案中的"
        "提前期和最小订货金额；请用档案中的写法",
    },
    "warn.unknown_status": {
        "en": "{where}: status '{status}' is neither an active nor an inactive word "
        "stockplan knows ({items} items with such a status{others}): planned as active; "
        "write 停用 or inactive for an item no longer ordered, 正常 or active for one that is",
        "zh": "{where}：状态 '{status}' 不是已知的在用或停用写法（共 {items} 个商品"
        "{others}）：按在用计划；不再订货的商品请写 停用，照常订货的请写 正常",
    },
    "warn.sales_only_location": {
        "en": "{where}: location {location} is in no row of the stock file{others}: it is "
        "planned as a warehouse with nothing on hand{hint}; if it is one, give its stock, "
        "else correct or map the sales' location",
        "zh": "{where}：仓库 {location} 不在库存文件的任何一行中{others}：按现存量为零的仓库计划"
        "{hint}；如确是仓库，请提供其库存，否则请更正或映射销售中的仓库",
    },
    "warn.config_unknown_locations": {
        "en": "{source}: {setting} names {names}, in no row of the stock or sales: a transfer "
        "there takes {fallback}; write the location as the stock and sales do",
        "zh": "{source}：{setting} 中的{names}不在库存或销售的任何一行中："
        "调入该仓库按 {fallback} 计；请按库存和销售中的写法填写仓库",
    },
    "warn.config_unknown_suppliers": {
        "en": "{source}: {setting} names {names}, in no row of the "
        "products, suppliers or purchase orders: the public holidays still close the supplier "
        "meant; write the supplier as those tables do",
        "zh": "{source}：{setting} 中的{names}不在商品档案、供应商档案或采购订单"
        "的任何一行中：法定节假日仍会关闭所指的供应商；请按这些表中的写法填写供应商",
    },
    "warn.config_unknown_skus": {
        "en": "{source}: {setting} names {names}, in no row of the products, stock or sales: "
        "its settings apply to no item; write the code as those tables do",
        "zh": "{source}：{setting} 中的{names}不在商品档案、库存或销售的任何一行中："
        "其设置不作用于任何商品；请按这些表中的写法填写商品编码",
    },
    "warn.did_you_mean": {
        "en": " (a typo of {location}?)",
        "zh": "（是否为 {location} 的笔误？）",
    },
    "warn.promotion_matches_nothing": {
        "en": "{where}: '{value}' matches no item{others}: the promotion lifts no forecast and "
        "keeps no day out of a baseline; use an item's code, or a category of the products "
        "table",
        "zh": "{where}：'{value}' 不对应任何商品{others}：该促销不会提高任何预测，"
        "也不会从基线中剔除促销日；请用商品编码，或商品档案中的类别",
    },
    "warn.zero_packs": {
        "en": "{where}: 0 ({items}): read as no pack size, ordered in single units; leave the "
        "cell empty, or give the real pack",
        "zh": "{where}：0（{items}）：按无箱规处理，按单件订货；请留空，或填写实际箱规",
    },
    "warn.unmatched_sales_none": {
        "en": "{sales}: none of the {total} SKUs in it is in the stock file {stock}: they are "
        "planned as if nothing were in stock; check that both files are for the same shop "
        "and spell codes alike",
        "zh": "{sales}：其中 {total} 个商品编码都不在库存文件 {stock} 中：它们按无库存来计划；"
        "请核对两个文件是否属于同一门店、编码写法是否一致",
    },
    "warn.unmatched_sales_some": {
        "en": "{sales}: {missing} of the {total} SKUs in it ({share}) are not in the stock "
        "file {stock}: they are planned as if nothing were in stock; check that both files "
        "are for the same shop and spell codes alike",
        "zh": "{sales}：其中 {total} 个商品编码有 {missing} 个（{share}）不在库存文件 {stock} "
        "中：它们按无库存来计划；请核对两个文件是否属于同一门店、编码写法是否一致",
    },
    "error.sku_spelling": {
        "en": "{where}: '{sku}' is '{other}' in {other_where}, {fix}{more}",
        "zh": "{where}：'{sku}' 在 {other_where} 中写作 '{other}'，{fix}{more}",
    },
    "reading.sku_zeros": {
        "en": "with its leading zeros: a spreadsheet read the code as a number; format the "
        "SKU column as text and enter the codes with their zeros",
        "zh": "带前导零：电子表格把编码当成了数字；请把商品编码列设为文本格式，并带前导零录入",
    },
    "reading.sku_decimals": {
        "en": "the same number: a spreadsheet held the code as a number, which drops the "
        "zeros at the end of its decimals (1.10 becomes 1.1); format the SKU column as text "
        "and enter the codes as they are written",
        "zh": "数值相同：电子表格把编码当成了数字，小数末尾的零被去掉（1.10 成了 1.1）；"
        "请把商品编码列设为文本格式，并按原样录入编码",
    },
    "reading.sku_exponent": {
        "en": "the same number: a spreadsheet reads a code in exponent form as a number "
        "(1E5 becomes 100000); format the SKU column as text and enter the codes as they "
        "are written",
        "zh": "数值相同：电子表格把指数形式的编码当成了数字（1E5 成了 100000）；"
        "请把商品编码列设为文本格式，并按原样录入编码",
    },
    "reading.sku_invisible": {
        "en": "but for an invisible character (shown escaped, copied with the code): "
        "delete it and use one spelling in every file",
        "zh": "只差一个不可见字符（以转义形式显示，随编码一起复制而来）：请删除它，并在所有"
        "文件中用同一种写法",
    },
    "reading.sku_case": {
        "en": "in other letter case: use one spelling in every file",
        "zh": "只是大小写不同：请在所有文件中用同一种写法",
    },
    "reading.sku_width": {
        "en": "in full-width characters: use one spelling in every file (half width, as "
        "ERPs export codes)",
        "zh": "只是全角与半角不同：请在所有文件中用同一种写法（半角，与系统导出的编码一致）",
    },
    "reading.this_run_risk": {
        "en": "this run's risk table",
        "zh": "本次运行的缺货风险表",
    },
    "reading.sku_more": {
        "en": " ({count} SKUs spelled two ways)",
        "zh": "（共 {count} 个编码有两种写法）",
    },
    "error.code_shortened": {
        "en": "{where}: '{code}' is a code a spreadsheet shortened to its scientific display "
        "(only its first {digits} digits are left{more}): the code is lost; format the SKU "
        "column as text in the export (or open the CSV with that column as text) and export "
        "it again",
        "zh": "{where}：'{code}' 是被电子表格显示成科学计数法的编码"
        "（只剩前 {digits} 位数字{more}），原编码已丢失；"
        "请在导出时把商品编码列设为文本（或以文本方式打开该文件的这一列）后重新导出",
    },
    "reading.more_cells": {"en": "; {count} such cells", "zh": "；共 {count} 个这样的单元格"},
    "error.code_too_long_number": {
        "en": "{where}: cell {cell} holds the number {value}, longer than the {digits} digits "
        "a spreadsheet keeps of a number: the code's last digits are lost; format the SKU "
        "column as text and enter or export the codes again",
        "zh": "{where}：单元格 {cell} 是数字 {value}，超过电子表格能保留的 {digits} 位数字，"
        "编码末尾的数字已丢失；请把商品编码列设为文本格式，重新录入或导出编码",
    },
    "error.location_spelling": {
        "en": "{where}: location '{location}' is written '{other}' in {other_where} ({how}): "
        "one warehouse spelled two ways is planned as two, its stock, sales and orders split "
        "between them; use one spelling in every file{more}",
        "zh": "{where}：仓库 '{location}' 在 {other_where} 中写作 '{other}'（{how}）：同一仓库"
        "的两种写法会被当作两个仓库来计划，库存、销售和订单被拆到两处；请在所有文件中用同一种"
        "写法{more}",
    },
    "reading.location_differ": {"en": "they differ only in {parts}", "zh": "只是{parts}不同"},
    "reading.location_case": {"en": "letter case", "zh": "大小写"},
    "reading.location_width": {"en": "full or half width", "zh": "全角半角"},
    "reading.location_separators": {
        "en": "spaces, dashes, underscores or dots",
        "zh": "空格、横线、下划线或点",
    },
    "reading.location_zeros": {"en": "leading zeros", "zh": "前导零"},
    "reading.location_invisible": {"en": "invisible characters", "zh": "不可见字符"},
    "reading.location_more": {
        "en": " ({count} locations spelled two ways)",
        "zh": "（共 {count} 个仓库有两种写法）",
    },
    "error.stock_is_sales": {
        "en": "{stock}: every row is a line of the sales file {sales} (the same date, sku, "
        "location and quantity; {rows} rows over {days} days): read as stock, a day's sales "
        "would be the stock on hand; name the stock snapshot export for {setting}",
        "zh": "{stock}：每一行都是销售文件 {sales} 中的一行（日期、商品、仓库和数量都相同；"
        "共 {rows} 行、{days} 天）：当作库存读取，某一天的销量会被当成现存量；请把库存快照"
        "导出文件设为 {setting}",
    },
    "error.stock_after_today": {
        "en": "{where}: snapshot date {date} is after today ({today}; {count} rows are dated "
        "after it): it would be taken as the current stock; correct the date, or set {setting}",
        "zh": "{where}：库存快照日期 {date} 晚于今天（{today}；共 {count} 行晚于今天）："
        "它会被当作当前库存；请更正日期，或设置 {setting}",
    },
    "error.stock_all_after_as_of": {
        "en": "{where}: every stock row is dated after {setting} {as_of} (the first {date}): "
        "the plan would start with nothing in stock; set {setting} to the snapshot's day or "
        "later, or correct the dates",
        "zh": "{where}：所有库存行的日期都晚于计划日期 {setting} {as_of}（第一行为 {date}）："
        "计划会从零库存开始；请把 {setting} 设为快照当天或之后，或更正日期",
    },
    "warn.stock_after_as_of": {
        "en": "{where}: {count} rows are dated after {setting} {as_of} (up to {latest}) and "
        "ignored: the current stock is each item's latest snapshot on or before it; check the "
        "year",
        "zh": "{where}：{count} 行库存的日期晚于计划日期 {setting} {as_of}（至 {latest}），"
        "已忽略：当前库存取每个商品在该日或之前的最近一次快照；请检查年份",
    },
    "warn.orders_after_as_of": {
        "en": "{where}: the purchase orders as they stood on {setting} {as_of}: left out, "
        "{later} lines ordered after it; on order, {reopened} lines received after it (no "
        "receipt for lead times or supplier scores)",
        "zh": "{where}：采购单按计划日期 {setting} {as_of} 当天的状态计算：在该日之后下单的 "
        "{later} 行已忽略；在该日之后入库的 {reopened} 行算作在途（不计入提前期和供应商评分）",
    },
    "error.blank_location": {
        "en": "{where}: empty location while other rows name one ({named}; {blank} empty): "
        "fill in the warehouse; an empty cell is not planned as a warehouse of its own",
        "zh": "{where}：仓库为空，而其他行填了仓库（{named}；{blank} 行为空）：请填写仓库；"
        "空单元格不会当作一个单独的仓库来计划",
    },
}
MESSAGES.update(READING_MESSAGES)


# English nouns a count comes before, as the catalogue writes them (plural), and their
# singular: a count of 1 takes the singular (`counted`); Chinese has no plural
_SINGULAR = {
    "arguments": "argument",
    "bytes": "byte",
    "cells": "cell",
    "characters": "character",
    "columns": "column",
    "days": "day",
    "fields": "field",
    "items": "item",
    "levels": "level",
    "lines": "line",
    "locations": "location",
    "orders": "order",
    "origins": "origin",
    "partitions": "partition",
    "points": "point",
    "rows": "row",
    "SKUs": "SKU",
    "units": "unit",
    "values": "value",
    "workbooks": "workbook",
}
_SINGULAR_VERB = {"are": "is", "differ": "differs", "do": "does", "have": "has", "were": "was"}
"""A verb right after a counted noun, and its form after the singular."""
_BETWEEN = r" (?:order |open |more )?"
"""What may stand between a count and its noun: "{n} order lines", "{n} open days"."""
_COUNTED = re.compile(
    rf"(?P<count>\{{(?P<field>\w+)(?:[:!][^{{}}]*)?\}})(?P<between>{_BETWEEN})"
    rf"(?P<noun>{'|'.join(_SINGULAR)})\b(?: (?P<verb>{'|'.join(_SINGULAR_VERB)})\b)?"
)
_COUNTED_TAIL = re.compile(
    rf"^(?P<between>{_BETWEEN})(?P<noun>{'|'.join(_SINGULAR)})\b"
    rf"(?: (?P<verb>{'|'.join(_SINGULAR_VERB)})\b)?"
)
"""A counted noun (and its verb) right after a field of a template (`_pattern`)."""


def _literal(part: str, after_field: bool) -> str:
    """A template's text between fields as a regex; right after a field a counted noun
    and its verb match in the singular too (`counted`: "1 line holding excess")."""
    found = _COUNTED_TAIL.match(part) if after_field else None
    if found is None:
        return re.escape(part)
    noun, verb = found["noun"], found["verb"]
    either = f"(?:{re.escape(noun)}|{re.escape(_SINGULAR[noun])})"
    if verb:
        either += f" (?:{verb}|{_SINGULAR_VERB[verb]})"
    return re.escape(found["between"]) + either + re.escape(part[found.end() :])


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        _literal(part, i > 0) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


_REASON_PATTERNS = [(_pattern(en), en) for en, _ in _REASON_TEMPLATES]
_WITH_BACKUP = re.compile(r"^(?P<head>.+?) with the (?P<tail>backup supplier .+)$")


_YUAN = {"CNY", "RMB"}
"""Currency codes a Chinese text writes as 元."""


def currency_word(currency: str | None, lang: str = "en") -> str:
    """The unit money is written with: 元 for CNY (and RMB) in Chinese, else the configured
    code as it is (`CNY`, `USD`); empty when unknown."""
    if not currency:
        return ""
    return "元" if lang == "zh" and currency.upper() in _YUAN else currency


def money(amount: float | None, currency: str | None, lang: str = "en") -> str:
    """An amount for a text: 2 decimals and thousands separators as in the sheets, with its
    unit (`47,462.40 元`, `47,462.40 CNY`); `missing` (n/a, 缺失) when unknown."""
    if amount is None:
        return message("missing", lang)
    unit = currency_word(currency, lang)
    return f"{amount:,.2f} {unit}".rstrip()


def counted(template: str, fields: dict[str, object]) -> str:
    """An English `template` whose counts of 1 say their noun in the singular: "{count}
    items" gives "1 item" and "2 items" ("{lines} order lines": "1 order line", "{count}
    cells differ": "1 cell differs"); a count is the field right before the noun, as it
    is written (its format spec applied)."""

    def one(found: re.Match[str]) -> str:
        value = fields.get(found["field"])
        if isinstance(value, bool) or found["count"].format(**fields) != "1":
            return found[0]
        verb = f" {_SINGULAR_VERB[found['verb']]}" if found["verb"] else ""
        return f"{found['count']}{found['between']}{_SINGULAR[found['noun']]}{verb}"

    return _COUNTED.sub(one, template)


def counted_text(template: str, **fields: object) -> str:
    """An English text built outside the catalogue, `template` filled in with `fields`,
    a count of 1 with its noun in the singular (`counted`): "on {lines} lines" gives
    "on 1 line"."""
    return counted(template, fields).format(**fields)


def counted_format(template: str, **fields: pl.Expr) -> pl.Expr:
    """`pl.format` of the English `template` with named `fields` (expressions), row by
    row with a count of 1 and its noun in the singular (`counted`): "{n} lines holding
    excess" gives "1 line holding excess" where n is written 1 (a float 1.0 is written
    1.0 and stays plural, as in `counted`)."""
    import polars as pl

    names = re.findall(r"\{(\w+)\}", template)
    counts = list(dict.fromkeys(m["field"] for m in _COUNTED.finditer(template)))

    def filled(text: str, done: int) -> pl.Expr:
        if done == len(counts):
            return pl.format(re.sub(r"\{\w+\}", "{}", text), *[fields[n] for n in names])
        field = counts[done]
        one = counted(text, {c: 1 if c == field else 2 for c in counts})
        return (
            pl.when(fields[field].cast(pl.String) == "1")
            .then(filled(one, done + 1))
            .otherwise(filled(text, done + 1))
        )

    return filled(template, 0)


def message(key: str, lang: str = "en", **fields: object) -> str:
    """The catalogue text `key` in `lang` with `fields` filled in (in English, a count of
    1 with its noun in the singular: `counted`)."""
    entry = MESSAGES[key]
    template = entry.get(lang)
    if template is None or lang == "en":
        template = counted(entry["en"], fields)
    return template.format(**fields)


def header(column: str, lang: str = "en", bucket: str | None = None) -> str:
    """The header of canonical `column` in `lang` (the canonical name when unknown); with
    the planning `bucket` (day, week, month) a per-bucket column says it (BUCKET_HEADERS)."""
    if bucket in BUCKET_UNITS and column in BUCKET_HEADERS:
        unit = BUCKET_UNITS[bucket]
        return (
            BUCKET_HEADERS[column]
            .get(lang, BUCKET_HEADERS[column]["en"])
            .format(unit=unit.get(lang, unit["en"]))
        )
    entry = HEADERS.get(column)
    return entry.get(lang, column) if entry else column


def headers(columns: list[str], lang: str = "en", bucket: str | None = None) -> dict[str, str]:
    """canonical -> rendered header for `columns`, unique (a clash keeps the canonical)."""
    rendered: dict[str, str] = {}
    for column in columns:
        label = header(column, lang, bucket)
        rendered[column] = column if label in rendered.values() else label
    return rendered


# the input tables (`config.Inputs`) as messages name them; in Chinese the config key follows
_INPUT_TABLES_ZH = {
    "sales": "销售",
    "stock": "库存",
    "products": "商品档案",
    "suppliers": "供应商档案",
    "purchase_orders": "采购单",
    "customer_orders": "客户订单",
    "promotions": "促销",
    "bom": "套件清单",
    "succession": "替代关系",
    "overrides": "预测调整",
    "closures": "停工日历",
    "price_breaks": "价格阶梯",
}


def input_name(table: str, lang: str = "en") -> str:
    """An input table's name for a message: `sales`, in Chinese `销售（sales）`."""
    if lang != "zh" or table not in _INPUT_TABLES_ZH:
        return table
    return f"{_INPUT_TABLES_ZH[table]}（{table}）"


def table_title(table: str, lang: str = "en") -> str:
    entry = TABLES.get(table)
    return entry.get(lang, table) if entry else table


def value(column: str, text: str | None, lang: str = "en") -> str | None:
    """A word value of `column` (risk level, demand pattern, ...) in `lang`."""
    if text is None:
        return None
    entry = VALUES.get(column, {}).get(text)
    if entry is not None:
        return entry.get(lang, text)
    if lang == "zh" and column == "filled_from" and text.startswith("purchase order "):
        return "采购单 " + text.removeprefix("purchase order ")
    if lang == "zh" and column == "filled_from" and text.startswith("transfer from "):
        return "调拨自 " + text.removeprefix("transfer from ")
    if lang == "zh" and column == "policy" and (rule := _RULE_OF_THUMB.match(text)):
        return f"经验法则：低于 {rule[1]} 周用量时补货，补至 {rule[2]} 周用量"
    return text


# a `simulate` baseline's name (`replay.py`): the rule of thumb at one scale
_RULE_OF_THUMB = re.compile(r"^baseline: reorder at ([\d.]+) weeks, up to ([\d.]+) weeks$")


def _render_clause(clause: str, lang: str, unit: str = "") -> str:
    backup = _WITH_BACKUP.match(clause)
    if backup and lang == "zh":
        head = _render_clause(backup["head"], lang, unit)
        return f"{head}（{_render_clause(backup['tail'], lang, unit)}）"
    for pattern, en in _REASON_PATTERNS:
        found = pattern.match(clause)
        if found:
            return REASONS[en].get(lang, en).format(**found.groupdict(), u=unit)
    return clause


def _unknown_parts(clause: str) -> list[str]:
    """The parts of one clause (a backup supplier's tail is a part of its own) that no
    `REASONS` template matches."""
    backup = _WITH_BACKUP.match(clause)
    parts = [backup["head"], backup["tail"]] if backup else [clause]
    return [p for p in parts if not any(rx.match(p) for rx, _ in _REASON_PATTERNS)]


_MOST_PIECES = 40
"""Pieces of a reason between `; ` that `clauses` searches for names holding the separator
(a plan's longest reasons have about ten clauses)."""


def clauses(reason: str) -> list[str]:
    """The clauses of a canonical reason. They are joined by `; `, but a name inside a
    clause (a location, a supplier, an item) may hold `; ` too: of the ways to cut the
    reason at its separators, the one that leaves the fewest pieces no template matches
    wins, then the one with the most pieces. So `WH; GZ is below its reorder point
    (1 < 2); ...` keeps `WH; GZ` whole, and a reason whose pieces all match (every
    reason without such a name) is cut at every separator, as written. The search weighs
    every span of pieces: beyond `_MOST_PIECES` (names full of `; `) it is not made."""
    pieces = reason.split("; ")
    if not 1 < len(pieces) <= _MOST_PIECES or not any(_unknown_parts(p) for p in pieces):
        return pieces
    # best[j]: (unmatched, -clauses, clauses) for the first j pieces
    best: list[tuple[int, int, list[str]]] = [(0, 0, [])]
    for j in range(1, len(pieces) + 1):
        options = []
        for i in range(j):
            clause = "; ".join(pieces[i:j])
            unmatched, count, cut = best[i]
            options.append((unmatched + bool(_unknown_parts(clause)), count - 1, [*cut, clause]))
        best.append(min(options, key=lambda option: option[:2]))
    return best[-1][2]


def reason_templates(reason: str | None) -> set[str]:
    """The catalogue templates (English, as in `REASONS`) that the clauses of a canonical
    reason were written from; a clause no template matches adds none. Cut as `clauses`
    cuts (a name holding `; ` stays whole), a backup supplier's tail on its own."""
    found: set[str] = set()
    for clause in clauses(reason or ""):
        backup = _WITH_BACKUP.match(clause)
        for part in [backup["head"], backup["tail"]] if backup else [clause]:
            found.update(en for rx, en in _REASON_PATTERNS if rx.match(part))
    return found


def unknown_clauses(reason: str) -> list[str]:
    """The clauses of a canonical reason that no `REASONS` template matches."""
    return [part for clause in clauses(reason) for part in _unknown_parts(clause)]


REASON_COLUMNS = ("reason", "service_note", "old_reason", "new_reason", "load_note")
"""Columns of `; `-separated reason clauses (`render_reason`)."""


def render_reason(reason: str | None, lang: str = "en", currency: str | None = None) -> str | None:
    """A canonical reason in `lang`, clause by clause; unknown clauses stay as they are.
    An empty text (most rows' `service_note`) is returned as it is, unmatched. Amounts of
    money get their unit (`{u}` in a template: ` 元` for CNY) when `currency` is given."""
    if not reason or lang == "en":
        return reason
    separator = "；" if lang == "zh" else "; "
    word = currency_word(currency, lang)
    unit = f" {word}" if word else ""
    return separator.join(_render_clause(c, lang, unit) for c in clauses(reason))


_INHERITED = re.compile(r" x ([0-9][0-9.]*) from (\d{4}-\d{2}-\d{2})")
"""One predecessor in `inherits_from` (`succession.item_links`): `OLD x SHARE from DATE`."""


def render_inheritance(links: str | None, lang: str = "en") -> str | None:
    """`inherits_from` (`A-100 x 1 from 2025-11-24, B-7 x 0.5 from ...`) in `lang`: each
    predecessor's share and switch date in words, its code as written ("A-100 × 1（2025-11-24
    起）")."""
    if not links or lang == "en":
        return links
    return _INHERITED.sub(lambda m: f" × {m[1]}（{m[2]} 起）", links)


# the plan diff's cause labels (`diff.CAUSE_LABELS`)
_CAUSE_WORDS: dict[str, dict[str, str]] = {
    "config": {"zh": "配置"},
    "demand": {"zh": "需求"},
    "lead time": {"zh": "提前期"},
    "safety stock": {"zh": "安全库存"},
    "on hand": {"zh": "现存量"},
    "on order": {"zh": "在途量"},
    "backorders": {"zh": "欠货量"},
    "allocated/transfers": {"zh": "分配/调拨"},
    "constraints": {"zh": "约束"},
}


def render_causes(causes: str | None, lang: str = "en") -> str | None:
    """A plan diff's `causes` (`demand +42; lead time -3`) in `lang`: each cause's label
    rendered, its number kept; an unknown label stays as it is."""
    if not causes or lang == "en":
        return causes
    words = {label: entry[lang] for label, entry in _CAUSE_WORDS.items() if lang in entry}
    return _relabel_causes(causes, words, "；" if lang == "zh" else "; ")


def _relabel_causes(causes: str, words: dict[str, str], separator: str) -> str:
    """`causes` (`label number` parts, `; ` or `；` between them) with each label found in
    `words` replaced by its word, the numbers and unknown labels kept."""
    parts = []
    for part in causes.replace("；", "; ").split("; "):
        label, _, number = part.rpartition(" ")
        parts.append(f"{words[label]} {number}" if label in words else part)
    return separator.join(parts)


# user-facing error texts: fixed phrases rendered in Chinese, the rest (file names, values,
# the detail of a problem) left as written
_ERROR_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\brow (\d+)\b"), r"第 \1 行"),
    (re.compile(r"^(.*?), line (\d+): "), r"\1，第 \2 行："),
    (re.compile(r"\brows ((?:\d+(?:-\d+)?, )*\d+(?:-\d+)?(?:, \.\.\.)?)"), r"第 \1 行"),
    (re.compile(r"\bcolumn '([^']*)'"), r"列 '\1'"),
    (
        re.compile(
            r"config file not found \(write one from your exports with `stockplan init "
            r"FOLDER`, or plan the sample with -c config\.example\.yaml\)"
        ),
        "找不到配置文件（可用 `stockplan init 文件夹` 由导出文件生成，或用 -c config.example.yaml "
        "试算示例数据）",
    ),
    (re.compile(r"config file not found"), "找不到配置文件"),
    (re.compile(r"cannot read config"), "无法读取配置文件"),
    (
        re.compile(
            r"duplicate key '([^']*)' \(first on line (\d+)\): YAML keeps only the last one; "
            r"write each key once"
        ),
        r"配置项 '\1' 重复（第一次在第 \2 行）：YAML 只保留最后一个；每个配置项只写一次",
    ),
    (re.compile(r"\binvalid YAML\b"), "YAML 格式错误"),
    (re.compile(r"unknown key '([^']*)'"), r"未知配置项 '\1'"),
    (re.compile(r"missing key '([^']*)'"), r"缺少配置项 '\1'"),
    (re.compile(r"^(.*?): key '([^']*)': "), r"\1：配置项 '\2'："),
    (re.compile(r"expected a YAML mapping of sections at the top level"), "顶层应为 YAML 映射"),
    (re.compile(r": file not found$"), "：找不到文件"),
    (re.compile(r": file is empty$"), "：文件为空"),
    (re.compile(r": the sheet is empty$"), "：工作表为空"),
    (re.compile(r": has a header but no data rows$"), "：只有表头，没有数据行"),
    (re.compile(r": is a directory, expected a file$"), "：是文件夹，应为文件"),
    (
        re.compile(r": is a binary file, not CSV text \(wrong file or extension\?\)$"),
        "：是二进制文件，不是 CSV 文本（文件或扩展名有误？）",
    ),
    (re.compile(r": cannot decode as "), "：无法按此编码解码 "),
    (re.compile(r": cannot parse as CSV"), "：无法解析为 CSV"),
    (re.compile(r": cannot read as an Excel workbook"), "：无法作为 Excel 工作簿读取"),
    (re.compile(r": cannot read as Parquet"), "：无法作为 Parquet 读取"),
    (re.compile(r": needs one of the columns "), "：需要以下列之一："),
    (re.compile(r": the header '([^']*)' appears twice$"), r"：表头 '\1' 出现了两次"),
    (re.compile(r"' is not a number$"), "' 不是数字"),
    (re.compile(r"' is not a date I can read$"), "' 不是可识别的日期"),
    (re.compile(r"' is not a finite number$"), "' 不是有限数字"),
    (re.compile(r"' is implausibly large$"), "' 数值大得不合理"),
    (re.compile(r"' must not be negative$"), "' 不能为负数"),
    (
        re.compile(r"' is longer than the ([\d,]+) characters a spreadsheet cell holds$"),
        r"' 超过电子表格单元格可容纳的 \1 个字符",
    ),
    (
        re.compile(
            r"' is longer than ([\d,]+) characters: a notice or reason quoting it would not "
            r"fit the ([\d,]+) characters a spreadsheet cell holds$"
        ),
        r"' 超过 \1 个字符：引用它的通知或原因放不进电子表格单元格（最多 \2 个字符）",
    ),
    (re.compile(r": no CSV, Excel or Parquet files found$"), "：未找到 CSV、Excel 或 Parquet 文件"),
    (re.compile(r": not a folder$"), "：不是文件夹"),
    (re.compile(r": already exists \(use --force to replace it\)$"), "：已存在（用 --force 覆盖）"),
    (re.compile(r": output folder (.+) does not exist$"), r"：输出文件夹 \1 不存在"),
    (re.compile(r"^cannot write (output: )?"), "无法写入："),
    # warnings about what was corrected on reading
    (
        re.compile(
            r": (\d+) totals rows? \(sum of the rows above\) dropped, not read as items or demand$"
        ),
        r"：丢弃 \1 行合计行（等于上方各行之和），不计入商品或需求",
    ),
    (
        re.compile(r": (\d+) totals rows? \((.*)\) dropped, not read as items or demand$"),
        r"：丢弃 \1 行合计行（\2），不计入商品或需求",
    ),
    (
        re.compile(
            r": reading sheet '(.*)', the first visible one \(hidden: (.*)\); "
            r"set `sheet:` to choose another$"
        ),
        r"：读取工作表 '\1'（第一个可见的；隐藏的：\2）；用 `sheet:` 指定其他工作表",
    ),
    (
        re.compile(r"' is not in the products table \((\d+) unknown SKUs? in (\w+)\)"),
        r"' 不在商品档案中（\2 中共 \1 个未知商品）",
    ),
    (
        re.compile(r": sales on or after planning\.as_of (\S+) \(up to (\S+)\) are ignored$"),
        r"：计划日期 \1 当天及之后的销售（至 \2）已忽略",
    ),
    (
        re.compile(r": is text saved with an \.xls name; read as delimited text$"),
        "：是以 .xls 命名的文本文件，按分隔文本读取",
    ),
    (
        re.compile(
            r": is read as a Parquet dataset \(a folder or glob of \.parquet files\), but it "
            r"holds (.+); give a file, or a folder of \.parquet files only$"
        ),
        r"：被当作 Parquet 数据集读取（.parquet 文件的文件夹或通配符），但其中有 \1；"
        r"请给出一个文件，或只含 .parquet 文件的文件夹",
    ),
    (
        re.compile(
            r": 0 is not a container size \(leave the cell empty for a supplier without "
            r"containers\)$"
        ),
        "：0 不是有效的货柜容量（供应商不用货柜时请留空）",
    ),
    # dates and promotions out of range (`io.prepare`)
    (re.compile(r": (\S+) is before '(\w+)' (\S+)$"), r"：\1 早于 '\2' \3"),
    (
        re.compile(
            r": (\S+) is after today \((\S+); (\d+) such lines?\): the plan would be made "
            r"as of the day after it; correct the date, or set planning\.as_of$"
        ),
        r"：\1 晚于今天（\2；共 \3 行）：计划日期会被定为它的次日；"
        r"请更正日期，或设置 planning.as_of",
    ),
    (
        re.compile(
            r": the last sale is (\S+), (\d+) days before the planning date (\S+): every "
            r"item looks dead \(no sale in (\d+) days\)$"
        ),
        r"：最后一笔销售在 \1，比计划日期 \3 早 \2 天：所有商品都像呆滞品（\4 天无销售）",
    ),
    (
        re.compile(
            r": (\S+) is not a lift: the promotion's demand is forecast x \(1 \+ uplift\), so "
            r"it must be above -1 \(e\.g\. 0\.3 for \+30 %\)$"
        ),
        r"：\1 不是有效的提升：促销期需求 = 预测 ×（1 + 提升），"
        r"提升必须大于 -1（例如 0.3 表示 +30 %）",
    ),
    (
        re.compile(
            r": (\S+) multiplies the promotion's forecast by (\S+); if it is a percentage, "
            r"write (\S+)$"
        ),
        r"：\1 会把促销期预测乘以 \2；如果这是百分数，请写 \3",
    ),
    (
        re.compile(
            r": closed (\d+) days \((\S+) to (\S+)\): the orders to this supplier wait for "
            r"the end of it; check the year$"
        ),
        r"：停工 \1 天（\2 至 \3）：向该供应商的订货都要等到停工结束；请检查年份",
    ),
    (
        re.compile(
            r": ([\d,.]+) (m³|kg) is more than any container or truck carries \(a 40-foot high "
            r"cube: 76 m³, about 26,500 kg\); check the unit$"
        ),
        r"：\1 \2 超过任何货柜或货车的装载量（40 尺高柜：76 m³，约 26,500 kg）；请检查单位",
    ),
    (
        re.compile(r": (\S+) multiplies the forecast by \S+; if \+(\S+) % is meant, write (\S+)$"),
        r"：\1 会把预测乘以 \1；如果指 +\2 %，请写 \3",
    ),
    (
        re.compile(
            r": ([\d,.]+) from (\S+) to (\S+) is more than '(.*)' sold in the whole sales "
            r"file \((-?[\d,.]+)\); the plan orders for it \((\d+) such rows\)$"
        ),
        r"：\2 至 \3 调整为 \1，超过 '\4' 在整个销售文件中的销量（\5）；计划会按此订货"
        r"（共 \6 行）",
    ),
    (
        re.compile(
            r": ([\d,.]+) from (\S+) to (\S+) is more than '(.*)' sold in the whole sales "
            r"file \((-?[\d,.]+)\); the plan orders for it$"
        ),
        r"：\2 至 \3 调整为 \1，超过 '\4' 在整个销售文件中的销量（\5）；计划会按此订货",
    ),
    (
        re.compile(
            r": a formula without a saved value \(cell (\w+); (\d+) such cells\): the "
            r"program that wrote the file did not calculate it, so it reads as empty; open and "
            r"save the file in Excel or WPS, or paste the values$"
        ),
        r"：公式没有保存计算结果（单元格 \1，共 \2 处）：写出该文件的程序没有计算公式，读出为空；"
        r"请用 Excel 或 WPS 打开并保存该文件，或粘贴为数值",
    ),
    (
        re.compile(
            r": a formula without a saved value \(cell (\w+)\): the "
            r"program that wrote the file did not calculate it, so it reads as empty; open and "
            r"save the file in Excel or WPS, or paste the values$"
        ),
        r"：公式没有保存计算结果（单元格 \1）：写出该文件的程序没有计算公式，读出为空；"
        r"请用 Excel 或 WPS 打开并保存该文件，或粘贴为数值",
    ),
    (
        re.compile(
            r": the Excel error (.+) \(cell (\w+); (\d+) such cells\) reads as empty; "
            r"correct the formula or the cell$"
        ),
        r"：Excel 错误值 \1（单元格 \2，共 \3 处）读出为空；请更正公式或单元格",
    ),
    (
        re.compile(
            r": the Excel error (.+) \(cell (\w+)\) reads as empty; correct the formula or the "
            r"cell$"
        ),
        r"：Excel 错误值 \1（单元格 \2）读出为空；请更正公式或单元格",
    ),
    (
        re.compile(
            r", 列 '(unit_cost|unit_price)': 0 \((\d+) (?:item|row)s?\): their orders are "
            r"valued at 0; leave the cell empty where the cost is unknown$"
        ),
        r", 列 '\1': 0（\2 行）：其采购金额按 0 计；成本未知时请留空",
    ),
    # what `verify` found (`runrecord.changed_inputs`, `reproduce.compare_table`)
    (
        re.compile(
            r": no run record \(`stockplan plan -o` writes one into a workbook or a folder, and "
            r"beside a single table file as FILE\.run\.json\)$"
        ),
        "：没有运行记录（`stockplan plan -o` 会把运行记录写进工作簿或文件夹，"
        "单个表格文件则写在旁边的 FILE.run.json）",
    ),
    (re.compile(r": (.+) is gone$"), r"：\1 已不存在"),
    (
        re.compile(r" changed \(SHA-256 differs; (\d+) bytes? then, (\d+) now\)$"),
        r" 已改变（SHA-256 不同；当时 \1 字节，现在 \2 字节）",
    ),
    (
        re.compile(r"(\(|; )([^;:()]*): ([^;]*?) in the plan, ([^;]*?) re-run(?=; |\)$)"),
        r"\1\2：计划中 \3，重算 \4",
    ),
    (re.compile(r": (\d+) cells? differs? \((.*)\)$"), r"：\1 个单元格不一致（\2）"),
    (re.compile(r": (\d+) rows? in the plan, (\d+) in the re-run$"), r"：计划中 \1 行，重算 \2 行"),
    (re.compile(r": (\d+) rows? only in the plan \((.*)\)$"), r"：\1 行只在计划中（\2）"),
    (re.compile(r": (\d+) rows? only in the re-run \((.*)\)$"), r"：\1 行只在重算中（\2）"),
    (re.compile(r": the columns differ \("), "：列不一致（"),
    (re.compile(r"missing in the re-run: "), "重算中缺少："),
    (re.compile(r"new in the re-run: "), "重算中新增："),
    (re.compile(r"\(in another order\)$"), "（顺序不同）"),
    (re.compile(r": the re-run does not produce this table$"), "：重算没有产生这张表"),
]


# progress lines of the pipeline stages
_STAGE_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^building demand history$"), "构建需求历史"),
    (re.compile(r"^forecasting (\d+) series$"), r"预测 \1 个商品×仓库"),
    (re.compile(r"^forecasting series$"), "预测各商品×仓库"),
    (re.compile(r"^bootstrapping lead-time demand$"), "按历史抽样估计提前期需求"),
    (re.compile(r"^computing safety stock and orders$"), "计算安全库存和采购量"),
    (
        re.compile(r"^computing safety stock, orders and stockout risk$"),
        "计算安全库存、采购量和缺货风险",
    ),
    (
        re.compile(r"^planning (\d+) series in (\d+) partitions? on (.+)$"),
        r"在 \3 上分 \2 个分区计划 \1 个商品×仓库",
    ),
    (re.compile(r"^reading (.+) in (\d+) partitions? on (.+)$"), r"在 \3 上分 \2 个分区读取 \1"),
    (re.compile(r"^rebalancing between locations$"), "仓库间调拨平衡"),
    (re.compile(r"^assessing stockout risk$"), "评估缺货风险"),
    (
        re.compile(r"^switching (\d+) orders? to a faster backup supplier$"),
        r"\1 条采购改用更快的备用供应商",
    ),
    (re.compile(r"^refitting forecasts as of (.+)$"), r"按 \1 重新拟合预测"),
    (re.compile(r"^refitting forecasts at (\d+) origins?$"), r"在 \1 个时点重新拟合预测"),
]


def render_stage(text: str, lang: str = "en") -> str:
    """A pipeline stage's progress line in `lang` (unknown lines stay as they are)."""
    if lang == "en":
        return text
    for pattern, replacement in _STAGE_PHRASES:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def _service_note_zh(found: re.Match[str]) -> str:
    patterns = re.sub(
        r"[a-z]+(?= [\d,]+)", lambda m: value("demand_pattern", m[0], "zh") or m[0], found[2]
    ).replace("unclassified", "未分类")
    return (
        f"服务水平：{found[1]} 个商品的可承诺服务水平低于目标（{patterns}；例如 {found[3]}）："
        "受覆盖天数上限限制，或高于其需求模式回测达到的水平；可承诺服务水平和服务水平说明列"
        "给出原因和各自能承诺的水平"
    )


_NOTE_UNIT = "〔u〕"
"""Where a note's Chinese puts the unit of an amount (`render_note`)."""


def _unknown_cost_zh(found: re.Match[str]) -> str:
    """The note on suppliers whose minimum was not checked (`supplier_rules.unknown_cost_note`)."""
    items = re.sub(
        r" \(minimum ([\d,.]+), (\d+) of (\d+) lines? without a cost\)(, )?",
        lambda m: (
            f"（起订金额 {m[1]}{_NOTE_UNIT}，{m[3]} 行中 {m[2]} 行缺成本）{'、' if m[4] else ''}"
        ),
        found[2],
    )
    more = f" 等（另有 {found[4]} 个）" if found[4] else ""
    return (
        f"供应商：{found[1]} 个供应商的采购行缺单位成本，未核对起订金额，订单按计划保留："
        f"{items}{more}；请在商品档案或库存表中补充单位成本（unit_cost）"
    )


# the plan's notes for the buyer (`PlanResult.notes`)
_NOTE_PHRASES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (
        re.compile(
            r"^budget ([\d,.]+): orders ([\d,.]+) on (\d+) lines?, ([\d,.]+) asked; (\d+) "
            r"lines? cut, (\d+) not funded \(the reason column says why\)"
        ),
        r"预算 \1〔u〕：订单合计 \2〔u〕，共 \3 行，申请 \4〔u〕；\5 行被削减，\6 行未获预算"
        r"（原因列有说明）",
    ),
    (
        re.compile(
            r"（原因列有说明）; ([\d,.]+) on (\d+) lines? \((\d+) of them from no order\) added "
            r"after the budget by top ups, brought-forward orders or full loads"
        ),
        r"（原因列有说明）；预算之后补足、提前订货或整柜在 \2 行上增加 \1〔u〕"
        r"（其中 \3 行原本不订货）",
    ),
    (
        re.compile(
            r"）; ([\d,.]+) above the budget \(top ups, brought-forward orders, full "
            r"loads or price breaks the cut lost: purchasing\.minimum_order_value\)"
            r"(?=; .* deferred below their minimum order value|$)"
        ),
        r"）；超出预算 \1〔u〕（补足、提前订货、整柜或削减后失去的价格折扣："
        r"purchasing.minimum_order_value）",
    ),
    (
        re.compile(
            r"; (.*) deferred below their minimum order value, the budget they held funded "
            r"other lines$"
        ),
        r"；\1 未达起订金额，推迟下单，其占用的预算改为资助其他行",
    ),
    (
        re.compile(
            r"^suppliers: minimum order value not checked for (\d+) suppliers? whose order lines "
            r"lack a unit cost, their orders kept as planned: (.*?)( and (\d+) more)?; add "
            r"unit_cost to products or stock$"
        ),
        _unknown_cost_zh,
    ),
    (re.compile(r" and (\d+) more$"), r" 等（另有 \1 个）"),
    (
        re.compile(
            r"^containers: (\d+) suppliers? with full loads stays? at a part load no line can "
            r"fill \((.*)\); load_note in supplier_orders says why$"
        ),
        r"整柜：\1 个要求整柜的供应商仍有凑不满的非整柜（\2）；原因见供应商订单的整柜说明",
    ),
    (
        re.compile(
            r"^stock: (\d+) items? (?:are|is) missing from their location's newest snapshot, "
            r"taken as "
            r"0 on hand: "
        ),
        r"库存：\1 个商品不在所在仓库最新的库存快照中，按现存量 0 计：",
    ),
    (
        re.compile(
            r"^stock: (\d+) items? (?:are|is) missing from their location's newest snapshot, "
            r"kept at "
            r"their last seen quantity \(planning\.missing_from_latest_snapshot\): "
        ),
        r"库存：\1 个商品不在所在仓库最新的库存快照中，沿用最后一次的数量"
        r"（planning.missing_from_latest_snapshot）：",
    ),
    (
        re.compile(
            r"^products: max_order below the moq in whole packs leaves (\d+) lines? with a need "
            r"unordered \((.*)\); fix the product master$"
        ),
        r"商品档案：最大订货量低于按整包计的最小起订量，\1 行有需求却无法下单（\2）；"
        r"请修正商品档案",
    ),
    (
        re.compile(
            r"^service: ([\d,]+) items? (?:are|is) promised less than their service target "
            r"\((.*); "
            r"e\.g\. (.*)\): at the cover cap, or above what their demand pattern's backtest "
            r"reached; promised_service and service_note say which and what each can promise$"
        ),
        _service_note_zh,
    ),
    (
        re.compile(
            r"^(sales|customer_orders): (\d+) lines? each larger than a year of the item's "
            r"(?:other )?sales \(largest: (.+?), ([\d,]+)(?: on (\S+))?, against ([\d,]+)\); "
        ),
        lambda m: (
            f"{input_name(m[1], 'zh')}：{m[2]} 行各自超过该商品一年的"
            f"{'其他' if m[1] == 'sales' else ''}销量（最大：{m[3]}，{m[4]}"
            f"{'，' + m[5] if m[5] else ''}，一年仅 {m[6]}）；"
        ),
    ),
    (
        re.compile(
            r"the stock target covers them \(policy\.large_orders: cover\): check them, or set "
            r"policy\.large_orders: make_to_order$"
        ),
        "备货目标会覆盖它们（policy.large_orders: cover）：请核对，或设 "
        "policy.large_orders: make_to_order",
    ),
    (
        re.compile(r"the plan orders or moves stock for them: check them$"),
        "计划会为它们下单或调拨：请核对",
    ),
    (
        re.compile(
            r"^the per-series tables of (\d+) series were written by the workers as part files "
            r"\((.*) in the output folder\)$"
        ),
        r"\1 个商品×仓库的明细表由各工作进程写成分块文件（输出文件夹中的 \2）",
    ),
    (
        re.compile(r"^transfers: none, transfers\.enabled is off$"),
        "调拨：无，transfers.enabled 已关闭",
    ),
    (
        re.compile(r"^transfers: none, all stock is at one location$"),
        "调拨：无，全部库存在同一仓库",
    ),
    (
        re.compile(
            r"^transfers: none, no location holds stock above its order-up-to level while "
            r"another is below its reorder point$"
        ),
        "调拨：无，没有仓库的库存高于补货上限而另一仓库低于再订货点",
    ),
    (
        re.compile(
            r"^transfers: (\d+) short item-location\(s\) sent none, a transfer would arrive "
            r"after a new order \(transfers\.transit_days, transit_days_to, "
            r"transit_days_between\), so they order instead, e\.g\. "
            r"(.+) at (.+): transfer (\S+), order (\S+)$"
        ),
        r"调拨：\1 个缺货的商品×仓库未安排调拨，调拨到货晚于新采购单到货"
        r"（transfers.transit_days、transit_days_to、transit_days_between），改为采购，"
        r"例如 \2 在 \3：调拨 \4 到货，采购 \5 到货",
    ),
    (
        re.compile(
            r"^excess: none, no item holds stock above its order-up-to level plus "
            r"excess\.buffer_days of demand, nor stock unsold for classify\.dead_item_days$"
        ),
        "超储：无，没有商品的库存高于补货上限加 excess.buffer_days 天的需求，"
        "也没有 classify.dead_item_days 天未售出的库存",
    ),
    (
        re.compile(r"^suppliers: no scorecard, no purchase order line has been received$"),
        "供应商评分：无，采购单中没有已收货的行",
    ),
    (
        re.compile(
            r"^suppliers: no scorecard, no received purchase order line has a supplier "
            r"\(nor does products\.supplier for its item\)$"
        ),
        "供应商评分：无，已收货的采购单行都没有供应商（商品资料的 supplier 也没有填写）",
    ),
    (
        re.compile(r"^suppliers: no scorecard without purchase orders$"),
        "供应商评分：无，未提供采购单",
    ),
]


def render_note(note: str, lang: str = "en", currency: str | None = None) -> str:
    """A note of the plan for the buyer (budget, stale stock, master data, unreachable
    service, part files) in `lang`; numbers, codes and config keys kept as they are, an
    amount of money with its unit when `currency` is given (`预算 1,000.00 元`)."""
    if lang == "en":
        return note
    if getattr(note, "key", None) is not None:  # a catalogue phrase (a cluster task's reading)
        return say(note, lang)
    for pattern, replacement in _NOTE_PHRASES:
        note = pattern.sub(replacement, note)
    word = currency_word(currency, lang)
    return note.replace(_NOTE_UNIT, f" {word}" if word else "")


def render_error(text: str, lang: str = "en") -> str:
    """A `StockplanError` message in `lang`: file, row and column words and the common
    problems are rendered; names and values are kept exactly as the user wrote them."""
    if lang == "en":
        return text
    kept: list[str] = []

    def keep(found: re.Match[str]) -> str:
        value = found["value"]
        if " " not in value:
            return found[0]
        kept.append(value)
        return found[0].replace(value, f"{_KEPT[0]}{len(kept) - 1}{_KEPT[1]}", 1)

    text = _USER_VALUE.sub(keep, _LEADING_FILE.sub(keep, text, count=1))
    for pattern, replacement in _ERROR_PHRASES:
        text = pattern.sub(replacement, text)
    text = _KEPT_AGAIN.sub(lambda found: kept[int(found[1])], text)
    return _SHEET_OF_LEADING_FILE.sub(r"\1, 工作表 '\2'", text, count=1)


_SHEET_OF_LEADING_FILE = re.compile(r"^(.*?), sheet '([^']*)'(?=, |: |：)")
"""The sheet of a workbook read with others in the file an error starts with
(`io.readers.sheet_label`)."""


# what an error says as the user wrote it, set aside while the phrases are rendered: the
# file a message starts with (up to its row, column or `: `; after `cannot write`, which
# names the output; a drive `C:\` or `C:/` is part of the name) and every quoted value
# (`'row 12'`, an apostrophe inside a word such as `'O'Brien'` kept inside; the quotes
# stay for the phrases around it). Only texts with a space are set aside (every phrase
# has one), so a quoted column name such as `'order_date'` stays for the phrases that
# name it. Marked with private-use characters, which no phrase matches.
_KEPT = ("\ue000", "\ue001")
_LEADING_FILE = re.compile(
    r"^(?:cannot write (?:output: )?)?"
    r"(?P<value>(?:[A-Za-z]:(?=[/\\]))?(?=[^:]*?[./\\])[^:]*?)"
    r"(?=, rows? \d|, line \d|, column '|: )"
)
_USER_VALUE = re.compile(r"(?<![\w'])'(?P<value>(?:[^']|'(?=\w))*)'(?!\w)")
_KEPT_AGAIN = re.compile(f"{_KEPT[0]}(\\d+){_KEPT[1]}")


def _said(value: object, lang: str) -> object:
    """A phrase's field in `lang`: a mapping of language -> text picks its language."""
    if isinstance(value, dict):
        return value.get(lang, value["en"])
    return value


def phrase(key: str, **fields: object) -> Phrase:
    """The catalogue text `key` in English, keeping `key` and `fields` so that `say`
    renders it in another language; raise `StockplanError(phrase(...))` with it."""
    from stockplan.errors import Phrase

    text = Phrase(message(key, "en", **{n: _said(v, "en") for n, v in fields.items()}))
    text.key, text.fields = key, fields
    return text


def both(key: str, **fields: object) -> dict[str, str]:
    """The catalogue text `key` in every language: a field of another phrase."""
    return {
        lang: message(key, lang, **{n: _said(v, lang) for n, v in fields.items()})
        for lang in LANGUAGES
    }


def say(text: str, lang: str = "en") -> str:
    """`text` in `lang`: a `phrase` from the catalogue, other text through `render_error`."""
    key = getattr(text, "key", None)
    if key is None or lang == "en":
        return render_error(text, lang)
    fields = {n: _said(v, lang) for n, v in text.fields.items()}  # type: ignore[attr-defined]
    return message(key, lang, **fields)


def error_text(error: StockplanError, lang: str = "en") -> str:
    """A `StockplanError`'s one line in `lang`."""
    from stockplan.errors import safe_text

    return safe_text(say(error.phrase or error.message, lang))


_SHEET_OF_FILE = re.compile(r"^(.*), sheet '([^']*)'$", re.DOTALL)
"""A sheet of a workbook read with others, as messages name it (`io.readers.sheet_label`)."""


def place(
    file: object, row: int | None = None, column: str | None = None, name: str | None = None
) -> dict[str, str]:
    """Where an input error is, in both languages: `file, row 13, column '日期' (date)`,
    `file，第 13 行，列 '日期'（date）`; `name` is the canonical column read from `column`."""
    en, zh = [str(file)], [_SHEET_OF_FILE.sub(r"\1，工作表 '\2'", str(file))]
    if row is not None:
        en.append(f"row {row}")
        zh.append(f"第 {row} 行")
    if column is not None:
        en.append(f"column '{column}'" + (f" ({name})" if name else ""))
        zh.append(f"列 '{column}'" + (f"（{name}）" if name else ""))
    return {"en": ", ".join(en), "zh": "，".join(zh)}


def input_column(name: str, aliases: tuple[str, ...] = ()) -> dict[str, str]:
    """An input column in both languages: `quantity`, in Chinese its first Chinese header
    among `aliases` with the canonical name in brackets, `数量（quantity）`."""
    chinese = next((a for a in aliases if re.search(r"[\u4e00-\u9fff]", a)), None)
    return {"en": name, "zh": f"{chinese}（{name}）" if chinese else name}


# pydantic error types a config value meets, said in Chinese from the error's own fields
_CONFIG_PROBLEMS_ZH: dict[str, str] = {
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "union_tag_invalid": "{discriminator} 应为 {expected_tags} 之一，现为 '{tag}'",
    "number_not_bool": "应为数字，不是 yes / no / on / off / true / false",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
    "date_type": "应为日期，如 2026-01-08",
    "date_parsing": "应为日期，如 2026-01-08",
    "date_from_datetime_parsing": "应为日期，如 2026-01-08",
    "date_from_datetime_inexact": "应为日期，如 2026-01-08",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
}
# the config's own checks (ValueError in stockplan/config.py validators), said in Chinese
_CONFIG_VALUE_ERRORS_ZH: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"give either 'query' or 'table' with a database 'url', not both"),
        "数据库 'url' 只配 'query' 或 'table' 之一，不能两者都给",
    ),
    (re.compile(r"must be a date between (\S+) and (\S+)"), r"应为 \1 至 \2 之间的日期"),
    (re.compile(r"is no day of the calendar"), "日历上没有这一天"),
    (
        re.compile(r"class key '(.*)' must be like 'A' or 'AX' \(ABC then XYZ\)"),
        r"类别键 '\1' 应形如 'A' 或 'AX'（先 ABC 后 XYZ）",
    ),
    (
        re.compile(
            r"SKU code (.*) must be quoted in YAML, e\.g\. '010000': YAML reads bare digits "
            r"as a number and drops leading zeros"
        ),
        r"SKU 编码 \1 在 YAML 中须加引号，如 '010000'：YAML 把纯数字读作数字并去掉前导零",
    ),
    (
        re.compile(r"promise_scoring: replayed needs service_allocation: item .*"),
        "promise_scoring: replayed 需要 service_allocation: item（按模式分配时，每个商品的承诺"
        "取自其所选水平在水平曲线上达到的服务水平）",
    ),
    (
        re.compile(r"is the band's percentage: write (\S+) for \S+ %"),
        r"为区间的百分数：\1% 请写 \1，不是小数",
    ),
    (
        re.compile(r"must be -1 \(every core\) or a number of processes from 1"),
        "应为 -1（全部核心）或不小于 1 的进程数",
    ),
    (
        re.compile(r"must be two cumulative shares 0 < a < b <= 1, e\.g\. \[0\.8, 0\.95\]"),
        "应为两个累计占比 0 < a < b <= 1，如 [0.8, 0.95]",
    ),
    (
        re.compile(r"must be two coefficients of variation 0 < a < b, e\.g\. \[0\.5, 1\.0\]"),
        "应为两个变异系数 0 < a < b，如 [0.5, 1.0]",
    ),
    (
        re.compile(r"simulate\.baseline_up_to_weeks must exceed baseline_reorder_weeks"),
        "simulate.baseline_up_to_weeks 应大于 baseline_reorder_weeks",
    ),
    (re.compile(r"a (\w+) rule needs a value above 0"), r"\1 规则的 value 应大于 0"),
    (re.compile(r"a text rule needs a text"), "text 规则需要 text（通知文字）"),
    (re.compile(r"unknown field (\{.*\}); use (.*)"), r"未知字段 \1；可用 \2"),
    (
        re.compile(r"supplier_tiers\.core\.(\w+) must be at least strategic\.(\w+)"),
        r"supplier_tiers.core.\1 应不小于 strategic.\2",
    ),
    (re.compile(r"must be below risk\.high \((\S+)\)"), r"应小于 risk.high（\1）"),
]
# Chinese words a buyer may write for a choice, and the choice to write instead
_CHOICE_WORDS = {
    "天": "day",
    "日": "day",
    "周": "week",
    "星期": "week",
    "月": "month",
    "是": "true",
    "否": "false",
    "中文": "zh",
    "英文": "en",
}


def config_problem(error: dict, key: str, english: str, got: str | None) -> dict[str, str]:
    """One pydantic error (`type`, `ctx`, `input`) at config `key` in both languages:
    `english` as the config reader says it, the Chinese made from the error's fields, and
    in both what to write instead where the input shows it (`95%` -> 0.95, `周` -> week).
    An error type without a Chinese text is said in English in both."""
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return {"en": english, "zh": f"未知配置项 '{key}'"}
    if kind == "missing":
        return {"en": english, "zh": f"缺少配置项 '{key}'"}
    if kind == "value_error":
        zh_got = f"，现为 {got}" if got is not None else ""
        reason = str(error.get("msg", "")).removeprefix("Value error, ")
        for pattern, replacement in _CONFIG_VALUE_ERRORS_ZH:
            if pattern.fullmatch(reason):
                zh = pattern.sub(replacement, reason)
                return {"en": english, "zh": f"配置项 '{key}'：{zh}{zh_got}"}
    if kind not in _CONFIG_PROBLEMS_ZH:
        return {"en": english, "zh": english}
    ctx = {
        k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in (error.get("ctx") or {}).items()
    }
    if "expected" in ctx:
        ctx["expected"] = ctx["expected"].replace("' or '", "' 或 '").replace("', '", "'、'")
    zh = _CONFIG_PROBLEMS_ZH[kind].format_map(collections.defaultdict(str, ctx))
    en_hint = zh_hint = ""
    value = error.get("input")
    if isinstance(value, str):
        percent = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[%％]\s*", value)
        choice = _CHOICE_WORDS.get(value.strip())
        if percent and kind in ("float_type", "float_parsing"):
            fraction = f"{float(percent[1]) / 100:g}"
            en_hint = f" (write {value.strip()} as {fraction})"
            zh_hint = f"（{key.rsplit('.', 1)[-1]} 写小数，如 {fraction}）"
        elif choice and (choice in ctx.get("expected", "") or kind.startswith("bool")):
            en_hint = f" (write {choice})"
            zh_hint = f"（{value.strip()} 请写 {choice}）"
    if (
        kind in ("less_than", "less_than_equal")
        and ctx.get("lt", ctx.get("le")) == "1"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and 2 <= value <= 100
    ):  # `service_level: 95` meant as 95 % (1.5 is no likely percentage)
        fraction = f"{value / 100:g}"
        en_hint = f" (a percentage? write {value:g} % as {fraction})"
        zh_hint = f"（是百分数吗？{value:g}% 请写 {fraction}）"
    zh_got = f"，现为 {got}" if got is not None else ""
    return {"en": english + en_hint, "zh": f"配置项 '{key}'：{zh}{zh_got}{zh_hint}"}


# headers earlier versions wrote, still read back (last week's plan for `diff`, `verify`
# and `--previous`)
_EARLIER_HEADERS = {
    "调入量": "transfer_qty",
    "盘点周期(天)": "review_days",
    "预测误差σ": "sigma_e",
    "提前期需求σ": "sigma_lead_time_demand",
    "最低订货金额": "min_order_value",
    "预测量": "forecast",
    "高风险项数": "high_risk",
    "中风险项数": "medium_risk",
    "目标可达序列数": "reachable_series",
    "可达序列实际服务水平": "reachable_service",
    "目标不可达序列数": "unreachable_series",
    "不可达序列需求占比": "unreachable_demand_share",
    "不可达序列可承诺水平": "unreachable_promised",
    "不可达序列实际服务水平": "unreachable_service",
    "序列数": "series",
}
_CANONICAL = (
    _EARLIER_HEADERS
    | {label: column for column, entry in HEADERS.items() for label in entry.values()}
    | {
        header(column, lang, bucket): column
        for column in BUCKET_HEADERS
        for lang in ("en", "zh")
        for bucket in BUCKET_UNITS
    }
    | {column: column for column in HEADERS}
)


def canonical_column(name: str) -> str:
    """The canonical column for a header in any language (`建议采购量` -> `order_qty`)."""
    return _CANONICAL.get(name.strip(), name.strip())


_EARLIER_TABLES = {"大额订单": "large_orders"}  # sheet titles earlier versions wrote


def canonical_table(title: str) -> str:
    """The table name for a sheet title in any language (`采购建议` -> `orders`)."""
    return next(
        (table for table, entry in TABLES.items() if title.strip() in entry.values()),
        _EARLIER_TABLES.get(title.strip(), title.strip()),
    )


# words earlier versions wrote, still read back (a plan of last week, verify on an old plan)
_EARLIER_WORDS = {"policy_type": {"(R,S) 定期补至": "rs"}}


def canonical_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A table written for people read back as the machine contract: headers and word values
    (risk level, demand pattern, ...) canonical (its totals row: `planfiles.totals_rows`)."""
    import polars as pl

    frame = frame.rename({c: canonical_column(c) for c in frame.columns})
    back = {
        column: {label: canonical for canonical, entry in words.items() for label in entry.values()}
        | _EARLIER_WORDS.get(column, {})
        for column, words in VALUES.items()
        if column in frame.columns and frame.schema[column] == pl.String
    }
    frame = frame.with_columns(pl.col(c).replace(mapping) for c, mapping in back.items())
    text = {c for c, t in frame.schema.items() if t == pl.String}
    if "policy" in text:  # simulate's rule of thumb, its weeks in the name
        frame = frame.with_columns(
            pl.col("policy").str.replace(
                r"^经验法则：低于 ([\d.]+) 周用量时补货，补至 ([\d.]+) 周用量$",
                "baseline: reorder at ${1} weeks, up to ${2} weeks",
            )
        )
    if "causes" in text:  # the plan diff's causes
        frame = frame.with_columns(
            pl.col("causes").map_elements(canonical_causes, return_dtype=pl.String)
        )
    return frame


def canonical_causes(causes: str | None) -> str | None:
    """A plan diff's `causes` as `render_causes` wrote them, back in canonical words."""
    if not causes:
        return causes
    words = {entry[lang]: label for label, entry in _CAUSE_WORDS.items() for lang in entry}
    return _relabel_causes(causes, words, "; ")
