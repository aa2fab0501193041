"""The screen a passer-by sees: who runs this terminal, the two main actions, and the notices."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from . import palette
from .view_models import AttractView

KV_FILE = "attract_screen.kv"
NAME = "attract"


class ActionCard(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One of the two big main actions: a title a citizen can read from two metres and a hint."""

    title = ObjectProperty("")
    hint = ObjectProperty("")
    fill = ObjectProperty(palette.APPLY)
    fill_pressed = ObjectProperty(palette.APPLY_PRESSED)


class NoticePanel(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """The public notice currently in turn; its text comes from the attract view-model. A body
    too long for the panel ends in "…" and says "touch to read it all": a touch opens the whole
    notice over the screen (screens/notice_overlay.py)."""

    view = ObjectProperty(AttractView(), rebind=True)
    intents = ObjectProperty(None)


class AttractScreen(Screen):  # type: ignore[misc]
    view = ObjectProperty(AttractView(), rebind=True)
    intents = ObjectProperty(None)
