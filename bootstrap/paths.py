"""Where the terminal keeps its files when the configuration does not say."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from kiosk.config import Settings

APP_NAME = "selfservice-kiosk"


def data_dir(settings: Settings) -> Path:
    """The configured folder, or the per-user data folder (~/.local/share/selfservice-kiosk)."""
    configured = settings.storage.data_dir
    folder = (
        Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir(APP_NAME))
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
