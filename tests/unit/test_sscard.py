"""The social-security card application: APDUs byte-exact, run against independent cards."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import BadFrame, DeviceOffline
from devices.idcard.errors import NoCardPresent
from devices.sscard.apdu import (
    CommandApdu,
    get_response,
    parse_response,
    read_record,
    record_value,
    select_application,
)
from devices.sscard.application import SocialSecurityApplication
from devices.sscard.errors import CardApplicationError
from devices.sscard.reader import SocialSecurityCardReader
from firmware_stubs.idcard import SAMPLE_SSCARD, SocialSecurityCardEmulator
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.identity import CardPlaced, CardRemoved
from tests.support.waiting import wait_for

SELECT_SSSE = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")


class ScriptedCard:
    """An independent card: a table of exact command bytes → exact answer bytes, from the spec."""

    description = "scripted card"

    def __init__(self, script: dict[str, str]) -> None:
        self.script = {bytes.fromhex(k): bytes.fromhex(v) for k, v in script.items()}
        self.sent: list[bytes] = []
        self.connected = False

    def card_present(self) -> bool:
        return True

    def connect(self) -> None:
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.script.get(apdu, bytes.fromhex("6A83"))


NAME_GBK = "李四".encode("gbk").hex() + "00" * 26
SCRIPT = {
    "00A404000F7378312E73682EC9E7BBE1B1A3D5CF": "9000",
    "00B2012C00": "0110" + b"430100D15600000A".hex() + "9000",
    "00B2083400": "0812" + b"11010519491231002X".hex() + "9000",
    "00B2093400": "091E" + NAME_GBK + "9000",
    "00B20A3400": "0A01" + b"2".hex() + "9000",
    "00B20B3400": "0B01" + "04" + "9000",
    "00B20D3400": "0D04" + "19491231" + "9000",
}


def test_apdus_are_byte_exact() -> None:
    assert select_application().encode() == SELECT_SSSE
    assert read_record(5, 1).encode() == bytes.fromhex("00B2012C00")
    assert read_record(6, 0x08).encode() == bytes.fromhex("00B2083400")
    assert get_response(0x12).encode() == bytes.fromhex("00C0000012")
    assert CommandApdu(0x80, 0xCA, 0x9F, 0x7F, le=256).encode() == bytes.fromhex("80CA9F7F00")
    with pytest.raises(ValueError, match="one byte"):
        CommandApdu(0x100, 0, 0, 0).encode()


def test_the_application_reads_an_independent_card() -> None:
    card = ScriptedCard(SCRIPT)
    data = SocialSecurityApplication(card).read_card()
    assert card.sent[0] == SELECT_SSSE
    assert card.sent[1] == bytes.fromhex("00B2012C00")
    assert not card.connected
    assert data.card_id == "430100D15600000A"
    assert data.card_number is None  # record 07 missing (6A83) is optional
    identity = data.to_identity()
    assert identity.name == "李四"
    assert identity.id_number == "11010519491231002X"
    assert identity.source == "social_security_card"
    assert identity.gender == "female"
    assert identity.nation == "藏"
    assert identity.birth_date == date(1949, 12, 31)
    assert identity.masked == "李* 1101**********002X"
    assert "11010519491231002X" not in repr(data)


def test_wrong_le_is_resent_with_the_length_the_card_names() -> None:
    script = dict(SCRIPT)
    script["00B2083400"] = "6C14"
    script["00B2083414"] = "0812" + b"11010519491231002X".hex() + "9000"
    data = SocialSecurityApplication(ScriptedCard(script)).read_card()
    assert data.ssn == "11010519491231002X"


@pytest.mark.parametrize("chaining", [True, False])
def test_the_emulated_card_with_and_without_t0_chaining(chaining: bool) -> None:
    card = SocialSecurityCardEmulator(t0_chaining=chaining)
    identity = SocialSecurityApplication(card).read_card().to_identity()
    assert identity.name == SAMPLE_SSCARD["name"]
    assert identity.id_number == SAMPLE_SSCARD["ssn"]
    assert identity.card_number == SAMPLE_SSCARD["card_number"]
    assert identity.nation == "汉"
    assert any(apdu[:2] == b"\x00\xc0" for apdu in card.log) is chaining


def test_a_card_without_the_application_is_refused_with_a_sentence() -> None:
    card = ScriptedCard({"00A404000F7378312E73682EC9E7BBE1B1A3D5CF": "6A82"})
    with pytest.raises(CardApplicationError, match="no social-security application"):
        SocialSecurityApplication(card).read_card()
    assert not card.connected


def test_a_bad_check_digit_is_a_read_error_and_a_missing_card_says_so() -> None:
    script = dict(SCRIPT)
    script["00B2083400"] = "0812" + b"110105194912310021".hex() + "9000"
    with pytest.raises(CardApplicationError, match="GB 11643") as caught:
        SocialSecurityApplication(ScriptedCard(script)).read_card()
    assert "110105194912310021" not in str(caught.value)
    absent = SocialSecurityCardEmulator()
    absent.present = False
    with pytest.raises(NoCardPresent):
        SocialSecurityApplication(absent).read_card()


def test_records_with_the_wrong_tag_or_length_are_bad_frames() -> None:
    assert record_value(0x08, bytes.fromhex("0802AABB")) == b"\xaa\xbb"
    with pytest.raises(BadFrame, match="tag 09"):
        record_value(0x08, bytes.fromhex("0902AABB"))
    with pytest.raises(BadFrame, match="announces 3"):
        record_value(0x08, bytes.fromhex("0803AABB"))


@given(st.binary(max_size=300), st.integers(1, 30))
def test_arbitrary_answers_raise_only_device_errors(raw: bytes, tag: int) -> None:
    try:
        response = parse_response(raw)
        record_value(tag, response.data)
    except BadFrame:
        pass


@given(st.binary(max_size=40))
def test_arbitrary_card_answers_never_crash_the_application(raw: bytes) -> None:
    class Garbage(ScriptedCard):
        def transmit(self, apdu: bytes) -> bytes:
            return raw

    with pytest.raises((BadFrame, CardApplicationError)):
        SocialSecurityApplication(Garbage({})).read_card()


def test_the_reader_publishes_placed_and_removed() -> None:
    card = SocialSecurityCardEmulator()
    card.present = False
    events: list[object] = []
    reader = SocialSecurityCardReader(card, poll_interval_s=0.02)
    reader.start(events.append)
    try:
        card.present = True
        assert wait_for(lambda: any(isinstance(e, CardPlaced) for e in events))
        assert reader.current() is not None
        card.present = False
        assert wait_for(lambda: CardRemoved("social_security_card") in events)
        assert reader.current() is None
        assert reader.health().state is HealthState.OK
    finally:
        reader.stop()
    assert not any(isinstance(e, DeviceHealthChanged) for e in events)


def test_pcsc_transport_without_pyscard_is_offline_with_a_sentence() -> None:
    pytest.importorskip("devices.sscard.pcsc")
    try:
        import smartcard  # noqa: F401
    except ModuleNotFoundError:
        from devices.sscard.pcsc import PcscTransport

        with pytest.raises(DeviceOffline, match="pyscard"):
            PcscTransport()
    else:
        pytest.skip("pyscard is installed here")
