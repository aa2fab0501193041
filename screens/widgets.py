"""Shared building blocks of every screen (styled in widgets.kv)."""

from __future__ import annotations

from kivy.properties import ColorProperty, ObjectProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from . import palette
from .view_models import ToolbarView

KV_FILE = "widgets.kv"


class KioskButton(ButtonBehavior, Label):  # type: ignore[misc]
    """A flat, rounded touch target; the fill darkens while a finger is on it."""

    fill = ColorProperty(palette.SECONDARY)
    fill_pressed = ColorProperty(palette.SECONDARY_PRESSED)
    border = ColorProperty(palette.SECONDARY_BORDER)


class Toolbar(BoxLayout):  # type: ignore[misc]
    """Help, language and large text: the same three buttons, same place, on every screen."""

    view = ObjectProperty(ToolbarView(), rebind=True)
    intents = ObjectProperty(None)
