"""The "8A/80" RS485 lock boards: 1-based channels, DIP address 0-31, no item sensors.

Unlock `8A ADDR CH 11 BCC`, reply `8A ADDR CH ST BCC` (ST 11 = door closed, 00 = door open).
Status `80 ADDR 00 33 BCC`, reply `80 ADDR S_n … S_1 33 BCC`: the last status byte covers
channels 1-8 (bit 0 = channel 1), the one before it 9-16, and so on; a set bit is a closed door.
BCC is the XOR of every preceding byte.

The status reply has no length field and boards send as many status bytes as their firmware
likes (often more than they have channels). The decoder therefore takes the shortest candidate
whose `33` and BCC both check, no shorter than the channels it was told about. A status byte
that happens to equal 33 followed by a byte equal to the running BCC could end a frame early;
telling the decoder the board's channel count (`min_status_bytes`) rules that out for the bytes
that matter.
"""

from __future__ import annotations

from functools import reduce
from operator import xor

from .board_protocol import FrameScanner, Parsed, ParseResult, Verdict
from .messages import (
    BoardStatus,
    LockerReply,
    LockerRequest,
    StatusRequest,
    UnlockAck,
    UnlockRequest,
)

UNLOCK_HEAD = 0x8A
STATUS_HEAD = 0x80
UNLOCK_CMD = 0x11
STATUS_CMD = 0x33
ST_CLOSED = 0x11
ST_OPEN = 0x00
DEFAULT_CHANNELS = 24
MAX_STATUS_BYTES = 8  # 64 channels: the most any 8A board is sold with
FIXED_LENGTH = 5


def bcc(data: bytes) -> int:
    return reduce(xor, data, 0)


def _with_bcc(body: bytes) -> bytes:
    return body + bytes([bcc(body)])


def status_flags(status_bytes: bytes) -> tuple[bool, ...]:
    """Channel 1 first: the last status byte on the wire holds channels 1-8."""
    ordered = status_bytes[::-1]
    return tuple(bool(ordered[i // 8] >> (i % 8) & 1) for i in range(len(ordered) * 8))


def status_bytes_for(flags: tuple[bool, ...]) -> bytes:
    count = max(1, (len(flags) + 7) // 8)
    out = bytearray(count)
    for index, flag in enumerate(flags):
        if flag:
            out[index // 8] |= 1 << (index % 8)
    return bytes(out[::-1])


def make_reply_parser(min_status_bytes: int = 1) -> ReplyParser:
    return ReplyParser(min_status_bytes)


class ReplyParser:
    def __init__(self, min_status_bytes: int) -> None:
        if not 1 <= min_status_bytes <= MAX_STATUS_BYTES:
            raise ValueError(f"an 8A status reply has 1-{MAX_STATUS_BYTES} status bytes")
        self._min_status = min_status_bytes

    def __call__(self, buffer: bytes) -> ParseResult[LockerReply]:
        head = buffer[0]
        if head == UNLOCK_HEAD:
            return _parse_unlock_reply(buffer)
        if head != STATUS_HEAD:
            return Verdict.NOT_A_FRAME
        for count in range(self._min_status, MAX_STATUS_BYTES + 1):
            end = 2 + count  # index of the 33 marker
            if len(buffer) < end + 2:
                return Verdict.NEED_MORE
            if buffer[end] == STATUS_CMD and buffer[end + 1] == bcc(buffer[: end + 1]):
                doors = status_flags(buffer[2:end])
                return Parsed(BoardStatus(buffer[1], doors, None), end + 2)
        return Verdict.NOT_A_FRAME


def _parse_unlock_reply(buffer: bytes) -> ParseResult[LockerReply]:
    if len(buffer) >= 3 and buffer[2] == 0:
        return Verdict.NOT_A_FRAME  # channels are 1-based
    if len(buffer) >= 4 and buffer[3] not in (ST_CLOSED, ST_OPEN):
        return Verdict.NOT_A_FRAME
    if len(buffer) < FIXED_LENGTH:
        return Verdict.NEED_MORE
    if bcc(buffer[:4]) != buffer[4]:
        return Verdict.NOT_A_FRAME
    return Parsed(UnlockAck(buffer[1], buffer[2], buffer[3] == ST_CLOSED), FIXED_LENGTH)


def parse_request(buffer: bytes) -> ParseResult[LockerRequest]:
    head = buffer[0]
    if head not in (UNLOCK_HEAD, STATUS_HEAD):
        return Verdict.NOT_A_FRAME
    command = UNLOCK_CMD if head == UNLOCK_HEAD else STATUS_CMD
    if len(buffer) >= 4 and buffer[3] != command:
        return Verdict.NOT_A_FRAME
    if len(buffer) < FIXED_LENGTH:
        return Verdict.NEED_MORE
    if bcc(buffer[:4]) != buffer[4]:
        return Verdict.NOT_A_FRAME
    if head == STATUS_HEAD:
        if buffer[2] != 0:
            return Verdict.NOT_A_FRAME
        return Parsed(StatusRequest(buffer[1]), FIXED_LENGTH)
    if buffer[2] == 0:
        return Verdict.NOT_A_FRAME
    return Parsed(UnlockRequest(buffer[1], buffer[2]), FIXED_LENGTH)


class Rs4858A:
    """The `rs485-8a` protocol (default 9600 8N1); `channels` is what the boards are fitted with."""

    name = "rs485-8a"
    default_baud = 9600
    max_board = 31
    has_item_sensors = False

    def __init__(self, channels: int = DEFAULT_CHANNELS, *, trust_channels: bool = True) -> None:
        """`trust_channels=False` when the count is a guess (the CLI on an unknown board): the
        decoder then accepts status replies of any length instead of at least `channels` bits."""
        if not 1 <= channels <= MAX_STATUS_BYTES * 8:
            raise ValueError(f"an 8A board has 1-{MAX_STATUS_BYTES * 8} channels, not {channels}")
        self.locks_per_board = channels
        self._min_status_bytes = (channels + 7) // 8 if trust_channels else 1

    def encode_request(self, request: LockerRequest) -> bytes:
        _check_board(request.board)
        if isinstance(request, StatusRequest):
            return _with_bcc(bytes([STATUS_HEAD, request.board, 0x00, STATUS_CMD]))
        if not 1 <= request.lock <= self.locks_per_board:
            raise ValueError(
                f"this 8A board has channels 1-{self.locks_per_board}, not {request.lock}"
            )
        return _with_bcc(bytes([UNLOCK_HEAD, request.board, request.lock, UNLOCK_CMD]))

    def reply_decoder(self) -> FrameScanner[LockerReply]:
        return FrameScanner(make_reply_parser(self._min_status_bytes))

    def request_decoder(self) -> FrameScanner[LockerRequest]:
        return FrameScanner(parse_request)

    def encode_reply(self, reply: LockerReply) -> bytes:
        _check_board(reply.board)
        if isinstance(reply, UnlockAck):
            state = ST_CLOSED if reply.door_closed else ST_OPEN
            return _with_bcc(bytes([UNLOCK_HEAD, reply.board, reply.lock, state]))
        body = bytes([STATUS_HEAD, reply.board]) + status_bytes_for(reply.doors_closed)
        return _with_bcc(body + bytes([STATUS_CMD]))


def _check_board(board: int) -> None:
    if not 0 <= board <= Rs4858A.max_board:
        raise ValueError(f"8A board addresses (DIP switches) are 0-31, not {board}")
