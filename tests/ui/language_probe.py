"""Run in a subprocess by test_appshell_ui.py: one real off-screen window, one finger on the
language button, and the texts of a few labels before and after, printed as JSON.

Kivy allows one window per process, so the test drives this script instead of importing Kivy.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bootstrap.composition import build_app
from kiosk.config import load_settings

DEADLINE_S = 20.0
NOTICE_WITH_PUNCTUATION = (
    "县政务服务中心已搬入县国土资源局办公大楼，30个部门窗口、339个服务事项集中在一个大厅办理，"
    "实行“窗口受理、集中办公、统一收费、现场办结”。需要当面办理的事项，请在工作日办公时间前往。"
)
LABELS = ("attract/header", "attract/welcome", "attract/toolbar/language_button")


def texts(app: object) -> dict[str, str]:
    found = {}
    for path in LABELS:
        widget = app.widget_at(path)  # type: ignore[attr-defined]
        found[path] = getattr(widget, "title", None) or widget.text
    return found


def main(config: str) -> int:
    settings = load_settings(Path(config))
    result: dict[str, object] = {}

    def on_first_frame(app: object) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        from bootstrap.journeys.runner import FingerTouch

        result["window"] = list(Window.size)
        result["before"] = texts(app)
        # the notice body as the renderer gets it, for a text whose natural breaks would put a
        # comma and an enumeration mark at the start of a line
        body = app.widget_at("attract/notices/notice_body")  # type: ignore[attr-defined]
        body.text = NOTICE_WITH_PUNCTUATION
        body.texture_update()
        result["notice_lines"] = body._label.text.split("\n")
        button = app.widget_at("attract/toolbar/language_button")  # type: ignore[attr-defined]
        x, y = button.to_window(*button.center)
        result["touch"] = [x, y]
        finger = FingerTouch(x, y)
        finger.press()
        Clock.schedule_once(lambda _dt: finger.lift(), 0.05)
        started = time.monotonic()

        def watch(_dt: float) -> bool:
            now = texts(app)
            if now != result["before"] or time.monotonic() - started > DEADLINE_S:
                result["after"] = now
                result["language"] = app.parts.guard.session.language  # type: ignore[attr-defined]
                app.stop()  # type: ignore[attr-defined]
                return False
            return True

        Clock.schedule_interval(watch, 0)

    build_app(settings, headless=True, on_first_frame=on_first_frame).run()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
