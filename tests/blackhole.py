"""A TCP proxy in front of the test database that can go silent, as a network path does when a
firewall or NAT drops a connection's packets without a word: `silence()` stops passing bytes, both
ways, on every connection open at that moment and leaves them open, so neither side hears an error.
Connections opened afterwards pass again, as after a new route."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from tests.ports import free_port


class Blackhole:
    def __init__(self, database_url: str) -> None:
        self._target = make_url(database_url)
        self.port = free_port()
        self.url = self._target.set(host="127.0.0.1", port=self.port, query={}).render_as_string(
            hide_password=False
        )
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: list[threading.Event] = []  # each connection's "silenced" flag
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def silence(self) -> None:
        with self._lock:
            for silenced in self._open:
                silenced.set()

    def close(self) -> None:
        """Stop listening and close every connection, silenced or not: the server's backends end."""
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (closing it would not, on Linux)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for end in self._sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)  # the peer hears the hang-up (a bare close may not)
                except OSError:
                    pass
                end.close()

    def _upstream(self) -> socket.socket:
        socket_dir = self._target.query.get("host")
        if isinstance(socket_dir, str) and socket_dir.startswith("/"):
            unix = socket.socket(socket.AF_UNIX)
            unix.connect(f"{socket_dir}/.s.PGSQL.{self._target.port or 5432}")
            return unix
        return socket.create_connection((self._target.host or "localhost", self._target.port or 5432))

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._closed:
                client.close()
                return
            try:
                server = self._upstream()
            except OSError:  # the database is down: so is the connection through here
                client.close()
                continue
            silenced = threading.Event()
            with self._lock:
                self._open.append(silenced)
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink, silenced), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, silenced: threading.Event) -> None:
        """Pass bytes on until either side closes; once silenced, read and drop them."""
        try:
            while chunk := source.recv(65536):
                if not silenced.is_set():
                    sink.sendall(chunk)
        except OSError:
            pass
        finally:
            if not silenced.is_set():
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


@contextmanager
def blackhole(database_url: str) -> Iterator[Blackhole]:
    proxy = Blackhole(database_url)
    try:
        yield proxy
    finally:
        proxy.close()
