"""Where the two main actions lead until their journeys exist: what to prepare, and a way back."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from .view_models import ServiceStartView

KV_FILE = "service_start_screen.kv"
NAME = "service_start"


class ServiceStartScreen(Screen):  # type: ignore[misc]
    view = ObjectProperty(ServiceStartView(), rebind=True)
    intents = ObjectProperty(None)
