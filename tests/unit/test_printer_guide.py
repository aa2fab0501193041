"""Guide sheets to ESC/POS: exact bytes (golden), hanging indents, Chinese line-breaking rules."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devices.printer.errors import TemplateError
from devices.printer.guide import GuideSheet, render_guide, sample_guide
from devices.printer.template import (
    NO_LINE_END,
    NO_LINE_START,
    PAPER_58MM,
    PAPER_80MM,
    hanging_indent,
    load_template,
    parse_template,
    render,
    text_width,
    wrap,
)
from kiosk.apply.effects import PrintableGuide


def gb(text: str) -> bytes:
    """One line in the printer's Chinese mode: FS & <GB18030> FS . LF."""
    return b"\x1c\x26" + text.encode("gb18030") + b"\x1c\x2e\n"


SMALL_GUIDE = GuideSheet(
    title="开业登记",
    lines=("【开业登记】", "· 身份证（原件）", "1. 刷卡"),
    terminal_name="零阳站",
    hotline="12345",
)

# Written from the ESC/POS reference and the template's layout, not from our output.
GOLDEN_58MM = (
    b"\x1b@"  # ESC @ initialise
    + b"\x1ba\x01\x1bE\x01"  # centre, bold
    + gb("零阳站")
    + b"\x1d!\x11"  # GS ! double width and height
    + gb("办事指南")
    + b"\x1bE\x00\x1d!\x00"  # bold off, normal size (still centred)
    + b"Service guide\n"
    + b"\x1ba\x00"  # left: a rule across 32 columns
    + b"-" * 32
    + b"\n"
    + b"\x1ba\x01\x1bE\x01"  # the title, centred and bold
    + gb("开业登记")
    + b"\x1ba\x00\x1bE\x00"
    + b"-" * 32
    + b"\n"
    + b"\x1bE\x01"  # an entry starting with 【 prints bold
    + gb("【开业登记】")
    + b"\x1bE\x00"
    + gb("· 身份证（原件）")
    + gb("1. 刷卡")
    + b"-" * 32
    + b"\n"
    + b"\x1ba\x01\x1bE\x01"  # the hotline, centred and bold
    + gb("咨询电话 12345")
    + b"\x1ba\x00\x1bE\x00"  # the closing note, wrapped at 32 columns
    + gb("本指南供参考，材料与时限以受理时")
    + gb("的规定为准。可在本站自助申请，24")
    + gb("小时开放。")
    + b"\x1bd\x06\x1dV\x00"  # escpos cut(): feed 6 lines, full cut
)


def test_a_small_guide_renders_to_the_golden_bytes() -> None:
    assert render_guide(SMALL_GUIDE, PAPER_58MM) == GOLDEN_58MM


def test_the_journeys_printable_guide_is_accepted_as_it_is() -> None:
    journey_guide = PrintableGuide(
        title=SMALL_GUIDE.title,
        lines=SMALL_GUIDE.lines,
        terminal_name=SMALL_GUIDE.terminal_name,
        hotline=SMALL_GUIDE.hotline,
    )
    assert render_guide(journey_guide, PAPER_58MM) == GOLDEN_58MM


def test_the_sample_guide_is_deterministic_small_and_within_the_paper() -> None:
    for paper in (PAPER_80MM, PAPER_58MM):
        job = render_guide(sample_guide(), paper)
        assert job == render_guide(sample_guide(), paper)
        assert len(job) <= 2048
        assert job.count(b"\x1dV") == 1
        assert b"\x1bt" not in job  # escpos' code-page switching never used
        for segment in job.split(b"\x1c&")[1:]:
            text = segment.split(b"\x1c.")[0].decode("gb18030")
            assert text_width(text) <= paper.columns
            assert text.lstrip()[:1] not in NO_LINE_START


def test_long_entries_hang_under_their_bullet_number_or_label() -> None:
    job = render_guide(sample_guide(), PAPER_58MM)
    assert gb("· 经营者身份证（原件，刷卡读") + gb("   取）") in job
    assert gb("2. 拍照上传可用电子件的材料，纸") + gb("   质原件投入自助格口") in job
    assert gb("法定依据：《促进个体工商户发展条") + gb("          例》《市场主体登记管理") in job


def test_english_guides_stay_plain_ascii() -> None:
    guide = GuideSheet(
        title="Business start-up",
        lines=("Materials:", "1. ID card (original, read from the card)", "Fee: free"),
        terminal_name="Lingyang service point",
        hotline="12345",
    )
    job = render_guide(guide, PAPER_58MM)
    assert b"1. ID card (original, read from\n   the card)\n" in job
    assert b"Fee: free\n" in job


def test_control_characters_in_guide_lines_cannot_become_commands() -> None:
    guide = GuideSheet(
        title="事项\x1b@",
        lines=("材料\x1dV\x00", "\x1b@"),
        terminal_name="站",
        hotline="12345",
    )
    job = render_guide(guide, PAPER_80MM)
    assert job.count(b"\x1b@") == 1
    assert job.count(b"\x1dV") == 1


@pytest.mark.parametrize(
    ("line", "indent"),
    [
        ("· 身份证", 3),  # the middle dot prints full width
        ("- ID card", 2),
        ("12. 领取回执", 4),
        ("（3）投件", 5),
        ("法定依据：条例", 10),
        ("Fee: free", 5),
        ("【开业】", 0),
        ("请携带身份证原件前来办理并缴纳费用：二十元", 0),  # a "label" longer than 8 characters
        ("https://example.org", 0),
    ],
)
def test_hanging_indent_follows_the_marker(line: str, indent: int) -> None:
    assert hanging_indent(line, 48) == indent


def test_a_label_wider_than_half_the_line_does_not_hang() -> None:
    assert hanging_indent("材料名称与份数：身份证", 48) == 16
    assert hanging_indent("材料名称与份数：身份证", 24) == 0


def test_closing_punctuation_never_starts_a_line() -> None:
    assert wrap("一二三四（五）", 8) == ["一二三四", "（五）"]
    assert wrap("一二三四五六七，八", 14) == ["一二三四五六", "七，八"]
    assert wrap("甲乙丙丁《条例》", 10) == ["甲乙丙丁", "《条例》"]  # 《 does not end a line


@given(st.text(alphabet="一二三，。（）《》", max_size=80), st.integers(12, 48))
@example("。一一。。。。。", 12)  # carrying three 。 down only left one 。 alone on its line
def test_kinsoku_keeps_text_and_width(text: str, width: int) -> None:
    lines = wrap(text, width, 3)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for previous, line in itertools.pairwise(lines):
        # The rule gives way only where nothing could be carried down: a line left with a
        # single character, or a run of punctuation longer than what may be carried.
        if line.strip()[:1] in NO_LINE_START or previous[-1:] in NO_LINE_END:
            punctuation = sum(char in NO_LINE_START | NO_LINE_END for char in previous + line)
            assert len(previous.strip()) <= 2 or punctuation >= 3


def test_the_shipped_guide_template_loads_and_a_lines_block_is_checked() -> None:
    assert load_template("service_guide").name == "service_guide"
    with pytest.raises(TemplateError, match="needs `source`"):
        parse_template("[[blocks]]\nkind = 'lines'\n", "bad.toml")
    with pytest.raises(TemplateError, match="unknown keys"):
        parse_template("[[blocks]]\nkind = 'lines'\nsource = 'x'\nprefix = '-'\n", "bad.toml")
    template = parse_template("[[blocks]]\nkind = 'lines'\nsource = 'lines'\n", "t.toml")
    with pytest.raises(TemplateError, match="must be a list of lines"):
        render(template, {"lines": "not a list"}, PAPER_80MM)
