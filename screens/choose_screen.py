"""Step 2: find the service — most used, by department, by life event, or by search.

Rows are big and few words each (title, one line of detail, fee and days on the right), because
citizens scan rather than read. The row list is rebuilt only when the entries change, so a
re-render for a countdown tick or a notice costs nothing; the search box is fed by the pinyin
keyboard, and every key sends the whole query so the flow never has to track keystrokes.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tabs: tuple[TabView, ...] = ()
        self._entries: tuple[ChoiceEntry, ...] | None = None

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
            box.add_widget(button)

    def _build_rows(self, entries: tuple[ChoiceEntry, ...]) -> None:
        self._entries = entries
        rows = self.ids.rows
        rows.clear_widgets()
        for entry in entries:
            rows.add_widget(ChoiceRow(entry=entry, owner=self))
        self.has_entries = bool(entries)
        self.ids.scroller.scroll_y = 1
