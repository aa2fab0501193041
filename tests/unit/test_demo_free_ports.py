"""The demo moves devices left at their built-in addresses to free ports, and keeps chosen ones."""

from __future__ import annotations

from bootstrap.demo import devices_on_free_ports
from kiosk.config import Settings, settings_from_mapping


def _addresses(settings: Settings) -> list[str]:
    devices = settings.devices
    return [
        *(column.port for column in devices.locker_columns),
        devices.idcard.port,
        devices.scanner.port,
        devices.printer.url,
        devices.camera.source,
    ]


def test_default_addresses_move_to_distinct_free_loopback_ports() -> None:
    moved = devices_on_free_ports(Settings())
    addresses = _addresses(moved)
    assert not set(addresses) & set(_addresses(Settings()))
    assert all("127.0.0.1:" in address for address in addresses)
    assert len(set(addresses)) == len(addresses)
    assert moved.devices.camera.source.endswith("/stream.mjpg")
    assert moved.devices.printer.url.startswith("tcp://")


def test_addresses_a_configuration_chose_are_kept() -> None:
    chosen = settings_from_mapping(
        {
            "devices": {
                "locker_columns": [
                    {"name": "A", "port": "/dev/ttyUSB0"},
                    {
                        "name": "B",
                        "transport": "mqtt",
                        "controller_id": "column-b",
                        "compartments": [{"number": 99, "lock": 1, "size": "S", "row": 1}],
                    },
                ],
                "scanner": {"port": "socket://127.0.0.1:7203"},
                "printer": {"url": "usb://04b8:0202"},
            }
        }
    )
    moved = devices_on_free_ports(chosen)
    assert moved.devices.locker_columns == chosen.devices.locker_columns
    assert moved.devices.scanner == chosen.devices.scanner
    assert moved.devices.printer == chosen.devices.printer
    assert moved.devices.idcard.port != chosen.devices.idcard.port  # left at the default: moved
