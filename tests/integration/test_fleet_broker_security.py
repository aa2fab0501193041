"""The fleet broker as shipped (`kiosk fleet broker-config`) on a real Mosquitto: TLS only, one
account per terminal, and ACL patterns that confine each terminal to its own topics.

What Mosquitto 2.0 does, measured here and asserted precisely:
- a SUBSCRIBE to another terminal's command topic is *granted* (SUBACK QoS 1: the ACL is checked
  per message at delivery), and then nothing published there is ever delivered to it;
- a QoS 1 PUBLISH into another terminal's tree is answered with PUBACK 0x87 "Not authorized" and
  dropped: no subscriber receives it;
- a wrong password or an unknown user gets CONNACK 0x87 "Not authorized" (not 0x86);
- a client trusting another CA fails the TLS handshake before any MQTT is spoken.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet_console.broker_setup import BrokerOptions, write_broker_config
from fleet_console.protocol import new_command, sign_command, verify_command
from tests.support.mqtt_probe import MqttProbe
from tests.support.secure_mosquitto import SecureBroker, secure_fleet_broker

NOT_AUTHORIZED = 0x87
TERMINALS = ("gz-cili-001", "gz-cili-002")
CONSOLE = "fleet-console"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_fleet_broker(tmp_path_factory.mktemp("secure-broker"), TERMINALS) as running:
        yield running


@pytest.fixture
def clients(broker: SecureBroker) -> Iterator[dict[str, MqttProbe]]:
    opened: dict[str, MqttProbe] = {}
    for user in (*TERMINALS, CONSOLE):
        probe = MqttProbe(
            "localhost",
            broker.port,
            f"{user}-{uuid.uuid4().hex[:6]}",
            username=user,
            password=broker.password(user),
            ca_file=broker.files.ca_certificate,
        )
        assert not probe.connect().is_failure, broker.log()[-500:]
        opened[user] = probe
    yield opened
    for probe in opened.values():
        probe.close()


def test_a_terminal_never_receives_another_terminals_commands(
    clients: dict[str, MqttProbe],
) -> None:
    spy, victim, console = clients["gz-cili-001"], clients["gz-cili-002"], clients[CONSOLE]
    granted = spy.subscribe("gzk/1/gz-cili-002/cmd")
    assert [code.value for code in granted] == [1]  # Mosquitto grants; the ACL acts per message
    assert [c.value for c in spy.subscribe("gzk/1/+/cmd")] == [1]
    assert [c.value for c in spy.subscribe("gzk/1/gz-cili-001/cmd")] == [1]
    assert [c.value for c in victim.subscribe("gzk/1/gz-cili-002/cmd")] == [1]

    key = Ed25519PrivateKey.generate()
    command = new_command("print-test-page", {}, issuer="tech", now_s=1.7e9, lifetime_s=60)
    assert console.publish("gzk/1/gz-cili-002/cmd", sign_command(command, key)).value == 0
    own = new_command("self-test", {}, issuer="tech", now_s=1.7e9, lifetime_s=60)
    assert console.publish("gzk/1/gz-cili-001/cmd", sign_command(own, key)).value == 0

    delivered = victim.wait_message(lambda m: m.topic == "gzk/1/gz-cili-002/cmd")
    assert verify_command(delivered.payload, key.public_key()).id == command.id
    # The spy's own command was published after the victim's, by the same client, so once it
    # has arrived the victim's command would have arrived before it.
    spy.wait_message(lambda m: m.topic == "gzk/1/gz-cili-001/cmd")
    assert "gzk/1/gz-cili-002/cmd" not in spy.topics()


def test_a_terminal_cannot_publish_into_another_terminals_tree(
    clients: dict[str, MqttProbe],
) -> None:
    forger, console = clients["gz-cili-001"], clients[CONSOLE]
    console.subscribe("homie/5/#")
    console.subscribe("gzk/1/+/reply/#")
    forged = {
        "homie/5/gz-cili-002/$state": b"lost",
        "homie/5/gz-cili-002/$alert/door-1-attention": b'{"severity":"critical"}',
        "gzk/1/gz-cili-002/reply/fleet-console": b'{"id":"x","status":"SUCCEEDED"}',
        "gzk/1/gz-cili-002/cmd": b"{}",
    }
    for topic, payload in forged.items():
        assert forger.publish(topic, payload).value == NOT_AUTHORIZED, topic
    assert forger.publish("homie/5/gz-cili-001/$state", b"ready").value in (0, 0x10)

    console.wait_message(lambda m: m.topic == "homie/5/gz-cili-001/$state")
    assert not [t for t in console.topics() if "gz-cili-002" in t]


def test_the_console_account_cannot_write_a_terminals_tree_or_replies(
    clients: dict[str, MqttProbe],
) -> None:
    """Roles do not leak either way: a stolen console account cannot fake a terminal's state."""
    console = clients[CONSOLE]
    assert console.publish("homie/5/gz-cili-001/$state", b"lost").value == NOT_AUTHORIZED
    assert console.publish("gzk/1/gz-cili-001/reply/x", b"{}").value == NOT_AUTHORIZED


@pytest.mark.parametrize(
    ("user", "password"), [("gz-cili-001", "wrong-password"), ("gz-unknown-9", "whatever")]
)
def test_a_wrong_credential_is_refused_at_connect(
    broker: SecureBroker, user: str, password: str
) -> None:
    probe = MqttProbe(
        "localhost",
        broker.port,
        f"bad-{uuid.uuid4().hex[:6]}",
        username=user,
        password=password,
        ca_file=broker.files.ca_certificate,
    )
    try:
        refused = probe.connect()
    finally:
        probe.close()
    assert refused.is_failure
    assert refused.value == NOT_AUTHORIZED


def test_anonymous_is_refused(broker: SecureBroker) -> None:
    probe = MqttProbe("localhost", broker.port, "anonymous", ca_file=broker.files.ca_certificate)
    try:
        assert probe.connect().value == NOT_AUTHORIZED
    finally:
        probe.close()


def test_tls_with_the_wrong_ca_fails_the_handshake(broker: SecureBroker, tmp_path: Path) -> None:
    impostor = write_broker_config(tmp_path / "other", [], BrokerOptions())
    probe = MqttProbe(
        "localhost",
        broker.port,
        "wrong-ca",
        username="gz-cili-001",
        password=broker.password("gz-cili-001"),
        ca_file=impostor.ca_certificate,
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        probe.client.connect("localhost", broker.port)
    probe.close()
