"""Hostile cells in otherwise good inputs: each is refused in one line naming file, row and
column (exit 1, no output), in English and Chinese, never read as something else."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _add_promotions(config: Path, text: str) -> Path:
    path = config.parent / "promotions.csv"
    path.write_text(text, encoding="utf-8")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"]["promotions"] = "promotions.csv"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "first", "column"),
    [
        ("sku,category", "A-100,", "category"),
        ("category", "toys", "category"),
        ("sku", "A-100", "sku"),
    ],
)
def test_a_promotion_for_no_sku_and_no_category_is_refused(
    small_shop: Path, tmp_path: Path, header: str, first: str, column: str
):
    # row 3 names nothing: it lifted no item, and the planned promotion was lost unsaid
    blank = "," * header.count(",") + " "
    dates = "2025-11-10,2025-11-20,0.5"
    path = _add_promotions(
        small_shop, f"{header},start,end,uplift\n{first},{dates}\n{blank},{dates}\n"
    )
    target = tmp_path / "out" / "plan.xlsx"
    target.parent.mkdir()
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {path}, row 3, column '{column}': a promotion needs a sku or a "
        "category; this row has neither"
    ]
    assert list(target.parent.iterdir()) == []

    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {path}，第 3 行，列 '{column}'：促销须填商品编码（sku）或类别"
        "（category），此行两者都没有"
    ]
