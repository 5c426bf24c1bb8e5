"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (in its own thread), keeping what it receives."""

from __future__ import annotations

import ssl
from email import message_from_bytes, policy
from email.message import EmailMessage

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ports import free_port


class LocalCA:
    """A throwaway certificate authority: the server's certificate for 127.0.0.1 and a client
    context that trusts it (and nothing else)."""

    def __init__(self) -> None:
        ca = trustme.CA()
        self.server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.server)
        self.client = ssl.create_default_context()
        ca.configure_trust(self.client)


class Inbox:
    """Every message the server accepted, parsed, with its envelope. `refuse`: recipients answered
    550; `login`: (user, password) required, after STARTTLS with `ca`'s certificate; `smtputf8`:
    whether it offers SMTPUTF8 (addresses outside ASCII)."""

    def __init__(
        self,
        port: int | None = None,
        *,
        refuse: frozenset[str] = frozenset(),
        ca: LocalCA | None = None,
        login: tuple[str, str] | None = None,
        smtputf8: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.refuse, self.login = refuse, login
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        tls = {"tls_context": ca.server, "require_starttls": True} if ca else {}
        auth = {"authenticator": self._authenticate, "auth_required": True} if login else {}
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8, **tls, **auth
        )

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, _, message in self.received]

    def url(self, scheme: str = "smtp+insecure", credentials: str = "") -> str:
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"

    def start(self) -> Inbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Inbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # aiosmtpd handler hooks (run on the server's thread)
    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def _authenticate(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself
