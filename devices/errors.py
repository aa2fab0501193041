"""The small exception tree every driver raises instead of pyserial's or the OS's errors.

Each message is a sentence a technician can act on: it names the device, the port and what went
wrong. Callers catch `DeviceError` and show `str(err)`.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked."""


class DeviceOffline(DeviceError):
    """The port cannot be opened or the line was lost (unplugged, powered off, wrong URL)."""


class NoReply(DeviceError):
    """The request went out but no valid answer came back in time."""


class BadFrame(DeviceError):
    """The device answered with bytes that do not form a valid frame for this protocol."""


class DeviceRefused(DeviceError):
    """The device answered validly but refused or could not carry out the command."""
