"""`kiosk device …` sub-commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def register(
    commands: Any, add_config_argument: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the `device` sub-command to the `kiosk` parser."""
