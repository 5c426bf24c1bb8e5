"""The GraphQL operations documented in README.md and docs/*.md, read as the steps tests/api/test_docs.py
runs (and tests/e2e/test_typed_clients.py types). The convention the docs follow:

- Every ```graphql block is one named operation (names are unique over all the docs: typed clients name
  their types after them). A file's blocks run in the file's order, each file on freshly loaded demo
  data (`petpos seed --demo`), so a file may build on its own earlier steps, never on another file's.
- Who sends it is the block's info string: ```graphql as=customer (or as=staff, as=admin; no `as`:
  anonymous). The runner signs in with that demo login (README's table) through `login`.
- A ```json variables block after it (before the next ```graphql) holds its variables.
- A ```json result block after that is the whole answer expected, compared exactly: every key and
  every list element, in order. Where a value differs from run to run (ids, tokens, timestamps,
  cursors) write "…", which matches any value but null; inside a longer string (a receipt's time) "…"
  matches any text within one line, at least one character.
- Without a result block the step must succeed: no top-level `errors`, and every `errors` list in
  `data` empty.
- In variables and results, a string "${Name.path.to.value}" stands for a value an earlier step of the
  same file answered: Name is its operation name, the path goes down from its `data` (list positions
  are numbers: `${BrowseProducts.products.edges.0.node.id}`). "${mail.code}" is the reset code in the
  newest email the server has queued (the outbox), for the password reset flow.
- Other ```json blocks (protocol messages, illustrations) are prose and never run.

To re-record results after a change of behaviour, run the docs test with PETPOS_DOCS_RECORD=1: every step
still runs, and a step whose answer differs is reported with that answer as a ```json result block to
paste (keeping the documented "…" and "${…}" where they still match). The test fails all the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
OPERATION = re.compile(r"^\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription)\s+(\w+)")
CALLERS = ("anonymous", "customer", "staff", "admin")
ANY = "…"
REFERENCE = re.compile(r"^\$\{([^}]+)\}$")
NOT_GIVEN: Any = object()


@dataclass
class Step:
    doc: str  # path from the repository root
    line: int
    document: str
    kind: str  # query | mutation | subscription
    name: str
    caller: str = "anonymous"
    variables: dict[str, Any] = field(default_factory=dict)
    result: Any = NOT_GIVEN

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line} {self.name}"


def steps_of(path: Path) -> list[Step]:
    """The file's steps; a block that breaks the convention is a ValueError naming its line."""
    text, doc = path.read_text(), path.relative_to(ROOT).as_posix()
    steps: list[Step] = []
    open_step: Step | None = None  # the last graphql block, while json blocks may still follow it
    for fence in FENCE.finditer(text):
        info, body = fence.group(1).split(), fence.group(2)
        line = text.count("\n", 0, fence.start()) + 1
        language, attributes = (info[0] if info else ""), info[1:]
        if language == "graphql":
            found = OPERATION.match(body)
            if found is None:
                raise ValueError(f"{doc}:{line}: a ```graphql block must hold one named operation")
            caller = "anonymous"
            for attribute in attributes:
                name, _, value = attribute.partition("=")
                if name != "as" or value not in CALLERS:
                    raise ValueError(f"{doc}:{line}: unknown attribute {attribute!r} (as=one of {CALLERS})")
                caller = value
            open_step = Step(doc, line, body, found.group(1), found.group(2), caller)
            steps.append(open_step)
        elif language == "json" and attributes in (["variables"], ["result"]):
            role = attributes[0]
            if (
                open_step is None
                or (role == "variables" and open_step.variables)
                or (open_step.result is not NOT_GIVEN)
            ):
                raise ValueError(f"{doc}:{line}: a ```json {role} block must follow its ```graphql block")
            try:
                value = json.loads(body)
            except ValueError as error:
                raise ValueError(f"{doc}:{line}: not JSON: {error}") from None
            if role == "variables":
                if not isinstance(value, dict):
                    raise ValueError(f"{doc}:{line}: variables must be a JSON object")
                open_step.variables = value
            else:
                open_step.result = value
        else:
            open_step = None
    return steps


def all_steps() -> dict[str, list[Step]]:
    return {path.relative_to(ROOT).as_posix(): steps_of(path) for path in DOCS}


def resolve(value: Any, answers: dict[str, Any], mail_code: Any = None) -> Any:
    """`value` with every "${…}" reference replaced by what it names."""
    if isinstance(value, dict):
        return {key: resolve(item, answers, mail_code) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, answers, mail_code) for item in value]
    if not isinstance(value, str) or not (reference := REFERENCE.match(value)):
        return value
    name, *path = reference.group(1).split(".")
    if name == "mail" and path == ["code"]:
        return mail_code() if callable(mail_code) else mail_code
    if name not in answers:
        raise LookupError(f"{value}: no earlier step named {name} in this file")
    found = answers[name]
    for part in path:
        try:
            found = found[int(part)] if isinstance(found, list) else found[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise LookupError(f"{value}: the answer of {name} has nothing at {part!r}") from None
    return found


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def differences(expected: Any, actual: Any, at: str = "") -> list[str]:
    """Where `actual` is not what `expected` documents ("…" matches anything but null)."""
    if expected == ANY:
        return [] if actual is not None else [f"{at or '.'}: documented as a value, got null"]
    if isinstance(expected, str) and ANY in expected and isinstance(actual, str):
        pattern = "[^\n]+".join(re.escape(part) for part in expected.split(ANY))
        if re.fullmatch(pattern, actual) is None:
            return [f"{at or '.'}: documented {show(expected)}, got {show(actual)}"]
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = [f"{at}.{k}: documented, missing" for k in expected if k not in actual]
        problems += [f"{at}.{k}: not documented: {show(actual[k])}" for k in actual if k not in expected]
        for key in expected.keys() & actual.keys():
            problems += differences(expected[key], actual[key], f"{at}.{key}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{at}: documented {len(expected)} items, got {len(actual)}: {show(actual)}"]
        return [p for i, (e, a) in enumerate(zip(expected, actual)) for p in differences(e, a, f"{at}.{i}")]
    if expected != actual or type(expected) is not type(actual):
        return [f"{at or '.'}: documented {show(expected)}, got {show(actual)}"]
    return []


def recorded(documented: Any, resolved: Any, actual: Any) -> Any:
    """`actual`, written as the docs would write it: where the documented value (`resolved` is it with its
    references filled in) still matches, the documented "…" or "${…}" stays."""
    if isinstance(documented, str) and (ANY in documented or REFERENCE.match(documented)):
        return documented if not differences(resolved, actual) else actual
    if isinstance(documented, dict) and isinstance(actual, dict) and isinstance(resolved, dict):
        return {
            key: recorded(documented[key], resolved[key], value) if key in documented else value
            for key, value in actual.items()
        }
    if isinstance(documented, list) and isinstance(actual, list) and isinstance(resolved, list):
        if len(documented) == len(actual):
            return [recorded(d, r, a) for d, r, a in zip(documented, resolved, actual)]
    return actual


def payload_errors(data: Any) -> list[Any]:
    """Every entry of every `errors` list inside `data`."""
    if isinstance(data, dict):
        found = list(data.get("errors") or []) if isinstance(data.get("errors"), list) else []
        return found + [e for key, value in data.items() if key != "errors" for e in payload_errors(value)]
    if isinstance(data, list):
        return [e for item in data for e in payload_errors(item)]
    return []
