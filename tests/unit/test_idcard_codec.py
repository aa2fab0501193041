"""The SAM codec and the text block against the protocol's own frames and hand-built blocks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import BadFrame
from devices.idcard.codec import (
    PREAMBLE,
    SamFrameDecoder,
    decode_text_block,
    encode_frame,
    encode_request,
    id_check_character,
    is_valid_id_number,
    parse_reply,
    parse_text_and_photo,
)
from devices.idcard.errors import CardDataInvalid
from devices.idcard.messages import FIND_CARD, READ_TEXT_AND_PHOTO, SELECT_CARD, SamReply
from devices.idcard.nations import NATION_NAMES, nation_name
from kiosk.ports.identity import Identity, mask_id_number, mask_name

FIND_CARD_REQUEST = bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")
NO_CARD_REPLY = bytes.fromhex("AA AA AA 96 69 00 04 00 00 80 84")


def ucs2(value: str, size: int) -> bytes:
    """Written from the spec, not with the codec: UCS-2 LE, padded with spaces to `size`."""
    raw = value.encode("utf-16-le")
    return raw + b" \x00" * ((size - len(raw)) // 2)


def text_block(**overrides: str) -> bytes:
    fields = {
        "name": "王晓红",
        "gender": "2",
        "nation": "03",
        "birth": "19900307",
        "address": "广东省广州市天河区体育西路1号",
        "id_number": "440106199003071231",
        "authority": "广州市公安局天河分局",
        "valid_from": "20150101",
        "valid_to": "20350101",
    } | overrides
    return (
        ucs2(fields["name"], 30)
        + ucs2(fields["gender"], 2)
        + ucs2(fields["nation"], 4)
        + ucs2(fields["birth"], 16)
        + ucs2(fields["address"], 70)
        + ucs2(fields["id_number"], 36)
        + ucs2(fields["authority"], 30)
        + ucs2(fields["valid_from"], 16)
        + ucs2(fields["valid_to"], 16)
        + ucs2("", 36)
    )


# -- golden vectors ------------------------------------------------------------------------------
def test_find_card_request_is_byte_exact() -> None:
    assert encode_request(FIND_CARD) == FIND_CARD_REQUEST


def test_select_and_read_requests_follow_the_same_framing() -> None:
    assert encode_request(SELECT_CARD) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert encode_request(READ_TEXT_AND_PHOTO) == bytes.fromhex("AAAAAA9669 0003 3001 32")


def test_no_card_reply_decodes_to_status_80() -> None:
    frames = SamFrameDecoder().feed(NO_CARD_REPLY)
    assert [parse_reply(f) for f in frames] == [SamReply(0x00, 0x00, 0x80)]


def test_golden_reply_survives_noise_and_byte_by_byte_delivery() -> None:
    decoder = SamFrameDecoder()
    stream = b"\xff\x00\xaa\xaa" + NO_CARD_REPLY + b"\x96" + FIND_CARD_REQUEST
    frames = [frame for byte in stream for frame in decoder.feed(bytes([byte]))]
    assert [f.body for f in frames] == [b"\x00\x00\x80", b"\x20\x01"]


def test_a_reply_with_a_bad_checksum_is_dropped_and_the_next_one_kept() -> None:
    decoder = SamFrameDecoder()
    bad = NO_CARD_REPLY[:-1] + b"\x85"
    frames = decoder.feed(bad + NO_CARD_REPLY)
    assert [f.body for f in frames] == [b"\x00\x00\x80"]
    assert decoder.rejected == 1


def test_text_and_photo_lengths_are_checked() -> None:
    text, photo = text_block(), bytes(1024)
    ok = b"\x01\x00\x04\x00" + text + photo
    assert parse_text_and_photo(ok).text == text
    with pytest.raises(BadFrame, match="announces 255 bytes of text"):
        parse_text_and_photo(b"\x00\xff\x04\x00" + text + photo)
    with pytest.raises(BadFrame, match="not the 1280"):
        parse_text_and_photo(ok[:-1])


# -- the text block -------------------------------------------------------------------------------
def test_text_block_decodes_every_field() -> None:
    record = decode_text_block(text_block())
    assert record.as_json() == {
        "name": "王晓红",
        "gender": "female",
        "nation": "回",
        "nation_code": "03",
        "birth_date": "1990-03-07",
        "address": "广东省广州市天河区体育西路1号",
        "id_number": "440106199003071231",
        "authority": "广州市公安局天河分局",
        "valid_from": "2015-01-01",
        "valid_to": "2035-01-01",
    }


def test_long_term_validity_and_an_x_check_digit() -> None:
    record = decode_text_block(
        text_block(valid_to="长期", id_number="11010519491231002X", gender="1", nation="98")
    )
    assert record.valid_to == "long-term"
    assert record.gender == "male"
    assert record.nation == "外国血统中国籍人士"
    assert record.birth_date == date(1990, 3, 7)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id_number": "440106199003071232"}, "GB 11643 check digit"),
        ({"id_number": "44010619900307123"}, "GB 11643 check digit"),
        ({"gender": "0"}, "gender code"),
        ({"nation": "57"}, "GB 3304"),
        ({"birth": "19900230"}, "not a real date"),
        ({"valid_to": "2035"}, "YYYYMMDD"),
        ({"name": ""}, "name field is empty"),
    ],
)
def test_invalid_card_data_is_a_read_error_without_personal_data(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(CardDataInvalid, match=message) as caught:
        decode_text_block(text_block(**overrides))
    assert "440106" not in str(caught.value)
    assert "王" not in str(caught.value)


def test_a_block_of_the_wrong_size_or_broken_ucs2_is_refused() -> None:
    with pytest.raises(CardDataInvalid):
        decode_text_block(bytes(255))
    broken = bytearray(text_block())
    broken[0:2] = b"\x00\xd8"  # a lone high surrogate
    with pytest.raises(CardDataInvalid, match="not valid UCS-2"):
        decode_text_block(bytes(broken))


def test_check_digit_known_numbers() -> None:
    assert id_check_character("11010519491231002") == "X"
    assert is_valid_id_number("430821198506121232")
    assert not is_valid_id_number("43082119850612123２")  # full-width digit


def test_gb3304_table_has_the_56_groups_and_the_two_special_codes() -> None:
    assert len(NATION_NAMES) == 58
    assert sorted(NATION_NAMES)[:56] == [f"{n:02d}" for n in range(1, 57)]
    assert nation_name("01") == "汉"
    assert nation_name("56") == "基诺"
    assert nation_name("97") == "其他"
    assert nation_name("99") is None
    assert len(set(NATION_NAMES.values())) == 58


# -- masking --------------------------------------------------------------------------------------
def test_masked_form_and_repr_never_show_the_full_data() -> None:
    identity = Identity(name="张三明", id_number="440106199003071234", source="id_card")
    assert identity.masked == "张*明 4401**********1234"
    assert "440106199003071234" not in repr(identity)
    assert "三" not in f"{identity}"
    assert mask_name("李四") == "李*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_id_number("1234") == "****"
    record = decode_text_block(text_block())
    assert "440106199003071231" not in repr(record)


# -- property-based -------------------------------------------------------------------------------
def _frame_checksum_ok(raw: bytes) -> bool:
    length = int.from_bytes(raw[5:7], "big")
    check = 0
    for byte in raw[5 : 7 + length - 1]:
        check ^= byte
    return check == raw[7 + length - 1]


@given(st.binary(max_size=600), st.lists(st.integers(1, 50), max_size=20))
def test_arbitrary_bytes_never_raise_and_every_frame_has_a_good_checksum(
    data: bytes, cuts: list[int]
) -> None:
    decoder = SamFrameDecoder()
    frames = []
    position = 0
    for cut in cuts:
        frames += decoder.feed(data[position : position + cut])
        position += cut
    frames += decoder.feed(data[position:])
    for frame in frames:
        encoded = encode_frame(frame.body)
        assert encoded in data
        assert _frame_checksum_ok(encoded)


@given(st.binary(min_size=2, max_size=300), st.data())
def test_a_valid_frame_with_one_byte_flipped_is_never_accepted(
    body: bytes, data: st.DataObject
) -> None:
    frame = bytearray(encode_frame(body))
    index = data.draw(st.integers(0, len(frame) - 1))
    frame[index] ^= data.draw(st.integers(1, 255))
    frames = SamFrameDecoder().feed(bytes(frame))
    # The damaged frame itself is never handed out; a shorter frame can only come out when the
    # damage made its own bytes consistent (then its checksum is right for what it holds).
    assert all(len(f.body) < len(body) for f in frames)
    assert all(_frame_checksum_ok(encode_frame(f.body)) for f in frames)
    if index < len(PREAMBLE) or index == len(frame) - 1:
        assert frames == []


@given(st.binary(min_size=2, max_size=200), st.binary(max_size=40))
def test_round_trip_after_noise(body: bytes, noise: bytes) -> None:
    frames = SamFrameDecoder().feed(noise.replace(b"\xaa", b"") + encode_frame(body))
    assert [f.body for f in frames] == [body]
