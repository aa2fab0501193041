"""Receipt step: the receipt as it comes out of the printer, on screen, and what happened to it.

The paper receipt is what the citizen takes home, so the screen shows the same thing on a strip of
"paper" — tracking number, the lines, the QR code to follow the application — whether or not the
printer worked. When it did not (out of paper), the status line says so plainly and that the
receipt went by SMS instead; a phone can also photograph the QR code from the screen.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import ApplyView, Finish, Intent, PrintReceipt, ReceiptView

from . import hand_in_screen, qr_widget  # noqa: F401  (PhaseBadge, QrCode: used by the kv)
from .apply_chrome import drop_intent

KV_FILE = "receipt_screen.kv"
NAME = "receipt"

# The badge beside the status line, by print status.
STATUS_BADGE = {
    "printing": "busy",
    "printed": "done",
    "on_screen": "info",
    "print_failed": "question",
}


class ReceiptLine(BoxLayout):  # type: ignore[misc]
    """One "label: value" line of the receipt; the value wraps, the label keeps its column."""

    label = StringProperty("")
    value = StringProperty("")


class ReceiptScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    tracking_number = StringProperty("")
    lines = ListProperty([])  # (label, value) pairs
    qr_payload = StringProperty("")
    status = StringProperty("printing")
    status_text = StringProperty("")
    sms_text = StringProperty("")
    print_again_label = StringProperty("")
    can_print_again = BooleanProperty(False)
    done_label = StringProperty("")
    can_finish = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # kv ids are weak references: hold the button while it is out of the row
        self._print_again_button = self.ids.print_again_button.__self__
        self.on_can_print_again(self, self.can_print_again)

    def on_can_print_again(self, _instance: object, offered: bool) -> None:
        button, row = self._print_again_button, self.ids.buttons
        if offered and button.parent is None:
            row.add_widget(button, index=len(row.children))
        elif not offered and button.parent is not None:
            row.remove_widget(button)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, ReceiptView), f"receipt screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.ids.countdown.render(body.countdown)
        self.tracking_number = body.tracking_number
        pairs = [(line.label, line.value) for line in body.lines]
        if pairs != list(self.lines):
            self.lines = pairs
        self.qr_payload = body.follow_qr_payload
        self.status = body.status
        self.status_text = body.status_text
        self.sms_text = body.sms_text
        self.print_again_label = body.print_again_label
        self.can_print_again = body.can_print_again and _offered(view, PrintReceipt)
        self.done_label = body.done_label
        self.can_finish = bool(body.done_label) and _offered(view, Finish)

    def clear_down(self) -> None:
        """The receipt names the application: nothing of it stays once the session ends."""
        self.tracking_number = ""
        self.lines = []
        self.qr_payload = ""
        self.sms_text = ""
        self.status_text = ""

    def on_lines(self, _instance: object, lines: list[tuple[str, str]]) -> None:
        box = self.ids.lines
        box.clear_widgets()
        for label, value in lines:
            box.add_widget(ReceiptLine(label=label, value=value))

    @staticmethod
    def badge_kind(status: str) -> str:
        return STATUS_BADGE.get(status, "info")

    def press_print_again(self) -> None:
        if self.can_print_again:
            self.send(PrintReceipt())

    def press_done(self) -> None:
        if self.can_finish:
            self.send(Finish())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
        self.ids.countdown.send = send

    def on_enter(self, *_args: object) -> None:
        self.ids.badge.start()

    def on_leave(self, *_args: object) -> None:
        self.ids.badge.stop()


def _offered(view: ApplyView, intent: type[Intent]) -> bool:
    return not view.accepts or intent.__name__ in view.accepts
