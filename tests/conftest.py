"""Suite-wide settings.

The suite runs on two workers (pytest-xdist, `make test`). Kivy keeps its config file in the
per-user cache folder; two apps starting at once on a fresh machine could both write it, so each
worker, and every app it starts in a subprocess, gets a cache folder of its own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_cache = Path(tempfile.gettempdir()) / f"kiosk-test-cache-{os.getuid()}-{_worker}"
_cache.mkdir(parents=True, exist_ok=True)
os.environ["XDG_CACHE_HOME"] = str(_cache)
