"""Touch keypads for the typed fields and the catalog search (styled in keypads.kv).

Every keypad has the same face to the screen that hosts it: a string property `text` (the whole
value so far; set it to show a stored value) and an `on_text_changed` event fired with the new
full text after each key, so a screen forwards one `SetField` / `Search` per touch and never has
to know how the value was composed. Keys are big (`app.touch_target`), few, and in the places a
citizen knows from a telephone; no key needs a long press or a swipe.

The labels of the few non-character keys (delete, clear, space, year/month/day) depend only on
the language, so they live here rather than in every view-model.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Sequence
from typing import Any, ClassVar

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from .widgets import KioskButton

KV_FILE = "keypads.kv"

DELETE = "<delete>"
CLEAR = "<clear>"
SPACE = " "
GAP = ""  # an empty place in a row, so the keys stay where a telephone has them

_KEY_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {DELETE: "← 删除", CLEAR: "清空", SPACE: "空格"},
    "en": {DELETE: "← Delete", CLEAR: "Clear", SPACE: "Space"},
}
_DATE_LABELS: dict[str, tuple[str, str, str]] = {
    "zh-CN": ("年", "月", "日"),
    "en": ("Year", "Month", "Day"),
}


def key_label(code: str, language: str) -> str:
    labels = _KEY_LABELS.get(language, _KEY_LABELS["zh-CN"])
    return labels.get(code, code)


def apply_key(text: str, code: str, max_length: int) -> str:
    """The text after one key; a key that would overflow `max_length` (0: none) changes nothing."""
    if code == DELETE:
        return text[:-1]
    if code == CLEAR:
        return ""
    if max_length and len(text) + len(code) > max_length:
        return text
    return text + code


class KeypadKey(KioskButton):
    """One key; `code` is what it types (a character, DELETE or CLEAR)."""

    code = StringProperty("")
    command = BooleanProperty(False)  # delete/clear look different from the character keys
    height_scale = NumericProperty(1.0)  # of app.touch_target; the kv rule never goes under 15 mm


class TouchKeypad(BoxLayout):  # type: ignore[misc]
    """Rows of keys built from `ROWS`; `weights` widen a few keys (space, delete)."""

    ROWS: tuple[tuple[str, ...], ...] = ()
    WEIGHTS: ClassVar[dict[str, float]] = {}

    text = StringProperty("")
    max_length = NumericProperty(0)
    language = StringProperty("zh-CN")
    # A keyboard that shares the screen with a list it feeds (the search) may use keys shorter
    # than the usual generous target, still at least 15 mm (keypads.kv), so the list keeps room.
    key_height_scale = NumericProperty(1.0)
    __events__ = ("on_text_changed",)

    def __init__(self, **kwargs: Any) -> None:
        self.keys: dict[str, KeypadKey] = {}
        self._built = False
        super().__init__(**kwargs)
        self.build_keys()
        self._built = True

    def build_keys(self) -> None:
        self.clear_widgets()
        self.keys = {}
        for codes in self.rows():
            row = BoxLayout(orientation="horizontal", size_hint_y=None)
            row.bind(minimum_height=row.setter("height"))
            self.bind(spacing=row.setter("spacing"))
            row.spacing = self.spacing
            for code in codes:
                weight = self.WEIGHTS.get(code, 1.0)
                if code == GAP or code.startswith("<gap"):
                    row.add_widget(KeypadGap(size_hint_x=weight))
                    continue
                key = KeypadKey(
                    code=code,
                    text=key_label(code, self.language),
                    command=code in (DELETE, CLEAR, SPACE),
                    size_hint_x=weight,
                    height_scale=self.key_height_scale,
                )
                key.bind(on_release=self._key_released)
                self.keys[code] = key
                row.add_widget(key)
            self.add_widget(row)

    def rows(self) -> Sequence[Sequence[str]]:
        return self.ROWS

    def on_touch_down(self, touch: Any) -> bool:
        """A hidden keypad (height 0, disabled) still lays its keys out where they overflow, and
        Kivy lets disabled widgets swallow the touches that hit them: the choose screen's last
        list rows went dead under the folded-away keyboard. Outside its own box it takes none."""
        if self.disabled and not self.collide_point(*touch.pos):
            return False
        return bool(super().on_touch_down(touch))

    def on_key_height_scale(self, _instance: object, scale: float) -> None:
        for key in self.keys.values():
            key.height_scale = scale

    def on_language(self, _instance: object, language: str) -> None:
        for code, key in self.keys.items():
            key.text = key_label(code, language)

    def press(self, code: str) -> None:
        """What a finger on the key does; also the way tests and the journey type."""
        new_text = apply_key(self.text, code, int(self.max_length))
        if new_text != self.text:
            self.text = new_text
            self.dispatch("on_text_changed", new_text)

    def _key_released(self, key: KeypadKey) -> None:
        self.press(key.code)

    def on_text_changed(self, text: str) -> None:
        """Default handler (Kivy requires one for each declared event)."""


class KeypadGap(Widget):  # type: ignore[misc]
    """An empty place the size of a key."""


class PinyinKeyboard(TouchKeypad):
    """A–Z in the order of a phone's pinyin keyboard, with space, delete and clear.

    Search takes pinyin initials ("HZ" for 护照) or whole pinyin words, so there are no tone
    marks and no candidates bar: the results list itself is the candidates bar.
    """

    ROWS = (
        tuple("QWERTYUIOP"),
        ("<gap-half>", *"ASDFGHJKL", "<gap-half>"),
        ("<gap-wide>", *"ZXCVBNM", "<gap-wide>"),
        (CLEAR, SPACE, DELETE),
    )
    WEIGHTS: ClassVar[dict[str, float]] = {
        "<gap-half>": 0.5,
        "<gap-wide>": 1.5,
        CLEAR: 2.0,
        SPACE: 5.0,
        DELETE: 3.0,
    }


class DigitsKeypad(TouchKeypad):
    """A telephone's 1-2-3 on top, with delete and clear in a column on the right.

    `allow_decimal` puts a decimal point next to the 0 (areas, amounts); one point at most.
    """

    allow_decimal = BooleanProperty(False)
    WEIGHTS: ClassVar[dict[str, float]] = {"<gap>": 1.0}

    def rows(self) -> Sequence[Sequence[str]]:
        extra = self.extra_key()
        return (
            ("1", "2", "3", DELETE),
            ("4", "5", "6", CLEAR),
            ("7", "8", "9", extra),
            ("<gap>", "0", "<gap>", "<gap>"),
        )

    def extra_key(self) -> str:
        return "." if self.allow_decimal else "<gap>"

    def press(self, code: str) -> None:
        if code == "." and ("." in self.text or not self.text):
            return
        super().press(code)

    def on_allow_decimal(self, _instance: object, _allow: bool) -> None:
        # Given as a keyword, it arrives before the keys exist; __init__ builds them with it.
        if self._built:
            self.build_keys()


class PhoneKeypad(DigitsKeypad):
    """Digits only, at most 11 (a mainland mobile number)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 11)
        super().__init__(**kwargs)


class IdNumberKeypad(DigitsKeypad):
    """Digits plus the X that may end a resident ID number; X only as the 18th character."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 18)
        super().__init__(**kwargs)

    def extra_key(self) -> str:
        return "X"

    def press(self, code: str) -> None:
        if code == "X" and len(self.text) != 17:
            return
        super().press(code)


def _parse_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def shift_date(
    current: datetime.date, part: str, step: int, min_year: int, max_year: int
) -> datetime.date:
    """Move one part of a date, keeping the others; the day is clamped to the month's length."""
    year, month, day = current.year, current.month, current.day
    if part == "year":
        year = min(max(year + step, min_year), max_year)
    elif part == "month":
        month = (month - 1 + step) % 12 + 1
    else:
        day = (day - 1 + step) % calendar.monthrange(year, month)[1] + 1
    day = min(day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


class DateSpinner(BoxLayout):  # type: ignore[misc]
    """One column of the date picker: a caption, big + above the value, big − below it."""

    part = StringProperty("year")
    caption = StringProperty("")
    value_text = StringProperty("")
    picker = ObjectProperty(None)
    big_step = NumericProperty(0)  # the year column also has ±10, so 1950 is a few touches away


class DatePicker(BoxLayout):  # type: ignore[misc]
    """Year, month and day, each with big + and − buttons: no small calendar grid to aim at.

    `text` is an ISO date ("1962-08-15") or "" before the first touch; the first touch starts
    from `start_text` (or today), so an empty field needs no typing at all.
    """

    text = StringProperty("")
    start_text = StringProperty("")
    min_year = NumericProperty(1900)
    max_year = NumericProperty(2100)
    language = StringProperty("zh-CN")
    captions = ListProperty(list(_DATE_LABELS["zh-CN"]))
    __events__ = ("on_text_changed",)

    def on_key_height_scale(self, _instance: object, scale: float) -> None:
        for key in self.keys.values():
            key.height_scale = scale

    def on_language(self, _instance: object, language: str) -> None:
        self.captions = list(_DATE_LABELS.get(language, _DATE_LABELS["zh-CN"]))

    def current(self) -> datetime.date | None:
        return _parse_date(self.text)

    def part_text(self, part: str, text: str) -> str:
        shown = _parse_date(text)
        if shown is None:
            return "—"
        return str({"year": shown.year, "month": shown.month, "day": shown.day}[part])

    def press(self, part: str, step: int) -> None:
        base = self.current() or _parse_date(self.start_text) or datetime.date.today()
        if self.current() is None:
            moved = base  # the first touch shows the starting date rather than jumping past it
        else:
            moved = shift_date(base, part, step, int(self.min_year), int(self.max_year))
        new_text = moved.isoformat()
        if new_text != self.text:
            self.text = new_text
            self.dispatch("on_text_changed", new_text)

    def on_text_changed(self, text: str) -> None:
        """Default handler (Kivy requires one for each declared event)."""


class ChoiceButton(KioskButton):
    """A tick as well as the fill marks the chosen one: colour alone is not enough for everyone."""

    value = StringProperty("")
    label = StringProperty("")
    selected = BooleanProperty(False)


class ChoiceButtons(GridLayout):  # type: ignore[misc]
    """A choice field as a row (or grid) of big buttons; the selected one is filled.

    `options` holds `(value, label, selected)` triples, e.g. built from `FieldView.choices`.
    """

    options = ListProperty([])
    text = StringProperty("")
    __events__ = ("on_text_changed",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Bound after construction: options given as a keyword arrive before the canvas exists.
        self.fbind("options", self._show_options)
        self._show_options(self, self.options)

    def _show_options(self, _instance: object, options: list[tuple[str, str, bool]]) -> None:
        shown = [(button.value, button.label, button.selected) for button in self.children[::-1]]
        if shown == [tuple(option) for option in options]:
            return
        self.clear_widgets()
        self.cols = 2 if len(options) > 3 else max(1, len(options))
        for value, label, selected in options:
            button = ChoiceButton(value=value, label=label, selected=selected)
            button.bind(on_release=self._chosen)
            self.add_widget(button)
        chosen = [value for value, _label, selected in options if selected]
        self.text = chosen[0] if chosen else ""

    def press(self, value: str) -> None:
        if value == self.text:
            return
        self.text = value
        for button in self.children:
            button.selected = button.value == value
        self.dispatch("on_text_changed", value)

    def _chosen(self, button: ChoiceButton) -> None:
        self.press(button.value)

    def on_text_changed(self, text: str) -> None:
        """Default handler (Kivy requires one for each declared event)."""
