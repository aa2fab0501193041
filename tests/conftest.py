"""Suite-wide settings.

The suite runs on two workers (pytest-xdist, `make test`). Kivy keeps its config file in the
per-user cache folder; two apps starting at once on a fresh machine could both write it, so each
worker, and every app it starts in a subprocess, gets a cache folder of its own.

Property tests (Hypothesis) run derandomized and without per-example deadlines: the same commit
tries the same examples on every machine, so a green suite stays green and a red one replays
(docs/adr/0024). `HYPOTHESIS_PROFILE=explore` (`make explore`) searches fresh random examples,
many more of them; what it finds becomes an `@example` in the test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import settings

settings.register_profile("suite", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_cache = Path(tempfile.gettempdir()) / f"kiosk-test-cache-{os.getuid()}-{_worker}"
_cache.mkdir(parents=True, exist_ok=True)
os.environ["XDG_CACHE_HOME"] = str(_cache)
