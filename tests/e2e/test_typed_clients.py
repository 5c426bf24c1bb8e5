"""Typed clients: graphql-codegen (the typescript and typescript-operations plugins, pinned in
tests/codegen/package-lock.json) turns schema.graphql and every documented operation into TypeScript,
and `tsc --noEmit --strict` type-checks it, with a file that uses the types as a frontend would:
docs/clients.md's two commands, run by the suite."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.documented import ROOT, all_steps
from tests.e2e.required import npm_packages, program

CODEGEN = Path(__file__).resolve().parents[1] / "codegen"
BIN = CODEGEN / "node_modules" / ".bin"
# What the documented config maps the custom scalars to (docs/clients.md).
CONFIG = {
    "plugins": ["typescript", "typescript-operations"],
    "config": {
        "scalars": {"Decimal": "string", "DateTime": "string"},
        "strictScalars": True,
        "enumsAsTypes": True,
    },
}
USAGE = """\
import type { CheckoutMutation, AddToCartMutationVariables, ProductCategory } from "./petpos";

export const variables: AddToCartMutationVariables = { productId: "a product id" };
export const food: ProductCategory = "FOOD";

// Money is a string, never a float; a refused checkout has no sale.
export function total(answer: CheckoutMutation): string | undefined {
  return answer.checkout.sale?.total.amount;
}
"""


@pytest.fixture(scope="session")
def node() -> str:
    """node, with tests/codegen's packages installed (npm ci from the lockfile, again when it changes)."""
    node = program("node", "apt-get install nodejs npm")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    if int(version.strip().lstrip("v").split(".")[0]) < 20:  # graphql-codegen's dependencies need it
        message = f"graphql-codegen needs node 20 or newer, not {version.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return npm_packages(CODEGEN)


def run(node: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([node, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_codegen_over_the_schema_and_every_documented_operation_type_checks(node, tmp_path):
    operations = tmp_path / "operations"
    operations.mkdir()
    documented = 0
    for doc, steps in all_steps().items():
        if steps:
            name = doc.replace("/", "-").removesuffix(".md")
            (operations / f"{name}.graphql").write_text("\n".join(step.document for step in steps))
            documented += len(steps)
    assert documented > 40  # every doc's operations, not an empty folder
    config = {
        "schema": str(ROOT / "schema.graphql"),
        "documents": [str(operations / "*.graphql")],
        "generates": {str(tmp_path / "petpos.ts"): CONFIG},
    }
    (tmp_path / "codegen.json").write_text(json.dumps(config))
    (tmp_path / "usage.ts").write_text(USAGE)
    # Run from tests/codegen, where the plugins are installed.
    generated = run(
        node, str(BIN / "graphql-codegen"), "--config", str(tmp_path / "codegen.json"), cwd=CODEGEN
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    types = (tmp_path / "petpos.ts").read_text()
    assert "export type CheckoutMutation = " in types and "export type PayCardMutationVariables" in types
    checked = run(
        node,
        str(BIN / "tsc"),
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--module",
        "esnext",
        "--moduleResolution",
        "bundler",
        str(tmp_path / "petpos.ts"),
        str(tmp_path / "usage.ts"),
        cwd=CODEGEN,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
