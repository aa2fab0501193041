"""Paying the fee by phone: the amount, the hall's payment code, and a way out to pay later.

The code is scanned from the glass by the citizen's phone, so it is drawn big and crisp (QrCode);
the flow notices the payment by itself and moves on, so the screen needs no "I have paid" button.
Until the hall has created the order, or when it cannot, the code's place holds a sentence instead.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import ApplyView, Continue, PayAtPickup, PaymentView

from .apply_chrome import drop_intent
from .qr_widget import QrCode  # noqa: F401  (registers the class kv refers to)

KV_FILE = "payment_screen.kv"
NAME = "payment"


class PaymentScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    amount_text = StringProperty("")
    status = StringProperty("waiting_order")
    qr_payload = StringProperty("")
    instruction = StringProperty("")
    pay_at_pickup_label = StringProperty("")
    can_pay_at_pickup = BooleanProperty(False)
    continue_label = StringProperty("")
    can_continue = BooleanProperty(False)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, PaymentView), f"payment screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.ids.countdown.render(body.countdown)
        self.amount_text = body.amount_text
        self.status = body.status
        self.qr_payload = body.qr_payload if body.status == "showing_qr" else ""
        self.instruction = body.instruction
        self.pay_at_pickup_label = body.pay_at_pickup_label
        self.can_pay_at_pickup = body.can_pay_at_pickup
        self.continue_label = body.continue_label
        self.can_continue = body.can_continue

    def clear_down(self) -> None:
        self.qr_payload = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
        self.ids.countdown.send = send

    def press_pay_at_pickup(self) -> None:
        if self.can_pay_at_pickup:
            self.send(PayAtPickup())

    def press_continue(self) -> None:
        if self.can_continue:
            self.send(Continue())
