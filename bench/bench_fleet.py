"""Fleet telemetry costs: idle bytes per terminal per hour, a big simulated fleet on one Mosquitto,
and the reconnect storm after a broker restart. Prints figures; no assertion.

    .venv/bin/python bench/bench_fleet.py [--terminals 2000] [--idle-s 60] [--storm-faults 100]

1. **Idle bytes per terminal per hour**, counted on the wire: one simulated terminal talks to the
   broker through a relay that counts every byte both ways (MQTT bytes; TCP/IP headers come on
   top). An hour cannot be waited for, so the two idle costs are measured with compressed timers
   and scaled: the keepalive round (PINGREQ+PINGRESP) with keepalive 2 s and no heartbeat, the
   heartbeat (PUBLISH+PUBACK) with a 2 s heartbeat; per hour = 3600/keepalive_s × ping bytes +
   3600/heartbeat_s × heartbeat bytes with the defaults (30 s, 900 s). The connect burst (full
   state) is printed separately: it is paid once per (re)connect, not per hour.
2. **N terminals on one Mosquitto**: all start, the time until every `$state` is `ready`, then
   an idle window: broker CPU from /proc/<pid>/stat, simulator CPU from os.times().
3. **Reconnect storm**: the broker is stopped; while it is down, `--storm-faults` terminals raise
   an alert; the broker starts again (empty: no persistence) and we time until every terminal is
   `ready` again and check that every alert raised during the outage is on the broker.

Limits: Mosquitto needs a file descriptor per client; it inherits the shell's `ulimit -n` (raise
it, and `LimitNOFILE=` in its systemd unit, above the fleet size; `max_connections` defaults to
unlimited). The simulator needs 3 descriptors per terminal (socket and paho's wake-up pair) and
shares one selector thread and two workers between all of them.

Measured on the 2-core box (shared with other work), 2,000 terminals: all ready 34 s after the
first start; idle: broker 0.1 % CPU, simulator 6.8 %; storm: all ready again 50 s after the
broker restarted, 100/100 outage alerts on the broker, broker CPU 2.3 s for the whole storm (the
simulator, publishing 2,000 full states in Python, is the bottleneck, not Mosquitto).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_client.fleet_mqtt import BrokerSettings
from firmware_stubs.mqtt_locker_column import MosquittoBroker
from fleet_console.simulator import SimulatedTerminal, build_fleet

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wait(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise SystemExit(f"gave up after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


class CountingRelay:
    """Relays one TCP connection and counts its bytes (both directions)."""

    def __init__(self, upstream_port: int) -> None:
        self.bytes = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self.port = int(self._listener.getsockname()[1])
        self._upstream = upstream_port
        threading.Thread(target=self._serve, daemon=True).start()

    def take(self) -> int:
        with self._lock:
            count, self.bytes = self.bytes, 0
        return count

    def _serve(self) -> None:
        while True:
            try:
                a, _ = self._listener.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self._upstream))
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
                    with self._lock:
                        self.bytes += len(data)


def idle_bytes(broker: MosquittoBroker) -> None:
    relay = CountingRelay(broker.port)
    url = f"mqtt://127.0.0.1:{relay.port}"
    device = "gz-cili-001"  # a realistic id length: topic bytes count
    # keepalive cost: keepalive 2 s, heartbeat far away
    quiet = SimulatedTerminal(device, BrokerSettings(url, keepalive_s=2), heartbeat_s=86_400)
    quiet.start()
    wait(lambda: quiet.link.connected, 10, "connect")
    time.sleep(2)  # let the connect burst and its acknowledgements pass
    burst = relay.take()
    window = 20.0
    time.sleep(window)
    ping_bytes = relay.take() / (window / 2)
    quiet.stop()
    relay.take()
    # heartbeat cost: heartbeat 2 s, keepalive long; beats counted by a subscriber, since the
    # telemetry thread wakes at most every few seconds and a 2 s heartbeat comes a little late
    beats: list[bytes] = []
    counter = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    counter.on_message = lambda c, u, m: beats.append(m.payload) if not m.retain else None
    counter.connect("127.0.0.1", broker.port)
    counter.subscribe(f"homie/5/{device}/system/heartbeat", 1)
    counter.loop_start()
    beating = SimulatedTerminal(device, BrokerSettings(url, keepalive_s=600), heartbeat_s=2)
    beating.start()
    wait(lambda: beating.link.connected, 10, "connect")
    time.sleep(2)
    relay.take()
    beats.clear()
    time.sleep(window)
    beat_bytes = relay.take() / max(1, len(beats))
    beating.stop()
    counter.disconnect()
    counter.loop_stop()
    per_hour = 3600 / 30 * ping_bytes + 3600 / 900 * beat_bytes
    print("Idle bytes per terminal (MQTT bytes on the wire, both directions):")
    print(f"  connect burst (full state, once per connect): {burst / 1024:.1f} KB")
    print(f"  one keepalive round: {ping_bytes:.1f} B; one heartbeat: {beat_bytes:.1f} B")
    print(
        f"  per hour at keepalive 30 s, heartbeat 900 s: {per_hour:.0f} B "
        f"= {per_hour / 1024:.2f} KB (target <= 20 KB)"
    )


def broker_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def retained(port: int, topics: list[str], quiet_s: float = 0.7) -> dict[str, bytes]:
    """What the broker holds now, read by a fresh subscriber (retained messages only).

    A long-lived watcher is no good here: Mosquitto queues at most `max_queued_messages` (1,000)
    QoS 1 messages for a slow subscriber and drops the rest, which a reconnect storm exceeds.
    """
    found: dict[str, bytes] = {}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: found.__setitem__(m.topic, bytes(m.payload))
    client.connect("127.0.0.1", port)
    client.subscribe([(topic, 0) for topic in topics])
    # driven from this thread (no paho thread): read until nothing came for `quiet_s`
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < quiet_s:
        client.loop(timeout=0.1)
        if len(found) != seen:
            seen, quiet_since = len(found), time.monotonic()
    client.disconnect()
    client.loop(timeout=0.1)
    return {topic: payload for topic, payload in found.items() if payload}


def sample(port: int, topic: str) -> dict[str, bytes]:
    """`retained` in a separate process: inside this one, the fleet's threads hold the GIL and a
    reader here falls so far behind that it mistakes a slow stream for the end of it."""
    done = subprocess.run(
        [sys.executable, __file__, "--sample", str(port), topic],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return {topic: bytes.fromhex(value) for topic, value in json.loads(done.stdout).items()}


def ready_count(port: int) -> int:
    return sum(p == b"ready" for p in sample(port, "homie/5/+/$state").values())


def fleet_figures(
    broker: MosquittoBroker, terminals: int, idle_s: float, storm_faults: int
) -> None:
    threading.stack_size(512 * 1024)
    pid = broker._process.pid if broker._process else 0
    fleet = build_fleet(broker.url, terminals, prefix="bench", keepalive_s=30, poll_s=30)
    cpu0, broker0 = own_cpu_s(), broker_cpu_s(pid)
    fleet.start(stagger_s=0.001)
    took = wait(lambda: ready_count(broker.port) == terminals, 300, f"{terminals} terminals ready")
    print(f"\n{terminals} terminals on one Mosquitto:")
    print(f"  all ready {took:.1f} s after the first start (starts staggered 1 ms)")
    used, broker_used = own_cpu_s() - cpu0, broker_cpu_s(pid) - broker0
    print(f"  start-up CPU: simulator {used:.1f} s, broker {broker_used:.1f} s")
    time.sleep(5)
    cpu1, broker1, t1 = own_cpu_s(), broker_cpu_s(pid), time.monotonic()
    time.sleep(idle_s)
    span = time.monotonic() - t1
    print(
        f"  idle {span:.0f} s: broker CPU {100 * (broker_cpu_s(pid) - broker1) / span:.1f} %, "
        f"simulator CPU {100 * (own_cpu_s() - cpu1) / span:.1f} % (of one core)"
    )

    # -- the storm --
    broker.stop()
    wait(lambda: not any(t.link.connected for t in fleet.terminals), 60, "all to notice")
    faulty = fleet.terminals[:: max(1, terminals // storm_faults)][:storm_faults]
    for terminal in faulty:
        terminal.fault(2)  # the ID-card reader goes offline while the broker is down
    wait(
        lambda: all(len(t.store.pending_outbound()) >= 1 for t in faulty),
        60,
        "the outage alerts to be queued",
    )
    expected = {f"{t.device_id}/device-idcard" for t in faulty}
    broker.start()
    restarted = time.monotonic()
    broker2 = broker_cpu_s(broker._process.pid if broker._process else 0)
    took = wait(lambda: ready_count(broker.port) == terminals, 300, "all ready after the restart")
    alerts = sample(broker.port, "homie/5/+/$alert/+")
    arrived = {f"{t.split('/')[2]}/{t.split('/')[4]}" for t in alerts} & expected
    pid = broker._process.pid if broker._process else 0
    print("\nReconnect storm (broker restarted empty, full-jitter backoff 2 s base, 60 s cap):")
    print(f"  all {terminals} ready again {took:.1f} s after the broker started")
    print(
        f"  alerts raised during the outage, on the broker afterwards: "
        f"{len(arrived)}/{len(expected)}"
    )
    print(f"  broker CPU during the storm: {broker_cpu_s(pid) - broker2:.1f} s")
    print(
        f"  reconnects: {sum(t.link.connects for t in fleet.terminals) - terminals} "
        f"(in {time.monotonic() - restarted:.1f} s)"
    )
    fleet.stop()


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the broker on the way out
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` shows where a long run is
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--storm-faults", type=int, default=100)
    parser.add_argument("--skip-bytes", action="store_true")
    parser.add_argument("--sample", nargs=2, metavar=("PORT", "TOPIC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample:
        found = retained(int(args.sample[0]), [args.sample[1]])
        print(json.dumps({topic: payload.hex() for topic, payload in found.items()}))
        return
    broker = MosquittoBroker().start()
    try:
        if not args.skip_bytes:
            idle_bytes(broker)
        fleet_figures(broker, args.terminals, args.idle_s, args.storm_faults)
    finally:
        broker.cleanup()


if __name__ == "__main__":
    main()
