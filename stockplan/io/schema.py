"""Canonical input tables: their columns, value kinds and header aliases (docs/design.md §2).

Headers are matched after normalising: lower case, surrounding space and BOM removed,
a trailing unit in brackets dropped (`数量(件)`, `数量（箱）`, `库存量(基本单位)`, `qty [pcs]`),
runs of space / `-` / `_` / `.` / `/` folded to one `_`. A config `columns:` mapping
(source header -> canonical name) wins over these aliases; its key names the header
with its unit first (`columns.mapped_headers`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the config reads the schema (its `columns:` targets) without Polars
    import polars as pl

Kind = Literal["text", "number", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False
    non_negative: bool = False
    fallbacks: tuple[str, ...] = ()
    """Headers read as this column only when no alias is there too (then they are left
    alone rather than refused as a second header for it): names added to a column later,
    which exports that already planned may carry beside one of its aliases."""
    day_count: bool = False
    """A number of days: above `LONGEST_DAYS` it is refused."""
    nets: str | None = None
    """A number column subtracted, row by row, from this other column of its table when
    read, then dropped (`columns.net_returns`): sales returns in a column of their own."""
    marks_returns: bool = False
    """A text column whose value may say a line is a return (`RETURN_WORDS`: 销售退货):
    such a line's positive quantity and revenue are read negative, then the column is
    dropped (`columns.net_returns`)."""

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header read as this column: its name, aliases and fallbacks."""
        return (self.name, *self.aliases, *self.fallbacks)


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    need_rows: bool = True
    one_of: tuple[str, ...] = field(default=())  # at least one of these columns must exist
    every_location_when_blank: bool = False  # a row without a location is for every one

    @property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}


_UNIT_SUFFIX = re.compile(r"^(.+?)\s*[(（\[【][^()（）\[\]【】]*[)）\]】]$")


FULL_WIDTH = {
    **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},  # ！ .. ～
    "\u2212": "-",  # the minus sign of typeset text
    "\u3000": " ",  # the ideographic space
}
"""The characters a Chinese input method types in full-width mode, to their ASCII ones."""

HALF_WIDTH = str.maketrans(FULL_WIDTH)
"""`FULL_WIDTH` as a `str.translate` table."""

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")
"""Space or a line break between two Chinese characters (`商品\\n编码`: Excel's Alt+Enter)."""


@functools.lru_cache(maxsize=16_384)
def without_unit(header: str) -> str:
    """`header` without a unit in brackets at its end: `'数量（箱）'` -> `'数量'`."""
    return _UNIT_SUFFIX.sub(r"\1", header)


_UNIT = re.compile(r"^.+?\s*[(\[【]([^()\[\]【】]*)[)\]】]$")
"""A header's unit in brackets (after `HALF_WIDTH`: `（` is `(`), as group 1."""
_CHINESE_SCALES = {"十万": 1e5, "百万": 1e6, "千万": 1e7, "万": 1e4, "千": 1e3, "亿": 1e8}
_CHINESE_SCALED = "元|人民币|美元|件|个|只|箱|套|台|瓶|包|盒|袋|双|条|支|张|本|片|份|单位"
"""What a Chinese scale counts: money and pieces. Not 千克 (kg), 千米 (km), 千瓦 (kW): those
are units of their own."""
_CURRENCY = r"usd|cny|rmb|eur|gbp|\$|¥|€|£"
_ENGLISH_SCALES = {"k": 1e3, "thousand": 1e3, "000": 1e3, "mn": 1e6, "million": 1e6}
SCALE_UNIT = re.compile(
    rf"^(?P<zh>{'|'.join(_CHINESE_SCALES)})(?:{_CHINESE_SCALED})?$"
    rf"|^(?:(?:{_CURRENCY})\s*)?(?P<en>k|thousand|'?000|mn|million)s?"
    rf"(?:\s*(?:{_CURRENCY}|units?|pcs|pieces))?$"
)
"""A unit that is a scale (`万元`, `千件`, `万`, `k`, `'000`, `thousand pcs`, `$k`, `mn`):
the column's values count tens of thousands, thousands or millions."""


def header_scale(header: str) -> tuple[float, str] | None:
    """(factor, unit) when `header`'s unit in brackets is a scale (`SCALE_UNIT`):
    `'金额(万元)'` -> (10000, '万元'), `'Sales (k)'` -> (1000, 'k'); else None (`数量(件)`,
    `重量(千克)`: the unit names what is counted, not how many)."""
    text = header.replace("\ufeff", "").translate(HALF_WIDTH).strip()
    bracketed = _UNIT.match(text)
    if bracketed is None:
        return None
    unit = bracketed[1].strip()
    scale = SCALE_UNIT.match(unit.lower()) or SCALE_UNIT.match(re.sub(r"\s+", "", unit.lower()))
    if scale is None:
        return None
    if scale["zh"]:
        return _CHINESE_SCALES[scale["zh"]], unit
    return _ENGLISH_SCALES[scale["en"].lstrip("'")], unit


def normalise_header(header: str, *, drop_unit: bool = True) -> str:
    """`' 商品 编码 '` and `'商品\\n编码'` -> `'商品编码'`; `'Item-No.'` and `'ＩＴＥＭ－ＮＯ'`
    (typed in full width) -> `'item_no'`; `'数量（箱）'` -> `'数量'`. Remembered: a plan
    asks about a thousand times for the same few hundred headers and aliases (about 20 µs
    each)."""
    text = _CJK_GAP.sub("", header.replace("\ufeff", "").translate(HALF_WIDTH).strip().lower())
    if drop_unit:
        text = without_unit(text)
    return re.sub(r"[\s\-_./]+", "_", text).strip("_")


SKU = Column(
    "sku",
    "text",
    (
        "sku",
        "item",
        "item_code",
        "item_no",
        "item_number",
        "item_id",
        "product_code",
        "product_id",
        "product_no",
        "article",
        "article_no",
        "material",
        "material_code",
        "part_no",
        "part_number",
        "internal_reference",
        "default_code",
        "variant_sku",
        "lineitem_sku",
        "商品编码",
        "物料编码",
        "存货编码",
        "商品编号",
        "物料代码",
        "存货代码",
        "货号",
        "商品代码",
        "产品编码",
        "产品编号",
        "物料编号",
        "存货编号",
    ),
    required=True,
)
LOCATION = Column(
    "location",
    "text",
    (
        "location",
        "warehouse",
        "warehouse_code",
        "warehouse_name",
        "store",
        "store_id",
        "site",
        "branch",
        "仓库",
        "仓库名称",
        "仓库名",
        "仓库编码",
        "仓库代码",
        "门店",
        "门店编码",
        "库位",
    ),
)
CODE_ALIASES = frozenset(
    normalise_header(a)
    for a in (
        "warehouse_code",
        "store_id",
        "仓库编码",
        "仓库代码",
        "门店编码",
        "supplier_code",
        "vendor_code",
        "供应商编码",
    )
)
"""Headers that carry a code where another header of the same export carries the name of
the same thing (仓库编码 beside 仓库名称); `io.identify_by` says which one is used."""
QUANTITY = Column(
    "quantity",
    "number",
    (
        "quantity",
        "qty",
        "units",
        "sales_qty",
        "sold_qty",
        "lineitem_quantity",
        "product_uom_qty",
        "数量",
        "销售数量",
        "出库数量",
        "订单数量",
        "采购数量",
        "实发数量",
        "基本单位数量",
    ),
    required=True,
)
UNIT_COST = Column(
    "unit_cost",
    "number",
    ("unit_cost", "cost", "cost_price", "standard_price", "成本", "成本价", "单位成本", "进价"),
    non_negative=True,
)
UNIT_PRICE = Column(
    "unit_price",
    "number",
    ("unit_price", "price", "sale_price", "list_price", "lineitem_price", "单价", "售价", "零售价"),
    non_negative=True,
)
SUPPLIER = Column(
    "supplier",
    "text",
    ("supplier", "vendor", "supplier_name", "vendor_name", "partner", "供应商", "供应商名称"),
)
LONGEST_DAYS = 3660
"""Ten years, the config's bound on day counts: a lead time beyond it is a typo (40000 for
40) and plans orders of a century of demand; past 970,000 days its calendar would run
beyond the year 9999."""
LEAD_TIME = Column(
    "lead_time_days",
    "number",
    ("lead_time_days", "lead_time", "leadtime", "delivery_days", "提前期", "采购提前期", "交货期"),
    non_negative=True,
    day_count=True,
)


ITEM_NAME = Column(
    "name",
    "text",
    (
        "name",
        "product_name",
        "item_name",
        "description",
        "title",
        "商品名称",
        "物料名称",
        "存货名称",
        "品名",
    ),
)


def _date(name: str, aliases: tuple[str, ...], required: bool = False) -> Column:
    return Column(name, "date", aliases, required=required)


# items as they really live: shelf life, kits, successors, planner overrides
SHELF_LIFE = Column(
    "shelf_life_days",
    "number",
    ("shelf_life_days", "shelf_life", "保质期(天)", "保质期（天）", "保质期", "保质天数"),
    non_negative=True,
)
EXPIRY_DATE = Column(
    "expiry_date",
    "date",
    (
        "expiry_date",
        "expiry",
        "expiration_date",
        "best_before",
        "use_by",
        "有效期至",
        "到期日期",
        "失效日期",
        "过期日期",
    ),
)
BATCH = Column(
    "batch",
    "text",
    (
        "batch",
        "batch_no",
        "batch_number",
        "lot",
        "lot_no",
        "lot_number",
        "批次",
        "批号",
        "批次号",
        "生产批号",
    ),
)
"""A stock row's batch or lot (an ERP's 即时库存 by 批号): an item's rows at one location
differ by it and are summed (`shelf_life.stock_lots`)."""
INACTIVE_STATUS = [
    *("inactive", "discontinued", "obsolete", "blocked", "disabled", "archived"),
    *("suspended", "paused", "retired", "deactivated", "eol", "end of life", "clearance"),
    *("停用", "停售", "下架", "停产", "淘汰", "禁用", "冻结", "作废", "失效", "无效", "暂停"),
    *("暂停销售", "停止销售", "清仓", "退市"),
    *("已停用", "已停售", "已下架", "已停产", "已淘汰", "已禁用", "已冻结", "已作废", "已失效"),
    # an `active` column (read as the status) saying no
    *("false", "0", "no", "n", "否"),
]
"""Product statuses never ordered (compared lower-case, trimmed)."""

ACTIVE_STATUS = [
    *("active", "enabled", "normal", "ok", "on sale", "selling", "live", "new", "regular"),
    *("正常", "启用", "已启用", "在售", "销售中", "上架", "已上架", "有效", "在用", "新品", "常规"),
    # an `active` column saying yes
    *("true", "1", "yes", "y", "是"),
]
"""Product statuses ordered as usual (compared lower-case, trimmed); an empty status is
active too. Any other word is warned about (`prepare.unknown_statuses`) and planned as
active."""


def status_word(status: pl.Expr) -> pl.Expr:
    """A product status as it is compared with `ACTIVE_STATUS` and `INACTIVE_STATUS`: as
    text, trimmed, lower-case (`' Inactive '` is `inactive`)."""
    return status.cast(str).str.strip_chars().str.to_lowercase()


ITEM_TABLES: dict[str, TableSchema] = {
    "bom": TableSchema(
        "bom",
        (
            Column(
                "kit_sku",
                "text",
                ("kit_sku", "kit", "parent_sku", "bundle_sku", "套件编码", "组合编码", "母件编码"),
                required=True,
            ),
            Column(
                "component_sku",
                "text",
                ("component_sku", "component", "child_sku", "组件编码", "子件编码"),
                required=True,
            ),
            Column(
                "quantity",
                "number",
                ("quantity", "qty", "qty_per_kit", "用量", "单位用量", "数量"),
                required=True,
                non_negative=True,
            ),
        ),
        need_rows=False,
    ),
    "succession": TableSchema(
        "succession",
        (
            Column(
                "old_sku",
                "text",
                ("old_sku", "old", "predecessor", "旧商品编码", "被替代商品", "原商品编码"),
                required=True,
            ),
            Column(
                "new_sku",
                "text",
                ("new_sku", "new", "successor", "新商品编码", "替代商品", "替代商品编码"),
                required=True,
            ),
            _date(
                "date",
                ("date", "switch_date", "effective_date", "替代日期", "切换日期", "生效日期"),
                required=True,
            ),
            Column("share", "number", ("share", "替代比例", "继承比例", "比例"), non_negative=True),
        ),
        need_rows=False,
    ),
    "overrides": TableSchema(
        "overrides",
        (
            SKU,
            LOCATION,
            _date("start", ("start", "from", "start_date", "开始日期"), required=True),
            _date("end", ("end", "to", "end_date", "结束日期"), required=True),
            Column(
                "quantity",
                "number",
                ("quantity", "qty", "override_qty", "预测数量", "数量"),
                non_negative=True,
            ),
            Column(
                "multiplier",
                "number",
                ("multiplier", "factor", "系数", "倍数"),
                non_negative=True,
            ),
            Column("reason", "text", ("reason", "note", "comment", "原因", "调整原因", "备注")),
            Column("author", "text", ("author", "planner", "by", "调整人", "计划员", "作者")),
        ),
        need_rows=False,
        one_of=("quantity", "multiplier"),
        every_location_when_blank=True,
    ),
}


SCHEMAS: dict[str, TableSchema] = {
    "sales": TableSchema(
        "sales",
        (
            _date(
                "date",
                (
                    "date",
                    "order_date",
                    "sale_date",
                    "sales_date",
                    "created_at",
                    "day",
                    "日期",
                    "单据日期",
                    "销售日期",
                    "业务日期",
                    "出库日期",
                ),
                required=True,
            ),
            SKU,
            # a sales export's own words for units sold: in a purchase or customer order
            # 销量 / 发货数量 would be another quantity than the one ordered
            replace(QUANTITY, aliases=(*QUANTITY.aliases, "销量", "销售量", "发货数量")),
            LOCATION,
            ITEM_NAME,
            Column(
                "revenue",
                "number",
                ("revenue", "sales_amount", "amount", "销售额", "金额"),
                fallbacks=("销售金额",),  # beside 退货金额, which nets from it
            ),
            Column(
                "returned_quantity",
                "number",
                (
                    *("returned_quantity", "returned_qty", "return_qty", "returns_qty", "returns"),
                    *("退货数量", "退货数", "退回数量", "销售退货数量", "退货量"),
                ),
                non_negative=True,
                nets="quantity",
            ),
            Column(
                "returned_revenue",
                "number",
                (
                    *("returned_revenue", "returned_amount", "return_amount", "returns_amount"),
                    *("退货金额", "退回金额", "销售退货金额"),
                ),
                non_negative=True,
                nets="revenue",
            ),
            Column(
                "document_type",
                "text",
                ("document_type", "doc_type", "单据类型"),
                fallbacks=("业务类型",),  # Kingdee writes both: 单据类型 is read
                marks_returns=True,
            ),
            UNIT_PRICE,
            Column("order_id", "text", ("order_id", "order_no", "order", "单据编号", "订单号")),
            Column("customer", "text", ("customer", "customer_id", "客户", "客户名称")),
            Column("promo", "text", ("promo", "promotion", "on_promo", "促销")),
        ),
    ),
    "stock": TableSchema(
        "stock",
        (
            SKU,
            Column(
                "on_hand",
                "number",
                (
                    "on_hand",
                    "onhand",
                    "qty_on_hand",
                    "quantity_on_hand",
                    "stock",
                    "stock_qty",
                    "inventory",
                    "available",
                    "quantity",
                    "现存量",
                    "现存数量",
                    "库存量",
                    "库存数量",
                    "结存数量",
                    "库存",
                    "当前库存",
                ),
                required=True,
            ),
            LOCATION,
            ITEM_NAME,
            _date("date", ("date", "snapshot_date", "as_of", "日期", "盘点日期")),
            Column(
                "allocated",
                "number",
                ("allocated", "reserved", "committed", "已分配", "预留", "占用"),
                non_negative=True,
            ),
            UNIT_COST,
            UNIT_PRICE,
            EXPIRY_DATE,
            BATCH,
        ),
    ),
    "products": TableSchema(
        "products",
        (
            SKU,
            ITEM_NAME,
            Column(
                "category", "text", ("category", "product_category", "类别", "分类", "商品类别")
            ),
            UNIT_COST,
            UNIT_PRICE,
            SUPPLIER,
            Column(
                "backup_supplier",
                "text",
                (
                    "backup_supplier",
                    "alternate_supplier",
                    "secondary_supplier",
                    "second_supplier",
                    "备用供应商",
                    "备选供应商",
                ),
            ),
            Column(
                "pack_size",
                "number",
                ("pack_size", "case_pack", "pack", "multiple", "order_multiple", "包装数", "箱规"),
                non_negative=True,
            ),
            Column(
                "moq",
                "number",
                ("moq", "min_order_qty", "minimum_order_quantity", "最小起订量", "起订量"),
                non_negative=True,
            ),
            Column(
                "max_order",
                "number",
                ("max_order", "max_order_qty", "最大订货量"),
                non_negative=True,
            ),
            LEAD_TIME,
            Column("service_level", "number", ("service_level", "target_service", "服务水平")),
            Column("status", "text", ("status", "state", "active", "状态")),
            SHELF_LIFE,
            Column(
                "volume_m3",
                "number",
                ("volume_m3", "unit_volume", "volume", "体积", "单位体积"),
                non_negative=True,
            ),
            Column(
                "weight_kg",
                "number",
                ("weight_kg", "unit_weight", "weight", "重量", "单位重量", "毛重"),
                non_negative=True,
            ),
        ),
        need_rows=False,
    ),
    "suppliers": TableSchema(
        "suppliers",
        (
            Column(
                "supplier",
                "text",
                SUPPLIER.aliases + ("name", "supplier_code", "vendor_code", "供应商编码"),
                required=True,
            ),
            LEAD_TIME,
            Column(
                "lead_time_std_days",
                "number",
                ("lead_time_std_days", "lead_time_std", "lead_time_sd", "提前期标准差"),
                non_negative=True,
                day_count=True,
            ),
            Column("review_days", "number", ("review_days", "review_period", "order_cycle_days")),
            Column(
                "moq_value",
                "number",
                ("moq_value", "min_order_value", "minimum_order_value", "最小订货金额"),
                non_negative=True,
            ),
            Column("currency", "text", ("currency", "币种")),
            Column(
                "container_m3",
                "number",
                ("container_m3", "container_volume", "truck_m3", "柜容积", "货柜容积", "车辆容积"),
                non_negative=True,
            ),
            Column(
                "container_kg",
                "number",
                ("container_kg", "container_weight", "truck_kg", "柜载重", "货柜载重", "车辆载重"),
                non_negative=True,
            ),
            Column("full_loads", "text", ("full_loads", "full_load_only", "整柜", "整车")),
        ),
        need_rows=False,
    ),
    "purchase_orders": TableSchema(
        "purchase_orders",
        (
            SKU,
            Column(
                "quantity",
                "number",
                QUANTITY.aliases + ("ordered_qty", "order_qty"),
                required=True,
                non_negative=True,
            ),
            _date(
                "order_date",
                (
                    "order_date",
                    "po_date",
                    "date",
                    "下单日期",
                    "采购日期",
                    "订单日期",
                    "日期",
                    "单据日期",
                ),
                required=True,
            ),
            Column("po_id", "text", ("po_id", "po", "po_number", "po_no", "采购单号", "单据编号")),
            LOCATION,
            SUPPLIER,
            _date(
                "expected_date",
                ("expected_date", "eta", "due_date", "promised_date", "预计到货日期", "交货日期"),
            ),
            _date(
                "received_date",
                ("received_date", "receipt_date", "date_received", "到货日期", "入库日期"),
            ),
            Column(
                "received_quantity",
                "number",
                (
                    *("received_quantity", "received_qty", "qty_received"),
                    *(
                        "已入库数量",
                        "到货数量",
                        "入库数量",
                        "累计入库数量",
                        "实收数量",
                        "已收货数量",
                    ),
                ),
                non_negative=True,
            ),
            Column(
                "open_quantity",
                "number",
                (
                    *("open_quantity", "open_qty", "qty_open", "remaining_qty"),
                    *("未入库数量", "未到货数量", "待入库数量", "未收货数量", "未交货数量"),
                ),
                non_negative=True,
            ),
            Column(
                "rejected_quantity",
                "number",
                ("rejected_quantity", "rejected_qty", "qty_rejected", "拒收数量", "不合格数量"),
                non_negative=True,
            ),
            Column(
                "returned_quantity",
                "number",
                ("returned_quantity", "returned_qty", "return_qty", "退货数量", "退回数量"),
                non_negative=True,
            ),
        ),
        need_rows=False,
    ),
    "customer_orders": TableSchema(
        "customer_orders",
        (
            SKU,
            Column("quantity", "number", QUANTITY.aliases, required=True, non_negative=True),
            Column(
                "open_quantity",
                "number",
                (
                    *("open_quantity", "open_qty", "qty_open", "backorder_qty", "remaining_qty"),
                    *("未发货数量", "待发货数量", "未出库数量", "欠发数量", "未交数量", "欠货数量"),
                    "未发数量",
                ),
                non_negative=True,
            ),
            Column(
                "shipped_quantity",
                "number",
                (
                    *("shipped_quantity", "shipped_qty", "qty_shipped", "qty_delivered"),
                    *("已发货数量", "已出库数量", "已发数量", "已交数量", "累计发货数量"),
                ),
                non_negative=True,
            ),
            LOCATION,
            Column("customer", "text", ("customer", "customer_id", "客户", "客户名称")),
            Column(
                "order_id",
                "text",
                ("order_id", "order_no", "订单号", "单据编号"),
                fallbacks=("订单编号", "销售订单号"),
            ),
            Column(
                "order_date",
                "date",
                ("order_date", "date", "下单日期", "日期"),
                fallbacks=("订单日期",),
            ),
            _date("promised_date", ("promised_date", "due_date", "承诺日期", "交货日期")),
            Column("priority", "number", ("priority", "优先级"), non_negative=True),
            Column(
                "customer_tier",
                "text",
                ("customer_tier", "tier", "vip_level", "客户等级", "会员等级", "客户级别"),
            ),
            Column(
                "unit_price",
                "number",
                ("unit_price", "price", "单价", "销售单价"),
                non_negative=True,
            ),
        ),
        need_rows=False,
    ),
    "promotions": TableSchema(
        "promotions",
        (
            Column("sku", "text", SKU.aliases),
            Column("category", "text", ("category", "类别", "分类")),
            _date("start", ("start", "start_date", "from", "开始日期"), required=True),
            _date("end", ("end", "end_date", "to", "结束日期"), required=True),
            LOCATION,
            Column("uplift", "number", ("uplift", "lift", "提升")),
        ),
        need_rows=False,
        one_of=("sku", "category"),
        every_location_when_blank=True,
    ),
    "closures": TableSchema(
        "closures",
        (
            Column("supplier", "text", SUPPLIER.aliases),
            _date(
                "from",
                ("from", "start", "start_date", "closed_from", "开始日期", "停工开始"),
                required=True,
            ),
            _date(
                "to", ("to", "end", "end_date", "closed_to", "结束日期", "停工结束"), required=True
            ),
            Column("note", "text", ("note", "reason", "holiday", "备注", "原因", "假期")),
        ),
        need_rows=False,
    ),
    "price_breaks": TableSchema(
        "price_breaks",
        (
            SUPPLIER,
            Column("sku", "text", SKU.aliases, required=True),
            Column(
                "min_qty",
                "number",
                (
                    "min_qty",
                    "min_quantity",
                    "break_qty",
                    "from_qty",
                    "阶梯数量",
                    "数量下限",
                    "折扣数量",
                ),
                required=True,
                non_negative=True,
            ),
            Column(
                "unit_price",
                "number",
                ("unit_price", "price", "unit_cost", "cost", "单价", "采购单价", "价格"),
                required=True,
                non_negative=True,
            ),
        ),
        need_rows=False,
    ),
}
SCHEMAS.update(ITEM_TABLES)
