"""ISO 7816-4 APDUs of the social-security card application, built and parsed without I/O.

Only short APDUs are needed. The card application (人社部 social-security card specification)
is selected by its AID; its files are read with READ RECORD addressed by short file identifier
(SFI): EF05 holds the card's own data (record 01 = card identification code, 07 = card number),
EF06 the holder's (08 = social-security number, 09 = name, 0A = gender, 0B = nation,
0D = birth date). Each record comes back as TAG LEN VALUE with TAG = the record number.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.errors import BadFrame

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")  # "sx1.sh.社会保障" in GBK

EF05_CARD = 5
EF06_HOLDER = 6
RECORD_CARD_ID = 0x01
RECORD_CARD_NUMBER = 0x07
RECORD_SSN = 0x08
RECORD_NAME = 0x09
RECORD_GENDER = 0x0A
RECORD_NATION = 0x0B
RECORD_BIRTH_DATE = 0x0D

SW_OK = 0x9000


@dataclass(frozen=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # expected length; 256 is sent as 00

    def encode(self) -> bytes:
        for name, value in (("CLA", self.cla), ("INS", self.ins), ("P1", self.p1), ("P2", self.p2)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be one byte, not {value}")
        if len(self.data) > 255:
            raise ValueError("a short APDU carries at most 255 bytes of data")
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            if not 1 <= self.le <= 256:
                raise ValueError("Le of a short APDU is 1..256")
            out += bytes([self.le & 0xFF])
        return out


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK


def parse_response(raw: bytes) -> ResponseApdu:
    if len(raw) < 2:
        raise BadFrame(f"a card response needs at least the two status bytes, got {len(raw)}")
    return ResponseApdu(bytes(raw[:-2]), raw[-2], raw[-1])


def select_application(aid: bytes = SSSE_AID) -> CommandApdu:
    return CommandApdu(0x00, 0xA4, 0x04, 0x00, aid)


def read_record(sfi: int, record: int, le: int = 256) -> CommandApdu:
    """P1 = record number, P2 = SFI << 3 | 4 ("P1 is a record number, file by SFI")."""
    if not 1 <= sfi <= 30:
        raise ValueError("an SFI is 1..30")
    return CommandApdu(0x00, 0xB2, record, (sfi << 3) | 0x04, le=le)


def get_response(length: int) -> CommandApdu:
    return CommandApdu(0x00, 0xC0, 0x00, 0x00, le=length or 256)


def record_value(tag: int, data: bytes) -> bytes:
    """The VALUE of a `TAG LEN VALUE` record, checking the tag and the length."""
    if len(data) < 2:
        raise BadFrame(f"record {tag:02X} is too short to hold a tag and a length")
    if data[0] != tag:
        raise BadFrame(f"record {tag:02X} came back with tag {data[0]:02X}")
    length = data[1]
    if len(data) < 2 + length:
        raise BadFrame(f"record {tag:02X} announces {length} bytes but holds {len(data) - 2}")
    return bytes(data[2 : 2 + length])


_SW_SENTENCES = {
    0x6A82: "the card has no social-security application (file not found)",
    0x6A83: "the record does not exist on this card",
    0x6A86: "the card rejected the read parameters",
    0x6982: "the card requires authentication before this read",
    0x6985: "the card refused the read (conditions of use not satisfied)",
    0x6D00: "the card does not know the command",
    0x6E00: "the card does not know the command class",
    0x6700: "the card rejected the command length",
    0x6F00: "the card reported an internal error",
}


def status_sentence(sw: int) -> str:
    return _SW_SENTENCES.get(sw, f"the card answered with status {sw:04X}")
