"""What each screen shows, computed from core state; the screens only copy these onto widgets.

Pure Python (no Kivy), so what the citizen reads in each state can be tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kiosk.i18n import Translator
from kiosk.idle import IdleStatus, IdleWarning
from kiosk.notices import Notice
from kiosk.session import SessionSnapshot

ServiceKind = Literal["apply", "collect"]  # the two main actions of the attract screen


@dataclass(frozen=True)
class TerminalIdentity:
    name_zh: str
    name_en: str
    hotline: str
    terminal_id: str

    def name_in(self, language: str) -> str:
        return self.name_zh if language == "zh-CN" else self.name_en


@dataclass(frozen=True)
class ToolbarView:
    help_label: str = ""
    language_label: str = ""
    large_text_label: str = ""
    large_text_on: bool = False


@dataclass(frozen=True)
class AttractView:
    terminal_name: str = ""
    subtitle: str = ""
    welcome: str = ""
    apply_title: str = ""
    apply_hint: str = ""
    collect_title: str = ""
    collect_hint: str = ""
    notices_heading: str = ""
    notice_title: str = ""
    notice_body: str = ""
    notice_issuer: str = ""
    notice_position: str = ""
    notice_read_all: str = ""  # shown when the body is cut for space
    notice_close: str = ""  # the full-notice overlay's button
    footer: str = ""
    toolbar: ToolbarView = ToolbarView()


@dataclass(frozen=True)
class ServiceStartView:
    title: str = ""
    status: str = ""
    prepare: str = ""
    back_label: str = ""
    footer: str = ""
    toolbar: ToolbarView = ToolbarView()


@dataclass(frozen=True)
class HelpView:
    title: str = ""
    hotline_label: str = ""
    hotline: str = ""
    body: str = ""
    close_label: str = ""


@dataclass(frozen=True)
class IdleView:
    visible: bool = False
    title: str = ""
    countdown: str = ""
    body: str = ""
    continue_label: str = ""


@dataclass(frozen=True)
class CurrentNotice:
    index: int
    count: int
    notice: Notice


def toolbar_view(session: SessionSnapshot) -> ToolbarView:
    t = Translator(session.language)
    return ToolbarView(
        help_label=t("button.help"),
        language_label=t("button.language"),
        large_text_label=t(
            "button.large_text.turn_off" if session.large_text else "button.large_text.turn_on"
        ),
        large_text_on=session.large_text,
    )


def attract_view(
    identity: TerminalIdentity, session: SessionSnapshot, current: CurrentNotice | None
) -> AttractView:
    t = Translator(session.language)
    language = session.language
    notice_fields: dict[str, str] = {}
    if current is not None:
        notice = current.notice
        notice_fields = {
            "notices_heading": t("notices.heading"),
            "notice_title": notice.title.in_language(language),
            "notice_body": notice.body.in_language(language),
            "notice_issuer": notice.issued_by.in_language(language) if notice.issued_by else "",
            "notice_position": t("notices.position", index=current.index + 1, count=current.count),
            "notice_read_all": t("notices.read_all"),
            "notice_close": t("notices.close"),
        }
    return AttractView(
        terminal_name=identity.name_in(language),
        subtitle=t("attract.subtitle"),
        welcome=t("attract.welcome"),
        apply_title=t("action.apply.title"),
        apply_hint=t("action.apply.hint"),
        collect_title=t("action.collect.title"),
        collect_hint=t("action.collect.hint"),
        footer=t("footer.terminal", terminal_id=identity.terminal_id),
        toolbar=toolbar_view(session),
        **notice_fields,
    )


def service_start_view(
    identity: TerminalIdentity, session: SessionSnapshot, kind: ServiceKind
) -> ServiceStartView:
    t = Translator(session.language)
    return ServiceStartView(
        title=t(f"service.{kind}.title"),
        status=t(f"service.{kind}.status"),
        prepare=t(f"service.{kind}.prepare", hotline=identity.hotline),
        back_label=t("service.back"),
        footer=t("footer.terminal", terminal_id=identity.terminal_id),
        toolbar=toolbar_view(session),
    )


def help_view(identity: TerminalIdentity, session: SessionSnapshot) -> HelpView:
    t = Translator(session.language)
    return HelpView(
        title=t("help.title"),
        hotline_label=t("help.hotline_label"),
        hotline=identity.hotline,
        body=t("help.body", hotline=identity.hotline, terminal_id=identity.terminal_id),
        close_label=t("help.close"),
    )


def idle_view(session: SessionSnapshot, status: IdleStatus) -> IdleView:
    if not isinstance(status, IdleWarning):
        return IdleView(visible=False)
    t = Translator(session.language)
    return IdleView(
        visible=True,
        title=t("idle.title"),
        countdown=t("idle.seconds", seconds=status.seconds_left),
        body=t("idle.body"),
        continue_label=t("idle.continue"),
    )
