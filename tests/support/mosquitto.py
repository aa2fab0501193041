"""A real Mosquitto for tests: Debian's /usr/sbin/mosquitto on a free loopback port.

Use it from a test module with
`from tests.support.mosquitto import mosquitto_broker  # noqa: F401` (module-scoped: one broker
per test file, so parallel test runs never share one) or start a private one with
`MosquittoBroker().start()` when a test must restart or kill it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware_stubs.loopback import free_port
from firmware_stubs.mqtt_locker_column import MOSQUITTO, MosquittoBroker

__all__ = ["MOSQUITTO", "MosquittoBroker", "free_port", "mosquitto_broker"]


@pytest.fixture(scope="module")
def mosquitto_broker() -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker()
    try:
        broker.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield broker
    finally:
        broker.cleanup()
