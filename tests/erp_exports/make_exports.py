"""Write typical stock and sales exports of the ERP systems our users have (deterministic).

    python tests/erp_exports/make_exports.py

One folder per system, each as that system exports by default: title rows above the
header, totals / subtotal rows under the data, units in the headers, GBK text, a legacy
.xls workbook, a hidden stale sheet. The demand is constant so every order line can be
checked by hand (see tests/test_erp_exports.py):

- every item sells the same quantity every day from 2025-06-02 (a Monday) for 16 weeks;
- the plan date is 2025-09-22, the day after the last sale.

Writing .xls needs `xlwt` (pip install xlwt), a writer no longer maintained; it is used
here only to make the fixtures, which are committed. Reading .xls needs nothing extra.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
START = dt.date(2025, 6, 2)
DAYS = 16 * 7

# system -> [(sku, name, warehouse, units sold per day, on hand)]
ITEMS: dict[str, list[tuple[str, str, str, int, int]]] = {
    "kingdee": [
        ("01.001", "不锈钢保温杯", "成品仓", 10, 50),
        ("01.002", "陶瓷马克杯", "成品仓", 3, 200),
    ],
    "u8": [
        ("0101", "A4复印纸", "总仓", 12, 60),
        ("0101", "A4复印纸", "门店仓", 4, 100),
        ("0102", "订书机", "总仓", 2, 10),
    ],
    "guanjiapo": [
        ("SP0001", "洗洁精500g", "主仓库", 6, 20),
        ("SP0002", "抹布三件套", "主仓库", 1, 30),
    ],
    "jiandaoyun": [
        ("P-1001", "蓝牙耳机", "深圳仓", 5, 0),
        ("P-1002", "充电线", "深圳仓", 8, 500),
    ],
}
WAREHOUSE_CODES = {"总仓": "01", "门店仓": "02"}


def _sales_rows(system: str) -> list[tuple[dt.date, str, str, str, int]]:
    return [
        (START + dt.timedelta(days=day), sku, name, warehouse, per_day)
        for day in range(DAYS)
        for sku, name, warehouse, per_day, _ in ITEMS[system]
    ]


def _xlsx(sheets: list[tuple[str, list[list[object]], bool]]) -> bytes:
    """Workbook bytes; each sheet is (name, rows, hidden)."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"strings_to_numbers": False}) as workbook:
        for name, rows, hidden in sheets:
            sheet = workbook.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is not None:
                        sheet.write(r, c, value)
            if hidden:
                sheet.hide()
        workbook.worksheets()[[h for _, _, h in sheets].index(False)].activate()
    return buffer.getvalue()


def _xls(rows: list[list[object]]) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _gbk_csv(rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("gbk")


def kingdee() -> dict[str, bytes]:
    """金蝶 K/3 Cloud: XLSX, a merged-style title row, 库存量(基本单位), 实发数量, 合计 rows,
    and a hidden stale sheet before the real one in the stock workbook."""
    items = ITEMS["kingdee"]
    stock = [
        ["即时库存查询  导出时间 2025-09-22"],
        ["物料编码", "物料名称", "仓库", "库存量(基本单位)"],
    ]
    stock += [[sku, name, wh, on_hand] for sku, name, wh, _, on_hand in items]
    stock += [[None, "合计", None, sum(i[4] for i in items)]]
    stale = [
        ["物料编码", "物料名称", "仓库", "库存量(基本单位)"],
        ["01.001", "不锈钢保温杯", "成品仓", 9999],
    ]
    rows = _sales_rows("kingdee")
    sales = [["销售出库单序时簿"], ["日期", "单据编号", "物料编码", "物料名称", "仓库", "实发数量"]]
    sales += [
        [d.isoformat(), f"XSCKD{n:06d}", sku, name, wh, qty]
        for n, (d, sku, name, wh, qty) in enumerate(rows)
    ]
    sales += [["合计", None, None, None, None, sum(r[4] for r in rows)]]
    return {
        "即时库存.xlsx": _xlsx([("上周", stale, True), ("即时库存", stock, False)]),
        "销售出库单.xlsx": _xlsx([("销售出库单", sales, False)]),
    }


def u8() -> dict[str, bytes]:
    """用友 U8: legacy .xls, 仓库编码 and 仓库名称 side by side, 现存数量, 小计 per warehouse
    and 总计, and a unit in the sales quantity header."""
    items = ITEMS["u8"]
    stock: list[list[object]] = [
        ["现存量查询"],
        ["仓库编码", "仓库名称", "存货编码", "存货名称", "现存数量"],
    ]
    for warehouse in ("总仓", "门店仓"):
        here = [i for i in items if i[2] == warehouse]
        code = WAREHOUSE_CODES[warehouse]
        stock += [[code, wh, sku, name, on_hand] for sku, name, wh, _, on_hand in here]
        stock += [["小计", None, None, None, sum(i[4] for i in here)]]
    stock += [["总计", None, None, None, sum(i[4] for i in items)]]
    rows = _sales_rows("u8")
    sales: list[list[object]] = [
        ["销售出库单列表"],
        ["单据日期", "仓库", "存货编码", "存货名称", "数量(件)"],
    ]
    sales += [[d.strftime("%Y-%m-%d"), wh, sku, name, qty] for d, sku, name, wh, qty in rows]
    sales += [[None, None, None, None, sum(r[4] for r in rows)]]  # a sum with no label
    return {"现存量查询.xls": _xls(stock), "销售出库单列表.xls": _xls(sales)}


def guanjiapo() -> dict[str, bytes]:
    """管家婆: GBK CSV with a title line, 商品编号, 库存数量, 数量（箱） and a spaced 合 计."""
    items = ITEMS["guanjiapo"]
    stock: list[list[object]] = [["库存状况表"], ["商品编号", "商品名称", "仓库", "库存数量"]]
    stock += [[sku, name, wh, on_hand] for sku, name, wh, _, on_hand in items]
    stock += [["合 计", None, None, sum(i[4] for i in items)]]
    rows = _sales_rows("guanjiapo")
    sales: list[list[object]] = [
        ["销售明细"],
        ["日期", "商品编号", "商品名称", "仓库", "数量（箱）"],
    ]
    sales += [[d.strftime("%Y/%m/%d"), sku, name, wh, qty] for d, sku, name, wh, qty in rows]
    sales += [["合 计", None, None, None, sum(r[4] for r in rows)]]
    return {"库存状况.csv": _gbk_csv(stock), "销售明细.csv": _gbk_csv(sales)}


def jiandaoyun() -> dict[str, bytes]:
    """简道云: XLSX with 出库日期, 产品编号, 数量(件) and an English Total row."""
    items = ITEMS["jiandaoyun"]
    stock: list[list[object]] = [["产品编号", "产品名称", "仓库", "库存数量"]]
    stock += [[sku, name, wh, on_hand] for sku, name, wh, _, on_hand in items]
    stock += [["Total", None, None, sum(i[4] for i in items)]]
    rows = _sales_rows("jiandaoyun")
    sales: list[list[object]] = [["出库日期", "产品编号", "产品名称", "仓库", "数量(件)"]]
    sales += [[d.isoformat(), sku, name, wh, qty] for d, sku, name, wh, qty in rows]
    sales += [["Total", None, None, None, sum(r[4] for r in rows)]]
    return {
        "库存台账.xlsx": _xlsx([("库存", stock, False)]),
        "出库记录.xlsx": _xlsx([("出库", sales, False)]),
    }


def main() -> None:
    count = 0
    for system, make in (
        ("kingdee", kingdee),
        ("u8", u8),
        ("guanjiapo", guanjiapo),
        ("jiandaoyun", jiandaoyun),
    ):
        folder = HERE / system
        folder.mkdir(exist_ok=True)
        for name, content in make().items():
            (folder / name).write_bytes(content)
            count += 1
    print(f"wrote {count} files")


if __name__ == "__main__":
    main()
