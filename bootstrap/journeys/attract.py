"""Journey `attract`: change language and text size, walk away, and check the terminal forgets."""

from __future__ import annotations

from kiosk.config import IdleSettings, Settings

from .checks import all_of, header_reads, overlay_open, session_is, showing
from .script import Journey, Step

# Long enough that two touches a step apart stay "active" even when a loaded machine takes a
# second or two per screenshot; short enough that the whole journey stays under half a minute.
WARN_AFTER_S = 6.0
COUNTDOWN_S = 4.0
SLACK_S = 10.0


def attract_journey(settings: Settings) -> Journey:
    name_zh, name_en = settings.terminal.name_zh, settings.terminal.name_en
    default = settings.terminal.default_language
    return Journey(
        name="attract",
        description=(
            "Switch to English, turn on large text, then touch nothing: the idle warning must"
            " appear and, after the countdown, the session must be cleared back to defaults."
        ),
        idle=IdleSettings(warn_after_s=WARN_AFTER_S, countdown_s=COUNTDOWN_S),
        steps=(
            Step(
                name="attract screen in Chinese",
                shot="01-attract-zh",
                expect="the attract screen shows the Chinese terminal name",
                until=all_of(showing("attract"), header_reads("attract", name_zh)),
            ),
            Step(
                name="switch language to English",
                shot="02-attract-en",
                expect="the session is in English and the header shows the English name",
                touch="attract/toolbar/language_button",
                until=all_of(session_is("en", False), header_reads("attract", name_en)),
            ),
            Step(
                name="turn on large text",
                shot="03-attract-en-large",
                expect="large text is on in the session and on screen",
                touch="attract/toolbar/large_text_button",
                until=session_is("en", True),
            ),
            Step(
                name="idle warning appears",
                shot="04-idle-warning",
                expect="the idle warning is shown after the quiet time",
                until=overlay_open("idle"),
                timeout_s=WARN_AFTER_S + SLACK_S,
            ),
            Step(
                name="session times out and is cleared",
                shot="05-cleared-attract-zh",
                expect=(
                    f"the warning is gone, the session is back to {default} with normal text,"
                    " and the attract screen shows the default-language name"
                ),
                until=all_of(
                    overlay_open("idle", is_open=False),
                    session_is(default, False),
                    showing("attract"),
                    header_reads("attract", name_zh if default == "zh-CN" else name_en),
                ),
                timeout_s=COUNTDOWN_S + SLACK_S,
            ),
        ),
    )
