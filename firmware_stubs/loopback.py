"""Loopback ports for the stubs, the demo's private broker and hall, and the tests."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on now; the caller binds it a moment later (a tiny, accepted race)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
