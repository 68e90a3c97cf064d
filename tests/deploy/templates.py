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


def resolve(value: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    """A template fragment as CloudFormation would deploy it with `params`.

    `params` holds parameter and pseudo-parameter values (AWS::Region, ...);
    Ref, Sub, If, Equals, Not, And, Or and Join are resolved, conditions by
    name from the template's `conditions`; GetAtt becomes "<Name.Attr>" and a
    Ref to a resource "<Name>". AWS::NoValue drops the key or list item.
    """
    return _resolve(value, params, conditions)


_NO_VALUE = object()


def _condition(name: str, params: dict[str, str], conditions: dict[str, Any]) -> bool:
    return bool(_resolve(conditions[name], params, conditions))


def _resolve(value: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    if isinstance(value, list):
        items = [_resolve(v, params, conditions) for v in value]
        return [v for v in items if v is not _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return _NO_VALUE
            return params.get(arg, f"<{arg}>")
        if key == "Condition":
            return _condition(arg, params, conditions)
        if key == "Fn::If":
            name, then, otherwise = arg
            chosen = then if _condition(name, params, conditions) else otherwise
            return _resolve(chosen, params, conditions)
        if key == "Fn::Equals":
            left, right = (_resolve(v, params, conditions) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _resolve(arg[0], params, conditions)
        if key == "Fn::And":
            return all(_resolve(v, params, conditions) for v in arg)
        if key == "Fn::Or":
            return any(_resolve(v, params, conditions) for v in arg)
        if key == "Fn::Join":
            sep, parts = arg
            return sep.join(str(p) for p in _resolve(parts, params, conditions))
        if key == "Fn::GetAtt":
            target = arg if isinstance(arg, str) else ".".join(arg)
            return f"<{target}>"
        if key == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else arg
            names = {**params, **{k: _resolve(v, params, conditions) for k, v in local.items()}}
            out = text
            for part in text.split("${")[1:]:
                name = part.split("}")[0]
                out = out.replace("${" + name + "}", str(names.get(name, f"<{name}>")))
            return out
    out = {}
    for key, inner in value.items():
        resolved = _resolve(inner, params, conditions)
        if resolved is not _NO_VALUE:
            out[key] = resolved
    return out
