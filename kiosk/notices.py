"""Public notices of the service centre, shown in turn on the attract screen.

The centre edits a small TOML file (opening hours, holidays, new services); the terminal only reads
it. A broken file must name itself and the faulty entry, because the person fixing it is on site
with a text editor, not a debugger. Without a configured file the packaged sample is used.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from kiosk.i18n import LocalizedText

PACKAGED_NOTICES = "notices.toml"
TERMINAL_NOTICE_ID = "terminal"  # the notice a technician sets for this terminal (fleet)
_FIELDS = ("title_zh", "title_en", "body_zh", "body_en")


class NoticesError(Exception):
    """The notices file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Notice:
    id: str
    title: LocalizedText
    body: LocalizedText
    issued_by: LocalizedText | None = None


@dataclass(frozen=True)
class NoticeBoard:
    """Rotation is derived from the clock, so every redraw agrees and there is no state to drift."""

    notices: tuple[Notice, ...]
    rotate_every_s: float

    def current(self, now: float) -> tuple[int, Notice] | None:
        if not self.notices:
            return None
        index = int(now // self.rotate_every_s) % len(self.notices)
        return index, self.notices[index]

    def rotating_every(self, seconds: float) -> NoticeBoard:
        return replace(self, rotate_every_s=seconds)

    def with_terminal_notice(self, zh: str, en: str) -> NoticeBoard:
        """A technician's notice for this terminal alone (fleet settings `service.notice_zh|en`),
        shown first; given in one language only, it is shown in both; both empty remove it."""
        others = tuple(n for n in self.notices if n.id != TERMINAL_NOTICE_ID)
        zh, en = zh.strip(), en.strip()
        if not zh and not en:
            return replace(self, notices=others)
        notice = Notice(
            TERMINAL_NOTICE_ID,
            LocalizedText("本机公告", "Notice for this terminal"),
            LocalizedText(zh or en, en or zh),
        )
        return replace(self, notices=(notice, *others))


def load_notices(configured_file: str = "") -> tuple[Notice, ...]:
    """The configured file, or the sample packaged in kiosk/data when the setting is empty."""
    if configured_file:
        path = Path(configured_file).expanduser()
        try:
            raw = path.read_bytes()
        except OSError as err:
            reason = err.strerror or "unreadable"
            raise NoticesError(f"{path}: the notices file cannot be read ({reason}).") from err
        return parse_notices(raw, str(path))
    packaged = resources.files("kiosk.data").joinpath(PACKAGED_NOTICES)
    return parse_notices(packaged.read_bytes(), f"packaged kiosk/data/{PACKAGED_NOTICES}")


def parse_notices(raw: bytes, source: str) -> tuple[Notice, ...]:
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise NoticesError(f"{source}: the file is not UTF-8 text (byte {err.start}).") from err
    except tomllib.TOMLDecodeError as err:
        raise NoticesError(f"{source}: not valid TOML — {err}.") from err
    unknown = sorted(set(document) - {"notice"})
    if unknown:
        raise NoticesError(
            f"{source}: unknown top-level key '{unknown[0]}'; notices are [[notice]] tables."
        )
    entries = document.get("notice", [])
    if not isinstance(entries, list):
        raise NoticesError(f"{source}: 'notice' must be a list of [[notice]] tables.")
    notices = tuple(_notice_from(entry, position, source) for position, entry in enumerate(entries))
    _reject_duplicate_ids(notices, source)
    return notices


def _notice_from(entry: Any, position: int, source: str) -> Notice:
    where = f"{source}: notice #{position + 1}"
    if not isinstance(entry, dict):
        raise NoticesError(f"{where} must be a [[notice]] table.")
    notice_id = entry.get("id")
    if not isinstance(notice_id, str) or not notice_id.strip():
        raise NoticesError(f"{where} needs an 'id' (a short name such as \"opening-hours\").")
    where = f"{source}: notice '{notice_id}'"
    allowed = {"id", "issued_by_zh", "issued_by_en", *_FIELDS}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise NoticesError(
            f"{where} has an unknown key '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}."
        )
    text = {name: _text_field(entry, name, where) for name in _FIELDS}
    issued_by = None
    if "issued_by_zh" in entry or "issued_by_en" in entry:
        issued_by = LocalizedText(
            zh=_text_field(entry, "issued_by_zh", where),
            en=_text_field(entry, "issued_by_en", where),
        )
    return Notice(
        id=notice_id.strip(),
        title=LocalizedText(zh=text["title_zh"], en=text["title_en"]),
        body=LocalizedText(zh=text["body_zh"], en=text["body_en"]),
        issued_by=issued_by,
    )


def _text_field(entry: dict[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise NoticesError(f"{where} needs a non-empty text '{name}' (both languages are shown).")
    return value.strip()


def _reject_duplicate_ids(notices: Sequence[Notice], source: str) -> None:
    seen: set[str] = set()
    for notice in notices:
        if notice.id in seen:
            raise NoticesError(f"{source}: two notices have the id '{notice.id}'; ids must differ.")
        seen.add(notice.id)
