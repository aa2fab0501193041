"""What every lock-board protocol provides, and the incremental frame scanner they share.

A protocol is pure: it turns requests into bytes and bytes into replies, with no port, no thread
and no clock, so it is tested byte-exact against the frames in the board documents. The same
module also speaks the board's side (request decoding, reply encoding) for the firmware stub;
tests check both sides against independently written frames, not only against each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, Protocol, TypeVar

from .messages import LockerReply, LockerRequest

FrameT = TypeVar("FrameT")


class Verdict(Enum):
    NEED_MORE = "need more bytes"
    NOT_A_FRAME = "not a frame at this position"


@dataclass(frozen=True)
class Parsed(Generic[FrameT]):
    frame: FrameT
    length: int


ParseResult = Parsed[FrameT] | Verdict


class FrameScanner(Generic[FrameT]):
    """Incremental decoder: frames out of a byte stream, skipping noise one byte at a time.

    `parse` looks only at the start of the buffer. Skipping a single byte after a rejection (rather
    than the whole candidate) means a real frame that starts inside rejected noise is still found.
    A candidate still waiting for bytes gives way to a complete, checksummed frame further on: a
    stray header byte in line noise (8A's `80` has no length field) must not hold back the real
    reply behind it until more traffic happens to arrive.
    `discarded_bytes` lets the driver tell "no answer" from "answered with a bad frame".
    """

    def __init__(self, parse: Callable[[bytes], ParseResult[FrameT]]) -> None:
        self._parse = parse
        self._buffer = b""
        self.discarded_bytes = 0

    def feed(self, data: bytes) -> list[FrameT]:
        self._buffer += data
        frames: list[FrameT] = []
        while self._buffer:
            result = self._parse(self._buffer)
            if result is Verdict.NEED_MORE:
                skip = self._complete_frame_further_on()
                if skip == 0:
                    break
                self._buffer = self._buffer[skip:]
                self.discarded_bytes += skip
                continue
            if isinstance(result, Parsed):
                frames.append(result.frame)
                self._buffer = self._buffer[result.length :]
            else:
                self._buffer = self._buffer[1:]
                self.discarded_bytes += 1
        return frames

    def reset(self) -> None:
        self._buffer = b""

    @property
    def pending_bytes(self) -> int:
        """Bytes held as the start of a frame that has not completed (yet)."""
        return len(self._buffer)

    def _complete_frame_further_on(self) -> int:
        """Offset of the first complete frame after the start, or 0 if there is none."""
        for offset in range(1, len(self._buffer)):
            if isinstance(self._parse(self._buffer[offset:]), Parsed):
                return offset
        return 0


class BoardProtocol(Protocol):
    """One lock-board wire protocol, both sides of it."""

    @property
    def name(self) -> str:
        """The name used in settings and on the CLI, e.g. "kerong-cu16"."""

    @property
    def default_baud(self) -> int: ...

    @property
    def max_board(self) -> int:
        """Highest board address the protocol can carry (0 is the lowest)."""

    @property
    def locks_per_board(self) -> int: ...

    @property
    def has_item_sensors(self) -> bool: ...

    def encode_request(self, request: LockerRequest) -> bytes: ...

    def reply_decoder(self) -> FrameScanner[LockerReply]: ...

    # -- the board's side, for firmware stubs ----------------------------------------------------
    def request_decoder(self) -> FrameScanner[LockerRequest]: ...

    def encode_reply(self, reply: LockerReply) -> bytes: ...


def bits_to_flags(data: bytes, count: int) -> tuple[bool, ...]:
    """Bit k of data[0] is flag k, then data[1] and so on (least significant bit first)."""
    return tuple(bool(data[i // 8] >> (i % 8) & 1) for i in range(count))


def flags_to_bits(flags: tuple[bool, ...], byte_count: int) -> bytes:
    out = bytearray(byte_count)
    for index, flag in enumerate(flags[: byte_count * 8]):
        if flag:
            out[index // 8] |= 1 << (index % 8)
    return bytes(out)
