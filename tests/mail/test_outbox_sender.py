"""Outbox delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and real PostgreSQL: sent
once with its code, the stored copy blanked, retried with backoff while the server is down, never
twice when senders race, printed in development, kept (with a warning) in production."""

import asyncio
import logging
import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy import select, text, update

from app.db.engine import Database
from app.domain.accounts import outbox
from app.domain.accounts import service as accounts
from app.domain.accounts.credentials import RESET_CODE_PATTERN, new_reset_token
from app.domain.accounts.models import OutboxMessage
from app.domain.uow import run_unit
from app.mail import LEASE, MAX_ATTEMPTS, NO_SMTP_IN_PRODUCTION, OutboxSender, SmtpDelivery
from app.main import create_app
from app.migrations import alembic_config
from app.settings import SmtpServer, parse_smtp_url
from tests.conftest import make_settings
from tests.e2e.test_serve import until
from tests.mail.smtp import Inbox, LocalCA
from tests.races import unit_held

FROM = "petpos <no-reply@petpos.test>"


def smtp_sender(db: Database, url: str, *, tls_context=None, batch: int = 10) -> OutboxSender:
    return OutboxSender(
        db,
        SmtpDelivery(parse_smtp_url(url), tls_context=tls_context),
        mail_from=FROM,
        lock_timeout_ms=3000,
        poll_seconds=60,
        batch=batch,
    )


async def write_reset_email(db: Database, email: str) -> None:
    """requestPasswordReset's service: a reset email in the outbox, for a sender to find."""
    await run_unit(
        db.sessions,
        lambda uow: accounts.request_password_reset(
            uow, email=email, ttl_minutes=30, max_emails=3, window_minutes=60
        ),
        lock_timeout_ms=3000,
    )


async def request_reset(db: Database, email: str) -> str:
    """requestPasswordReset's service; the code from the email it wrote to the outbox."""
    await write_reset_email(db, email)
    async with db.read() as session:
        body = (
            await session.scalars(
                select(OutboxMessage.body)
                .where(OutboxMessage.recipient == email)
                .order_by(OutboxMessage.created_at.desc())
            )
        ).first()
    return re.search(r"new password: (\S+)", body).group(1)


async def write_messages(db: Database, count: int, recipient=lambda i: f"buyer{i}@example.com") -> list[str]:
    """`count` pending emails, each with a code; their codes."""
    codes = [new_reset_token()[0] for _ in range(count)]

    async def write(uow):
        uow.session.add_all(
            OutboxMessage(recipient=recipient(i), subject=f"Message {i}", body=f"code: {code}\n")
            for i, code in enumerate(codes)
        )

    await run_unit(db.sessions, write, lock_timeout_ms=3000)
    return codes


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.subject))).all())


async def waiting_for_backoff(db: Database) -> list[bool]:
    async with db.engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    text("SELECT next_attempt_at > now() FROM outbox_messages ORDER BY subject")
                )
            ).scalars()
        )


async def backoff_passes(db: Database) -> None:
    """Time moves on: every pending message is due again."""
    async with db.engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(next_attempt_at=text("now()")))


def text_of(mail) -> str:
    return mail.get_content().replace("\r\n", "\n")  # as it came over the wire: CRLF line ends


@pytest.fixture
def inbox():
    with Inbox() as box:
        yield box


async def test_a_pending_reset_email_is_sent_with_its_code_then_marked_sent_without_it(db, users, inbox):
    await users.create(email="reset@example.com")
    code = await request_reset(db, "reset@example.com")
    sender = smtp_sender(db, inbox.url())
    assert await sender.run_once() == 1

    [(envelope_from, envelope_to, mail)] = inbox.received
    assert (envelope_from, envelope_to) == ("no-reply@petpos.test", ["reset@example.com"])
    assert (mail["From"], mail["To"]) == (FROM, "reset@example.com")
    assert mail["Subject"] == "Reset your petpos password"
    assert f"new password: {code}\n" in text_of(mail)
    [row] = await outbox_rows(db)
    assert row.sent_at is not None and (row.attempts, row.last_error, row.failed_at) == (1, None, None)
    assert code not in row.body and "new password: [code removed]\n" in row.body
    assert await sender.run_once() == 0  # nothing goes twice
    assert len(inbox.received) == 1

    # The code from the email still works: blanking the stored copy touched nothing else.
    def reset(uow):
        return accounts.reset_password(uow, token=code, new_password_hash="h")

    user = await run_unit(db.sessions, reset, lock_timeout_ms=3000)
    assert user.password_hash == "h"


async def test_with_the_smtp_server_down_an_email_stays_pending_then_goes_once_it_is_back(db, users):
    await users.create(email="reset@example.com")
    code = await request_reset(db, "reset@example.com")
    server = Inbox()  # not started yet: its port refuses connections
    sender = smtp_sender(db, server.url())
    assert await sender.run_once() == 0
    [row] = await outbox_rows(db)
    assert (row.sent_at, row.failed_at, row.attempts) == (None, None, 1)
    assert row.last_error.startswith("SMTPConnect") and code in row.body
    assert await waiting_for_backoff(db) == [True]
    assert await sender.run_once() == 0  # backing off: not tried again before it is due
    assert (await outbox_rows(db))[0].attempts == 1

    with server:
        await backoff_passes(db)
        assert await sender.run_once() == 1
    assert [code in text_of(mail) for mail in server.messages] == [True]
    [row] = await outbox_rows(db)
    assert row.sent_at is not None and (row.attempts, row.last_error) == (2, None) and code not in row.body


async def test_while_the_server_is_down_a_run_tries_one_email_and_leaves_the_rest_due(db):
    await write_messages(db, 3)
    assert await smtp_sender(db, Inbox().url()).run_once() == 0
    assert sorted(row.attempts for row in await outbox_rows(db)) == [0, 0, 1]
    assert sorted(await waiting_for_backoff(db)) == [False, False, True]


async def test_two_senders_racing_over_many_emails_send_each_exactly_once(settings, db, inbox):
    await write_messages(db, 60)
    hosts = [Database(settings), Database(settings)]  # two processes' own connection pools
    try:
        first, second = (smtp_sender(host, inbox.url(), batch=5) for host in hosts)
        # The first sender's claim of five, not yet committed, while the second runs through the
        # queue: it skips the five rather than wait for them, and sends all the rest.
        async with unit_held(hosts[0], lambda uow: outbox.claim(uow, batch=5, lease=LEASE)) as claiming:
            second_sent = await second.run_once()
        claimed = await claiming
        # Committed, the claim is a lease: the second sender leaves the five to the first.
        assert await second.run_once() == 0
        first_sent = (await first.deliver(claimed, deadline=time.monotonic() + LEASE.total_seconds())).sent
        assert await first.run_once() == 0
    finally:
        for host in hosts:
            await host.dispose()
    assert (len(claimed), first_sent, second_sent) == (5, 5, 55)
    assert Counter(mail["Subject"] for mail in inbox.messages) == {f"Message {i}": 1 for i in range(60)}
    assert {(row.attempts, row.sent_at is not None) for row in await outbox_rows(db)} == {(1, True)}


async def test_emails_another_sender_is_claiming_are_skipped_not_waited_for(db, inbox):
    await write_messages(db, 6)
    held, release, claimed = asyncio.Event(), asyncio.Event(), []

    async def claim_and_hold(uow):
        claimed.extend(await outbox.claim(uow, batch=3, lease=LEASE))
        held.set()
        await release.wait()

    holder = asyncio.create_task(run_unit(db.sessions, claim_and_hold, lock_timeout_ms=30_000))
    await held.wait()  # three rows locked by a claim that has not committed yet
    other = smtp_sender(db, inbox.url())
    try:
        assert await asyncio.wait_for(other.run_once(), 10) == 3  # it never waited on those rows
    finally:
        release.set()
        await holder
    held_subjects = {message.subject for message in claimed}
    assert len(held_subjects) == 3
    assert {mail["Subject"] for mail in inbox.messages} == {f"Message {i}" for i in range(6)} - held_subjects
    assert await other.run_once() == 0  # committed, the claim is a lease: still left alone

    first = smtp_sender(db, inbox.url())
    assert (await first.deliver(claimed, deadline=time.monotonic() + LEASE.total_seconds())).sent == 3
    assert Counter(mail["Subject"] for mail in inbox.messages) == {f"Message {i}": 1 for i in range(6)}


async def test_a_refused_recipient_is_given_up_with_its_code_removed_and_the_rest_still_goes(db):
    codes = await write_messages(db, 3, recipient=lambda i: "nobody@example.com" if i == 1 else f"b{i}@x.com")
    with Inbox(refuse=frozenset({"nobody@example.com"})) as inbox:
        sender = smtp_sender(db, inbox.url())
        assert await sender.run_once() == 2
        assert sorted(mail["To"] for mail in inbox.messages) == ["b0@x.com", "b2@x.com"]
        refused = (await outbox_rows(db))[1]
        assert refused.sent_at is None and refused.failed_at is not None
        assert refused.last_error == "SMTPRecipientsRefused 550" and codes[1] not in refused.body
        await backoff_passes(db)
        assert await sender.run_once() == 0  # given up: never tried again


async def test_an_email_whose_header_would_name_another_address_is_given_up_unsent(db):
    """An address stored before encoded words were refused: a To header decodes
    "=?utf-8?q?ann?=@x.com" to ann@x.com, another account's mailbox, and the envelope follows it."""
    codes = await write_messages(db, 2, recipient=lambda i: "=?utf-8?q?b0?=@x.com" if i == 0 else "b1@x.com")
    with Inbox() as inbox:
        assert await smtp_sender(db, inbox.url()).run_once() == 1
        assert [recipients for _, recipients, _ in inbox.received] == [["b1@x.com"]]
    given_up = (await outbox_rows(db))[0]
    assert given_up.sent_at is None and given_up.failed_at is not None
    assert given_up.last_error == "ValueError" and codes[0] not in given_up.body


async def test_an_address_outside_ascii_goes_through_a_server_without_smtputf8_when_it_can(db):
    """A domain is sent in its ASCII form; a local part outside ASCII cannot go through such a server,
    so it is given up at once, and the batch goes on (it was retried for an hour and a half, each
    attempt ending the batch as a lost connection)."""
    to = [
        "josé@example.com",
        "ann@exämple.com",
        "bea@straße.de",  # IDNA 2003 wrote strasse.de: another domain
        "cy@a\u200bb.com",  # stored before invisible characters were refused: its ASCII form is ab.com
        "b2@x.com",
    ]
    codes = await write_messages(db, len(to), recipient=lambda i: to[i])
    with Inbox(smtputf8=False) as inbox:  # as many hosted relays
        sender = smtp_sender(db, inbox.url())
        sender.mail_from = "petpos <no-reply@pét.example>"
        assert await sender.run_once() == 3
        sent = ["ann@xn--exmple-cua.com", "bea@xn--strae-oqa.de", "b2@x.com"]
        assert [recipients for _, recipients, _ in inbox.received] == [[address] for address in sent]
        assert [mail["To"] for mail in inbox.messages] == sent
        assert {mail_from for mail_from, _, _ in inbox.received} == {"no-reply@xn--pt-bja.example"}
    rows = await outbox_rows(db)
    for given_up, code in ((rows[0], codes[0]), (rows[3], codes[3])):
        assert given_up.sent_at is None and given_up.failed_at is not None
        assert given_up.last_error == "NotCarried" and code not in given_up.body


async def test_after_its_last_attempt_an_email_is_given_up_with_its_code_removed(db):
    [code] = await write_messages(db, 1)
    async with db.engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(attempts=MAX_ATTEMPTS - 1))
    assert await smtp_sender(db, Inbox().url()).run_once() == 0
    [row] = await outbox_rows(db)
    assert row.attempts == MAX_ATTEMPTS and row.failed_at is not None and row.sent_at is None
    assert row.last_error.startswith("SMTPConnect") and code not in row.body


async def test_smtp_scheme_means_starttls_then_login_with_the_url_credentials(db):
    ca = LocalCA()
    await write_messages(db, 2)
    with Inbox(ca=ca, login=("mailer@petpos.test", "p@ss:/word")) as inbox:
        wrong_url = inbox.url("smtp", "mailer%40petpos.test:wrong@")
        wrong = smtp_sender(db, wrong_url, tls_context=ca.client, batch=1)
        assert await wrong.run_once() == 0
        assert {row.last_error for row in await outbox_rows(db)} == {None, "SMTPAuthenticationError 535"}
        await backoff_passes(db)
        right_url = inbox.url("smtp", "mailer%40petpos.test:p%40ss%3A%2Fword@")
        right = smtp_sender(db, right_url, tls_context=ca.client)
        assert await right.run_once() == 2
    assert len(inbox.messages) == 2


async def test_smtp_scheme_never_sends_in_clear_to_a_server_without_starttls(db, inbox):
    await write_messages(db, 1)
    assert await smtp_sender(db, inbox.url("smtp")).run_once() == 0
    assert inbox.received == []
    [row] = await outbox_rows(db)
    assert row.sent_at is None and row.last_error == "SMTPException"


async def test_claimed_emails_are_released_untried_when_the_lease_would_run_out(db, inbox):
    await write_messages(db, 2)
    sender = smtp_sender(db, inbox.url())
    claimed = await run_unit(
        db.sessions, lambda uow: outbox.claim(uow, batch=10, lease=LEASE), lock_timeout_ms=3000
    )
    assert len(claimed) == 2
    assert (await sender.deliver(claimed, deadline=time.monotonic())).sent == 0  # no time left to send
    assert inbox.received == [] and {row.attempts for row in await outbox_rows(db)} == {0}
    assert await waiting_for_backoff(db) == [False, False]  # due again at once
    assert await sender.run_once() == 2


async def test_logs_name_emails_by_id_never_by_recipient_subject_or_code(db, caplog):
    caplog.set_level(logging.DEBUG)
    codes = await write_messages(db, 2, recipient=lambda i: ["seen@example.com", "nobody@example.com"][i])
    with Inbox(refuse=frozenset({"nobody@example.com"})) as inbox:
        assert await smtp_sender(db, inbox.url()).run_once() == 1
    codes += await write_messages(db, 1, recipient=lambda i: "later@example.com")
    assert await smtp_sender(db, inbox.url()).run_once() == 0  # the server is gone now
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("petpos", "aiosmtplib")))
    for secret in [*codes, "seen@example.com", "nobody@example.com", "later@example.com", "Message"]:
        assert secret not in ours
    for row in await outbox_rows(db):
        assert str(row.id) in ours


async def test_development_without_smtp_prints_each_email_and_marks_it_sent(settings, db, users, capsys):
    await users.create(email="reset@example.com")
    app_settings = make_settings(settings.database_url, outbox_poll_seconds=3600)
    app = create_app(app_settings, Database(app_settings))
    async with app.router.lifespan_context(app):
        # Written after start-up and the poll is an hour away: the insert's NOTIFY wakes the sender.
        # The sender may blank the code before a read here, so the code is taken from what it printed.
        await write_reset_email(db, "reset@example.com")

        async def sent() -> bool:
            return (await outbox_rows(db))[0].sent_at is not None

        await until(sent, timeout=10)
    printed = capsys.readouterr().out
    code = re.search(r"new password: (\S+)\n", printed).group(1)
    assert "======== petpos mail (development: printed, not sent) ========" in printed
    assert "To: reset@example.com\nSubject: Reset your petpos password\n" in printed
    assert "======== end of mail ========" in printed and "[code" not in code
    body = (await outbox_rows(db))[0].body
    assert code not in body and "new password: [code removed]\n" in body


async def test_production_without_smtp_warns_once_and_leaves_emails_pending(settings, db, users, caplog):
    await users.create(email="reset@example.com")
    code = await request_reset(db, "reset@example.com")
    app_settings = make_settings(settings.database_url, env="production")
    app = create_app(app_settings, Database(app_settings))
    with caplog.at_level(logging.WARNING, logger="petpos.mail"):
        async with app.router.lifespan_context(app):
            assert not app.state.outbox_sender.running
    warnings = [r.getMessage() for r in caplog.records if r.name == "petpos.mail"]
    assert warnings == [NO_SMTP_IN_PRODUCTION]
    [row] = await outbox_rows(db)
    assert (row.sent_at, row.attempts) == (None, 0) and code in row.body


def test_smtp_url_schemes():
    assert parse_smtp_url("smtp://user%40example.com:p%40ss@mail.example.com") == SmtpServer(
        "mail.example.com", 587, use_tls=False, start_tls=True, username="user@example.com", password="p@ss"
    )
    assert parse_smtp_url("smtps://u:p@mail.example.com") == SmtpServer(
        "mail.example.com", 465, use_tls=True, start_tls=False, username="u", password="p"
    )
    assert parse_smtp_url("smtp+insecure://localhost:2525") == SmtpServer("localhost", 2525, False, False)
    assert "p@ss" not in repr(parse_smtp_url("smtp://u:p%40ss@mail.example.com"))


@pytest.mark.parametrize(
    "url",
    [
        "http://u:hunter22@mail.example.com",
        "smtp://u:hunter22@",
        "smtp://u:hunter22@mail.example.com:port",
        "smtp://u:hunter22@mail.example.com/path",
        "smtp://u:hunter22@mail.example.com?tls=no",
        "smtp+insecure://u:hunter22@localhost",
        "smtp://:hunter22@mail.example.com",
    ],
)
def test_a_bad_smtp_url_stops_start_up_without_repeating_the_password(database_url, url):
    with pytest.raises(ValidationError) as refused:
        make_settings(database_url, smtp_url=url)
    assert "PETPOS_SMTP_URL" in str(refused.value) or "smtp+insecure" in str(refused.value)
    assert "hunter22" not in str(refused.value)


def test_the_reset_code_pattern_matches_every_code_and_nothing_longer():
    for _ in range(200):
        assert re.fullmatch(RESET_CODE_PATTERN, new_reset_token()[0])
    code = new_reset_token()[0]
    sample = f"code: {code}\n{code}a {code[:-1]}"
    assert re.sub(RESET_CODE_PATTERN, "X", sample) == f"code: X\n{code}a {code[:-1]}"


async def test_postgresql_blanks_codes_exactly_as_the_pattern_says(db):
    code = new_reset_token()[0]
    sample = f"code: {code}\n-{code}- {code}a _{code} {code[:-1]}."
    async with db.engine.connect() as connection:
        blanked = (
            await connection.execute(
                text("SELECT regexp_replace(:s, :p, 'X', 'g')"), {"s": sample, "p": RESET_CODE_PATTERN}
            )
        ).scalar_one()
    assert blanked == re.sub(RESET_CODE_PATTERN, "X", sample)
    assert blanked == f"code: X\n-{code}- {code}a _{code} {code[:-1]}."


async def test_the_migration_gives_up_emails_waiting_over_a_day_and_keeps_newer_ones(database_url, db):
    config = alembic_config(database_url)
    before = ScriptDirectory.from_config(config).get_revision("0007_outbox_delivery").down_revision
    await asyncio.to_thread(command.downgrade, config, before)
    try:
        stale, fresh = new_reset_token()[0], new_reset_token()[0]
        async with db.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO outbox_messages (id, recipient, subject, body, created_at) VALUES "
                    "(gen_random_uuid(), 'a@example.com', 'Stale', :stale, now() - interval '2 days'),"
                    "(gen_random_uuid(), 'b@example.com', 'Fresh', :fresh, now() - interval '1 hour')"
                ),
                {"stale": f"code: {stale}\n", "fresh": f"code: {fresh}\n"},
            )
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    fresh_row, stale_row = await outbox_rows(db)
    assert stale_row.failed_at is not None and stale_row.body == "code: [code removed]\n"
    assert fresh_row.failed_at is None and fresh_row.body == f"code: {fresh}\n"
    assert await waiting_for_backoff(db) == [False, False]  # the fresh one is due


async def test_a_sender_whose_lease_ran_out_cannot_record_a_failure_over_a_newer_claim(db):
    """Its message was claimed again (attempts + 1): the late sender's failure, retry or give-up
    must leave that claim alone, or the newer sender's delivery would be cut short."""
    await write_messages(db, 1)

    async def claim(uow):
        return await outbox.claim(uow, batch=1, lease=timedelta(0))  # due again at once

    [late] = await run_unit(db.sessions, claim, lock_timeout_ms=3000)
    [current] = await run_unit(db.sessions, claim, lock_timeout_ms=3000)
    assert current.attempts == late.attempts + 1
    async with db.read() as session:
        due = await session.scalar(select(OutboxMessage.next_attempt_at))
    for mark in (
        lambda uow: outbox.mark_retry(uow, late, error="timeout", retry_in=timedelta(hours=1)),
        lambda uow: outbox.mark_given_up(uow, late, error="refused"),
    ):
        await run_unit(db.sessions, mark, lock_timeout_ms=3000)
    async with db.read() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert (row.failed_at, row.last_error, row.next_attempt_at, row.attempts) == (None, None, due, 2)
