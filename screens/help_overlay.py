"""The hotline, in large digits, over whatever screen the citizen is stuck on."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView

from .view_models import HelpView

KV_FILE = "help_overlay.kv"
NAME = "help"


class HelpOverlay(ModalView):  # type: ignore[misc]
    view = ObjectProperty(HelpView(), rebind=True)
    intents = ObjectProperty(None)
