"""Search the catalog the way people at a Chinese counter type: characters, pinyin, or initials.

A citizen on a touch keyboard types "出生", "chusheng", "csdj" or "birth" and expects 新生儿出生
登记 at the top. Everything about a name that a query can match is computed once per catalog
(pinyin needs a dictionary lookup per character); a query is then a scan of plain strings, fast
enough for every keystroke on a few hundred items.

Ranking, best first (`MatchTier`): the whole name; the start of a name (or of its pinyin); a part
of a name; pinyin initials or whole syllables inside the name; a part of the summary; the name of
the department. Within a tier an earlier match wins, then a shorter name (the more specific item),
then the id, so the order is stable. Case, full-width letters, spaces and punctuation are ignored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Final, Literal

from pypinyin import Style, lazy_pinyin

from kiosk.i18n import LocalizedText

if TYPE_CHECKING:
    from .catalog import Catalog

MAX_QUERY_LENGTH: Final = 64
DEFAULT_LIMIT: Final = 20


class MatchTier(IntEnum):
    EXACT_NAME = 0
    NAME_PREFIX = 1
    NAME_CONTAINS = 2
    PINYIN = 3
    SUMMARY = 4
    DEPARTMENT = 5


@dataclass(frozen=True)
class SearchHit:
    kind: Literal["item", "topic"]
    id: str
    name: LocalizedText
    tier: MatchTier


def fold(text: str) -> str:
    """Lower-case, half-width, words of letters and digits (and CJK) split by single spaces.

    The spaces matter for English only ("sb" must not match "residents basic"); Chinese and
    pinyin are compared with the spaces taken out.
    """
    normal = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in normal).split())


def _tight(text: str) -> str:
    return fold(text).replace(" ", "")


def _at_word_start(text: str, query: str) -> int:
    """Where `query` starts a word of `text` (both folded); -1 if nowhere."""
    at = text.find(query)
    while at >= 0:
        if at == 0 or text[at - 1] == " ":
            return at
        at = text.find(query, at + 1)
    return -1


@dataclass(frozen=True)
class _Pinyin:
    syllables: str  # "xinshengerchushengdengji"
    starts: frozenset[int]  # where each syllable begins in `syllables`
    initials: str  # "xsecsdj"


def _pinyin(text: str) -> _Pinyin:
    parts = [_tight(p) for p in lazy_pinyin(text)]
    starts, offset = set(), 0
    for part in parts:
        starts.add(offset)
        offset += len(part)
    # A run of Latin letters or digits inside a name comes back whole and is kept whole.
    initials = "".join(_tight(p) for p in lazy_pinyin(text, style=Style.FIRST_LETTER))
    return _Pinyin("".join(parts), frozenset(starts), initials)


@dataclass(frozen=True)
class _Entry:
    kind: Literal["item", "topic"]
    id: str
    name: LocalizedText
    zh_texts: tuple[str, str]  # name, summary: folded, spaces taken out
    en_texts: tuple[str, str]  # name, summary: folded, words kept apart
    pinyin: _Pinyin
    departments: tuple[str, ...]
    sort_length: int


class SearchIndex:
    """Precomputed search strings of one catalog; get it from `Catalog.search_index`."""

    def __init__(self, catalog: Catalog) -> None:
        entries: list[_Entry] = []
        for item in catalog.items:
            department = catalog.department(item.department)
            entries.append(
                _entry(
                    "item",
                    item.id,
                    item.name,
                    item.summary,
                    () if department is None else (department.name,),
                )
            )
        for topic in catalog.topics:
            entries.append(_entry("topic", topic.id, topic.name, topic.summary, ()))
        self._entries = tuple(entries)

    def search(
        self, query: str, *, limit: int = DEFAULT_LIMIT, kinds: Iterable[str] = ("item", "topic")
    ) -> tuple[SearchHit, ...]:
        """Best matches first; an empty or unmatched query gives an empty tuple, never an error."""
        spaced = fold(query[: MAX_QUERY_LENGTH * 4])[:MAX_QUERY_LENGTH].strip()
        tight = spaced.replace(" ", "")
        if not tight or limit <= 0:
            return ()
        allowed = set(kinds)
        ranked: list[tuple[int, int, int, str, _Entry, MatchTier]] = []
        for entry in self._entries:
            if entry.kind not in allowed:
                continue
            found = _match(entry, spaced, tight)
            if found is not None:
                tier, position = found
                ranked.append((tier, position, entry.sort_length, entry.id, entry, tier))
        ranked.sort(key=lambda row: row[:4])
        return tuple(
            SearchHit(kind=row[4].kind, id=row[4].id, name=row[4].name, tier=row[5])
            for row in ranked[:limit]
        )


def _entry(
    kind: Literal["item", "topic"],
    entry_id: str,
    name: LocalizedText,
    summary: LocalizedText,
    departments: tuple[LocalizedText, ...],
) -> _Entry:
    return _Entry(
        kind=kind,
        id=entry_id,
        name=name,
        zh_texts=(_tight(name.zh), _tight(summary.zh)),
        en_texts=(fold(name.en), fold(summary.en)),
        pinyin=_pinyin(name.zh),
        departments=tuple(t for d in departments for t in (_tight(d.zh), fold(d.en))),
        sort_length=len(name.zh),
    )


def _match(entry: _Entry, spaced: str, tight: str) -> tuple[MatchTier, int] | None:
    """The best tier at which `entry` matches, and where; None when it does not match."""
    zh_name, zh_summary = entry.zh_texts
    en_name, en_summary = entry.en_texts
    pinyin = entry.pinyin
    if tight in (zh_name, pinyin.syllables, pinyin.initials) or spaced == en_name:
        return MatchTier.EXACT_NAME, 0
    if (
        zh_name.startswith(tight)
        or en_name.startswith(spaced)
        or pinyin.syllables.startswith(tight)
    ):
        return MatchTier.NAME_PREFIX, 0
    positions = [p for p in (zh_name.find(tight), _at_word_start(en_name, spaced)) if p >= 0]
    if positions:
        return MatchTier.NAME_CONTAINS, min(positions)
    if tight.isascii():
        positions = [
            p for p in (pinyin.initials.find(tight), _syllable_match(pinyin, tight)) if p >= 0
        ]
        if positions:
            return MatchTier.PINYIN, min(positions)
    positions = [p for p in (zh_summary.find(tight), _at_word_start(en_summary, spaced)) if p >= 0]
    if positions:
        return MatchTier.SUMMARY, min(positions)
    if any(tight in d or _at_word_start(d, spaced) >= 0 for d in entry.departments):
        return MatchTier.DEPARTMENT, 0
    return None


def _syllable_match(pinyin: _Pinyin, query: str) -> int:
    """Where `query` starts at a syllable boundary ("chusheng", not "engde"); -1 if nowhere."""
    at = pinyin.syllables.find(query)
    while at >= 0:
        if at in pinyin.starts:
            return at
        at = pinyin.syllables.find(query, at + 1)
    return -1
