"""PC/SC transport over pyscard: a thin adapter, everything else is in `application.py`.

pyscard is imported when a transport is built, not at import time: it needs the PC/SC library
(libpcsclite1 and the pcscd service) which a terminal without a social-security reader lacks.
"""

from __future__ import annotations

import contextlib
from typing import Any

from devices.errors import DeviceError, DeviceOffline
from devices.idcard.errors import NoCardPresent


class PcscTransport:
    """The first PC/SC reader whose name contains `reader_match` (empty = the first reader)."""

    def __init__(self, reader_match: str = "") -> None:
        try:
            from smartcard import System
            from smartcard.Exceptions import (
                CardConnectionException,
                NoCardException,
                SmartcardException,
            )
            from smartcard.pcsc.PCSCExceptions import BaseSCardException
        except ModuleNotFoundError as err:
            raise DeviceOffline(
                "Social-security card reader: the PC/SC support (pyscard) is not installed on "
                "this terminal; install it with the pcscd service, or disable the reader."
            ) from err
        self._system: Any = System
        self._card_errors: tuple[type[BaseException], ...] = (
            NoCardException,
            CardConnectionException,
        )
        self._service_errors: tuple[type[BaseException], ...] = (
            BaseSCardException,
            SmartcardException,
        )
        self._reader_match = reader_match
        self._connection: Any = None
        self.description = f"social-security card reader {reader_match or '(first PC/SC reader)'}"

    def _reader(self) -> Any:
        try:
            readers = self._system.readers()
        except self._service_errors as err:
            raise DeviceOffline(
                f"{self.description}: the PC/SC service does not answer ({err}); "
                "check that pcscd is running."
            ) from err
        for reader in readers:
            if self._reader_match in str(reader):
                return reader
        raise DeviceOffline(f"{self.description} is not connected; check its USB cable.")

    def card_present(self) -> bool:
        try:
            self.connect()
        except NoCardPresent:
            return False
        self.disconnect()
        return True

    def connect(self) -> None:
        connection = self._reader().createConnection()
        try:
            connection.connect()
        except self._card_errors as err:
            raise NoCardPresent("no card on the reader") from err
        self._connection = connection

    def transmit(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise NoCardPresent("no card on the reader")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except self._card_errors as err:
            raise DeviceError(f"{self.description}: the card stopped answering ({err}).") from err
        return bytes(data) + bytes([sw1, sw2])

    def disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*self._card_errors):
                connection.disconnect()
