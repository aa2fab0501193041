"""Framing of a serial barcode scanner: each code is raw bytes followed by CR, LF or CR LF.

Pure and incremental (no I/O, no clock): the driver feeds whatever a read returned, which may be
half a code or several codes at once. The one subtle case is CR LF split across two reads: the LF
that completes a CR LF must not end a second, empty code. A scanner with a broken suffix setting
never sends a terminator, so an unterminated run longer than `max_length` is dropped up to the
next terminator instead of growing without bound.
"""

from __future__ import annotations

CR = 0x0D
LF = 0x0A

# Honeywell serial trigger commands (SYN T CR / SYN U CR) for scanners in manual-trigger mode.
TRIGGER_ON = b"\x16T\r"
TRIGGER_OFF = b"\x16U\r"

DEFAULT_MAX_LENGTH = 4096  # a dense QR code holds at most 2953 bytes


class ScannerDecoder:
    """Bytes in, complete codes (without their suffix) out; empty codes are never produced."""

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = max_length
        self._buffer = bytearray()
        self._after_cr = False
        self._overflowing = False
        self.dropped = 0  # codes discarded for being longer than max_length

    def feed(self, data: bytes) -> list[bytes]:
        codes: list[bytes] = []
        for byte in data:
            if byte == LF and self._after_cr:
                self._after_cr = False  # the second half of CR LF
                continue
            self._after_cr = byte == CR
            if byte in (CR, LF):
                if self._overflowing:
                    self._overflowing = False
                elif self._buffer:
                    codes.append(bytes(self._buffer))
                self._buffer.clear()
                continue
            if self._overflowing:
                continue
            if len(self._buffer) >= self.max_length:
                self._buffer.clear()
                self._overflowing = True
                self.dropped += 1
                continue
            self._buffer.append(byte)
        return codes

    def reset(self) -> None:
        self._buffer.clear()
        self._after_cr = False
        self._overflowing = False


def code_text(code: bytes) -> tuple[str, bytes | None]:
    """Readable text for a code, with the raw bytes kept when the code is not UTF-8.

    Chinese scanners configured for GBK send GB18030-compatible bytes; those are the usual
    non-UTF-8 case, so they are tried next, and anything else is shown with replacements.
    """
    try:
        return code.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return code.decode("gb18030"), code
    except UnicodeDecodeError:
        return code.decode("utf-8", "replace"), code
