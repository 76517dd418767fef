"""Every file of tests/bad_inputs/ through the CLI: a one-line error or its documented fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES: dict[str, dict] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.name not in ("cases.yaml", "make_corpus.py")}
    assert files == set(CASES), "every corpus file needs a case, every case a file"
    assert len(CASES) >= 80


def _use(shop_config: Path, table: str, name: str) -> Path:
    """Put corpus file `name` in the shop as input `table`; return the config to run."""
    folder = shop_config.parent
    shutil.copy(CORPUS / name, folder / name)
    if table == "config":
        return folder / name
    config = yaml.safe_load(shop_config.read_text(encoding="utf-8"))
    config["inputs"][table] = name
    shop_config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return shop_config


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, small_shop: Path, tmp_path: Path):
    case = CASES[name]
    config = _use(small_shop, case["table"], name)
    if "with_sales" in case:
        config = _use(config, "sales", case["with_sales"])
    out = tmp_path / "result"
    out.mkdir()
    if "error" in case:
        target = out / "plan.xlsx"
        result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(target)])
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("stockplan: error: ")
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", lines[0])  # escaped, never raw
        for fragment in case["error"]:
            assert fragment in lines[0]
        assert list(out.iterdir()) == []  # no output, not even a temporary file
        return

    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    if "warning" in case:
        assert case["warning"] in result.stderr
    for table in ("orders", "classes"):
        if table not in case:
            continue
        frame = pl.read_csv(out / f"{table}.csv", schema_overrides={"sku": pl.String})
        for sku, location, column, expected in case[table]:
            row = frame.filter((pl.col("sku") == sku) & (pl.col("location") == location))
            assert row.height == 1, f"{sku}@{location} missing from {table}"
            value = row[column][0]
            assert value == (pytest.approx(expected) if isinstance(expected, float) else expected)
    for label in case.get("absent", []):
        for table in out.glob("*.csv"):
            frame = pl.read_csv(table, infer_schema=False)
            for column in ("sku", "from_location", "to_location"):
                if column in frame.columns:
                    assert label not in frame[column].to_list(), f"{label} in {table.name}"
