#!/usr/bin/env python3
"""The two commands a new machine needs (only Python 3.11+ required):

    python3 tasks.py run     install into .venv if needed, then `petpos serve`
    python3 tasks.py test    install into .venv if needed, then ruff, mypy and the whole test suite

Extra arguments go to the underlying command (`python3 tasks.py test -k checkout` to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".petpos-installed"
CODE = ["app", "tests", "bench", "tasks.py"]
# Run before the tests; each must find nothing (mypy's settings are in pyproject.toml).
CHECKS = {
    "ruff check": ["ruff", "check", *CODE],
    "ruff format --check": ["ruff", "format", "--check", *CODE],
    "mypy": ["mypy"],
}


def ensure_installed() -> None:
    """Create .venv and install the project with its dev extras, again whenever pyproject.toml changes."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        try:
            import ensurepip  # noqa: F401  (venv needs it for pip; Debian and Ubuntu package it apart)
        except ImportError:
            sys.exit("This Python cannot create a virtual environment with pip: install python3-venv.")
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing petpos and its dependencies into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def checks_pass() -> bool:
    """One line per check; a failing check's own report follows its line."""
    passed = True
    for name, command in CHECKS.items():
        result = subprocess.run(
            [str(BIN / "python"), "-m", *command], cwd=ROOT, capture_output=True, text=True
        )
        print(f"{name}: {'ok' if result.returncode == 0 else 'FAILED'}", flush=True)
        if result.returncode != 0:
            print(result.stdout + result.stderr, end="", flush=True)
            passed = False
    return passed


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    ensure_installed()
    command, rest = argv[0], argv[1:]
    if command == "run":
        args = [str(BIN / "petpos"), "serve", *rest]
    else:
        if not checks_pass():
            return 1
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    # Become the command rather than its parent: a signal sent to this process (Ctrl-C, SIGTERM from a
    # supervisor) then reaches the server itself, which stops cleanly with its embedded PostgreSQL.
    os.chdir(ROOT)
    os.execv(args[0], args)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
