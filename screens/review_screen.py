"""The last look before submitting: what will be sent, and the fee with the rule it rests on.

A citizen who has to pay is asked how before Submit is offered (pay now by phone, or when
collecting, where the item allows), so nobody submits without knowing what follows; the flow says
which buttons to offer and this screen only draws them.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import (
    ApplyView,
    PayAtPickup,
    PayNow,
    ReviewView,
    Submit,
    SummaryLine,
)

from .apply_chrome import drop_intent

KV_FILE = "review_screen.kv"
NAME = "review"


class SummaryRow(BoxLayout):  # type: ignore[misc]
    """One "label: value" line; the label above the value so long values wrap cleanly."""

    label = StringProperty("")
    value = StringProperty("")


class ReviewScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    has_fee = BooleanProperty(False)
    fee_text = StringProperty("")
    fee_basis = StringProperty("")
    pay_now_label = StringProperty("")
    pay_at_pickup_label = StringProperty("")
    can_pay_at_pickup = BooleanProperty(False)
    payment_choice = StringProperty("none")
    submit_label = StringProperty("")
    can_submit = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: tuple[SummaryLine, ...] = ()

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, ReviewView), f"review screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.has_fee = body.has_fee
        self.fee_text = body.fee_text
        self.fee_basis = body.fee_basis
        self.pay_now_label = body.pay_now_label
        self.pay_at_pickup_label = body.pay_at_pickup_label
        self.can_pay_at_pickup = body.can_pay_at_pickup
        self.payment_choice = body.payment_choice
        self.submit_label = body.submit_label
        self.can_submit = body.can_submit
        if body.lines != self._lines:
            self._lines = body.lines
            rows = self.ids.lines
            rows.clear_widgets()
            for line in body.lines:
                rows.add_widget(SummaryRow(label=line.label, value=line.value))

    def clear_down(self) -> None:
        self._lines = ()
        self.ids.lines.clear_widgets()

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    def press_pay_now(self) -> None:
        if self.has_fee:
            self.send(PayNow())

    def press_pay_at_pickup(self) -> None:
        if self.has_fee and self.can_pay_at_pickup:
            self.send(PayAtPickup())

    def press_submit(self) -> None:
        if self.can_submit:
            self.send(Submit())
