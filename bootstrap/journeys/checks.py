"""Conditions journeys wait for: what the screen shows, and the session state behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import Language

from .script import Condition

if TYPE_CHECKING:
    from screens.app import KioskApp


def showing(screen: str) -> Condition:
    def check(app: KioskApp) -> bool:
        return app.screens is not None and app.screens.current == screen

    return check


def overlay_open(name: str, is_open: bool = True) -> Condition:
    def check(app: KioskApp) -> bool:
        return (app.overlays[name].parent is not None) == is_open

    return check


def header_reads(screen: str, title: str) -> Condition:
    def check(app: KioskApp) -> bool:
        header = app.widget_at(f"{screen}/header")
        return header is not None and header.title == title

    return check


def session_is(language: Language, large_text: bool) -> Condition:
    """Both the session and the drawn text size must agree, not just one of them."""

    def check(app: KioskApp) -> bool:
        snapshot = app.parts.guard.session.snapshot()
        return (
            snapshot.language == language
            and snapshot.large_text == large_text
            and app.large_text == large_text
            and not snapshot.holds_personal_data
        )

    return check


def all_of(*conditions: Condition) -> Condition:
    def check(app: KioskApp) -> bool:
        return all(condition(app) for condition in conditions)

    return check
