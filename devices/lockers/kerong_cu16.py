"""Kerong CU16-compatible lock boards: 16 locks and 16 infrared item sensors per board.

Request `02 ADDR CMD 03 SUM`; reply `02 ADDR CMD H1 H2 I1 I2 03 SUM` for both commands, where
SUM = (sum of the preceding bytes) & 0xFF. ADDR's high nibble is the board (0-15); its low nibble
is the lock index (lock - 1) for an unlock, 0 for a status read. In H1/H2 a set bit is a latched
hook (door closed); in I1/I2 a set bit is an item seen by the infrared sensor.
"""

from __future__ import annotations

from .board_protocol import (
    FrameScanner,
    Parsed,
    ParseResult,
    Verdict,
    bits_to_flags,
    flags_to_bits,
)
from .messages import (
    BoardStatus,
    LockerReply,
    LockerRequest,
    StatusRequest,
    UnlockAck,
    UnlockRequest,
)

STX = 0x02
ETX = 0x03
CMD_STATUS = 0x30
CMD_UNLOCK = 0x31
LOCKS = 16
REQUEST_LENGTH = 5
REPLY_LENGTH = 9


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def _with_checksum(body: bytes) -> bytes:
    return body + bytes([checksum(body)])


def parse_reply(buffer: bytes) -> ParseResult[LockerReply]:
    if buffer[0] != STX:
        return Verdict.NOT_A_FRAME
    if len(buffer) >= 3 and buffer[2] not in (CMD_STATUS, CMD_UNLOCK):
        return Verdict.NOT_A_FRAME
    if len(buffer) >= 8 and buffer[7] != ETX:
        return Verdict.NOT_A_FRAME
    if len(buffer) < REPLY_LENGTH:
        return Verdict.NEED_MORE
    if checksum(buffer[:8]) != buffer[8]:
        return Verdict.NOT_A_FRAME
    address, command = buffer[1], buffer[2]
    board = address >> 4
    status = BoardStatus(
        board,
        doors_closed=bits_to_flags(buffer[3:5], LOCKS),
        items_present=bits_to_flags(buffer[5:7], LOCKS),
    )
    if command == CMD_STATUS:
        return Parsed(status, REPLY_LENGTH)
    lock = (address & 0x0F) + 1
    return Parsed(UnlockAck(board, lock, status.doors_closed[lock - 1], status), REPLY_LENGTH)


def parse_request(buffer: bytes) -> ParseResult[LockerRequest]:
    if buffer[0] != STX:
        return Verdict.NOT_A_FRAME
    if len(buffer) >= 3 and buffer[2] not in (CMD_STATUS, CMD_UNLOCK):
        return Verdict.NOT_A_FRAME
    if len(buffer) >= 4 and buffer[3] != ETX:
        return Verdict.NOT_A_FRAME
    if len(buffer) < REQUEST_LENGTH:
        return Verdict.NEED_MORE
    if checksum(buffer[:4]) != buffer[4]:
        return Verdict.NOT_A_FRAME
    address, command = buffer[1], buffer[2]
    if command == CMD_STATUS:
        return Parsed(StatusRequest(address >> 4), REQUEST_LENGTH)
    return Parsed(UnlockRequest(address >> 4, (address & 0x0F) + 1), REQUEST_LENGTH)


class KerongCU16:
    """The `kerong-cu16` protocol (default 19200 8N1)."""

    name = "kerong-cu16"
    default_baud = 19200
    max_board = 15
    locks_per_board = LOCKS
    has_item_sensors = True

    def encode_request(self, request: LockerRequest) -> bytes:
        _check_board(request.board)
        if isinstance(request, StatusRequest):
            return _with_checksum(bytes([STX, request.board << 4, CMD_STATUS, ETX]))
        if not 1 <= request.lock <= LOCKS:
            raise ValueError(f"a Kerong CU16 board has locks 1-{LOCKS}, not {request.lock}")
        address = request.board << 4 | (request.lock - 1)
        return _with_checksum(bytes([STX, address, CMD_UNLOCK, ETX]))

    def reply_decoder(self) -> FrameScanner[LockerReply]:
        return FrameScanner(parse_reply)

    def request_decoder(self) -> FrameScanner[LockerRequest]:
        return FrameScanner(parse_request)

    def encode_reply(self, reply: LockerReply) -> bytes:
        _check_board(reply.board)
        if isinstance(reply, UnlockAck):
            if reply.status is None:
                raise ValueError("a Kerong unlock reply carries the whole board status")
            status, command = reply.status, CMD_UNLOCK
            address = reply.board << 4 | (reply.lock - 1)
        else:
            status, command, address = reply, CMD_STATUS, reply.board << 4
        items = status.items_present or (False,) * LOCKS
        body = (
            bytes([STX, address, command])
            + flags_to_bits(status.doors_closed, 2)
            + flags_to_bits(items, 2)
            + bytes([ETX])
        )
        return _with_checksum(body)


def _check_board(board: int) -> None:
    if not 0 <= board <= KerongCU16.max_board:
        raise ValueError(f"Kerong CU16 board addresses are 0-15, not {board}")
