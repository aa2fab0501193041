"""Networked locker columns: the JSON-over-MQTT protocol of docs/mqtt-locker-protocol.md.

`messages` holds the values, `codec` the pure encoding, `driver` the paho-mqtt adapter that
implements `kiosk.ports.lockers.LockerColumn` exactly like the serial lock-board adapter.
"""

from .codec import BadMessage, ColumnTopics
from .driver import BrokerAddress, MqttLockerColumn, column_from_settings

__all__ = [
    "BadMessage",
    "BrokerAddress",
    "ColumnTopics",
    "MqttLockerColumn",
    "column_from_settings",
]
