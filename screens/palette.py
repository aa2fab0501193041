"""Colours of the terminal: calm, high contrast (text on every fill is at least 4.5:1)."""

from __future__ import annotations

Rgba = tuple[float, float, float, float]


def _hex(code: str, alpha: float = 1.0) -> Rgba:
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255, alpha)


PAGE = _hex("F3F5F8")
SURFACE = _hex("FFFFFF")
HEADER = _hex("0B3B75")
HEADER_TEXT = _hex("FFFFFF")
HEADER_SUBTEXT = _hex("D6E2F3")
STRIPE = _hex("C62828")
TEXT = _hex("1B1F24")
TEXT_MUTED = _hex("4A5361")
RULE = _hex("D5DBE3")
APPLY = _hex("1559B0")
APPLY_PRESSED = _hex("0E4185")
COLLECT = _hex("00695C")
COLLECT_PRESSED = _hex("004D40")
SECONDARY = _hex("FFFFFF")
SECONDARY_PRESSED = _hex("DCE6F3")
SECONDARY_TEXT = _hex("0B3B75")
SECONDARY_BORDER = _hex("0B3B75")
SELECTED = _hex("0B3B75")
SELECTED_PRESSED = _hex("082A55")
SCRIM = _hex("000000", 0.62)
WARNING_ACCENT = _hex("B45309")
