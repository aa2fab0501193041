"""A public notice in full, over the attract screen, when the panel had to cut it short."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView

from .view_models import AttractView

KV_FILE = "notice_overlay.kv"
NAME = "notice"


class NoticeOverlay(ModalView):  # type: ignore[misc]
    """Shows the notice that was touched (a snapshot: the panel behind may turn to the next)."""

    view = ObjectProperty(AttractView(), rebind=True)
    intents = ObjectProperty(None)
