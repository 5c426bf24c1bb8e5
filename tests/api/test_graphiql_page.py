"""GraphiQL's page and assets come from the server itself, in development only: the page names only its own
files (no CDN, no fonts from elsewhere) and tells the browser to load nothing from anywhere else."""

import re

from tests.api.test_hardening import production  # noqa: F401 - the production app's client

ASSETS = {
    "graphiql.min.js": "javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "javascript",
    "react-dom.production.min.js": "javascript",
    "petpos.js": "javascript",
}


async def test_the_page_and_its_assets_are_served_by_petpos(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    referenced = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sorted(referenced) == sorted(["data:,", *(f"graphiql/{asset}" for asset in ASSETS)])
    for asset, media_type in ASSETS.items():
        served = await client.get(f"/graphiql/{asset}", headers={"accept-encoding": "gzip"})
        assert served.status_code == 200 and media_type in served.headers["content-type"], asset
        assert "sourceMappingURL" not in served.text[-200:]  # nothing more for the browser to ask for
        if asset.startswith("graphiql"):
            assert served.headers["content-encoding"] == "gzip"


async def test_production_serves_neither_the_page_nor_its_assets(production):  # noqa: F811
    assert (await production.get("/graphql", headers={"accept": "text/html"})).status_code == 404
    assert (await production.get("/graphiql/graphiql.min.js")).status_code == 404
