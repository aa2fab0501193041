"""The idle timer with plain numbers as the clock: no threads, no sleeping."""

from __future__ import annotations

import pytest

from kiosk.idle import IdleActive, IdleExpired, IdleResting, IdleTimer, IdleWarning


def test_rests_until_the_first_touch() -> None:
    timer = IdleTimer(warn_after_s=60, countdown_s=20)
    assert timer.tick(1000.0) == IdleResting()


def test_active_then_warning_with_seconds_rounded_up_then_expired_once() -> None:
    timer = IdleTimer(warn_after_s=60, countdown_s=20)
    timer.touch(100.0)
    assert timer.tick(159.9) == IdleActive()
    assert timer.tick(160.0) == IdleWarning(seconds_left=20)
    assert timer.tick(160.5) == IdleWarning(seconds_left=20)
    assert timer.tick(179.2) == IdleWarning(seconds_left=1)
    assert timer.tick(180.0) == IdleExpired()
    assert timer.tick(180.1) == IdleResting()
    assert timer.tick(999.0) == IdleResting()


def test_a_touch_during_the_warning_starts_the_wait_again() -> None:
    timer = IdleTimer(warn_after_s=10, countdown_s=5)
    timer.touch(0.0)
    assert isinstance(timer.tick(12.0), IdleWarning)
    timer.touch(12.0)
    assert timer.tick(21.9) == IdleActive()
    assert timer.tick(27.0) == IdleExpired()


def test_a_late_tick_still_reports_expiry() -> None:
    timer = IdleTimer(warn_after_s=10, countdown_s=5)
    timer.touch(0.0)
    assert timer.tick(3600.0) == IdleExpired()


def test_rest_forgets_the_last_touch() -> None:
    timer = IdleTimer(warn_after_s=10, countdown_s=5)
    timer.touch(0.0)
    timer.rest()
    assert timer.tick(100.0) == IdleResting()


@pytest.mark.parametrize(("warn", "countdown"), [(0, 5), (5, 0), (-1, 5)])
def test_rejects_non_positive_durations(warn: float, countdown: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        IdleTimer(warn_after_s=warn, countdown_s=countdown)
