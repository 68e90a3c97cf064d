"""deploy/cloudformation: lint-clean, and saying what the application expects."""

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mra_site.resources import REGIONAL_TABLES, TABLES
from tests.deploy.templates import DEPLOY, TEMPLATES, load, references, resources_of_type

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.yaml"))


def _cfn_lint() -> str:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    return str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")


def test_every_template_passes_cfn_lint():
    assert {p.name for p in TEMPLATE_FILES} >= {"main.yaml", "regional.yaml"}
    result = subprocess.run(
        [_cfn_lint(), "--config-file", ".cfnlintrc", "--", *map(str, TEMPLATE_FILES)],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_run_reports_a_broken_template(tmp_path):
    """The lint step above would fail on an error, not pass whatever the file says."""
    broken = tmp_path / "broken.yaml"
    text = (TEMPLATES / "regional.yaml").read_text()
    broken.write_text(text.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FREE", 1))
    result = subprocess.run(
        [_cfn_lint(), "--config-file", ".cfnlintrc", "--", str(broken)],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "FREE" in result.stdout


def _sub(value) -> str:
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    return value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]


def _key_schema(schema: list[dict]) -> tuple[str, str | None]:
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys.get("RANGE")


def _tables_by_spec(kind: str, specs) -> list[tuple]:
    """(spec, template resource) for each spec; the template has no other `kind`."""
    tables = resources_of_type(load("regional.yaml"), kind)
    by_name = {_sub(t["Properties"]["TableName"]): t for t in tables.values()}
    assert set(by_name) == {f"${{TablePrefix}}{spec.key}" for spec in specs}
    return [(spec, by_name[f"${{TablePrefix}}{spec.key}"]) for spec in specs]


def test_global_tables_match_the_table_catalogue():
    for spec, table in _tables_by_spec("AWS::DynamoDB::GlobalTable", TABLES):
        props = table["Properties"]
        # Created once: the primary region's stack owns both replicas.
        assert table["Condition"] == "IsPrimary"
        assert table["DeletionPolicy"] == "Retain"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert [r["Region"] for r in props["Replicas"]] == [
            {"Ref": "PrimaryRegion"},
            {"Ref": "SecondaryRegion"},
        ]
        assert _key_schema(props["KeySchema"]) == (spec.hash_key, spec.range_key)
        indexes = {
            i["IndexName"]: (_key_schema(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in props.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {i.name: ((i.hash_key, i.range_key), "ALL") for i in spec.indexes}
        expected_attributes = {spec.hash_key, spec.range_key} - {None}
        for index in spec.indexes:
            expected_attributes |= {index.hash_key, index.range_key} - {None}
        assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
            name: "S" for name in expected_attributes
        }
        ttl = props.get("TimeToLiveSpecification")
        assert (ttl["AttributeName"] if ttl else None) == spec.ttl_attribute


def test_regional_tables_are_each_regions_own():
    """Not replicated: every regional stack creates its own, with TTL, no stream."""
    for spec, table in _tables_by_spec("AWS::DynamoDB::Table", REGIONAL_TABLES):
        props = table["Properties"]
        assert "Condition" not in table
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert "StreamSpecification" not in props
        assert _key_schema(props["KeySchema"]) == (spec.hash_key, spec.range_key)
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }


SECRET_KEY_ARN = (
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
    "secret:${AppName}/django-secret-key-??????"
)


def _statements(role: dict) -> list[dict]:
    found = []
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                found.extend(s for s in statement["Fn::If"][1:] if "Ref" not in s)
            else:
                found.append(statement)
    return found


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_site_role_reaches_only_its_own_tables_bucket_pool_and_logs():
    """Own region: the tables (with indexes and streams), the media bucket, the
    pool. Peer region: only what routing, the canary, the drain check and
    sign-up provisioning touch there."""
    regional = load("regional.yaml")
    role = regional["Resources"]["SiteRole"]
    # Lambda runs as the role; API Gateway assumes it to invoke the function
    # (Zappa's integration credentials: tests/deploy/test_zappa_stages.py).
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [
        {"Service": "lambda.amazonaws.com"},
        {"Service": "apigateway.amazonaws.com"},
    ]
    assert all(s["Action"] == "sts:AssumeRole" and "Condition" not in s for s in trust)
    table = "arn:${AWS::Partition}:dynamodb:%s:${AWS::AccountId}:table/${TablePrefix}%s"
    own_tables = {table % ("${AWS::Region}", s.key) for s in (*TABLES, *REGIONAL_TABLES)}
    peer_allowed = {
        "dynamodb": {
            table % ("${Peer}", key) for key in ("state", "audit", "canary", "photos", "users")
        },
        "s3": {"arn:${AWS::Partition}:s3:::${AppName}-media-${AWS::AccountId}-${Peer}/canary/*"},
        "cognito-idp": {
            "arn:${AWS::Partition}:cognito-idp:${Peer}:${AWS::AccountId}:userpool/${PeerUserPoolId}"
        },
    }
    for statement in _statements(role):
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, action
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                assert set(actions) == {"cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"}
                continue
            if isinstance(resource, dict) and "Fn::GetAtt" in resource:
                assert resource["Fn::GetAtt"][0] in ("MediaBucket", "UserPool")
                continue
            text = _sub(resource)
            if "${Peer}" in text:
                service = actions[0].split(":")[0]
                assert text in peer_allowed[service], text
                if text.endswith("${TablePrefix}photos"):
                    assert actions == ["dynamodb:Scan"]
            elif ":dynamodb:" in text:
                assert any(
                    text == arn + suffix
                    for arn in own_tables
                    for suffix in ("", "/index/*", "/stream/*")
                ), text
            elif ":lambda:" in text:
                assert actions == ["lambda:InvokeFunction"]
                assert text.endswith(":function:${AppName}-${Stage}"), text
            elif ":logs:" in text:
                assert "log-group:/aws/lambda/${AppName}-" in text
            elif ":secretsmanager:" in text:
                assert actions == ["secretsmanager:GetSecretValue"]
                assert text == SECRET_KEY_ARN, text
            else:
                assert text == "${MediaBucket.Arn}/*", text
    # Each of its own tables and their streams is reachable.
    resources = {
        _sub(r)
        for s in _statements(role)
        for r in _as_list(s["Resource"])
        if isinstance(r, dict) and "Fn::Sub" in r
    }
    assert own_tables <= resources
    replicated = {table % ("${AWS::Region}", s.key) for s in TABLES}
    assert {a + "/stream/*" for a in replicated} <= resources


def test_media_bucket_replicates_both_ways_within_the_time_bound():
    regional = load("regional.yaml")
    bucket = regional["Resources"]["MediaBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    origins = bucket["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"]
    assert {_sub(o) for o in origins} == {
        "https://${DomainName}",
        "https://${PrimaryRegion}.${DomainName}",
        "https://${SecondaryRegion}.${DomainName}",
    }
    condition, replication, otherwise = bucket["ReplicationConfiguration"]["Fn::If"]
    assert condition == "ReplicationOn" and otherwise == {"Ref": "AWS::NoValue"}
    (rule,) = replication["Rules"]
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["SourceSelectionCriteria"]["ReplicaModifications"] == {"Status": "Enabled"}
    destination = rule["Destination"]
    assert destination["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert destination["Metrics"]["Status"] == "Enabled"
    assert "${Peer}" in _sub(destination["Bucket"])


def test_alarms_cover_replication_latency_and_the_sites_5xx():
    regional = load("regional.yaml")
    alarms = resources_of_type(regional, "AWS::CloudWatch::Alarm").values()
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms}
    assert {
        ("AWS/S3", "ReplicationLatency"),
        ("AWS/DynamoDB", "ReplicationLatency"),
        ("AWS/ApiGateway", "5XXError"),
    } <= metrics
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    watched_tables = {
        _sub(d["Value"])
        for a in alarms
        if a["Properties"]["MetricName"] == "ReplicationLatency"
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "TableName"
    }
    assert {"${TablePrefix}state", "${TablePrefix}photos", "${TablePrefix}canary"} <= watched_tables
    # An alarm whose unit differs from the metric's never sees a data point.
    metric_units = {("AWS/DynamoDB", "ReplicationLatency"): "Milliseconds"}
    for alarm in alarms:
        props = alarm["Properties"]
        expected = metric_units.get((props["Namespace"], props["MetricName"]))
        if expected:
            assert props["Unit"] == expected


def test_cognito_matches_what_the_app_signs_in_with():
    regional = load("regional.yaml")
    app_client = regional["Resources"]["UserPoolClient"]["Properties"]
    assert app_client["GenerateSecret"] is False
    assert set(app_client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    group = regional["Resources"]["OperatorsGroup"]["Properties"]
    assert group["GroupName"] == "operators"
    policy = regional["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    # The pool's policy and the app's pre-check (cognito.validate_password) agree.
    assert policy["MinimumLength"] == 10
    assert policy["RequireUppercase"] and policy["RequireLowercase"] and policy["RequireNumbers"]
    assert policy["RequireSymbols"] is False


def _distribution() -> dict:
    return load("main.yaml")["Resources"]["Distribution"]["Properties"]["DistributionConfig"]


def test_cloudfront_sends_reads_to_the_writable_region_and_fails_over_per_request():
    config = _distribution()
    origins = {o["Id"]: o for o in config["Origins"]}
    groups = {g["Id"]: g for g in config["OriginGroups"]["Items"]}
    sites = groups["sites"]
    assert set(sites["FailoverCriteria"]["StatusCodes"]["Items"]) == {500, 502, 503, 504}
    assert [m["OriginId"] for m in sites["Members"]["Items"]] == ["home-read", "standby-read"]
    assert _sub(origins["home-read"]["DomainName"]) == "origin.${DomainName}"
    assert _sub(origins["standby-read"]["DomainName"]) == "standby.${DomainName}"
    for origin_id in ("home-read", "standby-read"):
        origin = origins[origin_id]
        assert origin["ConnectionAttempts"] == 1
        assert origin["ConnectionTimeout"] <= 3
        assert origin["CustomOriginConfig"]["OriginReadTimeout"] <= 10
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "sites"
    static = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/static/*")
    assert static["TargetOriginId"] == "static"
    assert {m["OriginId"] for m in groups["static"]["Members"]["Items"]} == {
        "primary-static",
        "secondary-static",
    }


def test_cloudfront_sends_writes_to_the_writable_region_marked_as_the_front_door():
    config = _distribution()
    origins = {o["Id"]: o for o in config["Origins"]}
    # Origin groups carry only GET/HEAD/OPTIONS: whatever may write goes to
    # the name that follows /writablez, never to one fixed region.
    writers = [b for b in config["CacheBehaviors"] if "POST" in b["AllowedMethods"]]
    assert writers and all(b["TargetOriginId"] == "home-write" for b in writers)
    assert _sub(origins["home-write"]["DomainName"]) == "origin.${DomainName}"
    site_origins = [o for o in origins.values() if "CustomOriginConfig" in o]
    assert {o["Id"] for o in site_origins} == {"home-read", "standby-read", "home-write"}
    for origin in site_origins:
        # Through the door a refused write is 503 + Retry-After, never a 421
        # sending the browser to another host.
        assert origin["OriginCustomHeaders"] == [{"HeaderName": "X-MRA-Door", "HeaderValue": "1"}]
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    hosts = {_sub(o["DomainName"]) for o in site_origins}
    assert not any("Region}" in host for host in hosts), "no user request reaches a regional name"


def test_the_write_origin_follows_each_regions_writablez():
    regional = load("regional.yaml")
    resources = regional["Resources"]
    check = resources["WritableHealthCheck"]["Properties"]["HealthCheckConfig"]
    assert check["Type"] == "HTTPS"
    assert check["ResourcePath"] == "/writablez"
    assert _sub(check["FullyQualifiedDomainName"]) == "${AWS::Region}.${DomainName}"
    assert check["RequestInterval"] == 10
    assert check["FailureThreshold"] <= 2
    assert check["EnableSNI"] is True
    assert not resources_of_type(regional, "AWS::Route53::HealthCheck").keys() - {
        "WritableHealthCheck",
        "NotWritableHealthCheck",
    }
    home = resources["HomeRecord"]["Properties"]
    assert _sub(home["Name"]) == "origin.${DomainName}"
    assert home["HealthCheckId"] == {"Ref": "WritableHealthCheck"}
    assert home["Failover"] == {"Fn::If": ["IsPrimary", "PRIMARY", "SECONDARY"]}
    # The failover time is interval x threshold + TTL: a short TTL of its own.
    assert home["Type"] == "CNAME" and int(home["TTL"]) <= 10
    assert home["ResourceRecords"] == [{"Fn::GetAtt": ["OriginDomain", "RegionalDomainName"]}]


def test_the_standby_origin_is_the_region_that_does_not_take_writes():
    resources = load("regional.yaml")["Resources"]
    inverted = resources["NotWritableHealthCheck"]["Properties"]["HealthCheckConfig"]
    assert inverted == {
        "Type": "CALCULATED",
        "ChildHealthChecks": [{"Ref": "WritableHealthCheck"}],
        "HealthThreshold": 1,
        "Inverted": True,
    }
    standby = resources["StandbyRecord"]["Properties"]
    assert _sub(standby["Name"]) == "standby.${DomainName}"
    # The secondary leads while it is not writable; after a failover, the primary.
    assert standby["Failover"] == {"Fn::If": ["IsPrimary", "SECONDARY", "PRIMARY"]}
    assert standby["HealthCheckId"] == {
        "Fn::If": ["IsPrimary", {"Ref": "AWS::NoValue"}, {"Ref": "NotWritableHealthCheck"}]
    }
    assert standby["Type"] == "CNAME" and int(standby["TTL"]) <= 10
    names = resources["SiteCertificate"]["Properties"]["SubjectAlternativeNames"]
    assert {_sub(n) for n in names} == {"origin.${DomainName}", "standby.${DomainName}"}


def test_one_signing_key_is_generated_once_and_replicated_to_the_secondary():
    regional = load("regional.yaml")
    (secret,) = resources_of_type(regional, "AWS::SecretsManager::Secret").values()
    assert secret["Condition"] == "IsPrimary"
    props = secret["Properties"]
    assert _sub(props["Name"]) == "${AppName}/django-secret-key"
    assert props["ReplicaRegions"] == [{"Region": {"Ref": "SecondaryRegion"}}]
    generated = props["GenerateSecretString"]
    assert generated["PasswordLength"] >= 50
    assert generated["ExcludePunctuation"] is True and not generated.get("IncludeSpace")
    # Secrets Manager's AWS-managed key, which needs no grant in the role.
    assert "KmsKeyId" not in props
    assert "SecretString" not in props
    output = regional["Outputs"]["SecretKeySecretId"]["Value"]
    assert _sub(output) == "${AppName}/django-secret-key"
    assert "Condition" not in regional["Outputs"]["SecretKeySecretId"]
    role = regional["Resources"]["SiteRole"]
    granted = [
        s for s in _statements(role) if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
    ]
    assert [_sub(r) for s in granted for r in _as_list(s["Resource"])] == [SECRET_KEY_ARN]
    assert all(_as_list(s["Action"]) == ["secretsmanager:GetSecretValue"] for s in granted)


def test_main_stackset_deploys_the_regional_template_to_both_regions():
    main = load("main.yaml")
    stackset = main["Resources"]["Regions"]["Properties"]
    regions = [g["Regions"] for g in stackset["StackInstancesGroup"]]
    assert regions == [[{"Ref": "PrimaryRegion"}], [{"Ref": "SecondaryRegion"}]]
    regional_parameters = set(load("regional.yaml")["Parameters"])
    passed = {p["ParameterKey"] for p in stackset["Parameters"]}
    main_parameters = set(main["Parameters"])
    # Every parameter the regional stack has without a default is passed.
    required = {
        name for name, spec in load("regional.yaml")["Parameters"].items() if "Default" not in spec
    }
    assert required <= passed <= regional_parameters
    for group in stackset["StackInstancesGroup"]:
        for override in group["ParameterOverrides"]:
            assert override["ParameterKey"] in regional_parameters
            assert references(override["ParameterValue"]) <= main_parameters


@pytest.mark.parametrize("name", ["main.yaml", "regional.yaml"])
def test_parameters_name_regions_domain_and_alarm_email(name):
    parameters = load(name)["Parameters"]
    assert {"PrimaryRegion", "SecondaryRegion", "DomainName", "AlarmEmail"} <= set(parameters)


@pytest.mark.parametrize(
    ("path", "origin"),
    [
        ("/", "sites"),
        ("/writablez", "sites"),
        ("/photos/p-1/", "sites"),
        ("/me/", "sites"),
        ("/readyz", "sites"),
        ("/static/css/site.css", "static"),
        ("/api/photos", "home-write"),
        ("/api/state", "home-write"),
        ("/api/auth/token", "home-write"),
        ("/accounts/login/", "home-write"),
        ("/upload/", "home-write"),
        ("/photos/p-1/comments/", "home-write"),
        ("/photos/p-1/delete/", "home-write"),
        ("/console/", "home-write"),
    ],
)
def test_each_route_reaches_the_origin_that_can_serve_it(path, origin):
    """Pages that post forms, and the API, need every method; reads fail over per request."""
    config = load("main.yaml")["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    # CloudFront takes the first behavior whose pattern matches, else the default.
    behavior = next(
        (b for b in config["CacheBehaviors"] if fnmatch.fnmatchcase(path, b["PathPattern"])),
        config["DefaultCacheBehavior"],
    )
    assert behavior["TargetOriginId"] == origin


def test_every_rule_cfn_lint_ignores_is_given_a_reason():
    text = (DEPLOY / ".cfnlintrc").read_text()
    config = yaml.safe_load(text)
    assert config["templates"] == ["cloudformation/*.yaml"]
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for rule in config.get("ignore_checks") or []:
        assert f"{rule}:" in comments, f"{rule} is ignored without a reason in deploy/.cfnlintrc"


def test_every_check_checkov_skips_is_given_a_reason():
    """checkov runs in .ci/run with zero failed checks; a skipped check is
    skipped on its resource, with why."""
    skipped = 0
    for name in ("main.yaml", "regional.yaml"):
        for logical_id, resource in load(name)["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert set(skip) == {"id", "comment"}, (name, logical_id, skip)
                assert skip["id"].startswith("CKV"), (name, logical_id, skip)
                assert len(skip["comment"].split()) >= 5, (name, logical_id, skip)
                skipped += 1
    assert skipped


def test_hardening_of_the_edge_the_logs_and_the_user_pool():
    main = load("main.yaml")
    acl = main["Resources"]["WebAcl"]
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert main["Parameters"]["EnableWaf"]["Default"] == "true"
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert rules["rate-limit"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    common = rules["aws-common"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["Name"] == "AWSManagedRulesCommonRuleSet"
    # Uploads are far above the rule set's 8 KB body limit: that rule only counts.
    assert common["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
    ]
    config = main["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {
        "Fn::If": ["WafOn", {"Fn::GetAtt": ["WebAcl", "Arn"]}, {"Ref": "AWS::NoValue"}]
    }
    assert "${AppName}-logs-${AWS::AccountId}-${PrimaryRegion}" in _sub(config["Logging"]["Bucket"])

    regional = load("regional.yaml")
    resources = regional["Resources"]
    logs = _sub(resources["LogBucket"]["Properties"]["BucketName"])
    assert logs == "${AppName}-logs-${AWS::AccountId}-${AWS::Region}"
    (expiry,) = resources["LogBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {"Ref": "LogRetentionDays"}
    for bucket in ("MediaBucket", "StaticBucket"):
        logging = resources[bucket]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": "LogBucket"}
    for group in ("SiteLogGroup", "ApiAccessLogGroup"):
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    pool = resources["UserPool"]["Properties"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    (email,) = [a for a in pool["Schema"] if a["Name"] == "email"]
    assert email["Required"] is True
    client = resources["UserPoolClient"]["Properties"]
    assert (client["AccessTokenValidity"], client["IdTokenValidity"]) == (15, 15)
    assert client["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "days",
    }
