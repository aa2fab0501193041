"""Plays a scripted journey inside the running app, like a person with one finger.

Touches are real Kivy motion events fed to the event loop's input queue (the path a touchscreen
provider uses), aimed at the widget's position on screen, so a button hidden, covered or laid out
off-screen fails the journey the way it would fail a citizen. Each step then waits for a condition
with a deadline, lets the change draw, and leaves a screenshot and a record in journey.json.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

from screens.app import KioskApp

from .script import Journey, JourneyWorldError, Step, StubWorld, Target, Touch

_touch_ids = itertools.count(1)
FRAMES_TO_SETTLE = 2  # after a condition holds: one frame to lay out, one to draw
FRAMES_AFTER_TOUCH = 3  # a touch's intent is drawn on the next frame; the next touch aims at it


class FingerTouch(MotionEvent):  # type: ignore[misc]
    """One finger press at window pixel (x, y), origin bottom-left as in Kivy."""

    def __init__(self, x: float, y: float) -> None:
        width, height = Window.size
        super().__init__("journey", next(_touch_ids), (x / (width - 1), y / (height - 1)))

    def depack(self, args: tuple[float, float]) -> None:
        self.is_touch = True
        self.sx, self.sy = args
        self.profile = ["pos"]
        super().depack(args)

    def press(self) -> None:
        EventLoop._dispatch_input("begin", self)

    def lift(self) -> None:
        EventLoop._dispatch_input("end", self)


@dataclass
class StepRecord:
    name: str
    expect: str
    touch: dict[str, Any] | None = None  # the first touch (kept for older readers)
    touches: list[dict[str, Any]] = field(default_factory=list)
    world: list[dict[str, Any]] = field(default_factory=list)
    screenshot: str | None = None
    started_s: float = 0.0
    duration_s: float = 0.0
    outcome: str = "pending"
    detail: str = ""


@dataclass
class JourneyRunner:
    journey: Journey
    out_dir: Path
    exit_code: int = 1
    world: StubWorld = field(default_factory=StubWorld)
    records: list[StepRecord] = field(default_factory=list)
    _pending_shot: Path | None = None
    _app: KioskApp | None = None
    _stage: list[dict[str, Any]] = field(default_factory=list)

    def start(self, app: KioskApp) -> None:
        """Called on the first drawn frame; from then on one generator step per frame."""
        self._app = app
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.world.out_dir = self.out_dir
        self._stage = list(self.world.log)  # what the journey's `prepare` did to the stubs
        Window.bind(on_flip=self._take_pending_screenshot)
        self._began = time.monotonic()
        frames = self._play(app)
        self._frame_event = Clock.schedule_interval(lambda _dt: self._advance(frames), 0)

    def _advance(self, frames: Iterator[None]) -> None:
        try:
            next(frames)
        except StopIteration:
            self._frame_event.cancel()
            self._write_report()
            if self._app is not None:
                self._app.stop()

    def _play(self, app: KioskApp) -> Iterator[None]:
        for step in self.journey.steps:
            record = StepRecord(name=step.name, expect=step.expect)
            record.started_s = round(time.monotonic() - self._began, 3)
            self.records.append(record)
            passed = yield from self._perform(app, step, record)
            record.duration_s = round(time.monotonic() - self._began - record.started_s, 3)
            if not passed:
                record.outcome = "failed"
                yield from self._screenshot(f"{step.shot}-FAILED", record)
                return
            yield from self._screenshot(step.shot, record)
            record.outcome = "passed"
        self.exit_code = 0

    def _perform(
        self, app: KioskApp, step: Step, record: StepRecord
    ) -> Generator[None, None, bool]:
        if step.act is not None:
            acted_before = len(self.world.log)
            try:
                step.act(app, self.world)
            except JourneyWorldError as err:
                record.detail = f"{step.act_says or 'the world action'} failed: {err}"
                return False
            finally:
                record.world = self.world.log[acted_before:]
        for target in step.all_touches:
            touched = yield from self._touch(app, target, record)
            if not touched:
                return False
        deadline = time.monotonic() + step.timeout_s
        while not step.until(app):
            if time.monotonic() > deadline:
                record.detail = f"not true after {step.timeout_s:g} s: {step.expect}"
                if step.explain is not None:
                    record.detail += f" ({step.explain()})"
                return False
            yield
        for _ in range(FRAMES_TO_SETTLE):
            yield
        return True

    def _touch(
        self, app: KioskApp, target: Target, record: StepRecord
    ) -> Generator[None, None, bool]:
        label = target.label if isinstance(target, Touch) else target
        widget = target.find(app) if isinstance(target, Touch) else app.widget_at(target)
        if widget is None or widget.get_root_window() is None or widget.disabled:
            record.detail = f"widget {label} is not on screen"
            return False
        yield from self._scroll_into_view(widget)
        x, y = widget.to_window(*widget.center)
        touched = {"widget": label, "x": round(x), "y": round(y)}
        record.touches.append(touched)
        if record.touch is None:
            record.touch = touched
        if not (0 <= x < Window.width and 0 <= y < Window.height):
            record.detail = f"widget {label} lies outside the window at ({x:.0f}, {y:.0f})"
            return False
        finger = FingerTouch(x, y)
        finger.press()
        yield
        yield
        finger.lift()
        for _ in range(FRAMES_AFTER_TOUCH):
            yield
        return True

    def _scroll_into_view(self, widget: Widget) -> Iterator[None]:
        """A person scrolls a list until the row they want is in sight, then touches it; the
        scroll is not counted as a touch."""
        from kivy.uix.scrollview import ScrollView

        node = widget.parent
        while node is not None and node is not node.parent:
            if isinstance(node, ScrollView):
                if node.viewport_size[1] > node.height:
                    node.scroll_to(widget, padding=0, animate=False)
                    for _ in range(FRAMES_TO_SETTLE):
                        yield
                return
            node = node.parent

    def _screenshot(self, stem: str, record: StepRecord) -> Iterator[None]:
        self._pending_shot = self.out_dir / f"{stem}.png"
        Window.canvas.ask_update()
        while self._pending_shot is not None:
            yield
        record.screenshot = f"{stem}.png"

    def _take_pending_screenshot(self, *_args: object) -> None:
        """Runs on on_flip before the buffers swap, so it reads the frame just drawn."""
        target = self._pending_shot
        if target is None:
            return
        # Window.screenshot numbers its files (x0001.png); give the picture its real name.
        written = Window.screenshot(name=str(target.with_name(f".{target.stem}.png")))
        if written:
            Path(written).replace(target)
        self._pending_shot = None

    @property
    def touch_count(self) -> int:
        return sum(len(record.touches) for record in self.records)

    def _write_report(self) -> None:
        failed = next((r.name for r in self.records if r.outcome == "failed"), None)
        report = {
            "journey": self.journey.name,
            "description": self.journey.description,
            "outcome": "passed" if self.exit_code == 0 else "failed",
            "failed_step": failed,
            "window": {"width": Window.width, "height": Window.height},
            "settings_overrides": self.journey.settings_overrides(),
            "touch_count": self.touch_count,
            "stage": self._stage,
            "steps": [record.__dict__ for record in self.records],
        }
        path = self.out_dir / "journey.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"kiosk demo: journey '{self.journey.name}' took {self.touch_count} touches")
