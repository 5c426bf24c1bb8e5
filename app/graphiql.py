"""GraphiQL served by petpos itself, in development only: the page at GET /graphql (Accept: text/html)
and its assets under /graphiql/, vendored from the npm registry (app/static/vendor/graphiql/README.md).
Nothing comes from the internet, so it works on a closed shop network."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"

# The browser itself refuses anything from another origin; GraphiQL's styles set inline styles.
POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@cache
def _page() -> str:
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


def page() -> HTMLResponse:
    return HTMLResponse(_page(), headers={"Content-Security-Policy": POLICY})


def assets() -> Mount:
    """The page's own script and the vendored files (1.6 MB, 660 kB as sent with gzip), under one prefix."""
    files = StaticFiles(directory=STATIC / "graphiql", packages=[("app", "static/vendor/graphiql")])
    return Mount("/graphiql", app=GZipMiddleware(files))
