"""The SAM module's wire format and the card's text block, without I/O and without a clock.

Frame: preamble `AA AA AA 96 69`, LEN (2 bytes big-endian, the number of bytes after LEN), body,
CHK = XOR of the two LEN bytes and every body byte. A request body is `CMD PARA [DATA]`, a reply
body `SW1 SW2 SW3 [DATA]`. The decoder is incremental: it skips noise, resynchronises on the
next preamble after a bad checksum, and never hands out a frame whose checksum does not match.

The text block is 256 bytes of UCS-2 little-endian, space padded, in fixed fields; it is decoded
and validated here (GB 11643 check digit, real dates, GB 3304 nation codes) so a garbled read is
rejected before anyone sees it.
"""

from __future__ import annotations

from datetime import date

from devices.errors import BadFrame
from kiosk.ports.identity import Gender

from .errors import CardDataInvalid
from .messages import (
    IdCardRecord,
    LongTerm,
    SamCommand,
    SamFrame,
    SamReply,
    TextAndPhoto,
)
from .nations import nation_name

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2
MIN_LEN = 3  # a request body of CMD PARA plus CHK
MAX_LEN = 4096  # text + photo + fingerprint replies of the larger modules fit well below this

TEXT_SIZE = 256
PHOTO_SIZE = 1024

# (field, size in bytes) in the order the card stores them; sizes add up to 256.
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("gender", 2),
    ("nation_code", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_to", 16),
    ("reserved", 36),
)
LONG_TERM_TEXT = "长期"

_GENDERS: dict[str, Gender] = {"1": "male", "2": "female"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


# -- framing ------------------------------------------------------------------------------------
def checksum(len_and_body: bytes) -> int:
    value = 0
    for byte in len_and_body:
        value ^= byte
    return value


def encode_frame(body: bytes) -> bytes:
    length = len(body) + 1
    if length > MAX_LEN:
        raise ValueError(f"a SAM frame body holds at most {MAX_LEN - 1} bytes, not {len(body)}")
    len_and_body = length.to_bytes(2, "big") + body
    return PREAMBLE + len_and_body + bytes([checksum(len_and_body)])


def encode_request(command: SamCommand, data: bytes = b"") -> bytes:
    return encode_frame(bytes([command.cmd, command.para]) + data)


def encode_reply(reply: SamReply) -> bytes:
    return encode_frame(bytes([reply.sw1, reply.sw2, reply.sw3]) + reply.data)


class SamFrameDecoder:
    """Bytes in, checked frames out; noise and frames with a bad checksum are dropped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.rejected = 0  # frames dropped for a bad checksum or length (a line-quality figure)

    def reset(self) -> None:
        self._buffer.clear()

    def feed(self, data: bytes) -> list[SamFrame]:
        self._buffer.extend(data)
        frames: list[SamFrame] = []
        buffer = self._buffer
        while True:
            start = buffer.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the beginning of a preamble split across reads.
                del buffer[: max(0, len(buffer) - (len(PREAMBLE) - 1))]
                return frames
            del buffer[:start]
            if len(buffer) < HEADER_SIZE:
                return frames
            length = int.from_bytes(buffer[len(PREAMBLE) : HEADER_SIZE], "big")
            if not MIN_LEN <= length <= MAX_LEN:
                self.rejected += 1
                del buffer[:1]
                continue
            end = HEADER_SIZE + length
            if len(buffer) < end:
                return frames
            len_and_body = bytes(buffer[len(PREAMBLE) : end - 1])
            if checksum(len_and_body) != buffer[end - 1]:
                self.rejected += 1
                del buffer[:1]
                continue
            frames.append(SamFrame(len_and_body[2:]))
            del buffer[:end]


def parse_reply(frame: SamFrame) -> SamReply:
    body = frame.body
    if len(body) < 3:
        raise BadFrame(f"a SAM reply needs SW1 SW2 SW3, got {len(body)} byte(s) of body")
    return SamReply(body[0], body[1], body[2], bytes(body[3:]))


def parse_request(frame: SamFrame) -> tuple[SamCommand, bytes]:
    """For the device side (the stub): the command and its data."""
    body = frame.body
    if len(body) < 2:
        raise BadFrame("a SAM request needs CMD and PARA")
    return SamCommand(body[0], body[1]), bytes(body[2:])


def parse_text_and_photo(data: bytes) -> TextAndPhoto:
    if len(data) < 4:
        raise BadFrame("the read reply is too short to hold the text and photo lengths")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_SIZE:
        raise BadFrame(f"the read reply announces {text_len} bytes of text instead of {TEXT_SIZE}")
    if len(data) != 4 + text_len + photo_len:
        raise BadFrame(
            f"the read reply holds {len(data) - 4} bytes after the lengths, "
            f"not the {text_len + photo_len} it announces"
        )
    return TextAndPhoto(bytes(data[4 : 4 + text_len]), bytes(data[4 + text_len :]))


def encode_text_and_photo(text: bytes, photo_wlt: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo_wlt).to_bytes(2, "big") + text + photo_wlt


# -- the text block -----------------------------------------------------------------------------
def id_check_character(first17: str) -> str:
    """GB 11643: the 18th character from the weighted sum of the first 17 digits, modulo 11."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(id_number: str) -> bool:
    return (
        len(id_number) == 18
        and id_number[:17].isascii()
        and id_number[:17].isdigit()
        and id_check_character(id_number[:17]) == id_number[17]
    )


def split_text_block(text: bytes) -> dict[str, str]:
    """Each field decoded from UCS-2 LE with its space (and NUL) padding stripped."""
    if len(text) != TEXT_SIZE:
        raise CardDataInvalid(f"the card's text block is {len(text)} bytes, not {TEXT_SIZE}")
    fields: dict[str, str] = {}
    offset = 0
    for field_name, size in TEXT_FIELDS:
        raw = text[offset : offset + size]
        offset += size
        try:
            value = raw.decode("utf-16-le")
        except UnicodeDecodeError as err:
            raise CardDataInvalid(
                f"the card's {field_name.replace('_', ' ')} field is not valid UCS-2 text"
            ) from err
        fields[field_name] = value.rstrip(" \x00").lstrip()
    return fields


def _date(value: str, field_name: str) -> date:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise CardDataInvalid(f"the card's {field_name} is not a YYYYMMDD date")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as err:
        raise CardDataInvalid(f"the card's {field_name} is not a real date") from err


def decode_text_block(text: bytes) -> IdCardRecord:
    """Validate and decode; every failure is `CardDataInvalid` with no personal data in it."""
    fields = split_text_block(text)
    if not fields["name"]:
        raise CardDataInvalid("the card's name field is empty")
    gender = _GENDERS.get(fields["gender"])
    if gender is None:
        raise CardDataInvalid("the card's gender code is neither 1 (male) nor 2 (female)")
    nation = nation_name(fields["nation_code"])
    if nation is None:
        raise CardDataInvalid("the card's nation code is not in the GB 3304 table")
    id_number = fields["id_number"]
    if not is_valid_id_number(id_number):
        raise CardDataInvalid("the card's ID number fails the GB 11643 check digit")
    valid_to: date | LongTerm
    if fields["valid_to"] == LONG_TERM_TEXT:
        valid_to = "long-term"
    else:
        valid_to = _date(fields["valid_to"], "expiry date")
    return IdCardRecord(
        name=fields["name"],
        gender=gender,
        nation_code=fields["nation_code"],
        nation=nation,
        birth_date=_date(fields["birth_date"], "birth date"),
        address=fields["address"],
        id_number=id_number,
        authority=fields["authority"],
        valid_from=_date(fields["valid_from"], "start of validity"),
        valid_to=valid_to,
    )


def encode_text_block(values: dict[str, str]) -> bytes:
    """For emulators and tests: each field UCS-2 LE, padded with spaces (missing ones blank).

    A value too long for its field raises ValueError: a real card never holds one.
    """
    out = bytearray()
    for field_name, size in TEXT_FIELDS:
        raw = values.get(field_name, "").encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{field_name} takes at most {size // 2} characters")
        out += raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    return bytes(out)
