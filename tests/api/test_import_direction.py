"""Imports run one way: main -> api (the schema assembled) -> resolvers -> schema (types) -> domain -> db.
A lower room never imports a higher one (docs/architecture.md)."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# Higher rank imports lower; modules outside these rooms (settings, metrics, …) are shared by all.
ROOMS = {
    "main": 6,
    "cli": 6,
    "graphql_http": 6,
    "websocket": 6,
    "auth": 6,
    "mail": 6,
    "seed": 6,
    "check": 6,
    "backup": 6,
    "persisted_queries": 6,
    "graphiql": 6,
    "embedded": 6,
    "supervisor": 6,
    "migrations": 6,
    "api": 5,
    "resolvers": 4,
    "schema": 3,
    "domain": 2,
    "db": 1,
}


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in ROOMS else None


def imports(path: Path):
    """Every module a file imports; `from app import main` imports `app.main` (and `app` itself)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_room_imports_a_higher_one():
    wrong = []
    for path in APP.rglob("*.py"):
        here = room("app." + ".".join(path.relative_to(APP).with_suffix("").parts))
        if here is None:
            continue
        for module in imports(path):
            there = room(module)
            if there is not None and ROOMS[there] > ROOMS[here]:
                wrong.append(f"{path.relative_to(APP.parent)} ({here}) imports {module} ({there})")
    assert wrong == []


def test_the_shared_modules_import_nothing_of_the_app():
    """settings, metrics and logs are imported by every room, so they import none (not even inside
    a function) but processes, which imports none itself."""
    allowed = {"settings.py": set(), "metrics.py": {"processes"}, "processes.py": set(), "logs.py": set()}
    for name, leaves in allowed.items():
        assert {m.split(".")[1] for m in imports(APP / name) if m.startswith("app.")} <= leaves, name


def test_the_lock_helper_and_the_unit_of_work_do_not_import_each_other():
    assert "app.domain.uow" not in set(imports(APP / "domain" / "locks.py"))
