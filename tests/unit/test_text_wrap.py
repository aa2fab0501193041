"""The 禁则 line-breaking rules of screens.text_wrap, with a ruler that counts characters.

A full-width character is one unit wide and anything else half a unit, close enough to how a CJK
font sets type for the rules to show; the label supplies the real font's widths.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screens.text_wrap import (
    ELLIPSIS,
    NO_LINE_END,
    NO_LINE_START,
    break_units,
    fit_lines,
    has_cjk,
    is_cjk,
    wrap_lines,
)


def ruler(text: str) -> float:
    return sum(1.0 if is_cjk(char) else 0.5 for char in text)


def test_a_comma_never_starts_a_line_it_takes_the_character_before_with_it() -> None:
    # eleven to a line would leave "，" at the start of line two
    assert wrap_lines("请将身份证平放在读卡区，听到提示音后即可。", 11, ruler) == [
        "请将身份证平放在读卡",
        "区，听到提示音后即可。",
    ]


def test_a_full_stop_at_the_break_goes_down_with_the_last_character() -> None:
    assert wrap_lines("听到提示音后即可。", 8, ruler) == ["听到提示音后即", "可。"]


def test_an_opening_bracket_never_ends_a_line() -> None:
    lines = wrap_lines("结婚证原件（2页）A03号柜格", 6, ruler)
    assert lines == ["结婚证原件", "（2页）A03号", "柜格"]


@pytest.mark.parametrize("mark", list("，。、：；）」！？》"))
def test_each_closing_mark_stays_with_the_text_before_it(mark: str) -> None:
    text = "一二三四五" + mark + "六七八"
    lines = wrap_lines(text, 5, ruler)
    assert all(not line.startswith(mark) for line in lines), lines
    assert "".join(lines) == text


def test_several_closing_marks_in_a_row_move_down_together() -> None:
    lines = wrap_lines("他说：“好的。”然后走了", 5, ruler)
    assert all(line[0] not in NO_LINE_START for line in lines), lines
    assert "".join(lines) == "他说：“好的。”然后走了"


def test_english_breaks_at_spaces_and_drops_them() -> None:
    assert wrap_lines("Lay your card on the reader", 6, ruler) == [
        "Lay your",
        "card on the",
        "reader",
    ]


def test_a_word_longer_than_the_line_is_cut_between_letters() -> None:
    assert wrap_lines("ab Supercalifragilistic", 4, ruler) == ["ab", "Supercal", "ifragili", "stic"]


def test_mixed_text_keeps_latin_words_and_numbers_whole() -> None:
    lines = wrap_lines("请到 A03 号柜格投递材料，谢谢", 6, ruler)
    assert "A03" in "".join(lines)
    assert not any(line.startswith("03") or line.endswith("A0") for line in lines)
    assert lines == ["请到 A03 号", "柜格投递材", "料，谢谢"]


def test_newlines_in_the_text_are_kept() -> None:
    assert wrap_lines("第一行\n第二行", 20, ruler) == ["第一行", "第二行"]
    assert wrap_lines("", 20, ruler) == [""]


def test_a_line_of_only_marks_is_allowed_rather_than_looping() -> None:
    lines = wrap_lines("好。。。。。。", 2, ruler)
    assert "".join(lines) == "好。。。。。。"


def test_break_units_split_chinese_per_character_and_latin_per_word() -> None:
    assert break_units("到A03号 the box") == ["到", "A03", "号", " ", "the", " ", "box"]
    assert has_cjk("A03号")
    assert not has_cjk("A03 box")


CHINESE = st.sampled_from(list("请将身份证平放在读卡区听到提示音后即可办理材料"))
MARKS = st.sampled_from(sorted(NO_LINE_START & set("，。、：；）」！？")) + sorted(NO_LINE_END))


@given(
    pieces=st.lists(st.one_of(CHINESE, CHINESE, CHINESE, MARKS), min_size=1, max_size=60),
    width=st.integers(min_value=3, max_value=20),
)
def test_no_text_is_lost_and_no_line_is_too_wide_or_badly_broken(
    pieces: list[str], width: int
) -> None:
    text = "".join(pieces)
    lines = wrap_lines(text, width, ruler)
    assert "".join(lines) == text
    for number, line in enumerate(lines):
        only_marks = all(char in NO_LINE_START | NO_LINE_END for char in line)
        if only_marks:
            continue  # nothing left to carry down; the rule gives way rather than lose text
        assert ruler(line) <= width, lines
        if number > 0 and line[0] in NO_LINE_START:
            # allowed only when the line above could give nothing more without being empty
            assert len(lines[number - 1]) == 1 or all(
                char in NO_LINE_START | NO_LINE_END for char in lines[number - 1][-2:]
            ), lines
        if number < len(lines) - 1 and line[-1] in NO_LINE_END:
            assert len(line) == 1 or line[:-1].strip("".join(NO_LINE_END)) == "", lines


def test_lines_that_fit_are_left_alone() -> None:
    lines = ["请将身份证", "平放在读卡区。"]
    assert fit_lines(lines, 2, 8, ruler) is lines
    assert fit_lines(lines, 5, 8, ruler) == lines


def test_a_cut_text_ends_in_an_ellipsis_within_the_width() -> None:
    lines = wrap_lines(
        "县政务服务中心已搬入县国土资源局办公大楼，三十个部门窗口集中办理。", 10, ruler
    )
    assert len(lines) > 2
    shown = fit_lines(lines, 2, 10, ruler)
    assert shown[0] == lines[0]
    assert shown[1].endswith(ELLIPSIS)
    assert ruler(shown[1]) <= 10
    assert shown[1][:-1] == lines[1][: len(shown[1]) - 1]  # the same words, shortened


def test_the_ellipsis_does_not_follow_a_comma_or_a_space() -> None:
    assert fit_lines(["abc，", "def"], 1, 10, ruler) == ["abc" + ELLIPSIS]
    assert fit_lines(["Every counter is a place to ", "read"], 1, 40, ruler) == [
        "Every counter is a place to" + ELLIPSIS
    ]


def test_no_room_shows_nothing() -> None:
    assert fit_lines(["一", "二"], 0, 10, ruler) == []


@given(
    st.lists(st.text(alphabet="国a ，", min_size=1, max_size=12), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=6),
)
def test_fitted_lines_never_exceed_the_count_or_the_width(lines: list[str], count: int) -> None:
    width = 12.0
    shown = fit_lines(lines, count, width, ruler)
    assert len(shown) <= count
    if len(lines) > count:
        assert shown[-1].endswith(ELLIPSIS)
        assert ruler(shown[-1]) <= width


def test_a_number_is_never_cut_to_make_room_for_the_ellipsis() -> None:
    # "1…" would fit, but "120" does not: it goes whole, the mark before it too
    shown = fit_lines(["遇到紧急情况请拨打110、119、120", "转接"], 1, 15.5, ruler)
    assert shown == ["遇到紧急情况请拨打110、119" + ELLIPSIS]


def test_a_word_wider_than_the_line_is_cut_between_letters() -> None:
    shown = fit_lines(["Supercalifragilistic", "x"], 1, 5, ruler)
    assert shown[0].endswith(ELLIPSIS)
    assert ruler(shown[0]) <= 5
    assert shown[0].startswith("Super")
