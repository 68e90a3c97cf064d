"""The site's IAM role, read from deploy/cloudformation/regional.yaml (one
source), and its creation in the emulated regions.

`site_role_documents` resolves the template's `SiteRole` for one region
(`!Sub`, `!Ref`, `!If`, `!GetAtt`, `AWS::NoValue`, conditions); bootstrap
creates the role of both regions in each emulator from it, and a checker of
recorded calls can evaluate against the same documents.
"""

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "cloudformation" / "regional.yaml"
# What moto uses for every resource it creates, and AWS's partition.
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
# The local administrator (the emulator's key, see scripts/moto-server): the
# local-only trust statement lets it assume the site's roles.
LOCAL_ADMIN_ARN = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/mra-local-admin"
LOCAL_TRUST_SID = "LocalAdministratorAssumesForTests"
# Locally the sites find their user pools by name (MRA_COGNITO_POOL_NAME); on
# AWS the pool ids are configured and the role has no such right.
LOCAL_POLICY_NAME = "local-pool-lookup"

Document = dict[str, Any]
_NO_VALUE = object()


class TemplateError(ValueError):
    """The template uses something this resolver does not know."""


@functools.cache
def _template(path: Path) -> Mapping[str, Any]:
    template, matches = decode(str(path))
    if template is None:
        raise TemplateError(f"{path}: {matches}")
    return template


class _Resolver:
    def __init__(
        self,
        template: Mapping[str, Any],
        region: str,
        parameters: Mapping[str, str],
    ) -> None:
        self.template = template
        self.values: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.values.update(parameters)
        self.values.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": PARTITION,
                "AWS::URLSuffix": "amazonaws.com",
            }
        )
        self.functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::GetAtt": self._get_att,
            "Fn::Equals": lambda args: self(args[0]) == self(args[1]),
            "Fn::Not": lambda args: not self(args[0]),
            "Fn::And": lambda args: all(self(a) for a in args),
            "Fn::Or": lambda args: any(self(a) for a in args),
            "Condition": self.condition,
        }

    def __call__(self, node: Any) -> Any:
        if isinstance(node, Mapping):
            if len(node) == 1:
                ((key, value),) = node.items()
                if key in self.functions:
                    return self.functions[key](value)
                if key.startswith("Fn::"):
                    raise TemplateError(f"unsupported function {key}")
            resolved = {str(k): self(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self(item) for item in node) if v is not _NO_VALUE]
        return str(node) if isinstance(node, str) else node

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name not in self.values or self.values[name] is None:
            raise TemplateError(f"no value for parameter {name}")
        return self.values[name]

    def _if(self, args: list[Any]) -> Any:
        name, when_true, when_false = args
        return self(when_true if self.condition(name) else when_false)

    def _sub(self, args: Any) -> str:
        text, local = (args, {}) if isinstance(args, str) else (args[0], self(args[1]))
        out, rest = [], str(text)
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in local:
                out.append(str(local[name]))
            elif "." in name:
                out.append(str(self._get_att(name.split(".", 1))))
            else:
                out.append(str(self._ref(name)))
        return "".join(out) + rest

    def _get_att(self, args: Any) -> str:
        resource, attribute = args.split(".", 1) if isinstance(args, str) else args
        if attribute != "Arn":
            raise TemplateError(f"unsupported attribute {resource}.{attribute}")
        spec = self.template["Resources"][resource]
        kind = spec["Type"]
        if kind == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{self(spec['Properties']['BucketName'])}"
        if kind == "AWS::Cognito::UserPool":
            pool = self.values.get("UserPoolId")
            if not pool:
                raise TemplateError(
                    "parameters need UserPoolId (this region's pool) for UserPool.Arn"
                )
            region = self.values["AWS::Region"]
            return f"arn:{PARTITION}:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool}"
        raise TemplateError(f"unsupported resource type {kind} for {resource}.Arn")


def _renamed(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _renamed(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, names) for v in node]
    if isinstance(node, str):
        for template_name, local_name in names.items():
            prefix = f"arn:{PARTITION}:s3:::{template_name}"
            if node == prefix or node.startswith(prefix + "/"):
                return f"arn:{PARTITION}:s3:::{local_name}" + node[len(prefix) :]
    return node


def site_role_documents(
    region: str,
    *,
    parameters: Mapping[str, str],
    media_buckets: Mapping[str, str] | None = None,
    template: Path = TEMPLATE,
) -> tuple[Document, list[tuple[str, Document]]]:
    """(trust policy, [(policy name, policy document)]) of the template's
    SiteRole in `region`, every intrinsic resolved.

    `parameters` are the stack's parameters (template defaults fill the rest)
    plus `UserPoolId`, this region's pool (for `!GetAtt UserPool.Arn`);
    partition `aws`, account 123456789012. `media_buckets` ({region: name})
    replaces the template's media bucket names (`MediaBucket` BucketName, as
    resolved for each region of the pair) in S3 ARNs by other names, such as
    the local ones.
    """
    source = _template(template)
    resolve = _Resolver(source, region, parameters)
    role = source["Resources"]["SiteRole"]["Properties"]
    trust = resolve(role["AssumeRolePolicyDocument"])
    policies = [(resolve(p["PolicyName"]), resolve(p["PolicyDocument"])) for p in role["Policies"]]
    if media_buckets:
        bucket_spec = source["Resources"]["MediaBucket"]["Properties"]["BucketName"]
        names = {
            _Resolver(source, bucket_region, parameters)(bucket_spec): local
            for bucket_region, local in media_buckets.items()
        }
        policies = [(name, _renamed(doc, names)) for name, doc in policies]
    return trust, policies


def site_role_name(region: str, *, parameters: Mapping[str, str], template: Path = TEMPLATE) -> str:
    """The template's RoleName of SiteRole in `region`."""
    source = _template(template)
    return _Resolver(source, region, parameters)(
        source["Resources"]["SiteRole"]["Properties"]["RoleName"]
    )


def with_local_trust(trust: Document) -> Document:
    """The trust policy plus a statement letting the local administrator assume
    the role: the emulator cannot assume a role as a Lambda function does."""
    statements = [s for s in trust["Statement"] if s.get("Sid") != LOCAL_TRUST_SID]
    statements.append(
        {
            "Sid": LOCAL_TRUST_SID,
            "Effect": "Allow",
            "Principal": {"AWS": LOCAL_ADMIN_ARN},
            "Action": "sts:AssumeRole",
        }
    )
    return {**trust, "Statement": statements}


def local_policy(regions: tuple[str, ...]) -> Document:
    """The local-only policy added to the site's role: finding pools by name."""
    pools = [f"arn:{PARTITION}:cognito-idp:{r}:{ACCOUNT_ID}:userpool/*" for r in regions]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "cognito-idp:ListUserPools", "Resource": "*"},
            {"Effect": "Allow", "Action": "cognito-idp:ListUserPoolClients", "Resource": pools},
        ],
    }


def as_json(document: Document) -> str:
    return json.dumps(document, sort_keys=True)


def local_parameters(region: str) -> dict[str, str]:
    """The template's parameters as the local settings give them, for `region`'s
    role: table prefix, the pair, and both regions' user pools."""
    from django.conf import settings

    from mra_site.aws import cognito
    from mra_site.aws.clients import other_region

    parameters = {
        "TablePrefix": settings.MRA_TABLE_PREFIX,
        "PrimaryRegion": settings.MRA_PRIMARY_REGION,
        "SecondaryRegion": settings.MRA_SECONDARY_REGION,
    }
    for key, pool_region in (("UserPoolId", region), ("PeerUserPoolId", other_region(region))):
        pool = cognito.find_user_pool(region=pool_region)
        if pool:
            parameters[key] = pool
    return parameters


def local_media_buckets() -> dict[str, str]:
    from mra_site.aws.clients import regions
    from mra_site.resources import media_bucket

    return {region: media_bucket(region) for region in regions()}


def site_roles_ensure(*, region: str) -> list[str]:
    """Create (or bring up to date) both regions' site roles in the emulated
    `region`, from the template; list what changed. IAM is global on AWS, but
    each emulator keeps its own."""
    from mra_site.aws.clients import client, is_emulated, regions

    if not is_emulated(region):
        raise TemplateError(f"refusing to create roles outright in real AWS region {region}")
    iam = client("iam", region)
    changes = []
    for role_region in regions():
        parameters = local_parameters(role_region)
        trust, policies = site_role_documents(
            role_region, parameters=parameters, media_buckets=local_media_buckets()
        )
        trust = with_local_trust(trust)
        name = site_role_name(role_region, parameters=parameters)
        try:
            current = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=as_json(trust))
            changes.append(f"role {name}")
        else:
            if _document(current) != trust:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=as_json(trust))
                changes.append(f"trust policy of role {name}")
        wanted = {**dict(policies), LOCAL_POLICY_NAME: local_policy(regions())}
        for stale in set(iam.list_role_policies(RoleName=name)["PolicyNames"]) - set(wanted):
            iam.delete_role_policy(RoleName=name, PolicyName=stale)
            changes.append(f"removed policy {stale} of role {name}")
        for policy_name, document in wanted.items():
            try:
                current = iam.get_role_policy(RoleName=name, PolicyName=policy_name)
                same = _document(current["PolicyDocument"]) == document
            except iam.exceptions.NoSuchEntityException:
                same = False
            if not same:
                iam.put_role_policy(
                    RoleName=name, PolicyName=policy_name, PolicyDocument=as_json(document)
                )
                changes.append(f"policy {policy_name} of role {name}")
    return changes


def _document(value: Any) -> Any:
    """IAM answers documents URL-encoded JSON (moto: JSON or a dict)."""
    from urllib.parse import unquote

    if isinstance(value, str):
        return json.loads(unquote(value))
    return value
