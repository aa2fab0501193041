"""Frozen values that cross between a lock-board codec, the bus driver and the column adapter.

Both protocols reduce to the same two replies: a board's status (doors, and item sensors where the
board has them) and the acknowledgement of one unlock pulse. Locks are 1-based everywhere above the
codec, as they are printed on the board.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoardStatus:
    """One board's batch status: `doors_closed[i]` is lock i+1 (True = hook latched)."""

    board: int
    doors_closed: tuple[bool, ...]
    items_present: tuple[bool, ...] | None = None  # None: the board has no item sensors

    def door_closed(self, lock: int) -> bool | None:
        """None when the reply does not cover that lock."""
        if 1 <= lock <= len(self.doors_closed):
            return self.doors_closed[lock - 1]
        return None

    def item_present(self, lock: int) -> bool | None:
        if self.items_present is None or not 1 <= lock <= len(self.items_present):
            return None
        return self.items_present[lock - 1]

    def limited_to(self, locks: int) -> BoardStatus:
        """Drop the bits a board sends beyond the locks it really has."""
        items = None if self.items_present is None else self.items_present[:locks]
        return BoardStatus(self.board, self.doors_closed[:locks], items)


@dataclass(frozen=True)
class UnlockAck:
    """The board's answer to one unlock pulse.

    `door_closed` is what the board read on that lock right after the pulse; Kerong boards also
    return the whole board status with it, so `status` saves one poll there.
    """

    board: int
    lock: int
    door_closed: bool
    status: BoardStatus | None = None


LockerReply = BoardStatus | UnlockAck


@dataclass(frozen=True)
class StatusRequest:
    board: int


@dataclass(frozen=True)
class UnlockRequest:
    board: int
    lock: int


LockerRequest = StatusRequest | UnlockRequest
