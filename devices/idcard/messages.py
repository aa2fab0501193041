"""Frozen values of the SAM protocol and of the card it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Literal

from kiosk.ports.identity import Gender, Identity, mask_id_number, mask_name


@dataclass(frozen=True)
class SamCommand:
    """CMD and PARA of a request."""

    cmd: int
    para: int


FIND_CARD = SamCommand(0x20, 0x01)
SELECT_CARD = SamCommand(0x20, 0x02)
READ_TEXT_AND_PHOTO = SamCommand(0x30, 0x01)


class SamStatus(IntEnum):
    """SW3 of a reply (GA 467). Only the first three matter for a normal read."""

    SUCCESS = 0x90
    CARD_FOUND = 0x9F
    NO_CARD_FOUND = 0x80
    SELECT_FAILED = 0x81
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN_COMMAND = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    INFO_CHECK_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    KEY_ERROR = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CONTENT = 0x91


STATUS_SENTENCES: dict[int, str] = {
    SamStatus.CHECKSUM_ERROR: "the module received a request with a bad checksum",
    SamStatus.LENGTH_ERROR: "the module received a request with a wrong length",
    SamStatus.COMMAND_ERROR: "the module rejected the command",
    SamStatus.UNAUTHORISED: "the module refused the command (not authorised)",
    SamStatus.UNKNOWN_COMMAND: "the module does not know the command",
    SamStatus.CARD_AUTH_FAILED: "the card failed to authenticate the module",
    SamStatus.SAM_AUTH_FAILED: "the module failed to authenticate the card",
    SamStatus.INFO_CHECK_FAILED: "the card's data failed verification",
    SamStatus.UNKNOWN_CARD_TYPE: "the card is not a resident ID card",
    SamStatus.READ_FAILED: "reading the card failed (it may have moved)",
    SamStatus.KEY_ERROR: "the module's keys are wrong",
    SamStatus.SAM_SELF_TEST_FAILED: "the module failed its self-test",
    SamStatus.SAM_NOT_AUTHORISED: "the module is not authorised",
    SamStatus.NO_CONTENT: "the card holds no such content",
    SamStatus.NO_CARD_FOUND: "no card was found",
    SamStatus.SELECT_FAILED: "the card could not be selected",
}


def status_sentence(sw3: int) -> str:
    return STATUS_SENTENCES.get(sw3, f"the module answered with status {sw3:02X}")


@dataclass(frozen=True)
class SamFrame:
    """One checked frame: the body between LEN and CHK (the checksum is already verified)."""

    body: bytes


@dataclass(frozen=True)
class SamReply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""


@dataclass(frozen=True)
class TextAndPhoto:
    """The read command's payload: the 256-byte text block and the 1024-byte WLT photo."""

    text: bytes
    photo_wlt: bytes


LongTerm = Literal["long-term"]


@dataclass(frozen=True, repr=False)
class IdCardRecord:
    """Everything the text block states, validated; `repr` is masked (personal data)."""

    name: str
    gender: Gender
    nation_code: str
    nation: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | LongTerm

    def __repr__(self) -> str:
        return (
            f"IdCardRecord({mask_name(self.name)!r}, {mask_id_number(self.id_number)!r}, "
            f"valid_to={self.valid_to!s})"
        )

    def to_identity(self) -> Identity:
        return Identity(
            name=self.name,
            id_number=self.id_number,
            source="id_card",
            gender=self.gender,
            nation=self.nation,
            birth_date=self.birth_date,
            address=self.address,
        )

    def as_json(self) -> dict[str, str]:
        """The shape of `kiosk device idcard read` (the CLI contract)."""
        return {
            "name": self.name,
            "gender": self.gender,
            "nation": self.nation,
            "nation_code": self.nation_code,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": (
                self.valid_to if isinstance(self.valid_to, str) else self.valid_to.isoformat()
            ),
        }
