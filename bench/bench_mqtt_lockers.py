"""Unlock round trip of an MQTT locker column, and how fast the terminal notices trouble.

A private Mosquitto on loopback, the emulated column controller and the real driver: the unlock
latency (call to outcome, p50/p99), the time from a controller power cut to the column reading
`offline` (the broker's last will), and the time from a broker restart to the column being `ok`
again (paho's reconnect). Prints figures; no assertion.

    .venv/bin/python bench/bench_mqtt_lockers.py [--unlocks 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from devices.mqtt_lockers import MqttLockerColumn
from firmware_stubs.mqtt_locker_column import LockerColumnController, MosquittoBroker
from kiosk.ports.health import HealthState
from kiosk.ports.lockers import CompartmentSpec


def seconds_until(condition: Callable[[], bool], timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise SystemExit("gave up waiting: the column never got there")
        time.sleep(0.002)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--unlocks", type=int, default=300)
    args = parser.parse_args()

    broker = MosquittoBroker().start()
    controller = LockerColumnController("bench", broker.url, [(0, n) for n in range(1, 17)])
    controller.start()
    specs = [CompartmentSpec(n, "A", 0, n, "M", 1) for n in range(1, 17)]
    column = MqttLockerColumn("A", broker.url, "bench", specs, client_id="kiosk-bench")
    column.start(lambda event: None)

    def ok() -> bool:
        return column.health().state is HealthState.OK

    def offline() -> bool:
        return column.health().state is HealthState.OFFLINE

    try:
        seconds_until(ok)
        latencies_ms = []
        for index in range(args.unlocks):
            lock = index % 16 + 1
            controller.control("close_door", {"lock": lock})
            started = time.perf_counter()
            column.unlock(lock)
            latencies_ms.append((time.perf_counter() - started) * 1000)
        latencies_ms.sort()
        p99 = latencies_ms[min(len(latencies_ms) - 1, int(len(latencies_ms) * 0.99))]
        print(f"unlock round trip over {args.unlocks} unlocks (loopback Mosquitto):")
        print(f"  p50 {statistics.median(latencies_ms):.2f} ms   p99 {p99:.2f} ms")

        controller.power_off()
        print(f"controller power cut -> column offline: {seconds_until(offline) * 1000:.0f} ms")
        controller.control("power_on", {})
        print(f"controller back -> column ok:          {seconds_until(ok) * 1000:.0f} ms")

        broker.stop()
        seconds_until(offline)
        restarted = time.perf_counter()
        broker.start()
        seconds_until(ok)
        print(f"broker restart -> column ok again:     {time.perf_counter() - restarted:.2f} s")
    finally:
        column.stop()
        controller.stop()
        broker.cleanup()


if __name__ == "__main__":
    main()
