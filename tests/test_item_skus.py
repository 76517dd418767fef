"""The skus of the kits, successions and price breaks are items of the products table,
as every sku of the stock, sales and orders is: one line naming file, row and column,
exit 1, nothing written; `planning.unknown_sku: warn` makes it the same line as a
warning. Before, a phantom component or successor was planned and ordered with no
supplier or cost, and a price break of a typo passed `validate` and never applied."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml
from typer.testing import CliRunner

from stockplan.cli import app


def _with_table(shop: Path, name: str, text: str, **planning: str) -> Path:
    """The small shop (A-100 and 007 in products) with input table `name` written from
    `text`, and more `planning` settings."""
    (shop.parent / f"{name}.csv").write_text(text, encoding="utf-8")
    config = yaml.safe_load(shop.read_text(encoding="utf-8"))
    config["inputs"][name] = f"{name}.csv"
    config["planning"].update(planning)
    shop.write_text(yaml.safe_dump(config), encoding="utf-8")
    return shop


def _refused(config: Path, *options: str) -> str:
    """The one error line of `plan -o folder` on `config`; nothing may be written."""
    out = config.parent / "out"
    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), *options])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert not out.exists()
    return lines[0]


def test_a_kit_component_missing_from_products_is_refused(small_shop: Path):
    """Kit 007 = 2 x A-100 + 3 x C3; C3 is in no table but the bom (it was planned as a
    phantom item and ordered with no supplier or cost)."""
    config = _with_table(
        small_shop, "bom", "kit_sku,component_sku,quantity\n007,A-100,2\n007,C3,3\n"
    )
    source = small_shop.parent / "bom.csv"
    assert _refused(config) == (
        f"stockplan: error: {source}, row 3, column 'component_sku': 'C3' is not in the "
        "products table (1 unknown SKU in bom); add them to products or set "
        "planning.unknown_sku: warn"
    )
    assert _refused(config, "--lang", "zh") == (
        f"stockplan: 错误: {source}，第 3 行，列 'component_sku'：'C3' 不在商品档案中"
        "（套件清单（bom）中共 1 个未知商品）；请把它们加入商品档案，或设置 "
        "planning.unknown_sku: warn"
    )


def test_a_kit_missing_from_products_is_refused(small_shop: Path):
    """A kit is sold: the products hold it as every sold item (a typo of the kit's code
    left the kit planned as an item of its own and its components without its demand)."""
    config = _with_table(small_shop, "bom", "kit_sku,component_sku,quantity\nKIT,A-100,2\n")
    assert _refused(config).startswith(
        f"stockplan: error: {small_shop.parent / 'bom.csv'}, row 2, column 'kit_sku': 'KIT' "
        "is not in the products table (1 unknown SKU in bom)"
    )


def test_a_successor_or_old_item_missing_from_products_is_refused(small_shop: Path):
    """'A-1OO' (letter O for zero) would inherit A-100's demand and be ordered with no
    supplier or cost while A-100 stops at the switch; an old item 'OO7' replaces nothing."""
    source = small_shop.parent / "succession.csv"
    config = _with_table(small_shop, "succession", "old_sku,new_sku,date\nA-100,A-1OO,2025-11-03\n")
    assert _refused(config).startswith(
        f"stockplan: error: {source}, row 2, column 'new_sku': 'A-1OO' is not in the products "
        "table (1 unknown SKU in succession)"
    )
    config = _with_table(small_shop, "succession", "old_sku,new_sku,date\nOO7,A-100,2025-11-03\n")
    assert _refused(config).startswith(
        f"stockplan: error: {source}, row 2, column 'old_sku': 'OO7' is not in the products "
        "table (1 unknown SKU in succession)"
    )


def test_validate_refuses_a_price_break_of_an_unknown_sku(small_shop: Path):
    config = _with_table(
        small_shop, "price_breaks", "sku,min_qty,unit_price\nA-100,100,11\nA-1000,200,10\n"
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        f"stockplan: error: {small_shop.parent / 'price_breaks.csv'}, row 3, column 'sku': "
        "'A-1000' is not in the products table (1 unknown SKU in price_breaks); add them to "
        "products or set planning.unknown_sku: warn"
    )


def test_with_unknown_sku_warn_an_unknown_successor_is_a_warning_and_planned(small_shop: Path):
    config = _with_table(
        small_shop,
        "succession",
        "old_sku,new_sku,date\nA-100,A-1OO,2025-11-03\n",
        unknown_sku="warn",
    )
    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", "-", "--all"])
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {small_shop.parent / 'succession.csv'}, row 2, column "
        "'new_sku': 'A-1OO' is not in the products table (1 unknown SKU in succession)"
    ) in result.stderr


def test_a_new_successor_needs_only_its_products_row(small_shop: Path):
    """A successor that has not sold or been stocked yet is no unknown item: its products
    row (supplier Acme, cost 12.5) is all it needs, and it is ordered from Acme on A-100's
    history (it inherits A-100's demand from the switch, 20 days after as_of)."""
    products = pl.read_csv(small_shop.parent / "products.csv", schema_overrides={"sku": pl.String})
    new = {"sku": ["A-200"], "name": ["New"], "unit_cost": [12.5], "unit_price": [25.0]}
    new |= {"supplier": ["Acme"], "pack_size": [1], "moq": [0]}
    pl.concat([products, pl.DataFrame(new)], how="vertical_relaxed").write_csv(
        small_shop.parent / "products.csv"
    )
    config = _with_table(small_shop, "succession", "old_sku,new_sku,date\nA-100,A-200,2025-11-02\n")
    result = CliRunner().invoke(
        app,
        ["plan", "-c", str(config), "-o", "-", "-q", "--all"]
        + ["--columns", "sku,location,supplier,unit_cost,order_qty"],
    )
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.strip().splitlines()[1:]]
    new_rows = [r for r in rows if r[0] == "A-200"]
    assert {r[1] for r in new_rows} == {"WH1", "WH2"}
    assert all(r[2:4] == ["Acme", "12.5"] for r in new_rows)
    assert any(float(r[4]) > 0 for r in new_rows)
