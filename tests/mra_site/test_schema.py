import yaml
from django.core.management import call_command

# Every operation that runs authentication answers 401 for a bad token, and
# every one reads AWS, so it can answer 503 (with Retry-After).
PUBLIC_WITHOUT_AUTH = {("get", "/api/state"), ("post", "/api/auth/token")}


def test_the_openapi_schema_generates_without_warnings_and_documents_statuses_and_bounds(
    tmp_path,
):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    paths = schema["paths"]
    assert schema["components"]["securitySchemes"]["cognitoBearer"]["scheme"] == "bearer"
    for route in ("/api/photos", "/api/state", "/api/state/history", "/api/replication"):
        assert route in paths, route
    assert {"cognitoBearer": []} in paths["/api/photos"]["post"]["security"]

    for route, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "503" in responses, (method, route)
            if (method, route) not in PUBLIC_WITHOUT_AUTH:
                assert "401" in responses, (method, route)
            if method == "post":
                assert {"400", "413", "415"} <= set(responses), (method, route)
    assert {"403", "404", "421"} <= set(paths["/api/photos/{photo_id}"]["delete"]["responses"])
    assert {"401", "403"} <= set(paths["/api/replication"]["get"]["responses"])
    assert {"401", "403", "409"} <= set(paths["/api/state"]["post"]["responses"])
    token = paths["/api/auth/token"]["post"]["responses"]
    assert token["429"]["headers"]["Retry-After"]["required"] is True
    photos = paths["/api/photos"]["post"]["responses"]
    assert {"409", "421", "422"} <= set(photos)
    assert photos["503"]["headers"]["Retry-After"]["required"] is True
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "detail"}

    limits = {
        p["name"]: p["schema"]
        for p in paths["/api/photos"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert (limits["limit"]["minimum"], limits["limit"]["maximum"]) == (1, 100)
    upload = schema["components"]["schemas"]["PhotoUpload"]["properties"]
    assert upload["image"]["format"] == "binary"
    assert (upload["title"]["minLength"], upload["title"]["maxLength"]) == (1, 200)
    assert schema["components"]["schemas"]["CommentCreate"]["properties"]["message"]["maxLength"]
    transition = schema["components"]["schemas"]["Transition"]["properties"]
    assert transition["reason"]["maxLength"] and transition["expected_version"]["minimum"] == 1
