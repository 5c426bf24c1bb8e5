"""Docs that run: every GraphQL operation shown in README.md and docs/*.md is sent, in the documented order,
through the real HTTP path to a server holding the demo data (`petpos seed --demo`), as the documented
caller, and answers what the docs say it answers.

The convention the docs follow (who is signed in, variables, expected results, "…", "${Step.path}"
references to earlier answers, "${mail.code}") is written at the top of tests/documented.py; a block that
breaks it fails here with its file and line. To add a section: write the ```graphql block (with as=…),
its ```json variables and ```json result, and run `python3 tasks.py test tests/api/test_docs.py`."""

from __future__ import annotations

import json
import os
import re

import pytest
from graphql import build_schema, parse, validate
from sqlalchemy import select

from app.api.schema import export_sdl
from app.domain.accounts.credentials import RESET_CODE_PATTERN
from app.domain.accounts.models import OutboxMessage
from app.seed import DEMO_USERS, seed_demo
from tests.documented import NOT_GIVEN, all_steps, differences, payload_errors, recorded, resolve

STEPS = all_steps()
EVERY_STEP = [step for steps in STEPS.values() for step in steps]
RUNNABLE = [doc for doc, steps in STEPS.items() if steps]
LOGINS = {role.lower(): (email, password) for email, _, _, role, password in DEMO_USERS}
SCHEMA = build_schema(export_sdl())
RECORD = os.environ.get("PETPOS_DOCS_RECORD") == "1"  # tests/documented.py: re-recording results
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"


@pytest.mark.parametrize("step", EVERY_STEP, ids=[step.where for step in EVERY_STEP])
def test_documented_operation_is_valid(step):
    assert validate(SCHEMA, parse(step.document)) == []


def test_documented_operation_names_are_unique():
    names = [step.name for step in EVERY_STEP]
    assert sorted({n for n in names if names.count(n) > 1}) == []


async def newest_reset_code(db) -> str:
    async with db.read() as session:
        body = (
            await session.scalars(
                select(OutboxMessage.body)
                .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
                .limit(1)
            )
        ).first()
    assert body is not None, "${mail.code}: no email was queued"
    code = re.search(RESET_CODE_PATTERN, body)
    assert code is not None, "${mail.code}: the newest email carries no reset code"
    return code.group(0)


@pytest.mark.parametrize("doc", RUNNABLE)
async def test_documented_operations_run_on_the_demo_data_as_written(doc, client, settings, db):
    await seed_demo(settings, settings.database_url)
    tokens: dict[str, str] = {}
    answers: dict[str, object] = {}
    to_record: list[str] = []

    async def token_of(caller: str) -> str | None:
        if caller == "anonymous":
            return None
        if caller not in tokens:
            email, password = LOGINS[caller]
            signed_in = await client.post(
                "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": password}}
            )
            tokens[caller] = signed_in.json()["data"]["login"]["token"]
        return tokens[caller]

    for step in STEPS[doc]:
        code = await newest_reset_code(db) if "${mail.code}" in json.dumps(step.variables) else None
        variables = resolve(step.variables, answers, code)
        token = await token_of(step.caller)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post(
            "/graphql", json={"query": step.document, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, f"{step.where}: HTTP {response.status_code} {response.text}"
        body = response.json()
        if step.result is NOT_GIVEN:
            assert "errors" not in body, f"{step.where}: {body['errors']}"
            assert payload_errors(body.get("data")) == [], f"{step.where}: {body}"
        else:
            expected = resolve(step.result, answers)
            problems = differences(expected, body)
            if problems and RECORD:
                answer = json.dumps(recorded(step.result, expected, body), ensure_ascii=False)
                to_record.append(f"{step.where}\n" + "\n".join(problems) + f"\n```json result\n{answer}\n```")
            else:
                assert problems == [], f"{step.where} answered\n{json.dumps(body, indent=1)}\n" + "\n".join(
                    problems
                )
        answers[step.name] = body.get("data")
    assert to_record == [], "\n\n".join(to_record)


def test_the_docs_show_the_shop_the_counter_and_the_adoption_flows():
    names = {doc: {step.name for step in steps} for doc, steps in STEPS.items()}
    assert {
        "BrowseProducts",
        "AddToCart",
        "ApplyCoupon",
        "MyCart",
        "Checkout",
        "MySales",
        "RefundOneUnit",
    } <= (names["docs/shop.md"])
    assert {"OpenOrder", "AddKibble", "ChangeLines", "Split", "Merge", "PayCash", "PayCard"} <= names[
        "docs/pos.md"
    ]
    assert {
        "BrowsePets",
        "RequestAdoption",
        "MyAdoptionRequests",
        "ApproveAdoption",
        "RejectAdoption",
    } <= names["docs/adoption.md"]
    assert {"RequestPasswordReset", "ResetPassword"} <= names["docs/accounts.md"]


def test_a_block_that_breaks_the_convention_is_refused(tmp_path, monkeypatch):
    from tests import documented

    monkeypatch.setattr(documented, "ROOT", tmp_path)
    bad = {
        "```graphql\n{ me { id } }\n```\n": "one named operation",
        "```graphql as=owner\nquery A { me { id } }\n```\n": "unknown attribute",
        "Text\n```json result\n{}\n```\n": "must follow its ```graphql block",
        "```graphql\nquery A { me { id } }\n```\n```json result\n{}\n```\n```json result\n{}\n```\n": (
            "must follow"
        ),
    }
    for text, message in bad.items():
        (tmp_path / "doc.md").write_text(text)
        with pytest.raises(ValueError, match=message):
            documented.steps_of(tmp_path / "doc.md")


def test_an_ellipsis_inside_a_string_matches_one_line_of_text():
    assert differences("Sale S-1 …\nTotal", "Sale S-1 2026-11-27 10:05 UTC\nTotal") == []
    assert differences("Sale S-1 …\nTotal", "Sale S-1 \nTotal") != []  # at least one character
    assert differences("Sale S-1 …\nTotal", "Sale S-1 a\nb\nTotal") != []  # within one line
    assert differences("Sale S-1 …", "Sale S-2 now") != []


def test_recording_keeps_the_documented_placeholders_that_still_match():
    documented = {"id": "…", "of": "${A.id}", "total": "1.00", "at": "Sale …"}
    answers = {"A": {"id": "a1"}}
    actual = {"id": "x", "of": "a1", "total": "2.00", "at": "Sale now", "new": 1}
    assert recorded(documented, resolve(documented, answers), actual) == {
        "id": "…",
        "of": "${A.id}",
        "total": "2.00",
        "at": "Sale …",
        "new": 1,
    }
