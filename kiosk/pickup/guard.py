"""The keypad's guard against guessing: 5 wrong codes within 60 s lock it for 5 minutes.

Why these numbers are enough (docs/pickup.md has the sums): a code is one of 10^8 and a terminal
holds a few dozen results, so one guess hits with p ≈ n/10^8. Locked 5 minutes after every 5
wrong tries, a patient attacker gets at most 5 tries per ~6 minutes, about 1 200 a day: the chance
of opening any of 50 waiting parcels in the 7 days they wait is about 4 in 10 000 — and every
lock is an alert to staff, who see it at once. A QR or an ID card is not a guess and is not
counted or blocked: a QR is checked against this terminal's HMAC before any hash is touched.

Why persisted (migration 0007): restarting the terminal — pulling the plug — must not lift a
lock or wipe the count. Only times are kept, never the digits typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.storage import Database, Transaction

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class GuardSettings:
    wrong_code_limit: int = 5
    wrong_code_window_s: float = 60.0
    keypad_lock_s: float = 300.0


@dataclass(frozen=True)
class WrongCodeCounted:
    wrong_in_window: int
    locked_until: datetime | None  # set: this guess reached the limit and locked the keypad


class KeypadGuard:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        settings: GuardSettings | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self.settings = settings or GuardSettings()

    def locked_until(self) -> datetime | None:
        now_ms = _to_ms(self._clock())
        with self._database.snapshot() as view:
            value = view.fetch_value(
                "SELECT MAX(locked_until_ms) FROM pickup_keypad_locks WHERE locked_until_ms > ?",
                (now_ms,),
            )
        return None if value is None else _from_ms(int(str(value)))

    def record_wrong(
        self, *, inside: Callable[[Transaction, datetime], None] | None = None
    ) -> WrongCodeCounted:
        """Count one wrong code; at the limit, lock (and call `inside` in the same commit)."""
        now = self._clock()
        now_ms = _to_ms(now)
        window_start = now_ms - int(self.settings.wrong_code_window_s * 1000)
        with self._database.transaction() as tx:
            tx.execute("DELETE FROM pickup_wrong_codes WHERE at_ms <= ?", (window_start,))
            tx.execute("INSERT INTO pickup_wrong_codes (at_ms) VALUES (?)", (now_ms,))
            count = int(str(tx.fetch_value("SELECT COUNT(*) FROM pickup_wrong_codes")))
            if count < self.settings.wrong_code_limit:
                return WrongCodeCounted(count, None)
            until = now + timedelta(seconds=self.settings.keypad_lock_s)
            tx.execute(
                "INSERT INTO pickup_keypad_locks (locked_at_ms, locked_until_ms, wrong_codes) "
                "VALUES (?, ?, ?)",
                (now_ms, _to_ms(until), count),
            )
            tx.execute("DELETE FROM pickup_wrong_codes")  # the count starts again after the lock
            if inside is not None:
                inside(tx, until)
            return WrongCodeCounted(count, until)


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _from_ms(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)
