"""One hand-built input row of `reorder.plan_orders`, shared by the small policy tests."""

from __future__ import annotations

import polars as pl

NULLABLE_NUMBERS = {
    "moq": pl.Float64,
    "pack_size": pl.Float64,
    "max_order": pl.Float64,
    "product_service_level": pl.Float64,
}
"""Columns that are None in `plan_row` but numbers in the plan."""


def plan_row(**overrides: object) -> dict:
    """10 a day, L = 14, R = 7 (S = 210 with no forecast error), position 100."""
    row = {
        "sku": "P",
        "location": "W",
        "supplier": "S",
        "on_hand": 100.0,
        "allocated": 0.0,
        "backorders": 0.0,
        "on_order": 0.0,
        "inventory_position": 100.0,
        "forecast_per_day": 10.0,
        "demand_protection": 210.0,
        "sigma_e": 0.0,
        "lead_time_days": 14.0,
        "lead_time_std_days": 0.0,
        "lead_time_source": "default",
        "abc": "A",
        "xyz": "X",
        "demand_pattern": "smooth",
        "model": "AutoETS",
        "unit_cost": 10.0,
        "moq": None,
        "pack_size": None,
        "max_order": None,
        "product_service_level": None,
        "inactive": False,
    }
    row.update(overrides)
    return row
