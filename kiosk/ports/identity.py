"""The identity port: who is standing at the terminal, read from the card they laid on a reader.

A 2nd-generation resident ID card (SAM module on a serial line) and a social-security card
(ISO 7816 over PC/SC) carry different data, but the core only needs one value: `Identity`. Both
adapters publish the same events, so a screen reacts to "a card was laid down" without knowing
which reader saw it.

Personal data: an `Identity` lives in the citizen's session only. Its `repr` shows the masked form,
so a stray log line or a traceback never carries a full name or ID number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from .health import DeviceHealth, EventSink

IdentitySource = Literal["id_card", "social_security_card"]
Gender = Literal["male", "female"]


def mask_name(name: str) -> str:
    """Keep the family name and, for names of three or more characters, the last character."""
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """Keep the first four (province and city) and the last four characters, as counters do."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


@dataclass(frozen=True, repr=False)
class Identity:
    """The citizen as a card states them; fields a card does not carry are None."""

    name: str
    id_number: str
    source: IdentitySource
    gender: Gender | None = None
    nation: str | None = None  # the GB 3304 name, e.g. "汉"
    birth_date: date | None = None
    address: str | None = None
    # Social-security cards also carry their own card number; ID cards leave it empty.
    card_number: str | None = field(default=None)

    @property
    def masked(self) -> str:
        """What a screen, a receipt or a log may show, e.g. "张*明 4401**********1234"."""
        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"

    def __repr__(self) -> str:
        return f"Identity(source={self.source!r}, masked={self.masked!r})"

    __str__ = __repr__


# Events (past tense). `source` says which kind of reader saw the card.
@dataclass(frozen=True)
class CardPlaced:
    """A card was laid on a reader and read successfully."""

    identity: Identity

    @property
    def source(self) -> IdentitySource:
        return self.identity.source


@dataclass(frozen=True)
class CardRemoved:
    source: IdentitySource


@dataclass(frozen=True)
class CardReadFailed:
    """A card is on the reader but could not be read; `reason` is a plain sentence for the citizen
    screen's fallback text and for the technician's log (it never contains personal data)."""

    source: IdentitySource
    reason: str


class CardReader(Protocol):
    """One card reader that watches for cards by itself and publishes the events above."""

    @property
    def source(self) -> IdentitySource: ...

    def start(self, sink: EventSink) -> None:
        """Begin watching for cards; events and `DeviceHealthChanged` go to `sink`."""

    def stop(self) -> None: ...

    def current(self) -> Identity | None:
        """The identity of the card lying on the reader now, if one was read."""

    def health(self) -> DeviceHealth: ...
