"""The social-security card's errors, on top of the shared device tree."""

from __future__ import annotations

from devices.errors import DeviceRefused


class CardApplicationError(DeviceRefused):
    """The card answered but the social-security application refused or lacks what was asked."""


__all__ = ["CardApplicationError"]
