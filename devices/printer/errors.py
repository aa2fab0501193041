"""Printer errors: each is both a device error (for the CLI) and a port error (for the core)."""

from __future__ import annotations

from devices.errors import BadFrame, DeviceError, DeviceOffline, DeviceRefused, NoReply
from kiosk.ports.printer import PrinterError, PrinterNotReady


class PrinterOffline(DeviceOffline, PrinterError):
    """The printer cannot be reached (wrong URL, unplugged, powered off)."""


class PrinterNoReply(NoReply, PrinterError):
    """The status request went out but the printer did not answer."""


class PrinterBadReply(BadFrame, PrinterError):
    """The printer answered with something that is not a status byte."""


class PaperNotReady(DeviceRefused, PrinterNotReady):
    """Paper out or cover open: the job was not sent."""


class TemplateError(DeviceError, PrinterError):
    """A receipt template is malformed or asks for data the caller did not give."""
