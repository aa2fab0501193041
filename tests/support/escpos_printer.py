"""A network ESC/POS printer written from the reference alone, for the printer tests."""

from __future__ import annotations

import socket
import threading


class IndependentPrinter:
    """A few lines from the ESC/POS reference: answer DLE EOT 4 / 2 with fixed bytes, keep the rest.

    It does not use the stub or our status codec, so a mistake made the same way on both sides of
    our own code cannot pass here.
    """

    def __init__(self, paper_sensor: int, offline_cause: int) -> None:
        self.answers = {4: paper_sensor, 2: offline_cause}
        self.received = bytearray()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            while chunk := conn.recv(4096):
                self.received += chunk
                for n in (1, 2, 3, 4):
                    if chunk.endswith(bytes([0x10, 0x04, n])):
                        conn.sendall(bytes([self.answers.get(n, 0x12)]))

    def close(self) -> None:
        self.listener.close()
