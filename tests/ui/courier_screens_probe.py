"""Run in a subprocess by test_courier_screens.py: the courier screens in one real off-screen
window, fed by the real CourierFlow (results handed to it by hand, no database), photographed in
both languages and with large text, and touched with a finger.

Usage: courier_screens_probe.py OUT_DIR WIDTH HEIGHT
Prints one JSON line: for each shot its file and the state of a few widgets (text, on screen,
overlapping), for each touch the intents that reached the flow.
Kivy allows one window per process, hence a script rather than an import.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = int(sys.argv[2]), int(sys.argv[3])
os.environ.update(
    {
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_FILELOG": "1",
        "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_GRAPHICS_WIDTH": str(WIDTH),
        "KCFG_GRAPHICS_HEIGHT": str(HEIGHT),
        "KCFG_GRAPHICS_RESIZABLE": "0",
        "KCFG_INPUT_MOUSE": "mouse,disable_multitouch",
        "SDL_VIDEODRIVER": "offscreen",
        "SDL_AUDIODRIVER": "dummy",
    }
)
os.environ.pop("DISPLAY", None)
os.environ.pop("WAYLAND_DISPLAY", None)

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.metrics import mm  # noqa: E402
from kivy.properties import BooleanProperty, NumericProperty  # noqa: E402
from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: E402

from bootstrap.fonts import find_cjk_font  # noqa: E402
from bootstrap.journeys.runner import FingerTouch  # noqa: E402
from kiosk.config import Language  # noqa: E402
from kiosk.courier import effects as fx  # noqa: E402
from kiosk.courier import view_models as vm  # noqa: E402
from kiosk.courier.flow import CourierFlow  # noqa: E402
from kiosk.courier.sign_in import (  # noqa: E402
    CourierIdentity,
    PinWanted,
    SignedIn,
    SignInRefused,
    WrongPin,
)
from kiosk.ports.camera import CodeScanned  # noqa: E402
from kiosk.ports.lockers import CompartmentSpec, UnlockOutcome  # noqa: E402
from screens import palette, widgets  # noqa: E402
from screens.app import load_kv, use_font_everywhere  # noqa: E402
from screens.courier_presenter import CourierPresenter  # noqa: E402
from screens.view_models import ToolbarView  # noqa: E402

OUT = Path(sys.argv[1])
LARGE_TEXT_SCALE = 1.35
COURIER = CourierIdentity("C-0001", "王师傅", "courier")
AGENT = CourierIdentity("C-0002", "李主任", "village_agent")
TOOLBARS: dict[Language, ToolbarView] = {
    "zh-CN": ToolbarView("帮助", "English", "大字模式"),
    "en": ToolbarView("Help", "中文", "Large text"),
}


def demo_layout() -> list[CompartmentSpec]:
    """The demo column of kiosk.config: 16 doors, two a row, S on top, L at the bottom."""
    sizes = "SSSSMMMMMMMMLLLL"
    return [
        CompartmentSpec(
            number=i + 1,
            column="A",
            board=i // 8,
            lock=i % 8 + 1,
            size=sizes[i],  # type: ignore[arg-type]
            row=i // 2 + 1,
            col=i % 2 + 1,
        )
        for i in range(16)
    ]


def parcel(number: int) -> fx.ParcelSummary:
    return fx.ParcelSummary(
        f"p{number}", number, "A", f"sub{number}", f"44010020250307{number:04d}", (number + 1) // 2
    )


TASK = fx.ResultTask(
    "t1",
    "hall-sub-1",
    "440100202503070123",
    "营业执照",
    "Business licence",
    "approved",
    "ab" * 32,
    "S",
)
SLOT = fx.LoadSlot("r1", 9, "A", "M", 5)


class FakeClock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeShell:
    """What the courier header asks of the shell: the toolbar labels of the language shown."""

    def __init__(self) -> None:
        self.watchers: list[Any] = []
        self.asked: list[str] = []

    def watch_toolbar(self, show: Any) -> None:
        self.watchers.append(show)

    def show(self, language: Language, large: bool) -> None:
        toolbar = TOOLBARS[language]
        if large:
            toolbar = ToolbarView(toolbar.help_label, toolbar.language_label, "x", True)
        for watcher in self.watchers:
            watcher(toolbar)

    def open_help(self) -> None:
        self.asked.append("open_help")

    def toggle_language(self) -> None:
        self.asked.append("toggle_language")

    def toggle_large_text(self) -> None:
        self.asked.append("toggle_large_text")


class ProbeApp(App):  # type: ignore[misc]
    layout_unit = NumericProperty(1.0)
    type_unit = NumericProperty(1.0)
    touch_target = NumericProperty(60.0)
    large_text = BooleanProperty(False)

    def build(self) -> ScreenManager:
        use_font_everywhere(find_cjk_font("").path)
        load_kv(widgets.KV_FILE)
        Window.clearcolor = palette.PAGE
        self.manager = ScreenManager(transition=NoTransition())
        self.clock = FakeClock()
        self.flow = CourierFlow(self.clock)
        self.sent: list[str] = []
        self.shell = FakeShell()
        self.presenter = CourierPresenter(self.manager, self.send, shell=self.shell)
        for step in (vm.CourierStep.COLLECT, vm.CourierStep.LOAD):
            self.presenter.screen_for(step).layout = demo_layout()
        self.language: Language = "zh-CN"
        self.bind(large_text=self.update_units)
        self.update_units()
        self.result: dict[str, Any] = {
            "window": list(Window.size),
            "shots": {},
            "touches": {},
            "error": "",
        }
        self._pending: Path | None = None
        return self.manager

    def send(self, intent: vm.Intent) -> None:
        self.sent.append(type(intent).__name__)
        self.flow.send(intent)  # effects are answered by hand in the plan
        self.publish()

    def feed(self, event: object) -> None:
        self.flow.handle(event)
        self.publish()

    def publish(self) -> None:
        if self.flow.active:
            self.presenter.show(self.flow.view(self.language))

    def update_units(self, *_args: object) -> None:
        self.layout_unit = min(Window.width / 1080, Window.height / 1350)
        self.type_unit = self.layout_unit * (LARGE_TEXT_SCALE if self.large_text else 1.0)
        self.touch_target = max(float(mm(15)), 120 * self.layout_unit)

    def on_start(self) -> None:
        Window.bind(on_flip=self._shoot)
        steps = self.play()
        self._ticker = Clock.schedule_interval(lambda _dt: self._advance(steps), 0)

    def _advance(self, steps: Iterator[None]) -> None:
        try:
            next(steps)
        except StopIteration:
            self._ticker.cancel()
            self.stop()
        except Exception as err:  # noqa: BLE001 - reported to the test, then stop
            self.result["error"] = f"{type(err).__name__}: {err}"
            self._ticker.cancel()
            self.stop()

    def _shoot(self, *_args: object) -> None:
        target, self._pending = self._pending, None
        if target is not None:
            written = Window.screenshot(name=str(target.with_name(f".{target.stem}.png")))
            Path(written).replace(target)

    # -- helpers ---------------------------------------------------------------------------------
    def settle(self, frames: int = 4) -> Iterator[None]:
        for _ in range(frames):
            yield

    def look(self, language: Language, large: bool = False) -> Iterator[None]:
        self.language = language
        self.large_text = large
        self.shell.show(language, large)
        self.publish()
        yield from self.settle()

    def shot(self, name: str, ids: tuple[str, ...]) -> Iterator[None]:
        self._pending = OUT / f"{name}.png"
        Window.canvas.ask_update()
        while self._pending is not None:
            yield
        screen = self.manager.current_screen
        record: dict[str, Any] = {"file": f"{name}.png", "screen": screen.name, "widgets": {}}
        boxes = []
        for widget_id in ids:
            widget = screen.ids[widget_id]
            x, y = widget.to_window(widget.x, widget.y)
            on_screen = (
                widget.opacity > 0
                and widget.height > 1
                and x >= -1
                and y >= -1
                and x + widget.width <= Window.width + 1
                and y + widget.height <= Window.height + 1
            )
            record["widgets"][widget_id] = {
                "text": getattr(widget, "text", ""),
                "on_screen": on_screen,
                "disabled": bool(widget.disabled),
            }
            if on_screen:
                boxes.append((widget_id, x, y, widget.width, widget.height))
        record["overlaps"] = [
            [a[0], b[0]]
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if a[1] < b[1] + b[3] - 1
            and b[1] < a[1] + a[3] - 1
            and a[2] < b[2] + b[4] - 1
            and b[2] < a[2] + a[4] - 1
        ]
        self.result["shots"][name] = record

    def touch(self, name: str, widget_id: str) -> Iterator[None]:
        before = len(self.sent)
        widget = self.manager.current_screen.ids[widget_id]
        x, y = widget.to_window(*widget.center)
        finger = FingerTouch(x, y)
        finger.press()
        yield
        finger.lift()
        yield from self.settle()
        self.result["touches"][name] = self.sent[before:]

    # -- the plan ----------------------------------------------------------------------------------
    def play(self) -> Iterator[None]:
        flow = self.flow
        pin_ids = ("instruction", "pin_boxes", "hint", "keys", "submit_button", "notice")
        flow.begin_sign_in(COURIER.card_id, "badge")
        self.feed(PinWanted(COURIER, "badge"))
        yield from self.look("zh-CN")
        for key in ("key_2", "key_4", "key_6"):
            yield from self.touch(f"pin_{key}", key)
        yield from self.shot("01-pin-zh", pin_ids)
        yield from self.touch("pin_key_8", "key_8")
        yield from self.touch("pin_submit", "submit_button")
        self.feed(WrongPin(2))
        yield from self.look("en")
        yield from self.shot("02-pin-wrong-en", pin_ids)
        yield from self.look("zh-CN", large=True)
        yield from self.shot("03-pin-wrong-zh-large", pin_ids)
        for key in "1357":
            flow.send(vm.PressKey(key))
        flow.send(vm.SubmitPin())
        self.feed(SignedIn(COURIER, "s1", "badge"))
        menu_ids = (
            "instruction",
            "collect_button",
            "load_button",
            "returns_button",
            "sign_out_button",
        )
        yield from self.look("zh-CN")
        yield from self.shot("04-menu-loading-zh", menu_ids)
        self.feed(fx.WorkLoaded((parcel(3), parcel(6), parcel(11)), 2, ()))
        yield from self.look("zh-CN")
        yield from self.shot("05-menu-zh", menu_ids)
        yield from self.look("en", large=True)
        yield from self.shot("06-menu-en-large", menu_ids)
        yield from self.look("zh-CN")
        yield from self.touch("menu_collect", "collect_button")
        run_ids = (
            "column",
            "instruction",
            "open_all_button",
            "list_scroll",
            "progress",
            "back_button",
        )
        yield from self.shot("07-collect-overview-zh", run_ids)
        yield from self.touch("collect_open_all", "open_all_button")
        self.feed(fx.RemovalDoorOpened(parcel(3), UnlockOutcome.OPENED))
        yield from self.look("zh-CN")
        open_ids = (
            "column",
            "door_card",
            "instruction",
            "check_door_button",
            "list_scroll",
            "progress",
        )
        yield from self.shot("08-collect-open-zh", open_ids)
        self.feed(CodeScanned("SEAL-000123", "Code128"))
        self.feed(fx.SealBound(parcel(3), "SEAL-000123"))
        yield from self.look("en")
        yield from self.shot("09-collect-sealed-en", open_ids)
        yield from self.look("zh-CN", large=True)
        yield from self.shot("10-collect-sealed-zh-large", open_ids)
        yield from self.look("zh-CN")
        yield from self.touch("collect_check_door", "check_door_button")
        self.feed(fx.RemovalChecked(parcel(3), "removed"))
        self.feed(fx.RemovalDoorOpened(parcel(6), UnlockOutcome.OPENED))
        flow.send(vm.CheckDoor("p6"))
        self.feed(fx.RemovalChecked(parcel(6), "needs_confirmation"))
        yield from self.look("zh-CN")
        ask_ids = ("column", "door_card", "instruction", "yes_button", "no_button", "list_scroll")
        yield from self.shot("11-collect-ask-zh", ask_ids)
        yield from self.touch("collect_answer_yes", "yes_button")
        self.feed(fx.RemovalChecked(parcel(6), "removed"))
        self.feed(fx.RemovalDoorOpened(parcel(11), UnlockOutcome.JAMMED))
        yield from self.look("en")
        yield from self.shot("12-collect-finished-en", run_ids)
        yield from self.touch("collect_back", "back_button")
        self.feed(fx.WorkLoaded((), 2, ()))
        yield from self.touch("menu_load", "load_button")
        load_ids = ("instruction", "size_S", "size_M", "size_L", "back_button")
        yield from self.look("zh-CN")
        yield from self.shot("13-load-scan-zh", load_ids)
        self.feed(CodeScanned("123456789012345678", "Code128"))
        self.feed(fx.EnvelopeRefused("no_task", "123456789012345678"))
        yield from self.look("en")
        yield from self.shot("14-load-no-task-en", (*load_ids, "notice"))
        self.feed(CodeScanned(TASK.tracking_number, "Code128"))
        self.feed(fx.EnvelopeMatched(TASK))
        yield from self.look("zh-CN")
        yield from self.shot("15-load-size-zh", (*load_ids, "cancel_load_button"))
        yield from self.look("en", large=True)
        yield from self.shot("16-load-size-en-large", (*load_ids, "cancel_load_button"))
        yield from self.look("zh-CN")
        yield from self.touch("load_size_M", "size_M")
        self.feed(fx.ResultCompartmentReserved(TASK, SLOT))
        self.feed(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
        door_ids = ("instruction", "column", "door_card", "check_door_button")
        yield from self.look("zh-CN")
        yield from self.shot("17-load-door-open-zh", door_ids)
        yield from self.touch("load_check_door", "check_door_button")
        self.feed(fx.LoadChecked(SLOT, "no_item_seen"))
        yield from self.look("en")
        no_item_ids = ("instruction", "door_card", "reopen_button", "cancel_load_button")
        yield from self.shot("18-load-no-item-en", no_item_ids)
        flow.send(vm.ReopenDoor())
        self.feed(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
        flow.send(vm.CheckDoor("9"))
        self.feed(fx.LoadChecked(SLOT, "loaded"))
        yield from self.look("zh-CN")
        yield from self.shot("19-load-loaded-zh", ("instruction", "notice", "door_card"))
        # idle warning, then the header's Cancel (= sign out)
        self.clock.now += flow.settings.session_idle_s - 10
        yield from self.look("zh-CN")
        yield from self.shot("20-idle-warning-zh", ("instruction", "still_here"))
        header = self.manager.current_screen.ids.header
        self.result["header"] = {
            "cancel": header.ids.cancel_button.text,
            "cancel_shown": header.ids.cancel_button.opacity > 0,
            "back": header.ids.back_button.text,
            "applicant": header.ids.applicant.text,
            "toolbar_language": header.ids.toolbar.ids.language_button.text,
        }
        # a refusal on the message screen (signing out is the menu's, not the load screen's)
        yield from self.touch("load_back", "back_button")
        self.feed(fx.WorkLoaded((), 1, ()))
        yield from self.touch("menu_sign_out", "sign_out_button")
        self.result["active_after_sign_out"] = flow.active
        flow.begin_sign_in("C-0009", "badge")
        self.feed(SignInRefused("unknown_card", "C-0009"))
        yield from self.look("zh-CN")
        yield from self.shot("21-refused-zh", ("mark", "instruction", "dismiss_button"))
        yield from self.look("en", large=True)
        yield from self.shot("22-refused-en-large", ("mark", "instruction", "dismiss_button"))
        yield from self.touch("refused_dismiss", "dismiss_button")
        self.result["active_after_dismiss"] = flow.active
        # a village agent's menu
        flow.begin_sign_in(AGENT.card_id, "badge")
        self.feed(PinWanted(AGENT, "badge"))
        for key in "1357":
            flow.send(vm.PressKey(key))
        flow.send(vm.SubmitPin())
        self.feed(SignedIn(AGENT, "s2", "badge"))
        self.feed(fx.WorkLoaded((), 0, (parcel(2),)))
        yield from self.look("zh-CN")
        yield from self.shot("23-menu-agent-zh", (*menu_ids, "apply_button"))
        self.result["sent"] = self.sent


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app = ProbeApp()
    app.run()
    print(json.dumps(app.result, ensure_ascii=False))


if __name__ == "__main__":
    main()
