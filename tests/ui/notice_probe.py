"""Run in a subprocess by test_appshell_ui.py: large text in a real off-screen window, so the
attract screen's notice is cut; one finger on the notice, then on the overlay's close button.
Prints what the panel and the overlay showed, as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bootstrap.composition import build_app
from kiosk.config import load_settings

DEADLINE_S = 20.0


def main(config: str) -> int:
    settings = load_settings(Path(config))
    result: dict[str, Any] = {}

    def on_first_frame(app: Any) -> None:
        from kivy.clock import Clock

        from bootstrap.journeys.runner import FingerTouch

        def touch(widget: Any) -> None:
            finger = FingerTouch(*widget.to_window(*widget.center))
            finger.press()
            Clock.schedule_once(lambda _dt: finger.lift(), 0.05)

        panel = app.widget_at("attract/notices")
        body = panel.ids.notice_body
        overlay = app.overlays["notice"]
        started = time.monotonic()

        def when(condition: Callable[[], bool], then: Callable[[], None], what: str) -> None:
            """Each frame until `condition` holds (then `then`), or give up after DEADLINE_S."""

            def check(_dt: float) -> bool:
                if condition():
                    then()
                    return False
                if time.monotonic() - started > DEADLINE_S:
                    result["timed_out_waiting_for"] = what
                    app.stop()
                    return False
                return True

            Clock.schedule_interval(check, 0)

        def touch_notice() -> None:
            result["panel_cut"] = body.cut
            result["panel_hint"] = panel.ids.read_all.text
            result["panel_lines"] = body._label.text.split("\n")
            result["body_on_touch"] = panel.view.notice_body
            touch(panel)
            when(lambda: overlay.parent is not None, touch_close, "the overlay to open")

        def touch_close() -> None:
            result["overlay_open"] = True
            result["overlay_title"] = overlay.ids.title.text
            result["overlay_body"] = overlay.ids.body.text
            touch(overlay.ids.close_button)
            when(lambda: overlay.parent is None, touch_notice_again, "the overlay to close")

        def touch_notice_again() -> None:
            result["overlay_open_after_close"] = False
            touch(panel)
            when(lambda: overlay.parent is not None, start_pickup, "the overlay to open again")

        def start_pickup() -> None:
            # what a pickup QR shown at the attract screen does: a journey starts under the notice
            app.shell.start_service("collect")
            when(lambda: overlay.parent is None, finish, "the overlay to go with the screen")

        def finish() -> None:
            result["screen_after_pickup_started"] = app.screens.current
            result["overlay_open_after_pickup_started"] = False
            app.stop()

        app.shell.toggle_large_text()
        # large text: the notice no longer fits, and the panel says so
        when(lambda: body.cut and panel.ids.read_all.text != "", touch_notice, "a cut notice")

    build_app(settings, headless=True, on_first_frame=on_first_frame).run()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
