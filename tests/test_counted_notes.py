"""Notes and reasons built outside the message catalogue say a count of 1 with its noun in
the singular in English ("on 1 line", "1 item is promised"), and still read in Chinese
under --lang zh (Chinese has no plural: the same text whatever the count)."""

from __future__ import annotations

import polars as pl
import pytest

from stockplan import i18n


def test_counted_text_and_counted_format_say_a_count_of_one_in_the_singular():
    assert i18n.counted_text("on {n} lines, {cut} lines cut", n=1, cut=2) == (
        "on 1 line, 2 lines cut"
    )
    assert i18n.counted_text("{total:,} items are short", total=1) == "1 item is short"
    assert i18n.counted_text("{total:,} items are short", total=1200) == "1,200 items are short"
    frame = pl.DataFrame({"n": [1, 2, 0, None], "u": ["1", "1", "1.5", "2"]})
    texts = frame.select(
        i18n.counted_format("{n} lines and {u} units", n=pl.col("n"), u=pl.col("u"))
    ).to_series()
    # a count is read as written: "1.5" stays plural, a null count leaves no text
    assert texts.to_list() == [
        "1 line and 1 unit",
        "2 lines and 1 unit",
        "0 lines and 1.5 units",
        None,
    ]


def test_the_budget_note_counts_one_line_in_the_singular_in_both_languages():
    from stockplan.purchasing import budget_note_from

    def note(count: int) -> str:
        sums = pl.DataFrame(
            {
                "cut": [count],
                "dropped": [1],
                "lines": [count],
                "value": [900.0],
                "asked": [1500.0],
                "added": [200.0],
                "added_lines": [count],
                "from_none": [1],
            }
        )
        return budget_note_from(sums, 1000.0)

    assert note(1) == (
        "budget 1,000.00: orders 900.00 on 1 line, 1,500.00 asked; 1 line cut, 1 not funded "
        "(the reason column says why); 200.00 on 1 line (1 of them from no order) added "
        "after the budget by top ups, brought-forward orders or full loads"
    )
    assert note(2).startswith(
        "budget 1,000.00: orders 900.00 on 2 lines, 1,500.00 asked; 2 lines cut"
    )
    assert "; 200.00 on 2 lines (1 of them" in note(2)
    for count in (1, 2):
        assert i18n.render_note(note(count), "zh", "CNY") == (
            f"预算 1,000.00 元：订单合计 900.00 元，共 {count} 行，申请 1,500.00 元；"
            f"{count} 行被削减，1 行未获预算（原因列有说明）；"
            f"预算之后补足、提前订货或整柜在 {count} 行上增加 200.00 元（其中 1 行原本不订货）"
        )


@pytest.mark.parametrize("count", [1, 2])
def test_the_unchecked_minimum_note_counts_one_line_in_the_singular(count: int):
    from stockplan.supplier_rules import unknown_cost_note

    decisions = pl.DataFrame(
        {
            "supplier": ["Huadong Foods"],
            "min_order_value": [2000.0],
            "minimum_action": ["unknown_cost"],
            "no_cost_lines": [count],
            "order_lines": [count],
        }
    )
    note = unknown_cost_note(decisions)
    noun = "line" if count == 1 else "lines"
    assert f"Huadong Foods (minimum 2,000.00, {count} of {count} {noun} without a cost); " in note
    assert i18n.render_note(note, "zh", "CNY") == (
        "供应商：1 个供应商的采购行缺单位成本，未核对起订金额，订单按计划保留："
        f"Huadong Foods（起订金额 2,000.00 元，{count} 行中 {count} 行缺成本）；"
        "请在商品档案或库存表中补充单位成本（unit_cost）"
    )


@pytest.mark.parametrize("count", [1, 2])
def test_the_service_note_counts_one_item_in_the_singular(count: int):
    from stockplan.reorder import unreachable_service_note_from

    counts = pl.DataFrame({"demand_pattern": ["lumpy"], "len": [count]})
    note = unreachable_service_note_from([(counts, ["L1"])])
    said = "1 item is" if count == 1 else "2 items are"
    assert note.startswith(
        f"service: {said} promised less than their service target (lumpy {count}; e.g. L1)"
    )
    assert i18n.render_note(note, "zh").startswith(
        f"服务水平：{count} 个商品的可承诺服务水平低于目标（块状 {count}；例如 L1）"
    )


@pytest.mark.parametrize(
    ("template", "chinese"),
    [
        (
            "{n} lines capped by shelf life or a successor's switch date",
            "{n} 行已到保质期或替代品切换日期的上限",
        ),
        ("{n} lines holding excess", "{n} 行已超储"),
        ("{n} lines at max_order or not orderable", "{n} 行已到最大订货量或不可订购"),
        (
            "{n} lines whose next pack or MOQ does not fit the space left",
            "{n} 行的下一整包或最小起订量放不进剩余空间",
        ),
    ],
)
def test_a_part_load_clause_counts_one_line_in_the_singular(template: str, chinese: str):
    """The clauses `supplier_rules.part_load_notes` writes into load_note (a plan's in
    test_supplier_orders), each read back in Chinese at a count of 1 and of 2."""
    texts = (
        pl.DataFrame({"n": [1, 2]})
        .select(i18n.counted_format(template, n=pl.col("n")))
        .to_series()
        .to_list()
    )
    assert texts == [template.format(n=1).replace(" lines ", " line "), template.format(n=2)]
    for n, text in zip((1, 2), texts, strict=True):
        assert i18n.unknown_clauses(text) == []
        assert i18n.render_reason(text, "zh") == chinese.format(n=n)


def test_units_beyond_a_cap_count_one_unit_in_the_singular():
    from stockplan.caps import beyond_cap_clause

    lines = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "order_qty": [10.0, 10.0, 10.0],
            "inventory_position": [11.0, 12.0, 11.0],
            "reason": ["r"] * 3,
        }
    )
    caps = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "order_up_to_cap": [20.0, 20.0, 20.0],
            "cap_clause": [
                "order-up-to capped at 20: demand until N replaces it on 2026-12-01",
                "order-up-to capped at 20: demand until N replaces it on 2026-12-01",
                "order-up-to capped at 20 by shelf life: x",
            ],
        }
    )
    out = beyond_cap_clause(lines, caps)["reason"].to_list()
    assert out == [
        "r; 1 unit beyond the cap 20",
        "r; 2 units beyond the cap 20",
        "r; 1 unit beyond what sells before expiry (cap 20)",
    ]
    assert [i18n.render_reason(r, "zh") for r in out] == [
        "r; 1 件超出上限 20",
        "r; 2 件超出上限 20",
        "r; 1 件到期前卖不完（上限 20）",
    ]


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("switching {n} orders to a faster backup supplier", "{n} 条采购改用更快的备用供应商"),
        ("refitting forecasts at {n} origins", "在 {n} 个时点重新拟合预测"),
        (
            "planning 5 series in {n} partitions on dask",
            "在 dask 上分 {n} 个分区计划 5 个商品×仓库",
        ),
    ],
)
def test_progress_lines_count_one_in_the_singular_and_read_in_chinese(english: str, chinese: str):
    one, two = (i18n.counted_text(english, n=n) for n in (1, 2))
    assert " 1 orders" not in one and " 1 origins" not in one and " 1 partitions" not in one
    assert two == english.format(n=2)
    assert i18n.render_stage(one, "zh") == chinese.format(n=1)
    assert i18n.render_stage(two, "zh") == chinese.format(n=2)


def test_a_closure_reason_counts_one_day_in_the_singular_in_both_languages():
    from stockplan.calendar import calendar_reason

    orders = pl.DataFrame(
        {
            "order_qty": [10.0, 10.0],
            "reason": ["r", "r"],
            "closure_days": [1.0, 2.0],
            "closure_note": ["holiday", "holiday"],
            "open_lead_time_days": [1.0, 2.0],
            "lead_time_days": [2.0, 4.0],
            "closure_cover_days": [1.0, 2.0],
        }
    )
    one, two = calendar_reason(orders)["reason"].to_list()
    assert one == (
        "r; supplier closed 1 day (holiday) before arrival: lead time 1 open day is 2 days; "
        "covers 1 more day: the supplier's closure delays the next order"
    )
    assert two == (
        "r; supplier closed 2 days (holiday) before arrival: lead time 2 open days is 4 days; "
        "covers 2 more days: the supplier's closure delays the next order"
    )
    assert i18n.render_reason(one, "zh") == (
        "r；供应商到货前停工 1 天（holiday）：1 个工作日的提前期实为 2 天；"
        "多覆盖 1 天：供应商停工推迟下一次到货"
    )
    assert i18n.render_reason(two, "zh").startswith("r；供应商到货前停工 2 天（holiday）：2 个")
