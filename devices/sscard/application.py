"""The social-security card application: SELECT it, READ RECORD what the terminal needs.

The logic runs over any `ApduTransport`, so the same code drives a PC/SC reader (`pcsc.py`) and an
emulated card in tests. It handles the two T=0 conventions a real card uses: `61xx` ("xx bytes
are waiting, fetch them with GET RESPONSE") and `6Cxx` ("wrong Le, resend with Le = xx").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from devices.errors import BadFrame
from devices.idcard.codec import is_valid_id_number
from devices.idcard.nations import nation_name
from kiosk.ports.identity import Gender, Identity, mask_id_number, mask_name

from .apdu import (
    EF05_CARD,
    EF06_HOLDER,
    RECORD_BIRTH_DATE,
    RECORD_CARD_ID,
    RECORD_CARD_NUMBER,
    RECORD_GENDER,
    RECORD_NAME,
    RECORD_NATION,
    RECORD_SSN,
    CommandApdu,
    ResponseApdu,
    get_response,
    parse_response,
    read_record,
    record_value,
    select_application,
    status_sentence,
)
from .errors import CardApplicationError

_MAX_CHAINED_RESPONSES = 16


class ApduTransport(Protocol):
    """Moves APDUs to the card in the reader; raises DeviceError subclasses only.

    `connect` raises NoCardPresent when the reader is empty and DeviceOffline when the reader
    itself (or the PC/SC service) is missing.
    """

    @property
    def description(self) -> str: ...

    def card_present(self) -> bool: ...

    def connect(self) -> None: ...

    def transmit(self, apdu: bytes) -> bytes: ...

    def disconnect(self) -> None: ...


@dataclass(frozen=True, repr=False)
class SocialSecurityCardData:
    card_id: str
    card_number: str | None
    ssn: str
    name: str
    gender: Gender | None
    nation_code: str | None
    birth_date: date | None

    def __repr__(self) -> str:
        return f"SocialSecurityCardData({mask_name(self.name)!r}, {mask_id_number(self.ssn)!r})"

    def to_identity(self) -> Identity:
        return Identity(
            name=self.name,
            id_number=self.ssn,
            source="social_security_card",
            gender=self.gender,
            nation=nation_name(self.nation_code) if self.nation_code else None,
            birth_date=self.birth_date,
            card_number=self.card_number,
        )


class SocialSecurityApplication:
    def __init__(self, transport: ApduTransport) -> None:
        self._transport = transport

    def send(self, command: CommandApdu) -> ResponseApdu:
        """One command with T=0 chaining resolved: the whole answer, with its final status."""
        response = parse_response(self._transport.transmit(command.encode()))
        if response.sw1 == 0x6C:  # wrong Le: the card says how many bytes it has
            retry = CommandApdu(
                command.cla, command.ins, command.p1, command.p2, command.data, response.sw2 or 256
            )
            response = parse_response(self._transport.transmit(retry.encode()))
        data = response.data
        for _ in range(_MAX_CHAINED_RESPONSES):
            if response.sw1 != 0x61:
                return ResponseApdu(data, response.sw1, response.sw2)
            response = parse_response(self._transport.transmit(get_response(response.sw2).encode()))
            data += response.data
        raise BadFrame(f"{self._transport.description}: the card never finished its answer")

    def select(self) -> None:
        response = self.send(select_application())
        if not response.ok:
            raise CardApplicationError(
                f"{self._transport.description}: selecting the social-security application "
                f"failed — {status_sentence(response.sw)}."
            )

    def read(self, sfi: int, record: int, *, required: bool = True) -> bytes | None:
        response = self.send(read_record(sfi, record))
        if response.sw == 0x6A83 and not required:
            return None
        if not response.ok:
            raise CardApplicationError(
                f"{self._transport.description}: reading EF{sfi:02X} record {record:02X} failed "
                f"— {status_sentence(response.sw)}."
            )
        return record_value(record, response.data)

    def read_card(self) -> SocialSecurityCardData:
        """Connect, select, read; the connection is always released afterwards."""
        self._transport.connect()
        try:
            self.select()
            card_id = _text(self._require(EF05_CARD, RECORD_CARD_ID), "card identification code")
            card_number = self.read(EF05_CARD, RECORD_CARD_NUMBER, required=False)
            ssn = _text(self._require(EF06_HOLDER, RECORD_SSN), "social-security number")
            name = _gbk(self._require(EF06_HOLDER, RECORD_NAME))
            gender = self.read(EF06_HOLDER, RECORD_GENDER, required=False)
            nation = self.read(EF06_HOLDER, RECORD_NATION, required=False)
            birth = self.read(EF06_HOLDER, RECORD_BIRTH_DATE, required=False)
        finally:
            self._transport.disconnect()
        if not is_valid_id_number(ssn):
            raise CardApplicationError(
                f"{self._transport.description}: the card's social-security number fails the "
                "GB 11643 check digit; the read is discarded."
            )
        if not name:
            raise CardApplicationError(f"{self._transport.description}: the card holds no name.")
        return SocialSecurityCardData(
            card_id=card_id,
            card_number=_text(card_number, "card number") if card_number else None,
            ssn=ssn,
            name=name,
            gender=_gender(gender),
            nation_code=_bcd(nation) if nation else None,
            birth_date=_bcd_date(birth),
        )

    def _require(self, sfi: int, record: int) -> bytes:
        value = self.read(sfi, record)
        assert value is not None  # required reads raise instead of returning None
        return value


def _text(value: bytes, what: str) -> str:
    try:
        return value.rstrip(b"\x00 \xff").decode("ascii").strip()
    except UnicodeDecodeError as err:
        raise BadFrame(f"the card's {what} is not plain ASCII") from err


def _gbk(value: bytes) -> str:
    try:
        return value.rstrip(b"\x00 \xff").decode("gb18030").strip()
    except UnicodeDecodeError as err:
        raise BadFrame("the card's name is not GBK text") from err


def _gender(value: bytes | None) -> Gender | None:
    if not value:
        return None
    code = value[:1]
    if code in (b"1", b"\x01"):
        return "male"
    if code in (b"2", b"\x02"):
        return "female"
    return None


def _bcd(value: bytes) -> str | None:
    digits = value.hex()
    return digits if digits.isdigit() else None


def _bcd_date(value: bytes | None) -> date | None:
    if not value or len(value) != 4:
        return None
    digits = _bcd(value)
    if digits is None:
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
