"""A customer notice quoting an order id and an item name that each fit a cell (each is
checked on reading) but together do not is refused when the notices are built, naming the
order's row in its file, what the notice quotes and where the item's name is written: one
line, exit 1, nothing written."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()
LONG = 16_500  # each below 32,767 - 1,000 (io.columns.SENTENCE_ROOM): accepted on reading


def _long_order_and_name(config: Path) -> Path:
    folder = config.parent
    (folder / "customer_orders.csv").write_text(
        "order_id,customer,sku,location,quantity,order_date,promised_date\n"
        "SO-1,Ms Li,007,WH1,2,2025-10-01,2025-10-14\n"
        f"{'O' * LONG},Mr Wang,007,WH1,30,2025-10-02,2025-10-15\n"
    )
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(
        pl.when(pl.col("sku") == "007").then(pl.lit("N" * LONG)).otherwise("name").alias("name")
    ).write_csv(folder / "products.csv")
    settings = yaml.safe_load(config.read_text())
    settings["inputs"]["customer_orders"] = "customer_orders.csv"
    config.write_text(yaml.safe_dump(settings))
    return config


@pytest.mark.parametrize("target", ["plan.xlsx", "out/", "plan.csv"])
def test_a_notice_too_long_for_a_cell_is_refused_naming_the_order_row_and_the_item(
    small_shop: Path, tmp_path: Path, target: str
):
    config = _long_order_and_name(small_shop)
    out = tmp_path / "result"
    out.mkdir()
    where = out / target
    if target.endswith("/"):
        where.mkdir()
    before = sorted(out.rglob("*"))
    result = runner.invoke(app, ["plan", "-c", str(config), "-o", str(where), "--all", "-q"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    # the order is the third line of the file (the header is line 1); its notice quotes
    # the 16,500-character id and the 16,500-character name of item 007
    orders_file = config.parent / "customer_orders.csv"
    assert lines[0].startswith(f"stockplan: error: {orders_file}, row 3: ")
    assert "order_id (16,500 characters)" in lines[0]
    products = config.parent / "products.csv"  # 007 is its third line
    assert f"item '007' (16,500, from {products}, row 3, column 'name'); " in lines[0]
    assert "table notices" not in lines[0]
    assert sorted(out.rglob("*")) == before  # nothing written


def test_the_refusal_is_said_in_chinese(small_shop: Path):
    config = _long_order_and_name(small_shop)
    result = runner.invoke(app, ["notices", "-c", str(config), "--lang", "zh", "-o", "-", "-q"])
    assert result.exit_code == 1
    orders_file = config.parent / "customer_orders.csv"
    assert result.stderr.strip().startswith(f"stockplan: 错误: {orders_file}，第 3 行：")
    assert "订单号（16,500 个字符）" in result.stderr
    products = config.parent / "products.csv"
    assert f"商品 '007' 的名称（16,500 个，来自 {products}，第 3 行，列 'name'）；请缩短" in (
        result.stderr
    )
    assert "Traceback" not in result.output
    assert result.stdout == ""
