"""A result table left without rows says why in the plan's notes, not inside the sheet."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml
from typer.testing import CliRunner

from stockplan.cli import app


def _one_warehouse(small_shop: Path) -> None:
    # WH1 alone, no purchase orders: nothing to move, no scorecard; 40 and 3 on hand, no excess
    folder = small_shop.parent
    for name in ("sales.csv", "stock.csv"):
        frame = pl.read_csv(folder / name, infer_schema_length=0)
        column = "warehouse" if "warehouse" in frame.columns else "location"
        frame.filter(pl.col(column) == "WH1").write_csv(folder / name)
    config = yaml.safe_load(small_shop.read_text())
    del config["inputs"]["purchase_orders"]
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")


def _notes(stderr: str) -> list[str]:
    return [line.removeprefix("stockplan: ") for line in stderr.splitlines()]


def test_empty_transfers_excess_and_scorecard_each_get_a_note(small_shop: Path, tmp_path: Path):
    _one_warehouse(small_shop)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    lines = _notes(result.stderr)
    assert "transfers: none, all stock is at one location" in lines
    assert (
        "excess: none, no item holds stock above its order-up-to level plus "
        "excess.buffer_days of demand, nor stock unsold for classify.dead_item_days"
    ) in lines
    assert "suppliers: no scorecard without purchase orders" in lines
    # the tables stay header-only, as verify, diff and --previous read them
    assert pl.read_csv(out / "transfers.csv").height == 0
    assert pl.read_csv(out / "excess.csv").height == 0
    chinese = CliRunner().invoke(
        app, ["plan", "-c", str(small_shop), "-o", str(tmp_path / "zh"), "--lang", "zh"]
    )
    assert chinese.exit_code == 0, chinese.output
    assert "调拨：无，全部库存在同一仓库" in _notes(chinese.stderr)
    assert "供应商评分：无，未提供采购单" in _notes(chinese.stderr)
