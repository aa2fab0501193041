"""Step 2: find the service — most used, by department, by life event, or by search.

Rows are big and few words each (title, one line of detail, fee and days on the right), because
citizens scan rather than read. The row list is rebuilt only when the entries change, so a
re-render for a countdown tick or a notice costs nothing; the search box is fed by the pinyin
keyboard, and every key sends the whole query so the flow never has to track keystrokes.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import (
    ApplyView,
    ChoiceEntry,
    ChooseDepartment,
    ChooseItem,
    ChooseTopic,
    ChooseView,
    IdentifyToApply,
    Intent,
    Search,
    ShowTab,
    TabView,
)

from .apply_chrome import drop_intent
from .widgets import KioskButton

KV_FILE = "choose_screen.kv"
NAME = "choose"


def intent_for(entry: ChoiceEntry) -> Intent:
    if entry.kind == "department":
        return ChooseDepartment(department_id=entry.id)
    if entry.kind == "topic":
        return ChooseTopic(topic_id=entry.id)
    return ChooseItem(item_id=entry.id)


class EntryIcon(BoxLayout):  # type: ignore[misc]
    """A small drawn picture of what a row opens: a building, a stack of items, a document."""

    kind = StringProperty("item")


class ChoiceRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    entry = ObjectProperty(None)
    kind = StringProperty("item")
    title = StringProperty("")
    subtitle = StringProperty("")
    fee_text = StringProperty("")
    days_text = StringProperty("")
    owner = ObjectProperty(None)

    def on_entry(self, _instance: object, entry: ChoiceEntry) -> None:
        self.kind = entry.kind
        self.title = entry.title
        self.subtitle = entry.subtitle
        self.fee_text = entry.fee_text
        self.days_text = entry.days_text

    def on_release(self) -> None:
        if self.owner is not None and self.entry is not None:
            self.owner.choose(self.entry)


class TabButton(KioskButton):
    tab = StringProperty("most_used")
    selected = BooleanProperty(False)
    font_scale = NumericProperty(1.0)  # below 1 only while typing (ChooseScreen._fit_tabs)


class ChooseScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    heading = StringProperty("")
    empty_text = StringProperty("")
    has_entries = BooleanProperty(False)
    search_query = StringProperty("")
    search_hint = StringProperty("")
    show_search = BooleanProperty(False)
    show_keyboard = BooleanProperty(False)
    identify_label = StringProperty("")
    language = StringProperty("zh-CN")
    # Four tabs in a row only while every word of every label fits a quarter of the row: Kivy
    # cuts a word that does not fit anywhere ("By departme / nt"), which nobody can read. While
    # the keyboard is up the list needs the height more, so the labels shrink a little instead.
    tab_columns = NumericProperty(4)
    # Departments are a name and a count: they sit two or three to a row where the row is wide
    # for the text size, so a short screen shows them all without scrolling.
    short_rows = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tabs: tuple[TabView, ...] = ()
        self._entries: tuple[ChoiceEntry, ...] | None = None
        self._fit_tabs_trigger = Clock.create_trigger(self._fit_tabs, 0)
        self.bind(width=self._fit_tabs_trigger, show_keyboard=self._fit_tabs_trigger)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, ChooseView), f"choose screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.language = view.language
        self.heading = body.heading
        self.empty_text = body.empty_text
        self.search_hint = body.search_hint
        self.search_query = body.search_query
        searching = any(tab.selected and tab.tab == "search" for tab in body.tabs)
        self.show_search = searching or body.keyboard != "none" or bool(body.search_query)
        self.show_keyboard = body.keyboard == "pinyin"
        keyboard = self.ids.keyboard
        keyboard.language = view.language
        if keyboard.text != body.search_query:
            keyboard.text = body.search_query
        self.identify_label = body.identify_label
        if body.tabs != self._tabs:
            self._build_tabs(body.tabs)
        if body.entries != self._entries:
            self._build_rows(body.entries)

    def clear_down(self) -> None:
        """Session over: no query, no list of what this citizen looked at."""
        self._build_rows(())
        self.search_query = ""
        self.ids.keyboard.text = ""

    # -- touches ------------------------------------------------------------------------------
    def choose(self, entry: ChoiceEntry) -> None:
        self.send(intent_for(entry))

    def show_tab(self, tab: str) -> None:
        self.send(ShowTab(tab=tab))  # type: ignore[arg-type]  # kv passes the tab's own value

    def typed(self, text: str) -> None:
        if text != self.search_query:
            self.search_query = text
            self.send(Search(query=text))

    def press_identify(self) -> None:
        if self.identify_label:
            self.send(IdentifyToApply())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    # -- building -----------------------------------------------------------------------------
    def _build_tabs(self, tabs: tuple[TabView, ...]) -> None:
        self._tabs = tabs
        box = self.ids.tabs
        box.clear_widgets()
        for tab in tabs:
            button = TabButton(tab=tab.tab, text=tab.label, selected=tab.selected)
            button.bind(on_release=lambda b: self.show_tab(b.tab))
            # large text changes the font size; the scale set below settles at once (same value)
            button.bind(font_size=self._fit_tabs_trigger)
            box.add_widget(button)
        self._fit_tabs_trigger()

    def _fit_tabs(self, *_args: object) -> None:
        box = self.ids.tabs
        buttons: list[TabButton] = list(box.children)
        if not buttons:
            return
        first = buttons[0]
        text_padding = first.width - first.text_size[0] if first.text_size[0] else 0.0
        room = (box.width - box.spacing[0] * 3) / 4 - text_padding - 2  # Kivy rounds widths
        base_sizes = [button.font_size / max(button.font_scale, 0.01) for button in buttons]
        widest_word = self._widest_word(buttons, base_sizes)
        scale = 1.0
        if widest_word > room and self.show_keyboard:
            # fonts come in whole pixel sizes: aim a little under, then measure what is drawn
            scale = max(0.7, room * 0.95 / widest_word)
            widest_word = self._widest_word(buttons, [size * scale for size in base_sizes])
        self.tab_columns = 4 if widest_word <= room else 2
        for button in buttons:
            button.font_scale = scale

    @staticmethod
    def _widest_word(buttons: list[TabButton], font_sizes: list[float]) -> float:
        widest = 0.0
        for button, font_size in zip(buttons, font_sizes, strict=True):
            ruler = CoreLabel(font_size=font_size, bold=button.bold)
            ruler.resolve_font_name()
            for word in button.text.split():
                widest = max(widest, float(ruler.get_extents(word)[0]))
        return widest

    def _build_rows(self, entries: tuple[ChoiceEntry, ...]) -> None:
        self._entries = entries
        rows = self.ids.rows
        rows.clear_widgets()
        for entry in entries:
            row = ChoiceRow(entry=entry, owner=self)
            if entry.subtitle == self.heading:
                # the items of one department all name it; the heading above already does
                row.subtitle = ""
            rows.add_widget(row)
        self.short_rows = bool(entries) and all(entry.kind == "department" for entry in entries)
        self.has_entries = bool(entries)
        self.ids.scroller.scroll_y = 1
