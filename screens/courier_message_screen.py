"""Why a courier cannot sign in (card locked, not on the list, the list too old or missing).

One sentence that says what to do next, in large type, and one button; after a while the flow
goes back to the attract screen on its own, so a courier who walks off leaves nothing behind.
"""

from __future__ import annotations

from .courier_widgets import CourierScreen

KV_FILE = "courier_message_screen.kv"
NAME = "courier_message"


class CourierMessageScreen(CourierScreen):
    pass
