"""Scripted journeys for `kiosk demo --journey NAME` (see runner.py for how they are played)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kiosk.config import Settings

from .apply import apply_journey
from .attract import attract_journey
from .overview import overview_journey
from .script import Journey, Step

JOURNEYS: Mapping[str, Callable[[Settings], Journey]] = {
    "apply": apply_journey,
    "attract": attract_journey,
    "overview": overview_journey,
}
DEFAULT_HEADLESS_JOURNEY = "overview"

__all__ = ["DEFAULT_HEADLESS_JOURNEY", "JOURNEYS", "Journey", "Step"]
