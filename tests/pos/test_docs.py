"""docs/pos.md shows operations that the server accepts: each GraphQL block, and the
subscription inside the WebSocket example, validates against the schema."""
from __future__ import annotations

import json
import re
from pathlib import Path

from graphql import build_schema, parse, validate

from app.schema.root import export_sdl

DOC = Path(__file__).resolve().parents[2] / "docs" / "pos.md"


def operations() -> list[str]:
    text = DOC.read_text()
    found = re.findall(r"```graphql\n(.*?)```", text, re.DOTALL)
    for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\n  ", " ").splitlines():
            if '"subscribe"' in line:
                found.append(json.loads(line.replace("<order id>", "x"))["payload"]["query"])
    return found


def test_every_operation_in_the_pos_guide_is_valid_against_the_schema():
    schema = build_schema(export_sdl())
    documents = operations()
    assert len(documents) >= 12 and any(d.startswith("subscription") for d in documents)
    for document in documents:
        assert validate(schema, parse(document)) == [], document
