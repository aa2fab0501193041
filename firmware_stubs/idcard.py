"""The card-reader side of the world: a SAM module with a card slot, and a social-security card.

`SamModuleFirmware` answers the SAM protocol the way a real module does, including its quirk that
"find card" reports no card once a card has been read (until it is lifted and laid down again),
while "select card" still succeeds. Its controls act as a citizen does:

- `put_card` (any of name, gender "male"/"female", nation_code, birth_date YYYY-MM-DD, address,
  id_number, authority, valid_from, valid_to YYYY-MM-DD or "long-term"; missing fields take the
  sample citizen's) — lays a card on the reader;
- `remove_card`; `unreadable_card` (a card that is found but fails to read, e.g. worn);
- `state` — what lies on the reader (masked).

Line faults (noise, split, corrupt_next, silence, unplug, unplug_mid_frame, replug) come from
`SerialStubServer`. `SocialSecurityCardEmulator` is a card answering ISO 7816 APDUs in-process,
for the demo and tests of the social-security card application.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from devices.errors import BadFrame
from devices.idcard.codec import (
    PHOTO_SIZE,
    SamFrameDecoder,
    encode_reply,
    encode_text_and_photo,
    encode_text_block,
    parse_request,
)
from devices.idcard.errors import NoCardPresent
from devices.idcard.messages import (
    FIND_CARD,
    READ_TEXT_AND_PHOTO,
    SELECT_CARD,
    SamFrame,
    SamReply,
    SamStatus,
)
from kiosk.ports.identity import mask_id_number, mask_name

from .serial_stub import SerialStubServer

SAMPLE_CITIZEN: dict[str, str] = {
    "name": "张小明",
    "gender": "male",
    "nation_code": "01",
    "birth_date": "1985-06-12",
    "address": "湖南省慈利县零阳街道建设路88号",
    "id_number": "430821198506121232",
    "authority": "慈利县公安局",
    "valid_from": "2016-03-01",
    "valid_to": "2036-03-01",
}


def _card_date(value: str) -> str:
    return value.replace("-", "")


def text_fields_from(args: dict[str, object]) -> dict[str, str]:
    """put_card arguments (the CLI's vocabulary) → the card's stored text fields."""
    values = {key: str(args.get(key, default)) for key, default in SAMPLE_CITIZEN.items()}
    gender = values["gender"]
    valid_to = values["valid_to"]
    return {
        "name": values["name"],
        "gender": {"male": "1", "female": "2"}.get(gender, gender),
        "nation_code": values["nation_code"],
        "birth_date": _card_date(values["birth_date"]),
        "address": values["address"],
        "id_number": values["id_number"],
        "authority": values["authority"],
        "valid_from": _card_date(values["valid_from"]),
        "valid_to": "长期" if valid_to == "long-term" else _card_date(valid_to),
    }


class SamModuleFirmware:
    """One SAM module with one card slot."""

    def __init__(self) -> None:
        self._decoder = SamFrameDecoder()
        self._lock = threading.Lock()
        self._card: dict[str, str] | None = None
        self._unreadable = False
        self._read_since_placed = False
        self.reads = 0

    # -- the world ------------------------------------------------------------------------------
    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        with self._lock:
            if command == "put_card":
                fields = text_fields_from(args)
                encode_text_block(fields)  # a value too long for its field is refused here
                self._card, self._unreadable, self._read_since_placed = fields, False, False
            elif command == "unreadable_card":
                self._card = text_fields_from({})
                self._unreadable, self._read_since_placed = True, False
            elif command == "remove_card":
                self._card, self._unreadable = None, False
            elif command != "state":
                raise KeyError(f"unknown command {command!r}")
            return self._state()

    def _state(self) -> dict[str, Any]:
        if self._card is None:
            return {"card": None}
        return {
            "card": f"{mask_name(self._card['name'])} {mask_id_number(self._card['id_number'])}",
            "unreadable": self._unreadable,
            "reads": self.reads,
        }

    # -- the wire -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        return b"".join(self._answer(frame) for frame in self._decoder.feed(data))

    def _answer(self, frame: SamFrame) -> bytes:
        try:
            command, _data = parse_request(frame)
        except BadFrame:
            return encode_reply(SamReply(0, 0, SamStatus.LENGTH_ERROR))
        with self._lock:
            card = self._card
            if command == FIND_CARD:
                if card is None or self._read_since_placed:
                    return encode_reply(SamReply(0, 0, SamStatus.NO_CARD_FOUND))
                return encode_reply(SamReply(0, 0, SamStatus.CARD_FOUND, bytes(4)))
            if command == SELECT_CARD:
                if card is None:
                    return encode_reply(SamReply(0, 0, SamStatus.SELECT_FAILED))
                return encode_reply(SamReply(0, 0, SamStatus.SUCCESS, bytes(8)))
            if command == READ_TEXT_AND_PHOTO:
                if card is None or self._unreadable:
                    return encode_reply(SamReply(0, 0, SamStatus.READ_FAILED))
                self._read_since_placed = True
                self.reads += 1
                payload = encode_text_and_photo(encode_text_block(card), _sample_photo())
                return encode_reply(SamReply(0, 0, SamStatus.SUCCESS, payload))
        return encode_reply(SamReply(0, 0, SamStatus.UNKNOWN_COMMAND))


def _sample_photo() -> bytes:
    """WLT is a licensed compressed format; the stub sends a recognisable placeholder."""
    header = b"WLT-STUB"
    return header + bytes(PHOTO_SIZE - len(header))


def loopback_port(url: str) -> int | None:
    """The TCP port of a `socket://127.0.0.1:PORT` (or localhost) URL, else None."""
    parts = urlsplit(url)
    if parts.scheme != "socket" or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    try:
        return parts.port
    except ValueError:
        return None


def start_from_settings(settings: Any) -> list[SerialStubServer]:
    """Start the ID-card reader stub the configuration points at (loopback socket URLs only)."""
    idcard = settings.devices.idcard
    port = loopback_port(idcard.port) if idcard.enabled else None
    if port is None:
        return []
    # The reader starts empty, as at a terminal at night: a card appears only when someone (a
    # person at the demo, a journey, a test) lays one on it with the `put_card` control.
    return [SerialStubServer(SamModuleFirmware(), port=port, name="idcard").start()]


# -- social-security card -------------------------------------------------------------------------
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")

SAMPLE_SSCARD: dict[str, str] = {
    "card_id": "430821D156000005A1B2C3D4",  # EF05 record 01: the card identification code
    "card_number": "H12345678",  # EF05 record 07
    "ssn": "430821198506121232",  # EF06 record 08: social-security number (the ID number)
    "name": "张小明",  # EF06 record 09, GBK
    "gender": "1",  # EF06 record 0A
    "nation": "01",  # EF06 record 0B (BCD)
    "birth_date": "19850612",  # EF06 record 0D (BCD)
}


class SocialSecurityCardEmulator:
    """An in-process card that answers the APDUs of the social-security application (T=0 style:
    a long answer is announced with 61xx and fetched with GET RESPONSE)."""

    def __init__(self, values: dict[str, str] | None = None, *, t0_chaining: bool = True) -> None:
        self.values = dict(SAMPLE_SSCARD if values is None else values)
        self.t0_chaining = t0_chaining
        self.selected = False
        self.present = True
        self._pending = b""
        self.log: list[bytes] = []

    def _records(self) -> dict[tuple[int, int], bytes]:
        v = self.values
        name = v["name"].encode("gbk").ljust(30, b"\x00")
        return {
            (5, 0x01): v["card_id"].encode("ascii"),
            (5, 0x07): v["card_number"].encode("ascii"),
            (6, 0x08): v["ssn"].encode("ascii"),
            (6, 0x09): name,
            (6, 0x0A): v["gender"].encode("ascii"),
            (6, 0x0B): bytes.fromhex(v["nation"]),
            (6, 0x0D): bytes.fromhex(v["birth_date"]),
        }

    # -- the reader slot (what a PC/SC transport does) -----------------------------------------
    description = "emulated social-security card reader"

    def card_present(self) -> bool:
        return self.present

    def connect(self) -> None:
        if not self.present:
            raise NoCardPresent("no card on the reader")
        self.selected = False

    def disconnect(self) -> None:
        self.selected = False

    def transmit(self, apdu: bytes) -> bytes:
        self.log.append(apdu)
        if not self.present:
            raise NoCardPresent("no card on the reader")
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = apdu[:4]
        if cla != 0x00:
            return b"\x6e\x00"
        if ins == 0xA4 and p1 == 0x04:
            lc = apdu[4] if len(apdu) > 4 else 0
            if apdu[5 : 5 + lc] == SSSE_AID:
                self.selected = True
                return self._answer(b"\x6f\x00")
            return b"\x6a\x82"
        if ins == 0xB2:
            if not self.selected:
                return b"\x69\x85"
            if p2 & 0x07 != 0x04:
                return b"\x6a\x86"
            record = self._records().get((p2 >> 3, p1))
            if record is None:
                return b"\x6a\x83"
            return self._answer(bytes([p1, len(record)]) + record)
        if ins == 0xC0:
            data, self._pending = self._pending, b""
            return data + b"\x90\x00" if data else b"\x6f\x00"
        return b"\x6d\x00"

    def _answer(self, data: bytes) -> bytes:
        if self.t0_chaining:
            self._pending = data
            return bytes([0x61, len(data)])
        return data + b"\x90\x00"
