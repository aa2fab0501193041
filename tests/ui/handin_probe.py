"""Run in a subprocess by test_handin_screens.py: the hand-in, receipt and finish screens in one
real off-screen window, rendered from hand-made views, photographed, and touched.

Usage: handin_probe.py OUT_DIR WIDTH HEIGHT PLAN   (PLAN: "full" or "small")
Prints one JSON line: for each shot its file and a few widget texts, for each touch the intents.
Kivy allows one window per process, hence a script rather than an import.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
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
from kiosk.apply.view_models import (  # noqa: E402
    ApplyStep,
    ApplyView,
    Countdown,
    FinishView,
    HandInView,
    Header,
    Notice,
    ProgressStep,
    ReceiptView,
    SummaryLine,
)
from kiosk.ports.lockers import CompartmentSpec  # noqa: E402
from screens import (  # noqa: E402
    apply_chrome,
    finish_screen,
    hand_in_screen,
    palette,
    receipt_screen,
    widgets,
)
from screens.app import load_kv, use_font_everywhere  # noqa: E402

OUT = Path(sys.argv[1])
PLAN = sys.argv[4]
LARGE_TEXT_SCALE = 1.35

STEP_LABELS = {
    "zh-CN": ["身份", "选择", "指南", "表单", "材料", "确认", "缴费", "投递", "回执", "完成"],
    "en": [
        "ID",
        "Choose",
        "Guide",
        "Form",
        "Copies",
        "Review",
        "Pay",
        "Hand in",
        "Receipt",
        "Done",
    ],
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


def header(lang: str, current: int, title: str) -> Header:
    labels = STEP_LABELS[lang]
    progress = tuple(
        ProgressStep(label, "done" if i < current else "current" if i == current else "todo")
        for i, label in enumerate(labels)
    )
    zh = lang == "zh-CN"
    return Header(
        title=title,
        progress=progress,
        back_label="返回" if zh else "Back",
        cancel_label="取消办理" if zh else "Cancel",
        can_go_back=False,
        can_cancel=current < 8,
        applicant="张*明 4301**********1234",
    )


def hand_in_view(lang: str, phase: str, **changes: Any) -> ApplyView:
    zh = lang == "zh-CN"
    instructions = {
        "reserving": ("正在为您分配柜格…", "Finding a free compartment…"),
        "opening": ("正在打开 A03 号柜门…", "Opening door A03…"),
        "door_open": (
            "请将下列纸质原件放入 A03 号柜格，然后关好柜门。",
            "Put the paper originals below into compartment A03, then close the door.",
        ),
        "checking": ("正在确认您投递的材料…", "Checking your hand-in…"),
        "no_item_seen": (
            "柜门已关闭，但没有检测到材料。材料放进去了吗？",
            "The door is closed but no papers were detected. Did you put them in?",
        ),
        "taking_back": (
            "柜门已打开，请取回您的材料并关好柜门。",
            "The door is open: take your papers back and close the door.",
        ),
        "deposited": ("材料已投递成功，谢谢！", "Your papers are handed in. Thank you!"),
        "no_compartment": (
            "暂无空闲柜格。申请已提交，请将纸质材料带到政务服务中心窗口。",
            "No compartment is free. Your application is submitted; please bring the papers "
            "to the service centre.",
        ),
    }
    has_box = phase not in ("reserving", "no_compartment")
    body = HandInView(
        phase=phase,  # type: ignore[arg-type]
        compartment_number=3 if has_box else None,
        compartment_label="A03" if has_box else "",
        position_text="A 列 · 第 2 排 · 左" if zh else "Column A · row 2 · left",
        column="A",
        row=2,
        col=1,
        materials=(
            ("户口簿原件", "结婚证原件（2 页）")
            if zh
            else ("Household register (original)", "Marriage certificate (2 pages)")
        ),
        instruction=instructions[phase][0 if zh else 1],
        reminder=None,
        staff_alerted=False,
        confirm_label="我已放入材料" if zh else "I have put them in",
        reopen_label="重新打开柜门" if zh else "Open the door again",
        cancel_label="取回材料" if zh else "Take my papers back",
        can_confirm=phase == "no_item_seen",
        can_reopen=phase == "no_item_seen",
        can_cancel=phase in ("door_open", "no_item_seen"),
        continue_label="继续" if zh else "Continue",
        can_continue=phase in ("no_compartment", "deposited"),
    )
    body = replace(body, **changes)
    return ApplyView(
        step=ApplyStep.HAND_IN,
        language=lang,  # type: ignore[arg-type]
        header=header(lang, 7, "投递纸质材料" if zh else "Hand in your papers"),
        body=body,
        voice=None,
        voice_serial=0,
        countdown=None,
        overlay=None,
    )


def door_reminder(lang: str) -> Notice:
    zh = lang == "zh-CN"
    return Notice(
        "柜门还开着！请放好材料后关上 A03 号柜门。"
        if zh
        else "The door is still open! Put your papers in and close door A03.",
        "warning",
    )


def receipt_view(lang: str, status: str) -> ApplyView:
    zh = lang == "zh-CN"
    failed = status == "print_failed"
    lines = (
        (
            SummaryLine("事项", "结婚登记"),
            SummaryLine("申请人", "张*明"),
            SummaryLine("已交材料", "户口簿原件、结婚证原件（2 页），A03 号柜格"),
            SummaryLine("承诺办结", "2025年3月14日（5 个工作日）"),
            SummaryLine("费用", "免费"),
            SummaryLine("咨询电话", "12345"),
        )
        if zh
        else (
            SummaryLine("Service", "Marriage registration"),
            SummaryLine("Applicant", "Zhang *ming"),
            SummaryLine("Handed in", "Household register, marriage certificate (2 pages), box A03"),
            SummaryLine("Promised by", "14 March 2025 (5 working days)"),
            SummaryLine("Fee", "Free"),
            SummaryLine("Hotline", "12345"),
        )
    )
    status_text = {
        "printed": ("请取走下方出纸口的回执。", "Please take your receipt from the slot below."),
        "print_failed": (
            "打印机缺纸，未能打印回执。回执显示在下方，并已发送短信。",
            "The printer is out of paper. Your receipt is shown below and was sent by SMS.",
        ),
        "printing": ("正在打印回执…", "Printing your receipt…"),
        "on_screen": ("回执显示在下方。", "Your receipt is shown below."),
    }[status][0 if zh else 1]
    body = ReceiptView(
        tracking_number="GZ-20250307-000123",
        lines=lines,
        follow_qr_payload="https://hall.example.gov.cn/track/GZ-20250307-000123",
        status=status,  # type: ignore[arg-type]
        status_text=status_text,
        sms_text=("回执已发送至 138****8000" if zh else "We also sent this receipt to 138****8000")
        if failed
        else "",
        print_again_label="重新打印" if zh else "Print again",
        can_print_again=failed,
        done_label="完成" if zh else "Done",
        countdown=None,
        notice=None,
    )
    return ApplyView(
        step=ApplyStep.RECEIPT,
        language=lang,  # type: ignore[arg-type]
        header=header(lang, 8, "办理回执" if zh else "Your receipt"),
        body=body,
        voice=None,
        voice_serial=0,
        countdown=None,
        overlay=None,
    )


def finish_view(lang: str, card_left: bool) -> ApplyView:
    zh = lang == "zh-CN"
    body = FinishView(
        thank_you="办理完成，感谢您的使用！" if zh else "All done. Thank you!",
        next_steps=(
            "材料审核通过、证件办好后，我们会短信通知您凭取件码来这里领取。"
            if zh
            else "When your documents are ready we will send you an SMS with a pickup code "
            "to collect them here."
        ),
        take_card_reminder=(
            ("请取走您的身份证！" if zh else "Take your ID card with you!") if card_left else ""
        ),
        done_label="结束" if zh else "Finish",
        countdown=Countdown(
            seconds_left=12,
            text="12 秒后返回首页" if zh else "Back to the start in 12 s",
            extend_label="我还需要时间" if zh else "I need more time",
        ),
    )
    return ApplyView(
        step=ApplyStep.FINISH,
        language=lang,  # type: ignore[arg-type]
        header=replace(header(lang, 9, "完成" if zh else "Done"), can_cancel=False),
        body=body,
        voice=None,
        voice_serial=0,
        countdown=None,
        overlay=None,
    )


class ProbeApp(App):  # type: ignore[misc]
    """The same unit properties the kv rules read from the kiosk app, without the shell."""

    layout_unit = NumericProperty(1.0)
    type_unit = NumericProperty(1.0)
    touch_target = NumericProperty(60.0)
    large_text = BooleanProperty(False)

    def build(self) -> ScreenManager:
        use_font_everywhere(find_cjk_font("").path)
        for module in (widgets, apply_chrome, hand_in_screen, receipt_screen, finish_screen):
            load_kv(module.KV_FILE)
        Window.clearcolor = palette.PAGE
        self.sent: list[str] = []
        self.manager = ScreenManager(transition=NoTransition())
        for screen in (
            hand_in_screen.HandInScreen(name=hand_in_screen.NAME),
            receipt_screen.ReceiptScreen(name=receipt_screen.NAME),
            finish_screen.FinishScreen(name=finish_screen.NAME),
        ):
            screen.send = lambda intent: self.sent.append(type(intent).__name__)
            self.manager.add_widget(screen)
        self.manager.get_screen("hand_in").layout = demo_layout()
        self.bind(large_text=self.update_units)
        self.update_units()
        self.result: dict[str, Any] = {"window": list(Window.size), "shots": {}, "touches": {}}
        self._pending: Path | None = None
        return self.manager

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

    def _shoot(self, *_args: object) -> None:
        target, self._pending = self._pending, None
        if target is not None:
            written = Window.screenshot(name=str(target.with_name(f".{target.stem}.png")))
            Path(written).replace(target)

    # -- the plan -------------------------------------------------------------------------------
    def show(self, view: ApplyView, large: bool = False) -> Iterator[None]:
        self.large_text = large
        screen = self.manager.get_screen(view.step.value)
        screen.render(view)
        self.manager.current = screen.name
        for _ in range(4):  # kv bindings, Clock triggers and layouts settle over a few frames
            yield

    def shot(self, name: str, texts: tuple[str, ...] = ()) -> Iterator[None]:
        self._pending = OUT / f"{name}.png"
        Window.canvas.ask_update()
        while self._pending is not None:
            yield
        screen = self.manager.current_screen
        record: dict[str, Any] = {"file": f"{name}.png"}
        for widget_id in texts:
            widget = screen.ids[widget_id]
            record[widget_id] = {
                "text": getattr(widget, "text", ""),
                "height": widget.height,
                "visible": widget.opacity > 0 and widget.height > 1,
                "on_screen": widget.get_root_window() is not None,
            }
        if "column" in screen.ids:
            column = screen.ids.column
            record["target_rect"] = column.target_rect
            record["picture"] = column.picture
        self.result["shots"][name] = record

    def touch(self, name: str, widget_id: str) -> Iterator[None]:
        widget = self.manager.current_screen.ids[widget_id]
        before = len(self.sent)
        shown = widget.get_root_window() is not None and widget.opacity > 0
        if shown:  # a finger can only press what is drawn
            x, y = widget.to_window(*widget.center)
            finger = FingerTouch(x, y)
            finger.press()
            yield
            finger.lift()
            for _ in range(2):
                yield
        self.result["touches"][name] = {
            "widget": widget_id,
            "shown": shown,
            "size": [widget.width, widget.height],
            "sent": self.sent[before:],
        }

    def play(self) -> Iterator[None]:
        hand_in_texts = ("compartment_label", "position", "instruction", "reminder", "materials")
        langs = ("zh-CN", "en")
        for lang in langs:
            short = "zh" if lang == "zh-CN" else "en"
            for phase in ("door_open", "reserving", "deposited", "no_compartment"):
                yield from self.show(hand_in_view(lang, phase))
                yield from self.shot(f"hand_in-{phase}-{short}", hand_in_texts)
            reminded = hand_in_view(
                lang, "no_item_seen", reminder=door_reminder(lang), staff_alerted=False
            )
            yield from self.show(reminded)
            yield from self.shot(f"hand_in-no_item_seen-{short}", hand_in_texts)
            yield from self.show(reminded, large=True)
            yield from self.shot(f"hand_in-no_item_seen-{short}-large", hand_in_texts)
            yield from self.show(hand_in_view(lang, "door_open"), large=True)
            yield from self.shot(f"hand_in-door_open-{short}-large", hand_in_texts)
            receipt_texts = ("tracking_number", "status_text", "sms_text")
            yield from self.show(receipt_view(lang, "printed"))
            yield from self.shot(f"receipt-printed-{short}", receipt_texts)
            yield from self.show(receipt_view(lang, "print_failed"))
            yield from self.shot(f"receipt-print_failed-{short}", receipt_texts)
            yield from self.show(receipt_view(lang, "print_failed"), large=True)
            yield from self.shot(f"receipt-print_failed-{short}-large", receipt_texts)
            finish_texts = ("thank_you", "next_steps", "card_reminder")
            yield from self.show(finish_view(lang, card_left=True))
            yield from self.shot(f"finish-{short}", finish_texts)
            yield from self.show(finish_view(lang, card_left=True), large=True)
            yield from self.shot(f"finish-{short}-large", finish_texts)
            if PLAN == "small":
                break
        # touches, on the English screens at normal size
        yield from self.show(hand_in_view("en", "no_item_seen", reminder=door_reminder("en")))
        for name in ("confirm_button", "reopen_button", "cancel_button"):
            yield from self.touch(f"no_item_seen/{name}", name)
        yield from self.show(hand_in_view("en", "no_compartment"))
        yield from self.touch("no_compartment/continue_button", "continue_button")
        yield from self.show(hand_in_view("en", "checking"))
        yield from self.touch("checking/cancel_button", "cancel_button")
        refused = replace(
            hand_in_view("en", "no_item_seen"), accepts=frozenset({"ReopenDoor", "CancelHandIn"})
        )
        yield from self.show(refused)
        yield from self.touch("not_accepted/confirm_button", "confirm_button")
        yield from self.show(receipt_view("en", "print_failed"))
        yield from self.touch("receipt/print_again_button", "print_again_button")
        yield from self.touch("receipt/done_button", "done_button")
        yield from self.show(receipt_view("en", "printed"))
        yield from self.touch("receipt_printed/print_again_button", "print_again_button")
        yield from self.show(finish_view("en", card_left=False))
        yield from self.touch("finish/done_button", "done_button")
        countdown = self.manager.get_screen("finish").ids.countdown.ids.extend_button
        self.manager.get_screen("finish").ids["extend_button"] = countdown
        yield from self.touch("finish/extend_button", "extend_button")
        self.manager.get_screen("receipt").clear_down()
        self.result["cleared_receipt"] = {
            "tracking_number": self.manager.get_screen("receipt").tracking_number,
            "lines": len(self.manager.get_screen("receipt").ids.lines.children),
            "qr_modules": self.manager.get_screen("receipt").ids.qr.module_count,
        }


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    app = ProbeApp()
    app.run()
    print(json.dumps(app.result, ensure_ascii=False))
