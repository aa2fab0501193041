"""The 'are you still there?' warning before an abandoned session is cleared."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView

from .view_models import IdleView

KV_FILE = "idle_overlay.kv"
NAME = "idle"


class IdleOverlay(ModalView):  # type: ignore[misc]
    view = ObjectProperty(IdleView(), rebind=True)
    intents = ObjectProperty(None)
