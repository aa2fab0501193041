"""The ID-card reader's errors, on top of the shared device tree (offline, no reply, bad frame)."""

from __future__ import annotations

from devices.errors import BadFrame, DeviceError, DeviceRefused


class NoCardPresent(DeviceError):
    """The reader works but no card lies on it (a normal state, not a fault)."""


class CardUnreadable(DeviceRefused):
    """A card is there but the SAM module could not select or read it (worn, foreign, moved)."""


class CardDataInvalid(BadFrame):
    """The reply framed correctly but its text block does not hold a valid card (bad check digit,
    impossible date, unknown gender): treated as a failed read, never shown to the citizen."""


__all__ = ["CardDataInvalid", "CardUnreadable", "NoCardPresent"]
