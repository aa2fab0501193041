"""Inline SVG for the console's pages: the locker column and the history charts.

No script and no chart library: the pages work offline on a technician's laptop, print, and are
read by screen readers through each shape's <title>. Everything returned is escaped here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

_DOOR_PROPERTY = re.compile(r"^(?P<aspect>door|item|state)-(?P<number>\d{1,4})$")
DOOR_COLOURS = {"open": "#f0a500", "closed": "#4d9a5b", "unknown": "#9aa5b1"}
ITEM_TEXT = {"present": "● item 有物", "absent": "○ empty 空", "unknown": ""}
CELL_W, CELL_H, GAP = 118, 44, 6
_DASHED = ' stroke-dasharray="6 4"'


@dataclass(frozen=True)
class CompartmentView:
    number: int
    row: int
    col: int
    size: str = ""
    door: str = "unknown"
    item: str = "unknown"  # present | absent | unknown (no sensor)
    state: str = ""  # free | reserved | occupied | out-of-service

    @property
    def in_service(self) -> bool:
        return self.state != "out-of-service"


@dataclass(frozen=True)
class ColumnView:
    node: str
    name: str
    compartments: tuple[CompartmentView, ...]


def columns_from_values(
    values: Mapping[str, Mapping[str, str]], description: Mapping[str, Any]
) -> list[ColumnView]:
    """The terminal's columns as docs/fleet-protocol.md publishes them: each `locker-<x>` node's
    `layout` places the compartments, the `doors` node carries `door-N`, `item-N`, `state-N`."""
    doors: dict[int, dict[str, str]] = {}
    for name, value in values.get("doors", {}).items():
        match = _DOOR_PROPERTY.match(name)
        if match is not None:
            doors.setdefault(int(match.group("number")), {})[match.group("aspect")] = value
    nodes = description.get("nodes") if isinstance(description.get("nodes"), dict) else {}
    columns: list[ColumnView] = []
    placed: set[int] = set()
    for node_id in sorted(values):
        if not node_id.startswith("locker-"):
            continue
        try:
            layout = json.loads(values[node_id].get("layout", "[]"))
        except json.JSONDecodeError:
            layout = []
        views = []
        for entry in layout if isinstance(layout, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("n"), int):
                continue
            number = entry["n"]
            views.append(_view(number, doors.get(number, {}), entry))
            placed.add(number)
        node = nodes.get(node_id) if isinstance(nodes, dict) else None
        name = node.get("name", node_id) if isinstance(node, dict) else node_id
        columns.append(ColumnView(node_id, str(name), tuple(views)))
    unplaced = sorted(set(doors) - placed)
    if unplaced:  # no layout yet (or a door of an unknown column): a plain two-wide grid
        columns.append(
            ColumnView(
                "doors",
                "Compartments",
                tuple(
                    _view(n, doors[n], {"row": i // 2, "col": i % 2})
                    for i, n in enumerate(unplaced)
                ),
            )
        )
    return columns


def _view(number: int, aspects: Mapping[str, str], place: Mapping[str, Any]) -> CompartmentView:
    door = aspects.get("door", "unknown")
    return CompartmentView(
        number=number,
        row=int(place.get("row", 0)),
        col=int(place.get("col", 0)),
        size=str(place.get("size", "")),
        door=door if door in DOOR_COLOURS else "unknown",
        item=aspects.get("item", "unknown"),
        state=aspects.get("state", ""),
    )


def locker_columns_svg(columns: Sequence[ColumnView]) -> str:
    if not any(column.compartments for column in columns):
        return '<p class="muted">未报告格口 No compartments reported.</p>'
    return "".join(_column_svg(column) for column in columns if column.compartments)


def _column_svg(column: ColumnView) -> str:
    rows = max(view.row for view in column.compartments) + 1
    cols = max(view.col for view in column.compartments) + 1
    first_row = min(view.row for view in column.compartments)
    first_col = min(view.col for view in column.compartments)
    rows, cols = rows - first_row, cols - first_col
    width = cols * (CELL_W + GAP) + GAP
    height = rows * (CELL_H + GAP) + GAP
    cells = []
    for view in column.compartments:
        x = GAP + (view.col - first_col) * (CELL_W + GAP)
        y = GAP + (view.row - first_row) * (CELL_H + GAP)
        fill = DOOR_COLOURS[view.door] if view.in_service else "#d9dde2"
        stroke, dash = (
            ("#1d2733", "") if view.in_service else ("#b00020", ' stroke-dasharray="6 4"')
        )
        status = view.door if view.in_service else "out of service"
        title = (
            f"Compartment {view.number} ({view.size or '?'}): door {view.door}, item {view.item}"
            f", {view.state or 'state unknown'}"
        )
        cells.append(
            f'<g class="compartment" data-number="{view.number}" data-door="{view.door}" '
            f'data-item="{escape(view.item)}" data-state="{escape(view.state)}">'
            f"<title>{escape(title)}</title>"
            f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" rx="4" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"{dash}/>'
            f'<text x="{x + 7}" y="{y + 19}" font-size="16" font-weight="bold">{view.number}</text>'
            f'<text x="{x + 40}" y="{y + 18}" font-size="12">{escape(status)}</text>'
            f'<text x="{x + 40}" y="{y + 35}" font-size="11">{escape(ITEM_TEXT.get(view.item, ""))}'
            "</text></g>"
        )
    return (
        f'<figure class="column"><figcaption>{escape(column.name)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" class="locker-column" '
        f'data-node="{escape(column.node)}" role="img" aria-label="{escape(column.name)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(cells)}'
        "</svg></figure>"
    )


def step_chart_svg(
    chart_id: str,
    points: Sequence[tuple[float, float]],
    *,
    start: float,
    end: float,
    top: float | None = None,
    labels: Mapping[float, str] | None = None,
    width: int = 420,
    height: int = 120,
) -> str:
    """A value held until the next sample, as a step line; x from `start` to `end` (Unix s)."""
    left, right, upper, lower = 44, 8, 10, 22
    plot_w, plot_h = width - left - right, height - upper - lower
    span = max(end - start, 1.0)
    peak = top if top is not None else max((v for _, v in points), default=1.0) or 1.0

    def x_of(at: float) -> float:
        return left + plot_w * (min(max(at, start), end) - start) / span

    def y_of(value: float) -> float:
        return upper + plot_h * (1 - min(value, peak) / peak)

    parts = [
        f'<line x1="{left}" y1="{upper + plot_h}" x2="{left + plot_w}" y2="{upper + plot_h}" '
        'stroke="#9aa5b1"/>',
        f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{upper + plot_h}" stroke="#9aa5b1"/>',
    ]
    axis_labels = labels or {0.0: "0", peak: f"{peak:g}"}
    for value, text in axis_labels.items():
        parts.append(
            f'<text x="{left - 4}" y="{y_of(value) + 4:.1f}" font-size="10" '
            f'text-anchor="end">{escape(text)}</text>'
        )
    for at, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x_of(at):.1f}" y="{height - 6}" font-size="10" text-anchor="{anchor}">'
            f"{_clock_text(at)}</text>"
        )
    if points:
        path = [f"M{x_of(points[0][0]):.1f},{y_of(points[0][1]):.1f}"]
        for at, value in points[1:]:
            path.append(f"H{x_of(at):.1f}V{y_of(value):.1f}")
        path.append(f"H{x_of(end):.1f}")
        parts.append(
            f'<path class="series" d="{"".join(path)}" fill="none" stroke="#2f6db3" '
            'stroke-width="2"/>'
        )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{upper + plot_h / 2}" font-size="12" '
            'text-anchor="middle" fill="#6b7785">no data 无数据</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'role="img" aria-label="{escape(chart_id)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" data-points="{len(points)}">{"".join(parts)}</svg>'
    )


def event_chart_svg(
    chart_id: str,
    events: Sequence[tuple[str, float]],
    *,
    start: float,
    end: float,
    width: int = 420,
    height: int = 60,
) -> str:
    """One tick per event (a door alarm), so bursts are visible at a glance."""
    left, right = 44, 8
    plot_w = width - left - right
    span = max(end - start, 1.0)
    ticks = [
        f'<line class="event" x1="{left + plot_w * (at - start) / span:.1f}" y1="8" '
        f'x2="{left + plot_w * (at - start) / span:.1f}" y2="{height - 22}" stroke="#d83a3a" '
        f'stroke-width="3"><title>{escape(name)} {_clock_text(at)}</title></line>'
        for name, at in events
        if start <= at <= end
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'role="img" aria-label="{escape(chart_id)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" data-points="{len(ticks)}">'
        f'<line x1="{left}" y1="{height - 22}" x2="{width - right}" y2="{height - 22}" '
        f'stroke="#9aa5b1"/>{"".join(ticks)}'
        f'<text x="{left}" y="{height - 6}" font-size="10">{_clock_text(start)}</text>'
        f'<text x="{width - right}" y="{height - 6}" font-size="10" text-anchor="end">'
        f"{_clock_text(end)}</text></svg>"
    )


def _clock_text(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).astimezone().strftime("%m-%d %H:%M")
