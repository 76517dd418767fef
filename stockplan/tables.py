"""The columns each output table is written with, known before any work is done.

The command line checks `--sort` and `--columns` against them before it reads a file.
"""

from __future__ import annotations

# the columns of the tables that no stage module lists (their stages build them column by
# column); kept here so --sort and --columns are checked before any work
FORECAST_COLUMNS = [
    "sku", "location", "period_start", "forecast", "lo", "hi", "model", "promo_uplift"
]  # fmt: skip
CLASS_COLUMNS = [
    "sku", "location", "demand_pattern", "abc", "xyz", "n_periods", "adi", "cv2", "cv",
    "mean_demand", "annual_value", "abc_basis", "stockout_periods", "promo_periods",
    "measured_uplift", "kit_share", "kits", "replaced_by", "replaced_from", "inherits_from",
]  # fmt: skip
SUPPLIER_COLUMNS = [
    "supplier", "receipts", "lead_time_mean_days", "lead_time_std_days", "on_time_rate",
    "fill_rate", "quantity_fill_rate", "quality_rate", "supplier_tier",
]  # fmt: skip
SIMULATION_COLUMNS = [
    "policy", "target", "fill_rate", "cycle_service_level", "stockout_days",
    "avg_inventory_value", "orders_placed", "avg_inventory_units", "unmet_units", "series",
    "days", "policy_inventory_at_same_fill", "promised_service", "reachable_series",
    "reachable_service", "unreachable_series", "unreachable_demand_share",
    "unreachable_promised", "unreachable_service", "rule_inventory_at_same_fill",
    "inventory_vs_rule", "rule_fill_rate_compared", "expired_units", "expired_value",
]  # fmt: skip
"""The `simulation` table, one row per policy and target (`replay.simulate`)."""
SIMULATION_TABLE_COLUMNS = [*SIMULATION_COLUMNS, "demand_pattern"]  # with simulation_by_pattern


def known_columns(table: str) -> list[str] | None:
    """The columns a table is written with, when fixed in advance (for --sort, --columns)."""
    if table == "diff":  # written as it is compared: no item name, no planning date
        from stockplan.diff import DIFF_COLUMNS

        return list(DIFF_COLUMNS)
    from stockplan.caps import ITEM_COLUMNS
    from stockplan.excess import EXCESS_COLUMNS
    from stockplan.large_orders import LARGE_ORDER_COLUMNS
    from stockplan.notices import NOTICE_COLUMNS
    from stockplan.overrides import SCORE_COLUMNS
    from stockplan.purchasing import PO_SUMMARY_COLUMNS
    from stockplan.reorder import ORDER_COLUMNS, ORDER_DETAIL_COLUMNS
    from stockplan.risk import RISK_COLUMNS
    from stockplan.shelf_life import EXPIRY_COLUMNS
    from stockplan.supplier_rules import SUPPLIER_ORDER_EXTRA
    from stockplan.transfers import TRANSFER_COLUMNS

    known = {
        "orders": [
            *ORDER_COLUMNS,
            *ORDER_DETAIL_COLUMNS,
            "supplier_tier",  # leadtime.with_supplier_tier
            "name",
            "risk_level",
            *ITEM_COLUMNS,
        ],
        "risk": [*RISK_COLUMNS, "name"],
        "transfers": [*TRANSFER_COLUMNS, "name"],
        "excess": [*EXCESS_COLUMNS, "name"],
        "supplier_orders": [*PO_SUMMARY_COLUMNS, *SUPPLIER_ORDER_EXTRA],
        "notices": [*NOTICE_COLUMNS, "name"],
        "expiry_risk": [*EXPIRY_COLUMNS, "name"],
        "overrides": [*SCORE_COLUMNS, "name"],
        "large_orders": [*LARGE_ORDER_COLUMNS, "name"],
        "forecast": FORECAST_COLUMNS,
        "classes": CLASS_COLUMNS,
        "suppliers": SUPPLIER_COLUMNS,
        "simulation": SIMULATION_TABLE_COLUMNS,
    }.get(table)
    return [*known, "as_of"] if known else None
