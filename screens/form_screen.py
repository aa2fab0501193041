"""The one form: every field in a list, and the keypad of the field being filled docked below.

An elderly citizen on a tall portrait screen does best with everything in sight: the list shows
what is already filled (and which of it came from the card), the field being filled is ringed, and
the keypad that suits it sits in the same place under the list every time. Choice fields need no
keypad: their options are big buttons right in the row. Tapping a row makes it the one being
filled; which row that is is the only thing this screen remembers, and it is forgotten at
clear-down. Validation errors come from the flow and sit under their field.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.apply.view_models import ApplyView, Continue, FieldView, FormView, SetField

from .apply_chrome import drop_intent
from .keypads import (
    ChoiceButtons,
    DatePicker,
    DigitsKeypad,
    IdNumberKeypad,
    PhoneKeypad,
    PinyinKeyboard,
)

KV_FILE = "form_screen.kv"
NAME = "form"

# The view-model has no words for these two small marks; they depend on the language alone.
_FROM_CARD = {"zh-CN": "来自证件", "en": "From your card"}
_FILLING = {"zh-CN": "正在填写：", "en": "Now filling in: "}


def first_field_to_fill(fields: tuple[FieldView, ...]) -> str:
    """Where the keypad starts: the first error, else the first empty required field, else the
    first field the card did not fill, else the first field."""
    for candidate in fields:
        if candidate.error:
            return candidate.key
    for candidate in fields:
        if candidate.required and not candidate.value:
            return candidate.key
    for candidate in fields:
        if not candidate.prefilled:
            return candidate.key
    return fields[0].key if fields else ""


class FormFieldRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One field: label, value, the card mark and the error; a tap makes it the active field."""

    key = StringProperty("")
    label = StringProperty("")
    display_value = StringProperty("")
    error = StringProperty("")
    from_card_text = StringProperty("")
    kind = StringProperty("text")
    required = BooleanProperty(False)
    prefilled = BooleanProperty(False)
    active = BooleanProperty(False)
    screen = ObjectProperty(None)

    def show(self, field: FieldView, active: bool, from_card_text: str) -> None:
        self.key = field.key
        self.kind = field.kind
        self.label = field.label + (" *" if field.required else "")
        self.display_value = field.display_value
        self.error = field.error
        self.required = field.required
        self.prefilled = field.prefilled
        # Where a pre-filled value came from: the card, or the hall's record (the phone on file).
        self.from_card_text = (field.note or from_card_text) if field.prefilled else ""
        self.active = active
        options = [(option.value, option.label, option.selected) for option in field.choices]
        choices: ChoiceButtons = self.ids.choices
        if choices.options != options:
            choices.options = options


class FormScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    intro = StringProperty("")
    continue_label = StringProperty("")
    can_continue = BooleanProperty(False)
    active_key = StringProperty("")
    active_label = StringProperty("")
    active_value = StringProperty("")
    active_error = StringProperty("")
    filling_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, FormFieldRow] = {}
        self._fields: dict[str, FieldView] = {}
        self._keypads: dict[str, Widget] = {}
        self._shown_keypad: Widget | None = None
        self._language = "zh-CN"

    # -- the contract ---------------------------------------------------------------------------
    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, FormView), f"form screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self._language = view.language
        self.intro = body.intro
        self.continue_label = body.continue_label
        self.can_continue = body.can_continue
        self.filling_text = _FILLING.get(view.language, _FILLING["zh-CN"])
        self._fields = {field.key: field for field in body.fields}
        picked = self.active_key not in self._fields
        if picked:
            self.active_key = first_field_to_fill(body.fields)
        self._show_rows(body.fields, _FROM_CARD.get(view.language, _FROM_CARD["zh-CN"]))
        self._show_keypad()
        if picked and self.active_key in self._rows:
            # The field the keypad fills must be in sight, even when it is far down the list.
            row = self._rows[self.active_key]
            Clock.schedule_once(lambda _dt: self.ids.scroll.scroll_to(row, animate=False), 0)

    def clear_down(self) -> None:
        """Forget the values on the widgets, so nothing personal stays on a hidden screen."""
        self._fields = {}
        self.active_key = ""
        self.active_value = ""
        self.active_label = ""
        self.active_error = ""
        self.ids.rows.clear_widgets()
        self._rows = {}
        for keypad in self._keypads.values():
            keypad.text = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    # -- touches --------------------------------------------------------------------------------
    def choose_field(self, key: str) -> None:
        if key in self._fields and key != self.active_key:
            self.active_key = key
            for row_key, row in self._rows.items():
                row.active = row_key == key
            self._show_keypad()

    def press_continue(self) -> None:
        if self.can_continue:
            self.send(Continue())

    def keypad_typed(self, _keypad: Widget, text: str) -> None:
        if self.active_key:
            self.send(SetField(key=self.active_key, value=text))

    def choice_made(self, key: str, value: str) -> None:
        self.choose_field(key)  # the keypad of another field would only distract now
        self.send(SetField(key=key, value=value))

    # -- drawing --------------------------------------------------------------------------------
    def _show_rows(self, fields: tuple[FieldView, ...], from_card_text: str) -> None:
        if list(self._rows) != [field.key for field in fields]:
            container = self.ids.rows
            container.clear_widgets()
            self._rows = {}
            for field in fields:
                row = FormFieldRow(screen=self)
                row.ids.choices.bind(
                    on_text_changed=lambda _w, value, key=field.key: self.choice_made(key, value)
                )
                container.add_widget(row)
                self._rows[field.key] = row
        for field in fields:
            self._rows[field.key].show(field, field.key == self.active_key, from_card_text)

    def _keypad_for(self, field: FieldView) -> Widget | None:
        kind = field.keypad
        if kind == "none" or field.kind == "choice":
            return None
        if kind not in self._keypads:
            made: Widget
            if kind == "digits":
                made = DigitsKeypad()
            elif kind == "phone":
                made = PhoneKeypad()
            elif kind == "id_number":
                made = IdNumberKeypad()
            elif kind == "date":
                made = DatePicker()
            else:
                # 26 letters in four rows: keys a little shorter (never under 15 mm) leave the
                # field list room on a short screen
                made = PinyinKeyboard(key_height_scale=0.72)
            made.bind(on_text_changed=self.keypad_typed)
            self._keypads[kind] = made
        keypad = self._keypads[kind]
        keypad.language = self._language
        if kind in ("digits", "pinyin"):
            keypad.max_length = field.max_length or 0
        if kind == "digits":
            # A bound such as 0.5 says the number may have a fraction (an area, a weight).
            bounds = (field.min_value, field.max_value)
            keypad.allow_decimal = any(b is not None and not float(b).is_integer() for b in bounds)
        return keypad

    def _show_keypad(self) -> None:
        field = self._fields.get(self.active_key)
        dock = self.ids.dock
        keypad = self._keypad_for(field) if field is not None else None
        if field is not None:
            self.active_label = field.label
            self.active_value = field.display_value
            self.active_error = field.error
            if keypad is not None and keypad.text != field.value:
                keypad.text = field.value
        if keypad is not self._shown_keypad:
            if self._shown_keypad is not None:
                dock.remove_widget(self._shown_keypad)
            if keypad is not None:
                dock.add_widget(keypad)
            self._shown_keypad = keypad
        self.ids.dock_panel.shown = keypad is not None


class KeypadDock(BoxLayout):  # type: ignore[misc]
    """The panel under the list: which field is being filled, its value, and its keypad."""

    shown = BooleanProperty(False)

    def on_touch_down(self, touch: Any) -> bool:
        # Folded away (a choice field is active), its labels still stick out of the zero height;
        # they must not take touches meant for the list.
        return bool(super().on_touch_down(touch)) if self.shown else False
