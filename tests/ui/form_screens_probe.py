"""Run in a subprocess by test_form_screens.py: one real off-screen window showing the form,
materials, review and payment screens with hand-made views (zh, en, large text), a screenshot of
each, then fingers on their buttons and keys; what the screens sent is printed as JSON.

Usage: form_screens_probe.py OUT_DIR WIDTH HEIGHT
Kivy allows one window per process, so the test drives this script instead of importing Kivy.
"""

from __future__ import annotations

import json
import os
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUT = Path(sys.argv[1])
WIDTH, HEIGHT = int(sys.argv[2]), int(sys.argv[3])
KIVY_HOME = OUT / "kivy"
KIVY_HOME.mkdir(parents=True, exist_ok=True)
os.environ.update(
    {
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(KIVY_HOME),
        "KIVY_NO_FILELOG": "1",
        "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_GRAPHICS_WIDTH": str(WIDTH),
        "KCFG_GRAPHICS_HEIGHT": str(HEIGHT),
        "KCFG_GRAPHICS_RESIZABLE": "0",
    }
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import form_screens_views as views  # noqa: E402
import numpy as np  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: E402
from kivy.uix.scrollview import ScrollView  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from bootstrap.fonts import find_cjk_font  # noqa: E402
from bootstrap.journeys.runner import FingerTouch  # noqa: E402
from screens import (  # noqa: E402
    apply_chrome,
    form_screen,
    keypads,
    materials_screen,
    payment_screen,
    review_screen,
    widgets,
)
from screens.app import KioskApp, load_kv, use_font_everywhere  # noqa: E402

DEADLINE_S = 20.0
SCREEN_MODULES = (form_screen, materials_screen, review_screen, payment_screen)
LANGUAGE_TAG = {"zh-CN": "zh", "en": "en"}


class FakeFrame:
    """What the camera adapter's `latest_preview` returns, plus the outline it may carry."""

    def __init__(self, pixels: Any, sequence: int, outline: list[tuple[float, float]]) -> None:
        self.pixels = pixels
        self.sequence = sequence
        self.captured_at = time.monotonic()
        self.outline = outline


def desk_with_page(sequence: int) -> FakeFrame:
    """A 1280x720 camera frame: a grey desk and a white page with lines of 'text' on it."""
    frame = np.full((720, 1280, 3), (70, 80, 90), dtype=np.uint8)
    left, top, right, bottom = 470, 70, 830, 650
    frame[top:bottom, left:right] = (245, 245, 245)
    for row in range(top + 60, bottom - 40, 34):
        frame[row : row + 10, left + 40 : right - 40 - (row % 3) * 40] = (60, 60, 60)
    outline = [
        (left + 4, top + 2),
        (right - 2, top + 5),
        (right - 5, bottom - 2),
        (left + 2, bottom - 4),
    ]
    return FakeFrame(frame, sequence, outline)


def make_thumbnails() -> tuple[str, str]:
    paths = []
    for number in (1, 2):
        page = np.full((400, 283, 3), 245, dtype=np.uint8)
        cv2.putText(
            page, f"page {number}", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 2
        )
        for row in range(120, 380, 24):
            page[row : row + 6, 30:250] = (90, 90, 90)
        path = OUT / f"thumb{number}.jpg"
        cv2.imwrite(str(path), page)
        paths.append(str(path))
    return paths[0], paths[1]


class ProbeApp(KioskApp):
    """The real app's units (layout_unit, type_unit, touch_target) around just these screens."""

    def build(self) -> ScreenManager:
        use_font_everywhere(find_cjk_font().path)
        for module in (widgets, apply_chrome, keypads, *SCREEN_MODULES):
            load_kv(module.KV_FILE)
        self.sent: list[str] = []
        self.manager = ScreenManager(transition=NoTransition())
        self.step_screens = {}
        for module in SCREEN_MODULES:
            screen_class = getattr(module, module.__name__.split(".")[-1].title().replace("_", ""))
            screen = screen_class(name=module.NAME)
            screen.send = lambda intent: self.sent.append(repr(intent))
            self.manager.add_widget(screen)
            self.step_screens[module.NAME] = screen
        self.frames_made = 0
        self.step_screens["materials"].preview_source = self.next_frame
        Window.bind(size=self._update_units)
        self.bind(large_text=self._update_units)
        self._update_units()
        return self.manager

    def next_frame(self) -> FakeFrame:
        self.frames_made += 1
        return desk_with_page(self.frames_made)

    def on_start(self) -> None:
        self.result: dict[str, Any] = {"window": list(Window.size), "screenshots": [], "checks": {}}
        self._pending: Path | None = None
        Window.bind(on_flip=self._flip)
        steps = self.play()
        self._began = time.monotonic()

        def advance(_dt: float) -> bool:
            try:
                next(steps)
            except StopIteration:
                self.stop()
                return False
            if time.monotonic() - self._began > 120:
                self.result["error"] = "probe ran out of time"
                self.stop()
                return False
            return True

        Clock.schedule_interval(advance, 0)

    # -- helpers ---------------------------------------------------------------------------
    def _flip(self, *_args: object) -> None:
        if self._pending is None:
            return
        written = Window.screenshot(name=str(self._pending))
        if written:
            Path(written).replace(self._pending)
        self._pending = None

    def screenshot(self, name: str) -> Iterator[None]:
        yield
        yield
        self._pending = OUT / f"{name}.png"
        Window.canvas.ask_update()
        while self._pending is not None:
            yield
        self.result["screenshots"].append(f"{name}.png")

    def show(self, name: str, view: Any, large: bool) -> Iterator[None]:
        self.large_text = large
        screen = self.step_screens[name]
        screen.render(view)
        self.manager.current = name
        for _ in range(4):
            yield

    def wait(self, condition: Any) -> Iterator[None]:
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError("condition not met in time")
            yield

    def touch(self, widget: Widget, label: str) -> Iterator[None]:
        """A finger on the widget's centre, after scrolling it into view as a person would."""
        parent = widget.parent
        while isinstance(parent, Widget) and not isinstance(parent, ScrollView):
            parent = parent.parent
        if isinstance(parent, ScrollView):
            parent.scroll_to(widget, padding=10, animate=False)
            for _ in range(3):
                yield
        x, y = widget.to_window(*widget.center)
        inside = 0 <= x < Window.width and 0 <= y < Window.height
        self.result["checks"].setdefault("touched_inside_window", {})[label] = inside
        finger = FingerTouch(x, y)
        finger.press()
        yield
        yield
        finger.lift()
        yield
        yield

    def buttons_inside(self, name: str, ids: tuple[str, ...]) -> dict[str, bool]:
        screen = self.step_screens[name]
        found = {}
        for widget_id in ids:
            widget = screen.ids[widget_id]
            x0, y0 = widget.to_window(widget.x, widget.y)
            x1, y1 = widget.to_window(widget.right, widget.top)
            found[widget_id] = (
                x0 >= -1 and y0 >= -1 and x1 <= Window.width + 1 and y1 <= Window.height + 1
            )
        return found

    def keypad_rules(self) -> dict[str, object]:
        """What the keypads type, pressed through their own `press` (the same path as a key)."""
        id_pad = keypads.IdNumberKeypad()
        for code in "43012119620815123":
            id_pad.press(code)
        early_x = keypads.IdNumberKeypad()
        early_x.press("4")
        early_x.press("X")
        id_pad.press("X")
        id_pad.press("5")  # 19th character: refused
        phone = keypads.PhoneKeypad()
        for code in "138001380001":
            phone.press(code)
        digits = keypads.DigitsKeypad(allow_decimal=True)
        for code in (".", "1", ".", "5", ".", "2"):
            digits.press(code)
        pinyin = keypads.PinyinKeyboard()
        typed: list[str] = []
        pinyin.bind(on_text_changed=lambda _w, text: typed.append(text))
        for code in ("H", "Z", keypads.SPACE, "B", keypads.DELETE, keypads.CLEAR, keypads.DELETE):
            pinyin.press(code)
        date = keypads.DatePicker(start_text="1960-01-31", min_year=1900, max_year=2030)
        dates: list[str] = []
        date.bind(on_text_changed=lambda _w, text: dates.append(text))
        date.press("month", 1)  # first touch shows the start date
        date.press("month", 1)  # 31 January + 1 month: clamped to 29 February 1960
        date.press("year", -10)
        date.press("day", 1)
        date.press("year", 100)  # capped at max_year
        return {
            "id_number": id_pad.text,
            "id_early_x": early_x.text,
            "phone": phone.text,
            "decimal": digits.text,
            "pinyin_events": typed,
            "dates": dates,
            "pinyin_has_all_letters": all(
                letter in pinyin.keys for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            ),
        }

    # -- the script ------------------------------------------------------------------------
    def play(self) -> Iterator[None]:
        self.result["keypad_rules"] = self.keypad_rules()
        thumbs = make_thumbnails()
        builders = {
            "form": views.form_view,
            "materials": lambda language: views.materials_view(language, thumbs),
            "review": views.review_view,
            "payment": views.payment_view,
        }
        main_button = {
            "form": "continue_button",
            "materials": "continue_button",
            "review": "submit_button",
            "payment": "pay_at_pickup_button",
        }
        size_tag = f"{WIDTH}x{HEIGHT}"
        for name, build in builders.items():
            for language, large in (("zh-CN", False), ("en", False), ("zh-CN", True), ("en", True)):
                yield from self.show(name, build(language), large)
                if name == "materials":
                    preview = self.step_screens["materials"].ids.preview
                    yield from self.wait(lambda preview=preview: preview.frames_shown >= 2)
                tag = f"{name}-{LANGUAGE_TAG[language]}{'-large' if large else ''}-{size_tag}"
                self.result["checks"].setdefault("main_button_inside", {})[tag] = (
                    self.buttons_inside(name, (main_button[name], "header"))
                )
                yield from self.screenshot(tag)
        self.result["preview_frames_shown"] = self.step_screens[
            "materials"
        ].ids.preview.frames_shown
        self.result["preview_frames_made"] = self.frames_made
        self.large_text = False
        yield from self.touch_form()
        yield from self.touch_materials()
        yield from self.touch_review()
        yield from self.touch_payment()

    def record(self, name: str) -> None:
        self.result.setdefault("intents", {})[name] = list(self.sent)
        self.sent.clear()

    def touch_form(self) -> Iterator[None]:
        yield from self.show("form", views.form_view("zh-CN"), False)
        screen = self.step_screens["form"]
        self.result["form_first_active"] = screen.active_key
        yield from self.touch(screen._rows[views.DATE_KEY], "form date row")
        self.result["form_date_dock"] = type(screen._shown_keypad).__name__
        picker = screen._shown_keypad
        yield from self.touch(picker.ids.year.ids.up, "date year +")
        yield from self.touch(picker.ids.day.ids.down, "date day -")
        yield from self.touch(screen._rows[views.PHONE_KEY], "form phone row")
        self.result["form_phone_dock"] = type(screen._shown_keypad).__name__
        yield from self.touch(screen._shown_keypad.keys["8"], "phone key 8")
        yield from self.touch(screen._shown_keypad.keys[keypads.DELETE], "phone delete")
        gender = screen._rows[views.GENDER_KEY].ids.choices
        female = next(button for button in gender.children if button.value == "female")
        yield from self.touch(female, "gender female")
        self.result["form_gender_dock_shown"] = screen.ids.dock_panel.shown
        yield from self.touch(screen.ids.continue_button, "form continue")
        yield from self.touch(screen.ids.header.ids.back_button, "form back")
        yield from self.screenshot(f"form-touched-{WIDTH}x{HEIGHT}")
        self.record("form")

    def touch_materials(self) -> Iterator[None]:
        yield from self.show("materials", views.materials_view("zh-CN", make_thumbnails()), False)
        screen = self.step_screens["materials"]
        yield from self.touch(screen.ids.capture_button, "capture now")
        card = screen._cards[views.CAPTURED_CODE]
        first_tile = card.ids.thumbnails.children[-1]
        yield from self.touch(first_tile.ids.retake_button, "retake page 1")
        offered = screen._cards[views.ELICENCE_CODE]
        yield from self.touch(offered.ids.use_button, "use e-licence")
        yield from self.touch(offered.ids.instead_button, "photograph instead")
        yield from self.touch(screen.ids.continue_button, "materials continue (disabled)")
        self.record("materials")

    def touch_review(self) -> Iterator[None]:
        yield from self.show("review", views.review_view("zh-CN"), False)
        screen = self.step_screens["review"]
        yield from self.touch(screen.ids.pay_at_pickup_button, "pay at pickup")
        yield from self.touch(screen.ids.pay_now_button, "pay now")
        yield from self.touch(screen.ids.submit_button, "submit")
        self.record("review")

    def touch_payment(self) -> Iterator[None]:
        yield from self.show("payment", views.payment_view("zh-CN"), False)
        screen = self.step_screens["payment"]
        self.result["payment_qr_modules"] = screen.ids.qr.module_count
        self.result["payment_qr_module_pixels"] = screen.ids.qr.module_pixels
        yield from self.touch(screen.ids.pay_at_pickup_button, "payment pay at pickup")
        yield from self.touch(screen.ids.countdown.ids.extend_button, "more time")
        yield from self.touch(screen.ids.continue_button, "payment continue (hidden)")
        self.record("payment")


def main() -> int:
    app = ProbeApp(types.SimpleNamespace(large_text_scale=1.35, font_path=None, kiosk_mode=False))
    app.run()
    print(json.dumps(app.result, ensure_ascii=False))
    return 0 if "error" not in app.result else 1


if __name__ == "__main__":
    sys.exit(main())
