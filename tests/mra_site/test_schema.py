import yaml
from django.core.management import call_command


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    assert schema["components"]["securitySchemes"]["cognitoBearer"]["scheme"] == "bearer"
    for route in ("/api/photos", "/api/state", "/api/state/history", "/api/replication"):
        assert route in schema["paths"], route
    assert {"cognitoBearer": []} in schema["paths"]["/api/photos"]["post"]["security"]
