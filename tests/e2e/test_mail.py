"""A real `petpos serve` mails the password reset code over SMTP, and the code from the mail works."""

import json
import re
import time

from tests.e2e.test_serve import free_port, graphql, start, stop, wait_ready
from tests.mail.smtp import Inbox


def wait_for_mail(inbox: Inbox, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not inbox.messages:
        assert time.monotonic() < deadline, "no mail arrived"
        time.sleep(0.05)


def test_petpos_serve_mails_the_reset_code_and_the_code_resets_the_password(tmp_path):
    port = free_port()
    with Inbox() as inbox:
        server = start(
            tmp_path / "petpos-data",
            port,
            PETPOS_SMTP_URL=inbox.url(),
            PETPOS_MAIL_FROM="Pet Store <no-reply@petpos.test>",
        )
        try:
            wait_ready(server, port)
            asked = graphql(
                port,
                'mutation { requestPasswordReset(email: "customer@petpos.example") { ok errors { code } } }',
            )
            assert asked["data"]["requestPasswordReset"] == {"ok": True, "errors": []}
            wait_for_mail(inbox)
            [(envelope_from, envelope_to, mail)] = inbox.received
            assert (envelope_from, envelope_to) == ("no-reply@petpos.test", ["customer@petpos.example"])
            assert mail["Subject"] == "Reset your petpos password"
            code = re.search(r"new password: (\S+)", mail.get_content()).group(1)

            reset = graphql(
                port,
                f'mutation {{ resetPassword(token: {json.dumps(code)}, newPassword: "a brand new password") '
                "{ ok errors { code } } }",
            )
            assert reset["data"]["resetPassword"] == {"ok": True, "errors": []}
            login = (
                'mutation { login(email: "customer@petpos.example", password: "%s") '
                "{ token errors { code } } }"
            )
            assert graphql(port, login % "a brand new password")["data"]["login"]["token"]
            old = graphql(port, login % "petpos-customer")["data"]["login"]
            assert old == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}
        finally:
            output = stop(server)
    assert server.returncode == 0, output
    assert code not in output  # sent over SMTP: neither printed nor logged
    assert len(inbox.received) == 1
