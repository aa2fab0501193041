"""What the terminal has cached from the hall (roster, tasks), read from its database file.

Read-only and from outside the app, as a technician with the file would: a journey uses it to
wait until the terminal has what a person's next action needs (a courier's badge is checked
against the cached roster, an envelope against the cached tasks).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kiosk.config import Settings
from kiosk.storage import DATABASE_FILE_NAME

from ..paths import data_dir


def cached_hall_document(settings: Settings, name: str) -> dict[str, Any] | None:
    """The hall document `name` (backend_client.caches.DOC_*) as the terminal last stored it."""
    database = data_dir(settings) / DATABASE_FILE_NAME
    if not database.exists():
        return None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0) as connection:
        row = connection.execute(
            "SELECT data FROM hall_cache_documents WHERE name = ?", (name,)
        ).fetchone()
    if row is None:
        return None
    document: dict[str, Any] = json.loads(row[0])
    return document
