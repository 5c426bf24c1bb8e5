"""Programs some end-to-end tests need from the machine (Debian's chromium, node, npm and pgbouncer).
CI (CI=true) installs them in .ci/run, so there a missing one fails the test; elsewhere the test is
skipped, saying why."""

from __future__ import annotations

import os
import shutil

import pytest


def program(name: str, install: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")  # pgbouncer is in sbin
    if path is None:
        message = f"`{name}` is not installed ({install})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": .ci/run installs it", pytrace=False)
        pytest.skip(message)
    return path
