"""Line breaking for Chinese paragraphs: the 禁则 (kinsoku) rules, with no Kivy and no fonts.

Kivy wraps at spaces and, when a run without spaces is too long, cuts it wherever the width runs
out; Chinese has no spaces, so a comma or a closing bracket can land alone at the start of a line
and an opening bracket at the end of one. Readers take that for a typesetting error, and elderly
readers lose their place. This module chooses the breaks; the caller measures the text (it knows
the font) and joins the lines with newlines, which Kivy then keeps as they are.

Pure on purpose: the rule is tested with a fake ruler, the label (`widgets.FlowLabel`) supplies
the real one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

# Marks that close or end something: they belong to the text before them, never at a line start.
NO_LINE_START = frozenset(
    "，。、：；！？）」』】》〉〕］｝”’…‥·・—～％"  # full-width
    ",.;:!?)]}%"  # half-width, as typed into catalog texts
    "ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ"  # small kana and iteration marks (Japanese names)
)
# Marks that open something: they belong to the text after them, never at a line end.
NO_LINE_END = frozenset("（「『【《〈〔［｛“‘([{")

MeasureWidth = Callable[[str], float]


def is_cjk(char: str) -> bool:
    """Characters that stand alone as a unit of line breaking (ideographs, kana, CJK marks)."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK marks, kana, ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # vertical forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms (，：；（）and the rest)
        or 0x20000 <= code <= 0x3FFFF  # rarer ideographs (names)
        or char in "“”‘’…—·"
    )


def has_cjk(text: str) -> bool:
    return any(is_cjk(char) for char in text)


def break_units(paragraph: str) -> list[str]:
    """The pieces a line may break between: each CJK character, each word, each run of spaces."""
    units: list[str] = []
    run = ""
    for char in paragraph:
        if is_cjk(char) or char.isspace():
            joins_run = char.isspace() and run.isspace()
            if run and not joins_run:
                units.append(run)
                run = ""
            if char.isspace():
                run += char
            else:
                units.append(char)
        else:
            if run.isspace():
                units.append(run)
                run = ""
            run += char
    if run:
        units.append(run)
    return units


def wrap_lines(text: str, max_width: float, measure: MeasureWidth) -> list[str]:
    """Lines no wider than `max_width` (where a single unit allows), breaking only where allowed.

    A closing mark that would start a line pulls the character before it down with it (the line
    above gets a little shorter, never wider than the width); an opening mark never ends a line.
    A word longer than a whole line is cut between its letters, as Kivy would.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, max_width, measure))
    return lines


ELLIPSIS = "…"


def fit_lines(
    lines: list[str],
    max_lines: int,
    max_width: float,
    measure: MeasureWidth,
    ellipsis: str = ELLIPSIS,
) -> list[str]:
    """At most `max_lines` lines; when some are left out, the last one shown ends in `ellipsis`
    (made short enough for it, dropping trailing spaces and marks first), so a reader sees that
    the text goes on instead of a sentence that just stops."""
    if len(lines) <= max_lines:
        return lines
    if max_lines < 1:
        return []
    shown = lines[:max_lines]
    marks = "".join(NO_LINE_START) + "".join(NO_LINE_END)

    def tidy(units: list[str]) -> str:
        return "".join(units).rstrip().rstrip(marks)

    # whole units off the end (a number or a word is never cut to "1…"), until "…" fits
    units = break_units(shown[-1])
    while units and not (tidy(units) and measure(tidy(units) + ellipsis) <= max_width):
        units.pop()
    last = tidy(units)
    if not last:  # one word wider than the line: letters off its end instead
        last = shown[-1]
        while last and measure(last + ellipsis) > max_width:
            last = last[:-1].rstrip().rstrip(marks)
    shown[-1] = last + ellipsis
    return shown


def _wrap_paragraph(paragraph: str, max_width: float, measure: MeasureWidth) -> list[str]:
    pending = deque(break_units(paragraph))
    lines: list[str] = []
    current: list[str] = []
    width = 0.0
    while pending:
        unit = pending.popleft()
        if not current and unit.isspace():
            continue  # a line never starts with the space it was broken at
        unit_width = measure(unit)
        if width + unit_width <= max_width or (not unit.isspace() and not _has_text(current)):
            if unit_width > max_width and len(unit) > 1 and not unit.isspace():
                pending.extendleft(reversed(unit))  # a word wider than the line: letter by letter
                continue
            current.append(unit)
            width += unit_width
            continue
        if unit.isspace():
            lines.append(_joined(current))
            current, width = [], 0.0
            continue
        carried = _units_to_carry(current, unit)
        kept = current[: len(current) - len(carried)]
        lines.append(_joined(kept))
        pending.appendleft(unit)
        pending.extendleft(reversed(carried))
        current, width = [], 0.0
    if _has_text(current) or not lines:
        lines.append(_joined(current))
    return lines


def _units_to_carry(line: list[str], next_unit: str) -> list[str]:
    """The units at the end of `line` that must move down so that both lines obey the rules.

    At least one unit always stays: a line of nothing but marks is worse than a broken rule.
    """
    keep = len(line)
    following = next_unit
    while True:
        end = keep
        while end > 1 and line[end - 1].isspace():
            end -= 1  # spaces at the break vanish; the rule looks at the text before them
        last = line[end - 1]
        breaks_rule = following[:1] in NO_LINE_START or last[-1:] in NO_LINE_END
        if not breaks_rule or end <= 1:
            return line[keep:]
        keep = end - 1
        following = last


def _has_text(units: list[str]) -> bool:
    return any(not unit.isspace() for unit in units)


def _joined(units: list[str]) -> str:
    return "".join(units).rstrip()
