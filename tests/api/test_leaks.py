"""/metrics labels stay bounded."""
import re


def operation_labels(metrics_text: str) -> set[str]:
    return set(re.findall(r'^petpos_graphql_\w+\{.*?operation="([^"]*)"', metrics_text, re.MULTILINE))


def requests_count(metrics_text: str, operation: str, outcome: str) -> float:
    sample = rf'^petpos_graphql_requests_total\{{operation="{operation}",outcome="{outcome}"\}} (\S+)$'
    found = re.search(sample, metrics_text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_junk_documents_add_one_invalid_operation_label_to_metrics(client):
    await client.post("/graphql", json={"query": "{ me { id } }"})
    scraped = (await client.get("/metrics")).text
    before, invalid_before = operation_labels(scraped), requests_count(scraped, "invalid", "error")
    junk = [
        *({"query": f"{{ junk{n} }}"} for n in range(100)),
        *({"query": f"mutation {{ junk{n}(x: 1) {{ id }}"} for n in range(50)),  # syntax errors
        *({"query": "query { me { id } }", "operationName": f"Other{n}"} for n in range(25)),
        *({"query": f"{{ me {{ junk{n} }} }}"} for n in range(25)),
    ]
    for body in junk:
        response = await client.post("/graphql", json=body)
        assert response.status_code == 400 or response.json()["errors"], response.text
    scraped = (await client.get("/metrics")).text
    assert operation_labels(scraped) - before <= {"invalid"}
    # Each counted once, as `invalid`.
    assert requests_count(scraped, "invalid", "error") - invalid_before == len(junk)


async def test_a_valid_document_is_labelled_by_its_root_field_even_through_fragments(client):
    before = (await client.get("/metrics")).text
    body = {"query": "fragment Root on Query { me { id } } query Mine { ...Root }"}
    assert (await client.post("/graphql", json=body)).json() == {"data": {"me": None}}
    after = (await client.get("/metrics")).text
    assert requests_count(after, "query.me", "ok") - requests_count(before, "query.me", "ok") == 1
    assert operation_labels(after) - operation_labels(before) <= {"query.me"}
