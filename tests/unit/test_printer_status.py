"""DLE EOT real-time status: request bytes, the fixed-bit check, and what the answers mean."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printer.status import (
    REQUEST_OFFLINE_CAUSE,
    REQUEST_PAPER_SENSOR,
    REQUEST_PRINTER,
    StatusDecoder,
    encode_offline_cause,
    encode_paper_sensor,
    is_status_byte,
    paper_status,
)
from kiosk.ports.printer import PaperLevel, PaperStatus


def test_requests_are_the_documented_bytes() -> None:
    assert bytes.fromhex("100401") == REQUEST_PRINTER
    assert bytes.fromhex("100402") == REQUEST_OFFLINE_CAUSE
    assert bytes.fromhex("100404") == REQUEST_PAPER_SENSOR


@pytest.mark.parametrize(
    ("sensor", "cause", "expected"),
    [
        (0x12, 0x12, PaperStatus(PaperLevel.OK, False)),
        (0x1E, 0x12, PaperStatus(PaperLevel.NEAR_END, False)),  # bits 2+3: near end
        (0x7E, 0x32, PaperStatus(PaperLevel.OUT, False)),  # bits 5+6 and paper-end stop
        (0x12, 0x16, PaperStatus(PaperLevel.OK, True)),  # bit 2 of the cause: cover open
        (0x12, 0x32, PaperStatus(PaperLevel.OUT, False)),  # stopped by paper end alone
    ],
)
def test_golden_status_bytes(sensor: int, cause: int, expected: PaperStatus) -> None:
    assert paper_status(sensor, cause) == expected


def test_encoders_match_the_golden_bytes() -> None:
    assert encode_paper_sensor(near_end=False, paper_end=False) == 0x12
    assert encode_paper_sensor(near_end=True, paper_end=False) == 0x1E
    assert encode_paper_sensor(near_end=True, paper_end=True) == 0x7E
    assert encode_offline_cause(cover_open=True, paper_end=False) == 0x16
    assert encode_offline_cause(cover_open=False, paper_end=True) == 0x32


def test_can_print_only_with_paper_and_cover_closed() -> None:
    assert PaperStatus(PaperLevel.NEAR_END, False).can_print
    assert PaperStatus(PaperLevel.UNKNOWN, None).can_print
    assert not PaperStatus(PaperLevel.OUT, False).can_print
    assert not PaperStatus(PaperLevel.OK, True).can_print


def test_the_decoder_skips_noise_and_keeps_status_bytes() -> None:
    assert StatusDecoder().feed(bytes.fromhex("ff00a5 1e 48 12")) == [0x1E, 0x12]


@given(st.binary(max_size=256))
def test_arbitrary_bytes_never_raise_and_only_pattern_bytes_pass(data: bytes) -> None:
    for value in StatusDecoder().feed(data):
        assert value & 0x93 == 0x12


@given(st.integers(0, 255), st.integers(0, 7))
def test_a_status_byte_with_a_fixed_bit_flipped_is_rejected(value: int, bit: int) -> None:
    status = (value & ~0x93 | 0x12) & 0xFF
    assert is_status_byte(status)
    if (1 << bit) & 0x93:
        assert StatusDecoder().feed(bytes([status ^ (1 << bit)])) == []
