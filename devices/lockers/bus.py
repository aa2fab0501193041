"""Several lock boards on one RS485 bus, one command at a time, each reply matched to its request.

On a bus every board hears every request and only the addressed one answers, so a reply from the
wrong board or for the wrong lock (a late answer to an earlier, timed-out request) is discarded by
`SerialLink.exchange` rather than taken as the answer.

`unlock_and_verify` turns the board's raw answers into the outcome the audit log records; see its
docstring for the exact rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.errors import BadFrame, DeviceOffline, NoReply
from devices.serial_link import SerialLink
from kiosk.ports.health import DeviceHealth
from kiosk.ports.lockers import UnlockOutcome

from .board_protocol import BoardProtocol
from .messages import BoardStatus, LockerReply, StatusRequest, UnlockAck, UnlockRequest

# A released latch lets a spring-loaded door pop within about a tenth of a second; half a second
# covers a slow spring or a door held by a seal before "still closed" is called a jam.
DEFAULT_RECHECK_WINDOW_S = 0.5
DEFAULT_RECHECK_INTERVAL_S = 0.1


@dataclass(frozen=True)
class UnlockResult:
    outcome: UnlockOutcome
    latest: BoardStatus | None  # the freshest status read during the unlock, for the poller


class LockerBus:
    """The terminal's end of one RS485 lock-board bus."""

    def __init__(
        self,
        url: str,
        protocol: BoardProtocol,
        *,
        baud: int | None = None,
        device: str | None = None,
        timeout_s: float = 1.0,
        on_health: Callable[[DeviceHealth], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.url = url
        self.timeout_s = timeout_s
        self._decoder = protocol.reply_decoder()
        self.link: SerialLink[LockerReply] = SerialLink(
            url,
            self._decoder,
            device=device or f"lock-board bus ({protocol.name})",
            baudrate=baud or protocol.default_baud,
            on_health=on_health,
        )

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    def wait_open(self, timeout: float) -> bool:
        return self.link.wait_open(timeout)

    def health(self) -> DeviceHealth:
        return self.link.health()

    # -- commands -----------------------------------------------------------------------------
    def status(self, board: int, timeout: float | None = None) -> BoardStatus:
        request = self.protocol.encode_request(StatusRequest(board))

        def accept(reply: LockerReply) -> bool:
            return isinstance(reply, BoardStatus) and reply.board == board

        reply = self._exchange(request, accept, timeout, self._board_name(board), "a status read")
        assert isinstance(reply, BoardStatus)
        return reply.limited_to(self.protocol.locks_per_board)

    def unlock(self, board: int, lock: int, timeout: float | None = None) -> UnlockAck:
        request = self.protocol.encode_request(UnlockRequest(board, lock))

        def accept(reply: LockerReply) -> bool:
            return isinstance(reply, UnlockAck) and (reply.board, reply.lock) == (board, lock)

        reply = self._exchange(
            request, accept, timeout, self._board_name(board), f"the unlock of lock {lock}"
        )
        assert isinstance(reply, UnlockAck)
        if reply.status is not None:
            reply = UnlockAck(
                reply.board,
                reply.lock,
                reply.door_closed,
                reply.status.limited_to(self.protocol.locks_per_board),
            )
        return reply

    def unlock_and_verify(
        self,
        board: int,
        lock: int,
        *,
        timeout: float | None = None,
        recheck_window_s: float = DEFAULT_RECHECK_WINDOW_S,
        recheck_interval_s: float = DEFAULT_RECHECK_INTERVAL_S,
    ) -> UnlockResult:
        """Read the door, pulse the lock, and decide the outcome the contract defines.

        - `already_open`: the status read before the pulse showed the door open (the pulse is
          still sent, whatever the board answers to it).
        - `opened`: the unlock answer, or a status re-read within the re-check window, shows the
          door open.
        - `jammed`: the board answered the pulse but the door still reads closed on a re-read
          made after the re-check window.
        - `unknown`: the pulse went out but no valid answer came back, or no re-read succeeded.
        A failed status read before the pulse does not stop the pulse: opening the door matters
        more than knowing how it was. `DeviceOffline` is raised only if nothing could be sent.
        """
        before: BoardStatus | None = None
        try:
            before = self.status(board, timeout)
        except (NoReply, BadFrame):
            before = None
        was_open = before is not None and before.door_closed(lock) is False
        try:
            ack = self.unlock(board, lock, timeout)
        except (NoReply, BadFrame):
            return UnlockResult(
                UnlockOutcome.ALREADY_OPEN if was_open else UnlockOutcome.UNKNOWN, before
            )
        latest = ack.status or before
        if was_open:
            return UnlockResult(UnlockOutcome.ALREADY_OPEN, latest)
        if not ack.door_closed:
            return UnlockResult(UnlockOutcome.OPENED, latest)
        return self._recheck(board, lock, timeout, recheck_window_s, recheck_interval_s, latest)

    def _recheck(
        self,
        board: int,
        lock: int,
        timeout: float | None,
        window_s: float,
        interval_s: float,
        latest: BoardStatus | None,
    ) -> UnlockResult:
        deadline = time.monotonic() + window_s
        read_after_window = False
        while not read_after_window:
            time.sleep(max(0.0, min(interval_s, deadline - time.monotonic())))
            read_after_window = time.monotonic() >= deadline
            try:
                status = self.status(board, timeout)
            except (NoReply, BadFrame, DeviceOffline):
                continue
            latest = status
            if status.door_closed(lock) is False:
                return UnlockResult(UnlockOutcome.OPENED, latest)
            if read_after_window:
                return UnlockResult(UnlockOutcome.JAMMED, latest)
        return UnlockResult(UnlockOutcome.UNKNOWN, latest)

    # -- plumbing -------------------------------------------------------------------------------
    def _board_name(self, board: int) -> str:
        return f"lock board {board} ({self.protocol.name})"

    def _exchange(
        self,
        request: bytes,
        accept: Callable[[LockerReply], bool],
        timeout: float | None,
        who: str,
        what: str,
    ) -> LockerReply:
        limit = self.timeout_s if timeout is None else timeout
        discarded_before = self._decoder.discarded_bytes
        try:
            return self.link.exchange(request, accept, limit)
        except NoReply as err:
            # A corrupted 8A status reply looks like the start of a longer one: count what is
            # held back too, or a damaged answer would be reported as no answer at all.
            garbage = self._decoder.discarded_bytes - discarded_before + self._decoder.pending_bytes
            if garbage:
                raise BadFrame(
                    f"{who} on {self.url} answered {what} with {garbage} byte(s) that are not a "
                    f"valid {self.protocol.name} frame; check the protocol setting, the baud rate "
                    f"and the RS485 wiring (A/B swapped, missing termination)."
                ) from err
            raise NoReply(
                f"{who} on {self.url} did not answer {what} within {limit:.1f} s; check the "
                f"board's address switches, its power and the RS485 wiring."
            ) from err
