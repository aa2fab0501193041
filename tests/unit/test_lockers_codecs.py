"""Lock-board codecs against the frames of the board documents, written out byte by byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.lockers.board_protocol import BoardProtocol
from devices.lockers.kerong_cu16 import KerongCU16
from devices.lockers.messages import (
    BoardStatus,
    LockerReply,
    StatusRequest,
    UnlockAck,
    UnlockRequest,
)
from devices.lockers.protocols import protocol_by_name
from devices.lockers.rs485_8a import Rs4858A

KERONG = KerongCU16()
EIGHT_A = Rs4858A(24)

# -- golden requests (from the protocol section) ------------------------------------------


def test_kerong_status_of_board_0_is_the_documented_frame() -> None:
    assert KERONG.encode_request(StatusRequest(0)) == bytes.fromhex("02 00 30 03 35")


def test_kerong_unlock_lock_1_of_board_0_is_the_documented_frame() -> None:
    assert KERONG.encode_request(UnlockRequest(0, 1)) == bytes.fromhex("02 00 31 03 36")


def test_kerong_unlock_puts_board_and_lock_index_in_the_address_nibbles() -> None:
    # board 3, lock 12 → ADDR 0x3B; SUM = 02+3B+31+03 = 0x71
    assert KERONG.encode_request(UnlockRequest(3, 12)) == bytes.fromhex("02 3B 31 03 71")


def test_8a_unlock_is_the_documented_frame() -> None:
    assert EIGHT_A.encode_request(UnlockRequest(2, 1)) == bytes.fromhex("8A 02 01 11 98")


def test_8a_status_is_the_documented_frame() -> None:
    assert EIGHT_A.encode_request(StatusRequest(2)) == bytes.fromhex("80 02 00 33 B1")


@pytest.mark.parametrize(
    ("protocol", "request_"),
    [
        (KERONG, UnlockRequest(0, 17)),
        (KERONG, UnlockRequest(0, 0)),
        (KERONG, StatusRequest(16)),
        (Rs4858A(8), UnlockRequest(0, 9)),
        (EIGHT_A, StatusRequest(32)),
    ],
)
def test_requests_outside_the_board_are_refused_before_the_wire(
    protocol: BoardProtocol, request_: StatusRequest | UnlockRequest
) -> None:
    with pytest.raises(ValueError, match=r"\d"):
        protocol.encode_request(request_)


# -- golden replies ------------------------------------------------------------------------------


def test_kerong_status_reply_maps_hooks_and_sensors_to_locks() -> None:
    # H1=FE: lock 1 open, 2-8 closed; H2=FF: 9-16 closed; I1=01: item in lock 1. SUM = 0x33.
    frames = KERONG.reply_decoder().feed(bytes.fromhex("02 00 30 FE FF 01 00 03 33"))
    assert frames == [
        BoardStatus(0, (False,) + (True,) * 15, (True,) + (False,) * 15),
    ]


def test_kerong_unlock_reply_names_the_lock_from_the_address_low_nibble() -> None:
    # board 1 lock 3 (ADDR 12), H1=FB: lock 3 open; I2=80: item in lock 16. SUM = 0xC2.
    [ack] = KERONG.reply_decoder().feed(bytes.fromhex("02 12 31 FB FF 00 80 03 C2"))
    assert isinstance(ack, UnlockAck)
    assert (ack.board, ack.lock, ack.door_closed) == (1, 3, False)
    assert ack.status is not None
    assert ack.status.item_present(16) is True
    assert ack.status.door_closed(4) is True


def test_8a_unlock_replies_for_open_and_closed_doors() -> None:
    decoder = EIGHT_A.reply_decoder()
    assert decoder.feed(bytes.fromhex("8A 02 01 00 89 8A 02 01 11 98")) == [
        UnlockAck(2, 1, door_closed=False),
        UnlockAck(2, 1, door_closed=True),
    ]


def test_8a_unlock_reply_with_an_unknown_state_byte_is_not_a_frame() -> None:
    # ST 22 with a correct BCC (8A^02^01^22 = A9): still not a frame.
    assert EIGHT_A.reply_decoder().feed(bytes.fromhex("8A 02 01 22 A9")) == []


def test_8a_status_last_byte_is_channels_1_to_8() -> None:
    # S2=01 (channel 9 closed), S1=05 (channels 1 and 3 closed); BCC = B5.
    decoder = Rs4858A(16).reply_decoder()
    [status] = decoder.feed(bytes.fromhex("80 02 01 05 33 B5"))
    assert isinstance(status, BoardStatus)
    closed = [lock for lock in range(1, 17) if status.door_closed(lock)]
    assert closed == [1, 3, 9]
    assert status.items_present is None


def test_8a_board_may_send_more_status_bytes_than_it_has_channels() -> None:
    # 4 status bytes from an 8-channel board: S1=FF all closed. BCC = 80^01^FF^33 = 4D.
    decoder = Rs4858A(8).reply_decoder()
    [status] = decoder.feed(bytes.fromhex("80 01 00 00 00 FF 33 4D"))
    assert isinstance(status, BoardStatus)
    assert status.limited_to(8).doors_closed == (True,) * 8


def test_8a_status_byte_equal_to_the_marker_does_not_end_the_frame_early() -> None:
    # S3=0F, S2=33, S1=BCC(80 05 0F 33)=B9: "80 05 0F 33 B9" alone would be a valid 1-byte reply.
    body = bytes.fromhex("80 05 0F 33 B9 33")
    frame = body + bytes([_xor(body)])
    [status] = Rs4858A(24).reply_decoder().feed(frame)
    assert isinstance(status, BoardStatus)
    assert [lock for lock in range(1, 25) if status.door_closed(lock)] == [
        1, 4, 5, 6, 8, 9, 10, 13, 14, 17, 18, 19, 20,
    ]  # fmt: skip
    # Without a trusted channel count the shortest valid reading wins: the documented limit.
    [short] = Rs4858A(24, trust_channels=False).reply_decoder().feed(frame)
    assert isinstance(short, BoardStatus)
    assert len(short.doors_closed) == 8


# -- framing: noise, splits, resync --------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "frame"),
    [
        (KERONG, bytes.fromhex("02 00 30 FE FF 01 00 03 33")),
        (EIGHT_A, bytes.fromhex("8A 02 01 00 89")),
        (Rs4858A(16), bytes.fromhex("80 02 01 05 33 B5")),
    ],
)
def test_frames_survive_leading_noise_and_single_byte_reads(
    protocol: BoardProtocol, frame: bytes
) -> None:
    expected = protocol.reply_decoder().feed(frame)
    decoder = protocol.reply_decoder()
    got: list[LockerReply] = []
    for byte in bytes.fromhex("FF 02 00 8A 80 13") + frame:
        got.extend(decoder.feed(bytes([byte])))
    assert got == expected
    assert decoder.discarded_bytes > 0


def test_reset_drops_half_a_frame() -> None:
    decoder = KERONG.reply_decoder()
    decoder.feed(bytes.fromhex("02 00 30 FE"))
    decoder.reset()
    assert decoder.feed(bytes.fromhex("FF 01 00 03 33")) == []


# -- the board's side (used by the firmware stub) ------------------------------------------------


def test_kerong_board_side_reads_requests_and_writes_documented_replies() -> None:
    assert KERONG.request_decoder().feed(bytes.fromhex("02 00 30 03 35 02 3B 31 03 71")) == [
        StatusRequest(0),
        UnlockRequest(3, 12),
    ]
    status = BoardStatus(0, (False,) + (True,) * 15, (True,) + (False,) * 15)
    assert KERONG.encode_reply(status) == bytes.fromhex("02 00 30 FE FF 01 00 03 33")


def test_8a_board_side_reads_requests_and_writes_documented_replies() -> None:
    assert EIGHT_A.request_decoder().feed(bytes.fromhex("80 02 00 33 B1 8A 02 01 11 98")) == [
        StatusRequest(2),
        UnlockRequest(2, 1),
    ]
    assert EIGHT_A.encode_reply(UnlockAck(2, 1, door_closed=False)) == bytes.fromhex(
        "8A 02 01 00 89"
    )
    doors = (True, False, True) + (False,) * 5 + (True,) + (False,) * 7
    assert EIGHT_A.encode_reply(BoardStatus(2, doors)) == bytes.fromhex("80 02 01 05 33 B5")


def test_protocols_are_found_by_their_settings_names() -> None:
    assert protocol_by_name("kerong-cu16").locks_per_board == 16
    assert protocol_by_name("rs485-8a", 12).locks_per_board == 12
    with pytest.raises(ValueError, match="unknown lock-board protocol"):
        protocol_by_name("modbus")


# -- properties -----------------------------------------------------------------------------------

ALL_DECODERS = [
    ("kerong reply", lambda: KERONG.reply_decoder()),
    ("8a reply", lambda: Rs4858A(8, trust_channels=False).reply_decoder()),
    ("kerong request", lambda: KERONG.request_decoder()),
    ("8a request", lambda: EIGHT_A.request_decoder()),
]


def _xor(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def _checksum_ok(frame: bytes) -> bool:
    """Independent of the codecs: the documented checksum rules."""
    if frame[0] == 0x02:
        return sum(frame[:-1]) & 0xFF == frame[-1]
    return _xor(frame[:-1]) == frame[-1]


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40), max_size=8))
def test_arbitrary_bytes_never_raise_and_only_checksummed_frames_come_out(
    chunks: list[bytes],
) -> None:
    stream = b"".join(chunks)
    for protocol in (KERONG, Rs4858A(8, trust_channels=False)):
        decoder = protocol.reply_decoder()
        for chunk in chunks:
            for frame in decoder.feed(chunk):
                wire = protocol.encode_reply(frame)
                assert wire in stream
                assert _checksum_ok(wire)
    for _, make in ALL_DECODERS[2:]:
        request_decoder = make()
        for chunk in chunks:
            request_decoder.feed(chunk)


kerong_statuses = st.builds(
    BoardStatus,
    st.integers(0, 15),
    st.tuples(*[st.booleans()] * 16),
    st.tuples(*[st.booleans()] * 16),
)
eight_a_statuses = st.builds(
    BoardStatus, st.integers(0, 31), st.lists(st.booleans(), min_size=24, max_size=24).map(tuple)
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_valid_frame_with_one_byte_changed_is_never_accepted(data: st.DataObject) -> None:
    protocol, status = data.draw(
        st.one_of(
            st.tuples(st.just(KERONG), kerong_statuses),
            st.tuples(st.just(EIGHT_A), eight_a_statuses),
        )
    )
    kind = data.draw(st.sampled_from(["status", "unlock"]))
    reply: LockerReply = status
    if kind == "unlock":
        lock = data.draw(st.integers(1, 16))
        reply = UnlockAck(status.board, lock, status.doors_closed[lock - 1], status)
    frame = bytearray(protocol.encode_reply(reply))
    position = data.draw(st.integers(0, len(frame) - 1))
    frame[position] ^= data.draw(st.integers(1, 255))
    assert protocol.reply_decoder().feed(bytes(frame)) == []


@settings(max_examples=200, deadline=None)
@given(status=kerong_statuses, cut=st.integers(1, 8))
def test_kerong_round_trip_in_two_reads(status: BoardStatus, cut: int) -> None:
    wire = KERONG.encode_reply(status)
    decoder = KERONG.reply_decoder()
    assert decoder.feed(wire[:cut]) + decoder.feed(wire[cut:]) == [status]
