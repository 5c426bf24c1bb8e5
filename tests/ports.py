"""Ports for the servers the tests start (petpos serve, PgBouncer, SMTP)."""

from __future__ import annotations

import random
import socket

# Below the kernel's range for outgoing connections (32768-60999 on Linux, 49152 and up on macOS):
# a port handed out here is not given to some client's connection before its server binds it, as a
# port the kernel picked from that range could be.
LOW, HIGH = 20000, 32768


def free_port() -> int:
    """A port no one listens on now, for a server about to bind it."""
    while True:
        port = random.randrange(LOW, HIGH)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
