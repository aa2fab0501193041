"""The registry of lock-board protocols by the names used in settings and on the CLI.

A new board protocol is one new codec module implementing `BoardProtocol` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from .board_protocol import BoardProtocol
from .kerong_cu16 import KerongCU16
from .rs485_8a import DEFAULT_CHANNELS, Rs4858A


def _kerong(channels: int | None, trust_channels: bool) -> BoardProtocol:
    if channels not in (None, KerongCU16.locks_per_board):
        raise ValueError("a Kerong CU16 board always has 16 locks")
    return KerongCU16()


def _rs485_8a(channels: int | None, trust_channels: bool) -> BoardProtocol:
    if channels is None:
        return Rs4858A(DEFAULT_CHANNELS, trust_channels=False)
    return Rs4858A(channels, trust_channels=trust_channels)


PROTOCOLS: dict[str, Callable[[int | None, bool], BoardProtocol]] = {
    "kerong-cu16": _kerong,
    "rs485-8a": _rs485_8a,
}


def protocol_by_name(
    name: str, channels: int | None = None, *, trust_channels: bool = True
) -> BoardProtocol:
    """`channels` only matters for boards sold with different lock counts (8A); None = the
    protocol's default count, taken as a guess rather than a fact about the wired boards."""
    try:
        factory = PROTOCOLS[name]
    except KeyError as err:
        raise ValueError(
            f"unknown lock-board protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}"
        ) from err
    return factory(channels, trust_channels)
