"""Generate the bundled sample data set (fixed seed; rerun to reproduce byte for byte).

    python sample_data/generate.py

A mid-size distributor: 300 SKUs in 8 categories, 3 warehouses, daily sales from
2024-09-02 to 2026-11-22 (two years and a quarter), with smooth, seasonal, trending,
intermittent, lumpy, new and dead items, weekday patterns, stockout episodes (zero
sales while out of stock), returns, five suppliers with different lead times, a
purchase-order history with real lead-time noise, and open purchase orders.

Files, each in the shape a real export has:
- sales.csv            English headers (date, sku, warehouse, qty, revenue), UTF-8.
- stock.csv            a Kingdee-style export: Chinese headers, GB18030 encoded.
- products.xlsx        product master as an Excel workbook.
- suppliers.csv        supplier master.
- purchase_orders.csv  PO history (received) and open POs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

SEED = 20261123
HERE = Path(__file__).resolve().parent
START = dt.date(2024, 9, 2)  # a Monday
END = dt.date(2026, 11, 22)  # a Sunday; plans run as of Monday 2026-11-23
WAREHOUSES = ["WH-SH", "WH-GZ", "WH-BJ"]
CATEGORIES = [
    "beverage",
    "snacks",
    "household",
    "personal care",
    "kitchen",
    "stationery",
    "toys",
    "outdoor",
]
SUPPLIERS = {
    # name: (mean lead time days, std days, min order value)
    "Huadong Foods": (5, 1.0, 2000),
    "Pearl River Trading": (10, 2.0, 3000),
    "Northern Household": (14, 3.0, 5000),
    "Yiwu Goods Co": (21, 5.0, 8000),
    "Global Import Ltd": (42, 8.0, 20000),
}
CATEGORY_SUPPLIERS = {
    "beverage": ["Huadong Foods", "Pearl River Trading"],
    "snacks": ["Huadong Foods", "Pearl River Trading"],
    "household": ["Northern Household", "Yiwu Goods Co"],
    "personal care": ["Pearl River Trading", "Northern Household"],
    "kitchen": ["Northern Household", "Global Import Ltd"],
    "stationery": ["Yiwu Goods Co"],
    "toys": ["Yiwu Goods Co", "Global Import Ltd"],
    "outdoor": ["Global Import Ltd", "Yiwu Goods Co"],
}
PROMOTIONS = [
    # category, start, end, uplift in the file (None: stockplan measures it), true lift
    ("snacks", dt.date(2025, 6, 2), dt.date(2025, 6, 15), None, 0.8),
    ("snacks", dt.date(2026, 6, 1), dt.date(2026, 6, 14), None, 0.8),
    ("beverage", dt.date(2026, 7, 6), dt.date(2026, 7, 19), None, 0.6),
    # planned
    ("snacks", dt.date(2026, 12, 7), dt.date(2026, 12, 20), None, 0.8),
    ("toys", dt.date(2026, 12, 14), dt.date(2026, 12, 27), 0.5, 0.5),
]
PATTERNS = ["smooth", "seasonal", "trending", "intermittent", "lumpy", "new", "dead"]
PATTERN_WEIGHTS = [0.30, 0.18, 0.10, 0.22, 0.10, 0.05, 0.05]
N_SKUS = 300


def make_products(rng: np.random.Generator) -> pl.DataFrame:
    category = rng.choice(CATEGORIES, N_SKUS)
    supplier = [rng.choice(CATEGORY_SUPPLIERS[c]) for c in category]
    cost = np.round(np.exp(rng.normal(3.0, 0.9, N_SKUS)), 2)
    price = np.round(cost * rng.uniform(1.3, 2.2, N_SKUS), 2)
    pack = rng.choice([1, 1, 6, 12, 24, 10], N_SKUS)
    moq = np.where(rng.random(N_SKUS) < 0.3, pack * rng.choice([2, 5, 10], N_SKUS), 0)
    pattern = rng.choice(PATTERNS, N_SKUS, p=PATTERN_WEIGHTS)
    # every other SKU may also be bought from a faster supplier of its category
    backup = [
        min(
            (o for o in CATEGORY_SUPPLIERS[c] if SUPPLIERS[o][0] < SUPPLIERS[s][0]),
            key=lambda o: SUPPLIERS[o][0],
            default=None,
        )
        if i % 2 == 0
        else None
        for i, (c, s) in enumerate(zip(category, supplier, strict=True))
    ]
    status = np.where(pattern == "dead", rng.choice(["active", "discontinued"], N_SKUS), "active")
    return pl.DataFrame(
        {
            "sku": [
                f"0{10000 + i * 7:05d}" for i in range(N_SKUS)
            ],  # leading zeros: codes are text
            "name": [f"{c.title()} item {i + 1}" for i, c in enumerate(category)],
            "category": category,
            "unit_cost": cost,
            "unit_price": price,
            "supplier": supplier,
            "backup_supplier": pl.Series(backup, dtype=pl.String),
            "pack_size": pack,
            "moq": moq,
            "status": status,
            "pattern": pattern,
        }
    )


def daily_rates(rng: np.random.Generator, pattern: str, days: np.ndarray) -> np.ndarray:
    """Mean demand per day for one sku x warehouse."""
    t = (days - days[0]).astype(float)
    weekday = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.25, 1.05])[days % 7]
    level = np.exp(rng.normal(1.6, 0.8))
    if pattern in ("intermittent", "lumpy"):
        return np.full(days.shape, rng.uniform(0.04, 0.35))
    rate = level * weekday
    if pattern == "seasonal":
        peak = rng.uniform(0, 365)
        rate = rate * (1 + 0.6 * np.cos(2 * np.pi * (t - peak) / 365.25))
    elif pattern == "trending":
        rate = rate * np.exp(rng.choice([-1, 1]) * rng.uniform(0.3, 0.9) * t / 365.25)
    elif pattern == "new":
        launch = len(days) - rng.integers(20, 50)
        rate = np.where(np.arange(len(days)) >= launch, rate, 0.0)
    elif pattern == "dead":
        stop = len(days) - rng.integers(120, 250)
        rate = np.where(np.arange(len(days)) < stop, rate * 0.5, 0.0)
    return rate


def make_sales(
    rng: np.random.Generator, products: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    dates = pl.date_range(START, END, "1d", eager=True)
    day_numbers = np.array([(d - dt.date(1970, 1, 5)).days for d in dates])  # 0 = Monday
    frames = []
    series = []
    for sku, pattern, price in products.select("sku", "pattern", "unit_price").iter_rows():
        n_wh = rng.choice([1, 2, 3], p=[0.25, 0.35, 0.40])
        for wh in rng.choice(WAREHOUSES, n_wh, replace=False):
            rate = daily_rates(rng, pattern, day_numbers)
            if pattern == "lumpy":
                orders = rng.random(len(dates)) < rate
                qty = np.where(orders, rng.geometric(0.08, len(dates)), 0)
            elif pattern == "intermittent":
                orders = rng.random(len(dates)) < rate
                qty = np.where(orders, rng.integers(1, 4, len(dates)), 0)
            else:
                qty = rng.poisson(rate)
            # stockout episodes: nothing sold while the shelf is empty
            if rng.random() < 0.25:
                for _ in range(rng.integers(1, 4)):
                    start = rng.integers(0, len(dates) - 20)
                    qty[start : start + rng.integers(4, 18)] = 0
            # returns: a few negative lines
            returns = (rng.random(len(dates)) < 0.004) & (qty == 0) & (rate > 0.5)
            qty = np.where(returns, -rng.integers(1, 3, len(dates)), qty)
            keep = qty != 0
            discount = rng.uniform(0.92, 1.0, keep.sum())
            frames.append(
                pl.DataFrame(
                    {
                        "date": dates.filter(pl.Series(keep)),
                        "sku": sku,
                        "warehouse": wh,
                        "qty": qty[keep].astype(np.int64),
                        "revenue": np.round(qty[keep] * price * discount, 2),
                    }
                )
            )
            series.append((sku, wh, float(np.mean(rate[-56:])), pattern))
    sales = pl.concat(frames).sort(["date", "warehouse", "sku"])
    series_frame = pl.DataFrame(
        series, schema=["sku", "warehouse", "recent_rate", "pattern"], orient="row"
    )
    return sales, series_frame


def make_purchase_orders(
    rng: np.random.Generator, products: pl.DataFrame, series: pl.DataFrame
) -> pl.DataFrame:
    rows = []
    po_number = 1000
    supplier_of = dict(products.select("sku", "supplier").iter_rows())
    pack_of = dict(products.select("sku", "pack_size").iter_rows())
    for sku, wh, rate, pattern in series.iter_rows():
        if pattern == "dead":
            continue
        supplier = supplier_of[sku]
        mean_lt, std_lt, _ = SUPPLIERS[supplier]
        cycle = int(rng.integers(21, 45))
        day = START + dt.timedelta(days=int(rng.integers(0, cycle)))
        pack = pack_of[sku]
        while day <= END:
            qty = max(
                pack, int(np.ceil(max(rate, 0.2) * cycle * rng.uniform(0.8, 1.3) / pack)) * pack
            )
            lead = max(1, int(round(rng.normal(mean_lt, std_lt))))
            expected = day + dt.timedelta(days=int(mean_lt))
            received = day + dt.timedelta(days=lead)
            po_number += 1
            is_open = received > END
            short = 1.0 if rng.random() > 0.05 else rng.uniform(0.6, 0.95)
            rows.append(
                {
                    "po_id": f"PO{po_number}",
                    "sku": sku,
                    "location": wh,
                    "supplier": supplier,
                    "quantity": qty,
                    "order_date": day,
                    "expected_date": expected,
                    "received_date": None if is_open else received,
                    "received_quantity": None if is_open else int(qty * short),
                }
            )
            day += dt.timedelta(days=cycle + int(rng.integers(-5, 6)))
    return pl.DataFrame(rows).sort(["order_date", "po_id"])


def make_stock(
    rng: np.random.Generator, series: pl.DataFrame, products: pl.DataFrame
) -> pl.DataFrame:
    n = series.height
    cover_days = rng.uniform(0, 45, n)
    out = rng.random(n) < 0.08
    on_hand = np.where(out, 0, np.round(series["recent_rate"].to_numpy() * cover_days))
    dead = (series["pattern"] == "dead").to_numpy()
    on_hand = np.where(dead, rng.integers(5, 200, n), on_hand)
    allocated = np.where(rng.random(n) < 0.15, np.minimum(on_hand, rng.integers(1, 10, n)), 0)
    cost = dict(products.select("sku", "unit_cost").iter_rows())
    return pl.DataFrame(
        {
            "商品编码": series["sku"],
            "仓库": series["warehouse"],
            "现存量": on_hand.astype(np.int64),
            "已分配": allocated.astype(np.int64),
            "成本价": [cost[s] for s in series["sku"]],
        }
    ).sort(["仓库", "商品编码"])


def apply_past_promotions(sales: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Lift sales inside past promotion windows by their true lift (deterministic)."""
    category = dict(products.select("sku", "category").iter_rows())
    lift = pl.lit(1.0)
    for cat, start, end, _, true_lift in PROMOTIONS:
        skus = [s for s, c in category.items() if c == cat]
        inside = pl.col("sku").is_in(skus) & pl.col("date").is_between(start, end)
        lift = pl.when(inside).then(1.0 + true_lift).otherwise(lift)
    lifted = (pl.col("qty") > 0) & (lift > 1.0)
    return sales.with_columns(
        pl.when(lifted).then((pl.col("qty") * lift).ceil().cast(pl.Int64)).otherwise(pl.col("qty")),
        pl.when(lifted).then((pl.col("revenue") * lift).round(2)).otherwise(pl.col("revenue")),
    )


def make_promotions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "category": [p[0] for p in PROMOTIONS],
            "start": [p[1] for p in PROMOTIONS],
            "end": [p[2] for p in PROMOTIONS],
            "uplift": [p[3] for p in PROMOTIONS],
        },
        schema_overrides={"uplift": pl.Float64},
    )


def make_customer_orders(series: pl.DataFrame) -> pl.DataFrame:
    """Open customer backlog: 60 orders over the last two weeks (own seed, so adding this
    file left every other file unchanged)."""
    rng = np.random.default_rng(SEED + 1)
    live = series.filter(pl.col("pattern") != "dead")
    picks = rng.choice(live.height, 60)
    ordered = [END - dt.timedelta(days=int(d)) for d in rng.integers(0, 14, 60)]
    return pl.DataFrame(
        {
            "order_no": [f"SO{5000 + i}" for i in range(60)],
            "customer": [f"C{int(c):03d}" for c in rng.integers(1, 40, 60)],
            "sku": live["sku"].gather(picks),
            "warehouse": live["warehouse"].gather(picks),
            "qty": rng.integers(1, 12, 60),
            "order_date": ordered,
            "promised_date": [
                d + dt.timedelta(days=int(k))
                for d, k in zip(ordered, rng.integers(3, 10, 60), strict=True)
            ],
        }
    ).sort("order_date")


def main() -> None:
    rng = np.random.default_rng(SEED)
    products = make_products(rng)
    sales, series = make_sales(rng, products)
    sales = apply_past_promotions(sales, products)
    purchase_orders = make_purchase_orders(rng, products, series)
    stock = make_stock(rng, series, products)

    sales.write_csv(HERE / "sales.csv", date_format="%Y-%m-%d")
    (HERE / "stock.csv").write_bytes(stock.write_csv().encode("gb18030"))
    products.drop("pattern").write_excel(HERE / "products.xlsx", worksheet="products", autofit=True)
    pl.DataFrame(
        {
            "supplier": list(SUPPLIERS),
            "lead_time_days": [v[0] for v in SUPPLIERS.values()],
            "lead_time_std_days": [v[1] for v in SUPPLIERS.values()],
            "moq_value": [v[2] for v in SUPPLIERS.values()],
            "currency": "CNY",
        }
    ).write_csv(HERE / "suppliers.csv")
    purchase_orders.write_csv(HERE / "purchase_orders.csv", date_format="%Y-%m-%d")
    make_promotions().write_csv(HERE / "promotions.csv", date_format="%Y-%m-%d")
    make_customer_orders(series).write_csv(HERE / "customer_orders.csv", date_format="%Y-%m-%d")
    print(
        f"sales {sales.height} rows, {series.height} sku x warehouse series, "
        f"{products.height} products, {purchase_orders.height} purchase-order lines"
    )


if __name__ == "__main__":
    main()
