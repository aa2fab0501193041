"""The citizen session and its guard: clear-down must leave nothing of the previous person."""

from __future__ import annotations

from kiosk.idle import IdleExpired, IdleTimer, IdleWarning
from kiosk.session import CitizenSession, SessionGuard, SessionSnapshot


def test_defaults_and_switches() -> None:
    session = CitizenSession("zh-CN")
    assert session.snapshot() == SessionSnapshot(
        "zh-CN", large_text=False, holds_personal_data=False
    )
    session.toggle_language()
    session.toggle_large_text()
    assert session.snapshot() == SessionSnapshot("en", large_text=True, holds_personal_data=False)
    session.toggle_language()
    assert session.language == "zh-CN"


def test_clear_down_returns_to_the_terminal_default_and_drops_personal_data() -> None:
    session = CitizenSession("en")
    session.switch_language("zh-CN")
    session.set_large_text(True)
    session.remember("id_number", "430821199001011234")
    assert not session.snapshot().is_pristine
    session.clear_down()
    assert session.snapshot() == SessionSnapshot("en", large_text=False, holds_personal_data=False)
    assert session.personal_data == {}
    assert session.snapshot().is_pristine


def test_listeners_hear_every_change_including_clear_down() -> None:
    session = CitizenSession()
    heard: list[SessionSnapshot] = []
    session.subscribe(heard.append)
    session.toggle_language()
    session.set_large_text(True)
    session.clear_down()
    assert [(s.language, s.large_text) for s in heard] == [
        ("en", False),
        ("en", True),
        ("zh-CN", False),
    ]


def test_guard_clears_the_session_when_the_timer_expires() -> None:
    session = CitizenSession()
    guard = SessionGuard(session, IdleTimer(warn_after_s=30, countdown_s=10))
    guard.touched(0.0)
    session.switch_language("en")
    session.set_large_text(True)
    session.remember("name", "张三")
    assert isinstance(guard.tick(35.0), IdleWarning)
    assert session.language == "en"
    assert guard.tick(40.0) == IdleExpired()
    assert session.snapshot() == SessionSnapshot(
        "zh-CN", large_text=False, holds_personal_data=False
    )


def test_guard_leaves_the_session_alone_while_someone_is_there() -> None:
    session = CitizenSession()
    guard = SessionGuard(session, IdleTimer(warn_after_s=30, countdown_s=10))
    session.switch_language("en")
    for now in range(0, 300, 20):
        guard.touched(float(now))
        guard.tick(float(now) + 19)
    assert session.language == "en"
