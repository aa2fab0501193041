"""Scripted journeys for `kiosk demo --journey NAME` (see runner.py for how they are played)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kiosk.config import Settings

from .attract import attract_journey
from .overview import overview_journey
from .script import Journey, Step


def apply_journey(settings: Settings) -> Journey:
    """Imported when played: it checks its result in the service hall, which the kiosk bundle
    does not carry (there `kiosk demo --journey apply` says so instead of failing to start)."""
    try:
        from .apply import apply_journey as build
    except ModuleNotFoundError as err:
        raise JourneyUnavailable(
            f"the 'apply' journey needs the service hall ({err.name}), which this build lacks"
        ) from err
    return build(settings)


def collect_journey(settings: Settings) -> Journey:
    """Needs the service hall (staff approve the result): imported when played, like apply."""
    return _hall_journey("collect", "collect_journey", settings)


def collect_code_journey(settings: Settings) -> Journey:
    return _hall_journey("collect", "collect_by_code_journey", settings)


def agent_journey(settings: Settings) -> Journey:
    return _hall_journey("agent", "agent_journey", settings)


def full_loop_journey(settings: Settings) -> Journey:
    return _hall_journey("full_loop", "full_loop_journey", settings)


def _hall_journey(module: str, factory: str, settings: Settings) -> Journey:
    import importlib

    try:
        found = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as err:
        raise JourneyUnavailable(
            f"the '{module}' journey needs the service hall ({err.name}), which this build lacks"
        ) from err
    build: Callable[[Settings], Journey] = getattr(found, factory)
    return build(settings)


class JourneyUnavailable(Exception):
    """A journey cannot be played with what this build contains."""


JOURNEYS: Mapping[str, Callable[[Settings], Journey]] = {
    "agent": agent_journey,
    "apply": apply_journey,
    "attract": attract_journey,
    "collect": collect_journey,
    "collect-code": collect_code_journey,
    "full-loop": full_loop_journey,
    "overview": overview_journey,
}
DEFAULT_HEADLESS_JOURNEY = "overview"

__all__ = ["DEFAULT_HEADLESS_JOURNEY", "JOURNEYS", "Journey", "JourneyUnavailable", "Step"]
