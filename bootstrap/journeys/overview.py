"""Journey `overview`: every screen in both languages and in large text, for people to look at.

It is what a headless `kiosk demo` plays when no journey is named.
"""

from __future__ import annotations

from kiosk.config import Settings

from .checks import all_of, header_reads, overlay_open, session_is, showing
from .script import Journey, Step


def overview_journey(settings: Settings) -> Journey:
    name_zh, name_en = settings.terminal.name_zh, settings.terminal.name_en
    toolbar = "attract/toolbar"
    return Journey(
        name="overview",
        description="Screenshots of the attract, help and service screens: zh, en, large text.",
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
                expect="the header shows the English name",
                touch=f"{toolbar}/language_button",
                until=all_of(session_is("en", False), header_reads("attract", name_en)),
            ),
            Step(
                name="turn on large text",
                shot="03-attract-en-large",
                expect="large text is on",
                touch=f"{toolbar}/large_text_button",
                until=session_is("en", True),
            ),
            Step(
                name="switch language back to Chinese",
                shot="04-attract-zh-large",
                expect="Chinese with large text",
                touch=f"{toolbar}/language_button",
                until=all_of(session_is("zh-CN", True), header_reads("attract", name_zh)),
            ),
            Step(
                name="open help in large text",
                shot="05-help-zh-large",
                expect="the help panel is open",
                touch=f"{toolbar}/help_button",
                until=overlay_open("help"),
            ),
            Step(
                name="close help",
                shot="06-attract-zh-large-again",
                expect="the help panel is closed",
                touch="help/close_button",
                until=overlay_open("help", is_open=False),
            ),
            Step(
                name="turn off large text",
                shot="07-attract-zh",
                expect="normal text in Chinese",
                touch=f"{toolbar}/large_text_button",
                until=session_is("zh-CN", False),
            ),
            Step(
                name="open help",
                shot="08-help-zh",
                expect="the help panel is open",
                touch=f"{toolbar}/help_button",
                until=overlay_open("help"),
            ),
            Step(
                name="close help again",
                shot="09-attract-zh-after-help",
                expect="the help panel is closed",
                touch="help/close_button",
                until=overlay_open("help", is_open=False),
            ),
            Step(
                name="start applying",
                shot="10-identify-zh",
                expect="the apply journey asks for the card",
                touch="attract/apply_button",
                until=showing("identify"),
            ),
            Step(
                name="identify screen in English",
                shot="11-identify-en",
                expect="the session is in English on the apply screens too",
                touch="identify/header/toolbar/language_button",
                until=session_is("en", False),
            ),
            Step(
                name="cancel back to the start",
                shot="12-attract-back",
                expect="the attract screen is shown again",
                touch="identify/header/cancel_button",
                until=showing("attract"),
                timeout_s=10.0,
            ),
            Step(
                name="start collecting",
                shot="13-service-collect",
                expect="the pickup screen is shown: scan, type the code or tap the card",
                touch="attract/collect_button",
                until=showing("pickup_start"),
            ),
        ),
    )
