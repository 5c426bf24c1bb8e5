"""Sending the outbox from inside the server process: over SMTP when PETPOS_SMTP_URL is set, printed
to the console in development without it, left pending (with one warning) in production without it.

Every worker of every host runs a sender; they share the work through the database (claims in
app/domain/accounts/outbox.py), so each message goes out once. A sender wakes on the NOTIFY that
an outbox insert sends, heard on the process's LISTEN connection (app/domain/pos/live.py, which
replaces one gone silent), and polls every PETPOS_OUTBOX_POLL_SECONDS for retries and anything
missed.

PETPOS_SMTP_URL (user and password percent-encoded, e.g. user%40example.com):
    smtp://user:password@host[:587]       STARTTLS, required before logging in or sending
    smtps://user:password@host[:465]      TLS from the first byte
    smtp+insecure://host[:25]             no TLS and so no credentials: a relay on this machine

Logs name messages by id; recipients, subjects, bodies and SMTP server replies (which may quote
the recipient) never reach them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import TYPE_CHECKING, NamedTuple

import aiosmtplib
import idna

from app.domain.accounts import outbox
from app.domain.accounts.outbox import Claimed
from app.domain.uow import UnitOfWork, run_unit
from app.settings import Settings, SmtpServer, parse_smtp_url

if TYPE_CHECKING:
    from app.db.engine import Database

log = logging.getLogger("petpos.mail")

CHANNEL = "outbox_message"  # NOTIFYed by the outbox_messages insert trigger (migration 0007)
BATCH = 10
SEND_TIMEOUT = 20.0  # seconds for the connection, and for each message's whole SMTP exchange
# A claim's lease: long enough for a batch, since a sender stops sending from a batch (and
# releases the rest) once it could not finish a message and record it within its lease.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 10  # then the message is given up: about an hour and a half of retries
RETRY_FIRST, RETRY_MAX = 10.0, 3600.0  # seconds; doubling in between, with jitter
STOP_GRACE = 5.0  # seconds a stopping server waits for the message being sent
NO_SMTP_IN_PRODUCTION = "PETPOS_SMTP_URL is not set: emails (password reset codes) stay in the outbox, unsent"

Send = Callable[[EmailMessage], Awaitable[None]]
# Refusals of one message; the connection stays usable (aiosmtplib has reset the envelope).
REFUSED = (
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPDataError,
    ValueError,
)


class NotCarried(ValueError):
    """The server cannot carry this message's address: outside ASCII, with no SMTPUTF8."""


def envelope_address(address: str) -> str:
    """`address` with its domain in ASCII (IDNA 2008, UTS 46), as every server carries it: only a
    local part outside ASCII still needs the server's SMTPUTF8. A domain whose ASCII form reads back
    as another (one that mapping changes: an invisible character dropped) is left as it is, so a
    message never goes to another domain than the account's."""
    local, at, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        same = idna.decode(ascii_domain) == domain.lower()
    except UnicodeError:  # IDNAError among them: no ASCII form
        return address
    return f"{local}{at}{ascii_domain}" if same else address


class SmtpDelivery:
    """One SMTP connection per batch, opened on its first message."""

    def __init__(self, server: SmtpServer, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.server, self.tls_context = server, tls_context

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        server, client = self.server, None

        async def send(mail: EmailMessage) -> None:
            nonlocal client
            if client is None:
                client = aiosmtplib.SMTP(**asdict(server), tls_context=self.tls_context, timeout=SEND_TIMEOUT)
            try:
                if not client.is_connected:
                    await client.connect()
                try:
                    await client.send_message(mail)
                except aiosmtplib.SMTPNotSupported:  # said before the envelope: the connection is good
                    raise NotCarried("an address outside ASCII, and the server has no SMTPUTF8") from None
            except REFUSED:
                raise  # the server answered and reset the envelope: the connection is still good
            except BaseException:
                client.close()  # broken, timed out or cancelled: no polite QUIT
                raise

        try:
            yield send
        finally:
            if client is not None and client.is_connected:
                try:
                    await asyncio.wait_for(client.quit(), SEND_TIMEOUT)
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()


class ConsoleDelivery:
    """Development without SMTP: each message printed to stdout, so the reset flow works by hand."""

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        yield self._print

    @staticmethod
    async def _print(mail: EmailMessage) -> None:
        print(
            f"\n======== petpos mail (development: printed, not sent) ========\n"
            f"To: {mail['To']}\nSubject: {mail['Subject']}\n\n{mail.get_content().rstrip()}\n"
            f"======== end of mail ========\n",
            flush=True,
        )


Delivery = SmtpDelivery | ConsoleDelivery


class Problem(NamedTuple):
    error: str  # what last_error and the log say: a class name and an SMTP code, never server text
    permanent: bool  # this message can never be sent: give it up now
    connection_lost: bool  # no usable connection: stop this batch, leave the rest for the next run


def problem_of(error: BaseException) -> Problem:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        return Problem(f"SMTPRecipientsRefused {codes[0]}", all(code >= 500 for code in codes), False)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return Problem(f"{type(error).__name__} {error.code}", False, not isinstance(error, REFUSED))
    if isinstance(error, ValueError):  # an address that cannot be put in an envelope or a header
        return Problem(type(error).__name__, True, False)
    return Problem(type(error).__name__, False, True)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX) * random.uniform(0.8, 1.2))


class Delivered(NamedTuple):
    sent: int
    connection_lost: bool


class OutboxSender:
    def __init__(
        self,
        db: Database,
        delivery: Delivery | None,
        *,
        mail_from: str,
        lock_timeout_ms: int,
        poll_seconds: float,
        batch: int = BATCH,
        lease: timedelta = LEASE,
    ) -> None:
        self.db, self.delivery, self.mail_from = db, delivery, mail_from
        self.lock_timeout_ms, self.poll_seconds = lock_timeout_ms, poll_seconds
        self.batch, self.lease = batch, lease
        self.domain = parseaddr(mail_from)[1].rpartition("@")[2] or "petpos.invalid"
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    @classmethod
    def for_settings(cls, settings: Settings, db: Database) -> OutboxSender:
        delivery: Delivery | None
        if settings.smtp_url:
            delivery = SmtpDelivery(parse_smtp_url(settings.smtp_url))
        else:
            delivery = None if settings.production else ConsoleDelivery()
        return cls(
            db,
            delivery,
            mail_from=settings.mail_from,
            lock_timeout_ms=settings.lock_timeout_ms,
            poll_seconds=settings.outbox_poll_seconds,
        )

    async def start(self) -> None:
        if self.delivery is None:
            log.warning(NO_SMTP_IN_PRODUCTION)
            return
        if isinstance(self.delivery, ConsoleDelivery):
            log.info("PETPOS_SMTP_URL is not set: emails are printed to the console instead of sent")
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Let the message being sent finish (briefly); claimed messages not yet tried are released."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_GRACE)
            except TimeoutError:
                pass  # cancelled mid-send: that message is sent again when its lease runs out

    async def run_once(self) -> int:
        """Deliver what is due now, batch by batch; the number of messages sent."""
        assert self.delivery is not None
        sent = 0
        while not self._stopping:
            deadline = time.monotonic() + self.lease.total_seconds()  # taken before the lease starts
            batch = await self._unit(lambda uow: outbox.claim(uow, batch=self.batch, lease=self.lease))
            if not batch:
                break
            outcome = await self.deliver(batch, deadline=deadline)
            sent += outcome.sent
            if outcome.connection_lost:
                break  # the server is unreachable: the rest waits for the next run
        return sent

    async def deliver(self, batch: list[Claimed], *, deadline: float) -> Delivered:
        """Send claimed messages one by one (no lock is held), recording each outcome at once."""
        assert self.delivery is not None
        sent = 0
        async with self.delivery.connection() as send:
            for index, message in enumerate(batch):
                if self._stopping or time.monotonic() + 2 * SEND_TIMEOUT > deadline:
                    await self._release(batch[index:])
                    break
                try:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        await send(self.email(message))
                except Exception as error:  # noqa: BLE001 - the message's failure, recorded by class only
                    problem = problem_of(error)
                    await self._failed(message, problem)
                    if problem.connection_lost:
                        # The rest were not tried: due again, so a message that breaks the connection
                        # (or a server that is down) costs one attempt of one message per run.
                        await self._release(batch[index + 1 :])
                        return Delivered(sent, True)
                    continue
                await self._unit(lambda uow: outbox.mark_sent(uow, message))
                log.info("outbox message %s sent", message.id)
                sent += 1
        return Delivered(sent, False)

    def email(self, message: Claimed) -> EmailMessage:
        mail = EmailMessage()
        name, sender = parseaddr(self.mail_from)
        mail["From"] = formataddr((name, envelope_address(sender)))
        recipient = envelope_address(message.recipient)
        mail["To"] = recipient
        if [address.addr_spec for address in mail["To"].addresses] != [recipient]:
            # The header read it as other addresses ("=?utf-8?q?ann?=@x.com" decodes to ann@x.com), and
            # the envelope is taken from it: never send to anyone but the account's own address.
            raise ValueError("the recipient does not stand in a header as itself")
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = f"<{message.id}@{self.domain}>"  # the same for a resend
        mail.set_content(message.body)
        return mail

    async def _failed(self, message: Claimed, problem: Problem) -> None:
        if problem.permanent or message.attempts >= MAX_ATTEMPTS:
            await self._unit(lambda uow: outbox.mark_given_up(uow, message, error=problem.error))
            log.warning(
                "outbox message %s given up after %d attempt(s) (%s)",
                message.id,
                message.attempts,
                problem.error,
            )
            return
        delay = retry_delay(message.attempts)
        await self._unit(lambda uow: outbox.mark_retry(uow, message, error=problem.error, retry_in=delay))
        log.warning(
            "outbox message %s not sent (attempt %d: %s); next try in %d s",
            message.id,
            message.attempts,
            problem.error,
            delay.total_seconds(),
        )

    async def _release(self, messages: list[Claimed]) -> None:
        if messages:
            await self._unit(lambda uow: outbox.release(uow, messages))

    async def _unit(self, work: Callable[[UnitOfWork], Awaitable]):
        # No unit slot: marking a message sent must not wait behind the API's mutations (one not
        # marked in time would be sent again when its lease runs out).
        return await run_unit(
            self.db.sessions, work, lock_timeout_ms=self.lock_timeout_ms, operation="outbox"
        )

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the run: a message written during it wakes the next one
            try:
                await self.run_once()
            except Exception as error:  # noqa: BLE001 - the database may be down: try again later
                log.warning(
                    "outbox: delivery run failed (%s); next try in %s s",
                    type(error).__name__,
                    self.poll_seconds,
                )
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    def wake(self) -> None:
        """Run now: an outbox insert was heard (its NOTIFY), or the LISTEN connection is back (one
        may have been missed meanwhile)."""
        self._wake.set()
