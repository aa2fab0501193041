"""`kiosk demo`: the firmware stubs plus the app, on a display or headless with screenshots."""

from __future__ import annotations

import sys
from pathlib import Path

from firmware_stubs.launcher import start_stubs
from kiosk.config import load_settings, resolve_config_path

from .composition import build_app, has_display
from .journeys import DEFAULT_HEADLESS_JOURNEY, JOURNEYS

EXIT_UNKNOWN_JOURNEY = 2


def run_demo(
    config_path: str | None = None,
    headless: bool = False,
    out_dir: str = "demo-out",
    journey: str | None = None,
) -> int:
    if journey is not None and journey not in JOURNEYS:
        known = ", ".join(sorted(JOURNEYS))
        print(
            f"kiosk demo: there is no journey called '{journey}'; known: {known}.", file=sys.stderr
        )
        return EXIT_UNKNOWN_JOURNEY
    settings = load_settings(resolve_config_path(config_path))
    headless = headless or not has_display()
    if journey is None and headless:
        journey = DEFAULT_HEADLESS_JOURNEY
    script = JOURNEYS[journey](settings) if journey is not None else None
    if script is not None:
        settings = script.adjust_settings(settings)

    # The printer stub renders each job to a PNG beside the screenshots.
    stubs = start_stubs(settings, options={"printer": {"out_dir": Path(out_dir) / "receipts"}})
    try:
        if script is None:
            build_app(settings, headless=headless).run()
            return 0
        app = build_app(settings, headless=headless, on_first_frame=lambda app: runner.start(app))
        from .journeys.runner import JourneyRunner  # imports kivy: only after build_app

        runner = JourneyRunner(script, Path(out_dir))
        app.run()
        report = Path(out_dir) / "journey.json"
        verdict = "passed" if runner.exit_code == 0 else "FAILED"
        print(f"kiosk demo: journey '{script.name}' {verdict}; see {report}")
        return runner.exit_code
    finally:
        stubs.stop()
