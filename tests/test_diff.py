"""`stockplan diff`: each part of a change against a waterfall worked out by hand."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.diff import PARTS, plan_diff, risk_changes
from stockplan.io.writers import output_plan, write_files

COLUMNS = [
    "sku",
    "location",
    "order_qty",
    "on_hand",
    "on_order",
    "backorders",
    "inventory_position",
    "lead_time_days",
    "review_days",
    "safety_stock",
    "order_up_to",
    "service_level",
    "reason",
]
Z90, Z95 = stats.norm.ppf(0.90), stats.norm.ppf(0.95)
SS_B_NEW = 45.0


def _orders(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS, orient="row").with_columns(
        pl.col(c).cast(pl.Float64) for c in COLUMNS[2:-1]
    )


def _old_new() -> tuple[pl.DataFrame, pl.DataFrame]:
    # A: f 10/day over L 14 + R 7 = 210, SS 40 -> S 250; IP 100 + 50 = 150; need 100 -> 108
    #    (packs of 12). NEW: f 12, L 21 (S = 12 x 28 + 50 = 386), on hand 80, on order 60,
    #    backorders 5, allocated 10 -> IP 125; need 261 -> 264.
    # B: f 10, L 14, R 7 -> 14 (config), service level 0.90 -> 0.95 (config), SS 30 -> 45;
    #    IP 100. OLD S = 240, need 140; NEW S = 10 x 28 + 45 = 325, need 225.
    # C: position far above S in OLD (need 0), stock falls to 10: need 9 -> MOQ 24.
    # D: only in OLD (vanished); E: only in NEW (appeared); F: 0 in both (unchanged).
    old = _orders(
        [
            ("A", "W1", 108, 100, 50, 0, 150, 14, 7, 40, 250, 0.95, "old A"),
            ("B", "W1", 140, 100, 0, 0, 100, 14, 7, 30, 240, 0.90, "old B"),
            ("C", "W1", 0, 50, 0, 0, 50, 7, 7, 5, 19, 0.95, "old C"),
            ("D", "W1", 24, 0, 0, 0, 0, 7, 7, 5, 19, 0.95, "old D"),
            ("F", "W1", 0, 90, 0, 0, 90, 7, 7, 5, 19, 0.95, "old F"),
        ]
    )
    new = _orders(
        [
            ("A", "W1", 264, 80, 60, 5, 125, 21, 7, 50, 386, 0.95, "new A"),
            ("B", "W1", 225, 100, 0, 0, 100, 14, 14, SS_B_NEW, 325, 0.95, "new B"),
            ("C", "W1", 24, 10, 0, 0, 10, 7, 7, 5, 19, 0.95, "new C"),
            ("E", "W1", 36, 0, 0, 0, 0, 7, 7, 5, 19, 0.95, "new E"),
            ("F", "W1", 0, 80, 0, 0, 80, 7, 7, 5, 19, 0.95, "new F"),
        ]
    )
    return old, new


def _row(frame: pl.DataFrame, sku: str) -> dict:
    (row,) = frame.filter(pl.col("sku") == sku).to_dicts()
    return row


def test_each_part_of_a_changed_line_is_its_waterfall_step():
    row = _row(plan_diff(*_old_new()), "A")
    # need after each step (from 100): config 100 (nothing changed); demand f 12 over 21
    # days -> S 292, need 142 (+42); lead time 28 days -> S 376, 226 (+84); SS 50 -> 236
    # (+10); on hand 80 -> IP 130, 256 (+20); on order 60 -> IP 140, 246 (-10); backorders
    # 5 -> IP 135, 251 (+5); allocated 10 -> IP 125, 261 (+10); order 108 -> 264 is +156,
    # need moved +161: the pack rounding gives back -5.
    assert row["change"] == "changed"
    assert (row["old_order_qty"], row["new_order_qty"], row["order_qty_change"]) == (108, 264, 156)
    expected = {
        "due_to_config": 0,
        "due_to_demand": 42,
        "due_to_lead_time": 84,
        "due_to_safety_stock": 10,
        "due_to_on_hand": 20,
        "due_to_on_order": -10,
        "due_to_backorders": 5,
        "due_to_other_stock": 10,
        "due_to_constraints": -5,
    }
    assert {p: row[p] for p in PARTS} == pytest.approx(expected)
    assert row["causes"] == (
        "demand +42; lead time +84; safety stock +10; on hand +20; on order -10; "
        "backorders +5; allocated/transfers +10; constraints -5"
    )
    assert (row["old_reason"], row["new_reason"]) == ("old A", "new A")


def test_a_new_review_period_and_service_target_are_config_the_rest_of_ss_is_safety_stock():
    row = _row(plan_diff(*_old_new()), "B")
    # config step: R 7 -> 14 adds 10 x 7 = 70; the target 0.90 -> 0.95 scales SS 30 by
    # z(0.95) / z(0.90); the safety-stock step is what is left of 30 -> 45
    ss_at_new_target = 30 * Z95 / Z90
    assert row["due_to_config"] == pytest.approx(round(70 + ss_at_new_target - 30, 2))
    assert row["due_to_safety_stock"] == pytest.approx(round(SS_B_NEW - ss_at_new_target, 2))
    assert row["due_to_demand"] == row["due_to_lead_time"] == 0
    assert row["order_qty_change"] == 85
    assert sum(row[p] for p in PARTS) == pytest.approx(85)


def test_a_position_falling_below_order_up_to_counts_only_the_crossing_and_moq_is_constraint():
    row = _row(plan_diff(*_old_new()), "C")
    # OLD need max(19 - 50, 0) = 0; on hand 10 -> need 9; MOQ lifts it to 24: +15
    assert row["change"] == "appeared"
    assert row["due_to_on_hand"] == 9
    assert row["due_to_constraints"] == 15


def test_lines_in_one_plan_only_appear_or_vanish_without_causes_and_unchanged_are_hidden():
    changes = plan_diff(*_old_new())
    assert changes["sku"].to_list() == ["A", "B", "E", "C", "D"]  # largest change first
    gone, new = _row(changes, "D"), _row(changes, "E")
    assert (gone["change"], gone["order_qty_change"]) == ("vanished", -24)
    assert (new["change"], new["order_qty_change"]) == ("appeared", 36)
    assert all(gone[p] is None and new[p] is None for p in PARTS)
    assert "write plans with --all" in new["note"]
    everything = plan_diff(*_old_new(), include_unchanged=True)
    assert _row(everything, "F")["change"] == "unchanged"


def test_parts_add_up_to_every_change():
    changes = plan_diff(*_old_new()).drop_nulls("due_to_demand")
    total = changes.select(pl.sum_horizontal(PARTS)).to_series()
    assert (total - changes["order_qty_change"]).abs().max() < 1e-9


def _write_plan(tables: dict[str, pl.DataFrame], target: Path, fmt: str | None = None) -> Path:
    write_files(output_plan(tables, target, fmt, "orders"))
    return target


def test_diff_reads_a_workbook_and_a_folder_and_writes_csv_and_xlsx(tmp_path: Path):
    old, new = _old_new()
    old = old.with_columns(pl.col("sku").replace({"A": "007"}))  # codes keep their zeros
    new = new.with_columns(pl.col("sku").replace({"A": "007"}))
    before = _write_plan({"orders": old}, tmp_path / "old.xlsx")
    after = _write_plan({"orders": new}, tmp_path / "new")
    changes = stockplan.diff_plans(before, after).changes
    assert changes["change"].value_counts().sort("change").rows() == [
        ("appeared", 2),
        ("changed", 2),
        ("vanished", 1),
    ]
    row = _row(changes, "007")
    assert (row["due_to_lead_time"], row["due_to_constraints"]) == (84, -5)
    # the command line: the same counts said, the table written as CSV and as a workbook
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 appeared, 1 vanished, 2 changed" in result.stderr
    table = pl.read_csv(out, schema_overrides={"sku": pl.String})
    row = _row(table, "007")
    assert (row["due_to_lead_time"], row["due_to_constraints"]) == (84, -5)
    book = tmp_path / "diff.xlsx"
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", str(book)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(book)["diff"]
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["sku"] == "007" and first["due_to_demand"] == 42


def test_diff_of_a_plan_without_orders_is_one_line(tmp_path: Path):
    old, _ = _old_new()
    plan = _write_plan({"orders": old}, tmp_path / "plan.xlsx")
    risk = tmp_path / "risk.csv"
    pl.DataFrame({"sku": ["A"], "location": ["W1"], "risk_level": ["high"]}).write_csv(risk)
    result = CliRunner().invoke(app, ["diff", str(plan), str(risk)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {risk}: the plan has no orders table"
    ]


def test_risk_changes_name_new_worse_same_and_better_items():
    now = pl.DataFrame(
        {
            "sku": ["N", "W", "S", "B"],
            "location": "W1",
            "risk_level": ["high", "high", "medium", "low"],
        }
    )
    before = pl.DataFrame(
        {"sku": ["W", "S", "B"], "location": "W1", "risk_level": ["medium", "medium", "high"]}
    )
    changes = risk_changes(now, before)
    assert changes["risk_change"].to_list() == ["new", "worse", "same", "better"]
    assert changes["previous_risk_level"].to_list() == [None, "medium", "medium", "high"]


def test_a_blank_cell_in_a_plan_counts_as_zero_so_the_parts_still_add_up():
    old = _orders([("A", "W1", 10, 5, None, 0, 5, 7, 7, 1, 15, 0.95, "")])
    new = _orders([("A", "W1", 20, 5, 0, 0, 5, 7, 7, 1, 29, 0.95, "")])
    row = _row(plan_diff(old, new), "A")
    # f 1 -> 2 over 14 days: S 15 -> 29, need 10 -> 24 (+14); order +10: constraints -4
    assert (row["due_to_demand"], row["due_to_on_order"], row["due_to_constraints"]) == (14, 0, -4)


def test_diff_warns_when_a_plan_was_written_without_all(tmp_path: Path):
    old, new = _old_new()
    before = _write_plan({"orders": old}, tmp_path / "old")
    (before / "run.json").write_text('{"options": {"all": false}, "planning_date": "2025-10-06"}')
    after = _write_plan({"orders": new}, tmp_path / "new.xlsx")
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", "-"])
    assert result.exit_code == 0
    assert (
        f"stockplan: warning: {before} was written without --all: its lines with nothing to "
        "order are missing, so a line that appears or vanishes there has no causes"
    ) in result.stderr
    assert "Plan changes" not in result.stdout and result.stdout.startswith("sku,location,change")


def test_diff_takes_limit_sort_and_columns_as_its_footer_says(tmp_path: Path):
    old, new = _old_new()
    before = _write_plan({"orders": old}, tmp_path / "old.xlsx")
    after = _write_plan({"orders": new}, tmp_path / "new")
    args = ["diff", str(before), str(after), "-q"]
    result = CliRunner().invoke(app, [*args, "-f", "table", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "3 more rows: see them with --limit" in result.stdout
    result = CliRunner().invoke(app, [*args, "-f", "table", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "more rows" not in result.stdout
    assert {line.split()[0] for line in result.stdout.splitlines() if line.strip()} >= set("ABCDE")
    sorted_args = ["--sort", "order_qty_change:desc", "--columns", "sku,order_qty_change"]
    result = CliRunner().invoke(app, [*args, "-o", "-", *sorted_args])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(io.StringIO(result.stdout))
    assert table.columns == ["sku", "order_qty_change"]
    assert table["sku"].to_list() == ["A", "B", "E", "C", "D"]  # +156, +85, +36, +24, -24
    # a name ending with / is a folder: the table is written into it
    result = CliRunner().invoke(app, [*args, "-o", f"{tmp_path / 'changes'}/", *sorted_args])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "changes" / "diff.csv").equals(table)
    # checked before either plan is read: a missing plan would be exit 1
    missing = ["diff", str(tmp_path / "no.xlsx"), str(tmp_path / "nor.xlsx")]
    result = CliRunner().invoke(app, [*missing, "--sort", "nosuch"])
    assert result.exit_code == 2 and "unknown column 'nosuch'" in result.output
    result = CliRunner().invoke(app, [*missing, "--columns", "sku,as_of"])
    assert result.exit_code == 2 and "unknown column 'as_of'" in result.output


def test_a_workbook_with_a_title_above_the_header_is_read(tmp_path: Path):
    from stockplan.io.planfiles import read_plan

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "orders"
    sheet.append(["Purchase suggestions as of 2025-10-13"])
    sheet.append([])
    sheet.append(["sku", "location", "order_qty"])
    sheet.append(["007", "W1", 24])
    book.save(tmp_path / "plan.xlsx")
    tables, record = read_plan(tmp_path / "plan.xlsx")
    assert record is None
    assert tables["orders"].rows() == [("007", "W1", 24.0)]


def test_diff_in_chinese_renders_headers_change_words_and_causes(tmp_path: Path):
    old, new = _old_new()
    before = _write_plan({"orders": old}, tmp_path / "old.xlsx")
    after = _write_plan({"orders": new}, tmp_path / "new")
    english = _row(stockplan.diff_plans(before, after).changes, "A")["causes"]
    assert english == (
        "demand +42; lead time +84; safety stock +10; on hand +20; on order -10; "
        "backorders +5; allocated/transfers +10; constraints -5"
    )
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(
        app, ["diff", str(before), str(after), "--lang", "zh", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "采购行：新增 2，不再建议 1，变化 2" in result.stderr
    table = pl.read_csv(out)
    assert table.columns[:6] == [
        "商品编码",
        "仓库",
        "变化",
        "原建议采购量",
        "新建议采购量",
        "采购量变化",
    ]
    row = _row(table.rename({"商品编码": "sku"}), "A")
    assert row["变化"] == "变化" and row["需求影响"] == 42 and row["提前期影响"] == 84
    assert row["变化原因"] == (
        "需求 +42；提前期 +84；安全库存 +10；现存量 +20；在途量 -10；欠货量 +5；"
        "分配/调拨 +10；约束 -5"
    )
    assert set(table["变化"]) == {"新增", "不再建议", "变化"}
    appeared = _row(table.rename({"商品编码": "sku"}), "E")
    assert appeared["备注"] == "原计划没有这一行：用 --all 写出计划才能看到原因"
    # read back, as scripts read a plan: the causes in canonical words again
    from stockplan.i18n import canonical_frame

    back = canonical_frame(table.with_columns(pl.col("商品编码").cast(pl.String)))
    assert _row(back, "A")["causes"] == english and _row(back, "A")["change"] == "changed"
    # a later plan written in Chinese sets the default; --headers canonical keeps the contract
    (after / "run.json").write_text('{"options": {"all": true, "lang": "zh"}}')
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("商品编码,仓库,变化")
    args = ["diff", str(before), str(after), "-o", "-", "--headers", "canonical"]
    result = CliRunner().invoke(app, args)
    assert result.stdout.startswith("sku,location,change") and "appeared" in result.stdout
    # a plan a script wrote in Chinese with canonical headers keeps them in its diff
    record = '{"options": {"all": true, "lang": "zh", "headers": "canonical"}}'
    (after / "run.json").write_text(record)
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", "-"])
    assert result.stdout.startswith("sku,location,change") and "appeared" in result.stdout
    # an error before any plan is read is said in the language asked for
    result = CliRunner().invoke(
        app, ["diff", str(tmp_path / "nope.xlsx"), str(after), "--lang", "zh"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("stockplan: 错误: ")


def test_every_cause_and_note_of_a_diff_has_a_chinese_word():
    from stockplan.diff import CAUSE_LABELS
    from stockplan.i18n import VALUES, render_causes

    old, new = _old_new()
    notes = {n for n in plan_diff(old, new)["note"].to_list() if n}
    assert len(notes) == 2  # a line only in the old plan, a line only in the new one
    assert notes <= set(VALUES["note"])

    for label in CAUSE_LABELS.values():
        rendered = render_causes(f"{label} +1.5", "zh")
        assert rendered.endswith(" +1.5") and label not in rendered


@pytest.mark.parametrize(
    ("cell", "problem"),
    [("abc", "is not a number"), ("nan", "is not a number"), ("-500", "must not be negative")],
)
def test_a_plan_edited_by_hand_with_a_bad_quantity_is_refused_naming_the_cell(
    tmp_path: Path, cell: str, problem: str
):
    old, new = _old_new()
    before = _write_plan({"orders": old}, tmp_path / "old.csv")
    after = _write_plan({"orders": new}, tmp_path / "new.csv")
    lines = after.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")  # file row 3: the second order line
    row[header.index("order_qty")] = cell
    lines[2] = ",".join(row)
    after.write_text("\n".join(lines) + "\n")
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {after}, row 3, column 'order_qty': '{cell}' {problem}"
    ]
    assert not out.exists()


def test_a_plan_without_the_numbers_a_diff_needs_is_named(tmp_path: Path):
    old, new = _old_new()
    before = _write_plan({"orders": old}, tmp_path / "old.csv")
    after = _write_plan({"orders": new.drop("on_hand", "backorders")}, tmp_path / "new.csv")
    result = CliRunner().invoke(app, ["diff", str(before), str(after)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: error: {after}: the orders table lacks on_hand, backorders: compare plans "
        "written by stockplan"
    )


def test_a_code_that_starts_like_a_formula_reads_back_as_it_was_planned(tmp_path: Path):
    # the CSV writer puts ' before -100 / @cmd so a spreadsheet does not run them; the plan
    # read back (diff, --previous) takes it off again: the same plan has no changes
    old, _ = _old_new()
    old = old.with_columns(pl.col("sku").replace({"A": "-100", "B": "@cmd", "C": "'+86"}))
    folder = _write_plan({"orders": old}, tmp_path / "plan")
    written = (folder / "orders.csv").read_text()
    assert "'-100" in written and "''+86" in written  # a quote of the data's own kept
    book = _write_plan({"orders": old}, tmp_path / "plan.xlsx")
    changes = stockplan.diff_plans(folder, book).changes
    assert changes.filter(pl.col("change") != "unchanged").height == 0, changes
    tables, _ = stockplan.io.planfiles.read_plan(folder)
    assert sorted(tables["orders"]["sku"].unique()) == sorted(old["sku"].unique())


def test_orders_tables_without_the_columns_a_diff_needs_are_refused_in_either_language(
    tmp_path: Path,
):
    from stockplan.errors import StockplanError
    from stockplan.i18n import error_text

    old, new = _old_new()
    with pytest.raises(StockplanError) as refused:
        plan_diff(old.drop("on_hand", "review_days"), new)
    assert error_text(refused.value, "en") == (
        "the orders tables lack on_hand, review_days: compare plans written by stockplan"
    )
    assert error_text(refused.value, "zh") == (
        "采购建议表缺少 on_hand, review_days：请比较由 stockplan 写出的计划"
    )
    # through the command, each plan's file is named, exit 1 as before
    for name, frame in (("old", old.drop("on_hand")), ("new", new)):
        (tmp_path / name).mkdir()
        frame.write_csv(tmp_path / name / "orders.csv")
    args = ["diff", str(tmp_path / "old"), str(tmp_path / "new")]
    result = CliRunner().invoke(app, [*args, "--lang", "zh"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {tmp_path / 'old'}：采购建议表缺少 on_hand："
        "请比较由 stockplan 写出的计划"
    ]


def test_a_chinese_plan_file_is_read_whatever_its_name(tmp_path: Path):
    # one table written in Chinese, under a name of the buyer's: its headers say which
    # table it is, as an English file's do (it was refused as having no orders table)
    from stockplan.io.planfiles import previous_risk

    old, new = _old_new()
    before = tmp_path / "本周.csv"
    write_files(output_plan({"orders": old}, before, None, "orders"), lang="zh")
    after = _write_plan({"orders": new}, tmp_path / "week.csv")
    result = CliRunner().invoke(app, ["diff", str(before), str(after), "-o", "-", "-q"])
    assert result.exit_code == 0, result.output
    changes = pl.read_csv(io.StringIO(result.stdout))
    assert changes["change"].value_counts().sort("change").rows() == [
        ("appeared", 2),
        ("changed", 2),
        ("vanished", 1),
    ]
    risk = pl.DataFrame({"sku": ["A"], "location": ["W1"], "risk_level": ["high"]})
    named = tmp_path / "d_风险.csv"
    write_files(output_plan({"risk": risk}, named, None, "risk"), lang="zh")
    assert "风险等级" in named.read_text(encoding="utf-8-sig")
    table, _ = previous_risk(named)
    assert table.select("sku", "location", "risk_level").rows() == [("A", "W1", "high")]
    # a Chinese plan without the table asked for is told so in Chinese
    result = CliRunner().invoke(app, ["diff", str(named), str(after)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {named}：该计划中没有采购建议表"
    ]
