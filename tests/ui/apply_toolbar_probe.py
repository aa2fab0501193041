"""Run in a subprocess by test_apply_toolbar.py: the whole app in one off-screen window; fingers
go from the attract screen to a service guide (no card: "look at guides first"), then on the
guide's header touch language, large text, help and the help's close button. Prints one JSON line
with what the labels said and how big they were at each point.

Usage: apply_toolbar_probe.py CONFIG OUT_DIR
Kivy allows one window per process, so the test drives this script instead of importing Kivy.
The catalog comes from a seeded service hall on a free loopback port; no device is needed to read
a guide, so no stub runs (their fixed ports would clash with a demo running beside the tests).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bootstrap.composition import build_app
from kiosk.config import load_settings
from service_hall.testing import running_hall

CONDITION_DEADLINE_S = 30.0
TOOLBAR = "guide/header/toolbar"
Wait = Callable[[], bool] | int


def labels(app: Any) -> dict[str, Any]:
    """What a person reads on the guide's header, and how big the title is drawn."""
    title = app.widget_at("guide/header/title")
    return {
        "title": title.text,
        "title_font_size": title.font_size,
        "title_drawn_height": title.texture_size[1],
        "help": app.widget_at(f"{TOOLBAR}/help_button").text,
        "language": app.widget_at(f"{TOOLBAR}/language_button").text,
        "large_text": app.widget_at(f"{TOOLBAR}/large_text_button").text,
        "back": app.widget_at("guide/header/back_button").text,
    }


def main(config: str, out: str) -> int:
    out_dir = Path(out)
    hall_folder = out_dir / "hall"
    hall_folder.mkdir(parents=True, exist_ok=True)
    with running_hall(hall_folder) as hall:
        settings = load_settings(Path(config))
        link = settings.hall.model_copy(update={"url": hall.url, "token": hall.token})
        return play(settings.model_copy(update={"hall": link}), out_dir)


def play(settings: Any, out_dir: Path) -> int:
    result: dict[str, Any] = {"touched": [], "shots": [], "error": ""}

    def on_first_frame(app: Any) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        from bootstrap.journeys.runner import FingerTouch

        def touch(path: str) -> Iterator[Wait]:
            widget = app.widget_at(path)
            assert widget is not None, f"no widget at {path}"
            yield from touch_widget(widget, path)

        def touch_widget(widget: Any, path: str) -> Iterator[Wait]:
            assert widget.opacity > 0, f"{path} is hidden"
            assert not widget.disabled, f"{path} is disabled"
            x, y = widget.to_window(*widget.center)
            assert 0 <= x < Window.width, f"{path} is off screen"
            assert 0 <= y < Window.height, f"{path} is off screen"
            result["touched"].append({"widget": path, "x": round(x), "y": round(y)})
            finger = FingerTouch(x, y)
            finger.press()
            yield 2
            finger.lift()
            yield 2

        def touch_row(kind: str) -> Iterator[Wait]:
            rows = app.widget_at("choose/rows")
            row = next(r for r in reversed(rows.children) if r.entry.kind == kind)
            yield from touch_widget(row, f"choose/rows/{kind}[{row.entry.id}]")

        def shot(name: str) -> Iterator[Wait]:
            target = out_dir / f"{name}.png"
            Path(Window.screenshot(name=str(target))).rename(target)
            result["shots"].append(target.name)
            yield 1

        def showing(screen: str) -> Wait:
            return lambda: app.screens.current == screen

        def help_shown() -> bool:
            return app.overlays["help"].parent is not None

        def script() -> Iterator[Wait]:
            yield from touch("attract/apply_button")
            yield showing("identify")
            yield from touch("identify/browse_button")
            yield showing("choose")
            yield lambda: any(r.entry.kind == "item" for r in app.widget_at("choose/rows").children)
            yield 3
            yield from touch_row("item")
            yield showing("guide")
            yield 3
            result["start"] = labels(app)
            yield from touch(f"{TOOLBAR}/language_button")
            yield lambda: labels(app)["language"] != result["start"]["language"]
            yield 3
            result["after_language"] = labels(app)
            yield from touch(f"{TOOLBAR}/large_text_button")
            yield lambda: app.large_text
            yield 3
            result["after_large_text"] = labels(app)
            yield from shot("guide-toolbar-en-large")
            yield from touch(f"{TOOLBAR}/help_button")
            yield help_shown
            yield 2
            result["help_opened"] = help_shown()
            result["help_text"] = app.overlays["help"].ids.hotline.text
            yield from shot("guide-help-en-large")
            yield from touch("help/close_button")
            yield lambda: not help_shown()
            result["help_closed"] = not help_shown()
            result["screen_after_help"] = app.screens.current
            yield from touch(f"{TOOLBAR}/large_text_button")
            yield lambda: not app.large_text
            yield 3
            result["after_normal_text"] = labels(app)

        steps = script()
        state: dict[str, Any] = {"wait": 2, "deadline": time.monotonic() + CONDITION_DEADLINE_S}

        def advance(_dt: float) -> bool:
            try:
                wait = state["wait"]
                if isinstance(wait, int):
                    if wait > 0:
                        state["wait"] = wait - 1
                        return True
                elif not wait():
                    if time.monotonic() > state["deadline"]:
                        raise AssertionError(f"not true within {CONDITION_DEADLINE_S:g} s")
                    return True
                state["wait"] = next(steps)
                state["deadline"] = time.monotonic() + CONDITION_DEADLINE_S
                return True
            except StopIteration:
                pass
            except Exception as err:  # noqa: BLE001  # any failure goes back as JSON, then stop
                result["error"] = f"{type(err).__name__}: {err}"
            app.stop()
            return False

        result["window"] = list(Window.size)
        Clock.schedule_interval(advance, 0)

    build_app(settings, headless=True, on_first_frame=on_first_frame).run()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
