async def test_me_is_null_without_a_token(gql):
    assert (await gql("{ me { id } }"))["data"] == {"me": None}
