"""The CloudFormation templates of deploy/, parsed the way cfn-lint parses them."""

import copy
import functools
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATES = DEPLOY / "cloudformation"


@functools.cache
def _load(name: str) -> dict:
    template, matches = decode(str(TEMPLATES / name))
    assert not matches, matches
    return template


def load(name: str) -> dict:
    """A plain-dict copy of deploy/cloudformation/<name>."""
    return _plain(_load(name))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def resources_of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def references(value: Any) -> set[str]:
    """Logical ids a fragment refers to (Ref, GetAtt, ${Name} and ${Name.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else inner.split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                local = set(inner[1]) if isinstance(inner, list) else set()
                for part in text.split("${")[1:]:
                    name = part.split("}")[0].split(".")[0]
                    if name not in local and not name.startswith("AWS::"):
                        found.add(name)
                if isinstance(inner, list):
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


# The resource types the emulator's CloudFormation creates, and what becomes
# of a global table there: the same definition as a regional table.
EMULATED_TYPES = {
    "AWS::DynamoDB::GlobalTable": "AWS::DynamoDB::Table",
    "AWS::DynamoDB::Table": "AWS::DynamoDB::Table",
    "AWS::IAM::Role": "AWS::IAM::Role",
    "AWS::S3::Bucket": "AWS::S3::Bucket",
}
# AWS::DynamoDB::Table has these per table; a global table has them per replica.
_REPLICA_ONLY_PROPERTIES = ("Replicas",)


def reduced_regional() -> dict:
    """regional.yaml cut to the resources the emulator supports.

    Tables, roles and buckets keep their definitions from the real file; a
    global table loses only its replica list. Policy statements and outputs
    that name a removed resource go with it.
    """
    template = load("regional.yaml")
    kept: dict[str, dict] = {}
    for name, resource in template["Resources"].items():
        kind = EMULATED_TYPES.get(resource["Type"])
        if kind is None:
            continue
        resource = copy.deepcopy(resource)
        resource["Type"] = kind
        if kind == "AWS::DynamoDB::Table":
            properties = resource["Properties"]
            for key in _REPLICA_ONLY_PROPERTIES:
                properties.pop(key, None)
        kept[name] = resource
    removed = set(template["Resources"]) - set(kept)
    for resource in kept.values():
        for policy in resource["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if not references(s) & removed]
        resource["Properties"].get("Policies", [])[:] = [
            p
            for p in resource["Properties"].get("Policies", [])
            if p["PolicyDocument"]["Statement"]
        ]
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not references(output) & removed
    }
    return {
        "AWSTemplateFormatVersion": template["AWSTemplateFormatVersion"],
        "Parameters": template["Parameters"],
        "Conditions": template["Conditions"],
        "Resources": kept,
        "Outputs": outputs,
    }
