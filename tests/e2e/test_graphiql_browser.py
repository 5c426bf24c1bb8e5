"""GraphiQL in a real browser (Debian's chromium driven by playwright) against a real `petpos serve`, with
every request to anywhere but the server aborted and counted: the page renders with its example and the
sign-in note, an operation typed into the editor runs and its data shows in the result pane, and a token
put in the headers pane signs the next operation in."""

import json

import pytest
from playwright.async_api import async_playwright

from app.seed import seed_demo
from tests.e2e.required import program
from tests.e2e.test_serve import LOGIN, free_port, graphql, start, stop, wait_ready

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"  # the tab open: Headers
RESULT = ".graphiql-response .CodeMirror"
TYPED = "query Typed { products(first: 2) { edges { node { sku name } } } }"


@pytest.fixture(scope="session")
def chromium() -> str:
    return program("chromium", "apt-get install chromium")


async def editor_text(page, selector: str) -> str:
    return await page.eval_on_selector(selector, "element => element.CodeMirror.getValue()")


async def run_typed(page, operation: str, name: str) -> dict:
    """Type `operation` over the query editor's text, run it with Ctrl-Enter: the result pane's JSON."""
    await page.click(QUERY_EDITOR)
    await page.keyboard.press("Control+A")
    await page.keyboard.type(operation)
    await page.keyboard.press("Escape")  # close the completion list, if one is open
    # GraphiQL reads the operation's name a moment after the edit, and names the tab after it.
    await page.wait_for_function(
        "name => document.querySelector('.graphiql-tab-active').innerText.trim() == name", arg=name
    )
    await page.keyboard.press("Control+Enter")
    await page.wait_for_function(
        "s => { const v = document.querySelector(s).CodeMirror.getValue(); return v.includes('\"data\"') }",
        arg=RESULT,
        timeout=20_000,
    )
    result = json.loads(await editor_text(page, RESULT))
    await page.eval_on_selector(RESULT, "element => element.CodeMirror.setValue('')")
    return result


async def test_graphiql_works_with_no_internet(chromium, tmp_path, settings, database_url, db):
    await seed_demo(settings, database_url)
    port = free_port()
    server = start(tmp_path / "data", port, DATABASE_URL=database_url)
    origin = f"http://127.0.0.1:{port}"
    inside: list[str] = []
    outside: list[str] = []
    console_errors: list[str] = []

    async def only_the_server(route):
        if route.request.url.startswith(origin + "/"):
            inside.append(route.request.url.removeprefix(origin))
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    try:
        wait_ready(server, port)
        expected = graphql(port, TYPED)
        assert expected["data"]["products"]["edges"], expected  # the demo catalogue
        token = graphql(port, LOGIN)["data"]["login"]["token"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context()
                await context.route("**/*", only_the_server)
                page = await context.new_page()
                page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
                page.on(
                    "websocket",
                    lambda ws: ws.url.startswith(origin.replace("http", "ws")) or outside.append(ws.url),
                )

                response = await page.goto(f"{origin}/graphql")
                assert response.status == 200
                await page.wait_for_selector(QUERY_EDITOR, timeout=30_000)
                assert "query Products" in await editor_text(page, QUERY_EDITOR)  # the example
                headers = await editor_text(page, HEADERS_EDITOR)
                assert '"//Authorization": "Bearer <token>"' in headers  # the sign-in note

                assert await run_typed(page, TYPED, "Typed") == expected

                # Signed in the way the note says: the token in place of <token>, the // deleted.
                signed_in = headers.replace("<token>", token).replace('"//Authorization"', '"Authorization"')
                await page.eval_on_selector(
                    HEADERS_EDITOR, "(element, text) => element.CodeMirror.setValue(text)", signed_in
                )
                me = await run_typed(page, "query SignedIn { me { email } }", "SignedIn")
                assert me == {"data": {"me": {"email": "customer@petpos.example"}}}
            finally:
                await browser.close()
    finally:
        output = stop(server)
    assert outside == []
    assert "/graphiql/graphiql.min.js" in inside  # the route saw the page's requests
    assert console_errors == []
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
