"""HTTP bodies that are not one GraphQL request object get 400 with a JSON {"errors": [{"message"}]} body
naming what is wrong, and the X-Request-ID header; other transport errors have the same shape."""

import pytest

JSON = "application/json"
QUERY_TYPE = "The GraphQL operation's `query` must be a string or null, if provided."
VARIABLES_TYPE = "The GraphQL operation's `variables` must be an object or null, if provided."
CONTENT_TYPE = "Unsupported content type: the request body must be application/json"
NAME_TYPE = "The GraphQL operation's `operationName` must be a string or null, if provided."
NOT_AN_OBJECT = "The request body must be a JSON object with a `query` string, not "

# name: (body, content type, the message)
BODIES = {
    "string": (b'"x"', JSON, NOT_AN_OBJECT + "a string"),
    "null": (b"null", JSON, NOT_AN_OBJECT + "null"),
    "number": (b"1", JSON, NOT_AN_OBJECT + "a number"),
    "true": (b"true", JSON, NOT_AN_OBJECT + "a boolean"),
    "empty array": (b"[]", JSON, NOT_AN_OBJECT + "an array (batched requests are not supported)"),
    "array of requests": (
        b'[{"query": "{ me { id } }"}]',
        JSON,
        NOT_AN_OBJECT + "an array (batched requests are not supported)",
    ),
    "invalid UTF-8": (b'{"query": "{ me { id } }\xff\xfe"}', JSON, "The request body is not valid UTF-8"),
    "UTF-16": ('{"query": "{ me { id } }"}'.encode("utf-16"), JSON, "The request body is not valid UTF-8"),
    "nested 100000 deep": (b"[" * 100_000, JSON, "The request body is JSON nested too deeply"),
    "objects nested deep": (
        b'{"query": "{ me { id } }", "variables": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
        JSON,
        "The request body is JSON nested too deeply",
    ),
    "truncated": (
        b'{"query": ',
        JSON,
        "The request body is not valid JSON: Expecting value at line 1 column 11",
    ),
    "empty": (b"", JSON, "The request body is not valid JSON: Expecting value at line 1 column 1"),
    "integer over the digit limit": (
        b'{"query": "{ me { id } }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        JSON,
        "The request body is not valid JSON",
    ),
    # Python's json reads these; JSON (RFC 8259) has no such numbers.
    **{
        f"{name} as a value": (
            b'{"query": "{ me { id } }", "variables": {"n": ' + name.encode() + b"}}",
            JSON,
            f"The request body is not valid JSON: {name} is not a JSON number",
        )
        for name in ("NaN", "Infinity", "-Infinity")
    },
    "query a number": (b'{"query": 1}', JSON, QUERY_TYPE),
    "query an object": (b'{"query": {}}', JSON, QUERY_TYPE),
    "query null": (b'{"query": null}', JSON, "No GraphQL query found in the request"),
    "no query": (b'{"variables": {}}', JSON, "No GraphQL query found in the request"),
    "variables a string": (b'{"query": "{ me { id } }", "variables": "x"}', JSON, VARIABLES_TYPE),
    "variables a list": (b'{"query": "{ me { id } }", "variables": []}', JSON, VARIABLES_TYPE),
    "variables a number": (b'{"query": "{ me { id } }", "variables": 3}', JSON, VARIABLES_TYPE),
    "operationName a number": (b'{"query": "{ me { id } }", "operationName": 1}', JSON, NAME_TYPE),
    "operationName an object": (b'{"query": "{ me { id } }", "operationName": {}}', JSON, NAME_TYPE),
    "extensions a list": (
        b'{"query": "{ me { id } }", "extensions": []}',
        JSON,
        "The GraphQL operation's `extensions` must be an object or null, if provided.",
    ),
    "garbage as text/plain": (b"\xff garbage {", "text/plain", CONTENT_TYPE),
    "no content type": (b'{"query": "{ me { id } }"}', None, CONTENT_TYPE),
    "a type that only contains application/json": (b'{"query": "{ me { id } }"}', JSON + "x", CONTENT_TYPE),
    "JSON Patch": (b'{"query": "{ me { id } }"}', "application/json-patch+json", CONTENT_TYPE),
    "a text type": (b'{"query": "{ me { id } }"}', "text/application/json", CONTENT_TYPE),
}


def assert_json_error(response, status: int, message: str, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = {"message": message, **({"extensions": {"code": code}} if code else {})}
    assert response.json() == {"errors": [error]}
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("name", BODIES)
async def test_a_body_that_is_not_a_graphql_request_is_400_json(client, name):
    body, content_type, message = BODIES[name]
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=body, headers=headers)
    assert_json_error(response, 400, message)
    fine = await client.post("/graphql", json={"query": "{ __typename }"})  # the worker is fine afterwards
    assert fine.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/json; Charset=UTF-8"])
async def test_the_media_type_is_read_in_any_letter_case(client, content_type):
    body = b'{"query": "{ __typename }"}'
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_an_unknown_operation_name_with_a_lone_surrogate_is_400_json(client):
    body = b'{"query": "query A { me { id } }", "operationName": "\\ud800"}'
    response = await client.post("/graphql", content=body, headers={"content-type": JSON})
    assert_json_error(response, 400, 'Unknown operation named "\ud800".', "VALIDATION")


async def test_other_transport_errors_have_the_same_json_shape(client):
    put = await client.put("/graphql", content=b"{}", headers={"content-type": JSON})
    assert_json_error(put, 405, "Method Not Allowed")
    assert "POST" in put.headers["allow"]
    assert_json_error(
        await client.get("/graphql", params={"query": "mutation { logout { ok } }"}),
        405,
        "Mutations are not allowed over GET: send them with POST",
    )
    assert_json_error(await client.get("/nowhere"), 404, "Not Found")


async def test_a_byte_order_mark_before_utf8_json_is_ignored(client):
    """RFC 8259 lets a parser ignore it; UTF-16, BOM and all, is refused above."""
    body = '{"query": "{ __typename }"}'.encode("utf-8-sig")
    response = await client.post("/graphql", content=body, headers={"content-type": JSON})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", JSON + ";charset=UTF-8"])
async def test_application_json_with_a_charset_is_read(client, content_type):
    body = b'{"query": "{ __typename }"}'
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.json() == {"data": {"__typename": "Query"}}
