"""Programs some end-to-end tests need from the machine (Debian's chromium, node, npm and pgbouncer).
CI (CI=true) installs them in .ci/run, so there a missing one fails the test; elsewhere the test is
skipped, saying why."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def program(name: str, install: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")  # pgbouncer is in sbin
    if path is None:
        message = f"`{name}` is not installed ({install})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": .ci/run installs it", pytrace=False)
        pytest.skip(message)
    return path


def npm_packages(folder: Path) -> str:
    """node, with `folder`'s pinned npm packages installed (npm ci from its lockfile, again
    whenever the lockfile changes)."""
    node = program("node", "apt-get install nodejs npm")
    npm = program("npm", "apt-get install npm")
    stamp = folder / "node_modules" / ".petpos-lock-sha256"
    wanted = hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, timeout=600)
        stamp.write_text(wanted)
    return node
