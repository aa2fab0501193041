"""`kiosk run`: the terminal itself, full screen when the settings say kiosk_mode."""

from __future__ import annotations

from kiosk.config import load_settings, resolve_config_path

from .composition import build_app


def run_terminal(config_path: str | None = None) -> int:
    settings = load_settings(resolve_config_path(config_path))
    build_app(settings, headless=False).run()
    return 0
