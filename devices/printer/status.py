"""ESC/POS real-time status (DLE EOT n): the request bytes and a pure decoder of the answers.

Every DLE EOT answer is one byte whose fixed bits read 0xx1xx10 (bit 0 and bit 7 clear, bits 1 and 4
set). That pattern is the only integrity check the protocol has, so the decoder accepts only bytes
that match it and skips anything else (noise, a stray echo) instead of guessing.

n = 1 printer status, n = 2 offline cause (bit 2 cover open, bit 5 stopped by paper end),
n = 4 roll paper sensor (bits 2+3 near end, bits 5+6 paper end).
"""

from __future__ import annotations

from kiosk.ports.printer import PaperLevel, PaperStatus

DLE_EOT = b"\x10\x04"
REQUEST_PRINTER = DLE_EOT + b"\x01"
REQUEST_OFFLINE_CAUSE = DLE_EOT + b"\x02"
REQUEST_PAPER_SENSOR = DLE_EOT + b"\x04"

_FIXED_MASK = 0x93  # bits 7, 4, 1, 0
_FIXED_VALUE = 0x12  # bits 4 and 1 set, 7 and 0 clear

COVER_OPEN = 0x04  # in the offline-cause byte
STOPPED_BY_PAPER_END = 0x20  # in the offline-cause byte
NEAR_END = 0x0C  # in the paper-sensor byte
PAPER_END = 0x60  # in the paper-sensor byte


def is_status_byte(value: int) -> bool:
    return value & _FIXED_MASK == _FIXED_VALUE


class StatusDecoder:
    """Incremental: bytes in, valid status bytes out (stateless apart from the contract)."""

    def feed(self, data: bytes) -> list[int]:
        return [value for value in data if is_status_byte(value)]

    def reset(self) -> None:
        """Nothing is buffered: every answer is a single byte."""


def paper_status(paper_sensor: int, offline_cause: int) -> PaperStatus:
    """Combine the two answers: a cover open stops printing whatever the roll says."""
    if paper_sensor & PAPER_END or offline_cause & STOPPED_BY_PAPER_END:
        level = PaperLevel.OUT
    elif paper_sensor & NEAR_END:
        level = PaperLevel.NEAR_END
    else:
        level = PaperLevel.OK
    return PaperStatus(paper=level, cover_open=bool(offline_cause & COVER_OPEN))


def encode_paper_sensor(*, near_end: bool, paper_end: bool) -> int:
    """The byte a printer sends for DLE EOT 4 (used by the stub and the tests)."""
    return _FIXED_VALUE | (NEAR_END if near_end else 0) | (PAPER_END if paper_end else 0)


def encode_offline_cause(*, cover_open: bool, paper_end: bool) -> int:
    """The byte a printer sends for DLE EOT 2."""
    return (
        _FIXED_VALUE
        | (COVER_OPEN if cover_open else 0)
        | (STOPPED_BY_PAPER_END if paper_end else 0)
    )


def encode_printer_status(*, online: bool) -> int:
    """The byte a printer sends for DLE EOT 1 (bit 3 = offline)."""
    return _FIXED_VALUE | (0 if online else 0x08)
