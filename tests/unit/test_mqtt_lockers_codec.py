"""The locker-column MQTT codec against the golden examples of docs/mqtt-locker-protocol.md.

The byte strings below are copied from the protocol document, not produced by the codec, so a
mistake made the same way in the encoder and the decoder still fails here. The controller's
exactly-once logic (command ids, expiry) is checked without a broker through its `execute`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import BadFrame
from devices.mqtt_lockers.codec import (
    BadMessage,
    ColumnTopics,
    decode_command,
    decode_reply,
    decode_state,
    decode_status,
    encode_command,
    encode_reply,
    encode_state,
    encode_status,
    is_expired,
    reply_address,
)
from devices.mqtt_lockers.driver import BrokerAddress
from devices.mqtt_lockers.messages import (
    ColumnState,
    CommandReply,
    CommandResult,
    ControllerStatus,
    DoorPosition,
    LockState,
    RefusalReason,
    UnlockCommand,
)
from firmware_stubs.mqtt_locker_column import LockerColumnController
from kiosk.ports.lockers import LockerError

# -- golden vectors (verbatim from docs/mqtt-locker-protocol.md) -----------------------------------
GOLDEN_COMMAND = (
    b'{"v":1,"type":"unlock","id":"9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b","board":0,"lock":3,'
    b'"expires_at_ms":1717000002500,"reply_to":"lockers/col-a/reply/kiosk-demo-0001-A"}'
)
GOLDEN_REPLY_OPENED = (
    b'{"v":1,"type":"reply","id":"9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b","result":"opened",'
    b'"reason":null,"replayed":false}'
)
GOLDEN_REPLY_REPLAYED = (
    b'{"v":1,"type":"reply","id":"9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b","result":"opened",'
    b'"reason":null,"replayed":true}'
)
GOLDEN_REPLY_EXPIRED = (
    b'{"v":1,"type":"reply","id":"0b7e","result":"refused","reason":"expired","replayed":false}'
)
GOLDEN_STATE = (
    b'{"v":1,"type":"state","seq":42,"locks":['
    b'{"board":0,"lock":1,"door":"closed","item":false},'
    b'{"board":0,"lock":2,"door":"open","item":true},'
    b'{"board":1,"lock":1,"door":"closed","item":null}]}'
)
GOLDEN_ONLINE = b'{"v":1,"type":"status","online":true}'
GOLDEN_OFFLINE = b'{"v":1,"type":"status","online":false}'

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-locker-protocol.md"


def test_the_golden_vectors_are_the_documents_examples() -> None:
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    for golden in (
        GOLDEN_COMMAND,
        GOLDEN_REPLY_OPENED,
        GOLDEN_REPLY_REPLAYED,
        GOLDEN_REPLY_EXPIRED,
        GOLDEN_STATE,
        GOLDEN_ONLINE,
        GOLDEN_OFFLINE,
    ):
        assert golden.decode() in text


COMMAND = UnlockCommand(
    command_id="9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b",
    board=0,
    lock=3,
    expires_at_ms=1717000002500,
    reply_to="lockers/col-a/reply/kiosk-demo-0001-A",
)
STATE = ColumnState(
    seq=42,
    locks=(
        LockState(0, 1, DoorPosition.CLOSED, False),
        LockState(0, 2, DoorPosition.OPEN, True),
        LockState(1, 1, DoorPosition.CLOSED, None),
    ),
)


def test_golden_command_both_ways() -> None:
    assert encode_command(COMMAND) == GOLDEN_COMMAND
    assert decode_command(GOLDEN_COMMAND) == COMMAND


def test_golden_replies_both_ways() -> None:
    opened = CommandReply("9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b", CommandResult.OPENED)
    replayed = CommandReply(opened.command_id, CommandResult.OPENED, replayed=True)
    expired = CommandReply("0b7e", CommandResult.REFUSED, RefusalReason.EXPIRED)
    for message, golden in (
        (opened, GOLDEN_REPLY_OPENED),
        (replayed, GOLDEN_REPLY_REPLAYED),
        (expired, GOLDEN_REPLY_EXPIRED),
    ):
        assert encode_reply(message) == golden
        assert decode_reply(golden) == message


def test_golden_state_and_status_both_ways() -> None:
    assert encode_state(STATE) == GOLDEN_STATE
    assert decode_state(GOLDEN_STATE) == STATE
    assert encode_status(ControllerStatus(True)) == GOLDEN_ONLINE
    assert encode_status(ControllerStatus(False)) == GOLDEN_OFFLINE
    assert decode_status(GOLDEN_OFFLINE) == ControllerStatus(False)


def test_pretty_printed_json_and_unknown_keys_are_accepted() -> None:
    """A person typing into mosquitto_pub, or a newer controller adding a field, must still work."""
    document = json.loads(GOLDEN_STATE)
    document["firmware"] = "2.1.0"
    document["locks"][0]["temperature_c"] = 21.5
    assert decode_state(json.dumps(document, indent=2).encode()) == STATE


def test_topics_of_one_controller() -> None:
    topics = ColumnTopics("col-a")
    assert topics.command == "lockers/col-a/cmd"
    assert topics.state == "lockers/col-a/state"
    assert topics.status == "lockers/col-a/status"
    assert topics.reply("kiosk-demo-0001-A") == "lockers/col-a/reply/kiosk-demo-0001-A"
    for bad in ("", "a/b", "col+", "#", "x" * 65):
        with pytest.raises(ValueError, match="controller id"):
            ColumnTopics(bad)


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "one JSON object"),
        (GOLDEN_COMMAND.replace(b'"v":1', b'"v":2'), "version"),
        (GOLDEN_COMMAND.replace(b'"v":1', b'"v":true'), "version"),
        (GOLDEN_COMMAND.replace(b'"unlock"', b'"lock"'), "expected a 'unlock'"),
        (GOLDEN_COMMAND.replace(b'"lock":3', b'"lock":true'), "'lock' must be an integer"),
        (GOLDEN_COMMAND.replace(b'"lock":3', b'"lock":0'), "between 1 and 255"),
        (GOLDEN_COMMAND.replace(b'"lock":3', b'"lock":3.0'), "'lock' must be an integer"),
        (GOLDEN_COMMAND.replace(b'"board":0', b'"board":-1'), "between 0 and 255"),
        (GOLDEN_COMMAND.replace(b'"lock":3', b'"lock":3,"lock":4'), "appears twice"),
        (GOLDEN_COMMAND.replace(b"1717000002500", b"NaN"), "not a JSON number"),
        (GOLDEN_COMMAND.replace(b"1717000002500", b"1e400"), "must be an integer"),
        (GOLDEN_COMMAND.replace(b"kiosk-demo-0001-A", b"#"), "without wildcards"),
        (GOLDEN_COMMAND.replace(b'"id":"9f1c', b'"id":"9f/1c'), "'id' must be"),
        (b"[" * 100_000, "nests too deeply|not JSON|at most"),
    ],
)
def test_command_rejections_say_what_is_wrong(payload: bytes, complaint: str) -> None:
    with pytest.raises(BadMessage, match=complaint):
        decode_command(payload)


def test_reply_and_state_rejections() -> None:
    with pytest.raises(BadMessage, match="only given when"):
        decode_reply(GOLDEN_REPLY_OPENED.replace(b'"reason":null', b'"reason":"expired"'))
    with pytest.raises(BadMessage, match="'reason' has an unknown value"):
        decode_reply(GOLDEN_REPLY_EXPIRED.replace(b'"expired"', b'"late"'))
    with pytest.raises(BadMessage, match="'result' has an unknown value"):
        decode_reply(GOLDEN_REPLY_OPENED.replace(b'"opened"', b'"OPENED"'))
    with pytest.raises(BadMessage, match="listed twice"):
        decode_state(GOLDEN_STATE.replace(b'"board":1,"lock":1', b'"board":0,"lock":1'))
    with pytest.raises(BadMessage, match="'door' has an unknown value"):
        decode_state(GOLDEN_STATE.replace(b'"door":"open"', b'"door":"ajar"'))
    with pytest.raises(BadMessage, match="'item' must be true or false"):
        decode_state(GOLDEN_STATE.replace(b',"item":null', b""))
    with pytest.raises(BadMessage, match="'online' must be"):
        decode_status(b'{"v":1,"type":"status","online":"yes"}')
    assert issubclass(BadMessage, BadFrame)


def test_reply_address_of_an_unreadable_command() -> None:
    newer = GOLDEN_COMMAND.replace(b'"v":1', b'"v":2')
    assert reply_address(newer) == (COMMAND.command_id, COMMAND.reply_to)
    assert reply_address(b"{") is None
    assert reply_address(b'{"id":"a","reply_to":"x/#"}') is None
    assert reply_address(b'{"id":"a b","reply_to":"x"}') is None


def test_expiry_is_exclusive_of_the_instant() -> None:
    assert not is_expired(COMMAND, COMMAND.expires_at_ms - 1)
    assert is_expired(COMMAND, COMMAND.expires_at_ms)


def test_broker_addresses() -> None:
    assert BrokerAddress.parse("mqtt://10.0.0.5") == BrokerAddress("10.0.0.5", 1883, False)
    assert BrokerAddress.parse("mqtts://b.example:9883") == BrokerAddress("b.example", 9883, True)
    assert BrokerAddress.parse("mqtt://kiosk:p%40ss@h:1") == BrokerAddress(
        "h", 1, False, "kiosk", "p@ss"
    )
    for bad in ("http://h:1", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(LockerError, match="broker address"):
            BrokerAddress.parse(bad)


# -- property-based: decoders never crash and never accept an invalid message ----------------------
DECODERS = (decode_command, decode_reply, decode_state, decode_status)
GOLDENS = (GOLDEN_COMMAND, GOLDEN_REPLY_EXPIRED, GOLDEN_STATE, GOLDEN_ONLINE)
ENCODERS = {
    UnlockCommand: encode_command,
    CommandReply: encode_reply,
    ColumnState: encode_state,
    ControllerStatus: encode_status,
}


def _accepted_is_valid(message: object, decoder: object) -> None:
    """Whatever a decoder accepts must be a message our own encoder reproduces exactly."""
    encoded = ENCODERS[type(message)](message)  # type: ignore[operator]
    assert decoder(encoded) == message  # type: ignore[operator]


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_bad_message(payload: bytes) -> None:
    for decoder in DECODERS:
        try:
            message = decoder(payload)
        except BadMessage:
            continue
        _accepted_is_valid(message, decoder)


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, 3), position=st.integers(0, 10_000), flip=st.integers(1, 255))
def test_one_flipped_byte_is_rejected_or_still_a_valid_message(
    which: int, position: int, flip: int
) -> None:
    golden = bytearray(GOLDENS[which])
    golden[position % len(golden)] ^= flip
    decoder = DECODERS[which]
    try:
        message = decoder(bytes(golden))
    except BadMessage:
        return
    _accepted_is_valid(message, decoder)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    which=st.integers(0, 3),
    key=st.sampled_from(
        [
            "v",
            "type",
            "id",
            "board",
            "lock",
            "expires_at_ms",
            "reply_to",
            "result",
            "reason",
            "replayed",
            "seq",
            "locks",
            "online",
        ]
    ),
    value=json_values,
)
def test_any_value_in_any_field_is_rejected_or_valid(which: int, key: str, value: object) -> None:
    document = json.loads(GOLDENS[which])
    document[key] = value
    decoder = DECODERS[which]
    try:
        message = decoder(json.dumps(document).encode())
    except BadMessage:
        return
    _accepted_is_valid(message, decoder)


# -- the controller's exactly-once logic, without a broker
def _controller() -> LockerColumnController:
    return LockerColumnController("unit", "mqtt://127.0.0.1:1", [(0, 1), (0, 2)])


def _unlock(command_id: str, lock: int = 1, expires_at_ms: int = 2_000) -> UnlockCommand:
    return UnlockCommand(command_id, 0, lock, expires_at_ms, "lockers/unit/reply/t")


def test_a_repeated_command_id_pulses_once_and_replays_the_answer() -> None:
    controller = _controller()
    first = controller.execute(_unlock("a1"), now_ms=1_000)
    again = controller.execute(_unlock("a1"), now_ms=1_500)
    assert first == CommandReply("a1", CommandResult.OPENED)
    assert again == CommandReply("a1", CommandResult.OPENED, replayed=True)
    assert controller.control("pulses", {"lock": 1}) == {"pulses": 1}
    # a new id on the now open door still pulses, and says so
    assert controller.execute(_unlock("a2"), 1_000).result is CommandResult.ALREADY_OPEN


def test_a_late_command_is_refused_without_a_pulse_even_when_repeated() -> None:
    controller = _controller()
    late = controller.execute(_unlock("b1", expires_at_ms=1_000), now_ms=1_000)
    assert late == CommandReply("b1", CommandResult.REFUSED, RefusalReason.EXPIRED)
    assert controller.execute(_unlock("b1", expires_at_ms=9_999), now_ms=1_000).replayed
    assert controller.control("pulses", {"lock": 1}) == {"pulses": 0}


def test_unknown_lock_and_jam() -> None:
    controller = _controller()
    assert controller.execute(_unlock("c1", lock=9), 0).reason is RefusalReason.NO_SUCH_LOCK
    controller.control("jam", {"lock": 2})
    assert controller.execute(_unlock("c2", lock=2), 0).result is CommandResult.JAMMED
    with pytest.raises(KeyError, match="unknown command"):
        controller.control("explode", {})
