"""The scanner's suffix codec: golden streams, the CR|LF split, the length guard, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.scanner.codec import TRIGGER_OFF, TRIGGER_ON, ScannerDecoder, code_text


def test_the_honeywell_trigger_commands_are_the_documented_bytes() -> None:
    assert bytes.fromhex("16540d") == TRIGGER_ON
    assert bytes.fromhex("16550d") == TRIGGER_OFF


@pytest.mark.parametrize("suffix", [b"\r", b"\n", b"\r\n"])
def test_each_suffix_ends_a_code(suffix: bytes) -> None:
    decoder = ScannerDecoder()
    assert decoder.feed(b"6901234567892" + suffix) == [b"6901234567892"]
    assert decoder.feed(b"PK-7731" + suffix) == [b"PK-7731"]


def test_a_cr_lf_split_across_reads_does_not_make_an_empty_code() -> None:
    decoder = ScannerDecoder()
    assert decoder.feed(b"ABC\r") == [b"ABC"]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"DEF\r") == [b"DEF"]
    assert decoder.feed(b"\nGHI\n") == [b"GHI"]


def test_a_code_split_into_single_bytes_and_a_burst_in_one_read() -> None:
    decoder = ScannerDecoder()
    out: list[bytes] = []
    for byte in b"12345\r\n":
        out += decoder.feed(bytes([byte]))
    assert out == [b"12345"]
    assert decoder.feed(b"A\rB\nC\r\nD\r") == [b"A", b"B", b"C", b"D"]


def test_stray_terminators_yield_nothing() -> None:
    assert ScannerDecoder().feed(b"\n\r\r\n\n\r\n") == []


def test_an_unterminated_run_longer_than_the_guard_is_dropped_up_to_the_next_suffix() -> None:
    decoder = ScannerDecoder(max_length=8)
    assert decoder.feed(b"0123456789ABCDEF") == []
    assert decoder.feed(b"still garbage\r") == []
    assert decoder.dropped == 1
    assert decoder.feed(b"12345678\r") == [b"12345678"]


def test_reset_forgets_a_half_code() -> None:
    decoder = ScannerDecoder()
    decoder.feed(b"HALF")
    decoder.reset()
    assert decoder.feed(b"WHOLE\r") == [b"WHOLE"]


def test_code_text_keeps_raw_bytes_only_when_not_utf8() -> None:
    assert code_text("取件码 8841".encode()) == ("取件码 8841", None)
    gbk = "取件码".encode("gb18030")
    assert code_text(gbk) == ("取件码", gbk)


@given(st.lists(st.binary(max_size=64), max_size=20), st.integers(1, 40))
def test_arbitrary_bytes_never_raise_and_codes_are_clean(chunks: list[bytes], limit: int) -> None:
    decoder = ScannerDecoder(max_length=limit)
    for chunk in chunks:
        for code in decoder.feed(chunk):
            assert code
            assert b"\r" not in code
            assert b"\n" not in code
            assert len(code) <= limit


@given(
    st.lists(
        st.binary(min_size=1, max_size=30).filter(lambda b: b"\r" not in b and b"\n" not in b),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([b"\r", b"\n", b"\r\n"]),
    st.data(),
)
def test_any_split_of_a_stream_gives_the_same_codes(
    codes: list[bytes], suffix: bytes, data: st.DataObject
) -> None:
    stream = b"".join(code + suffix for code in codes)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = ScannerDecoder()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += decoder.feed(stream[start:end])
    assert out == codes
