#!/usr/bin/env python3
"""The API Gateway stage settings Zappa has no setting for, as the JSON of
`aws apigateway update-stage --patch-operations`: access logs to the log group
regional.yaml creates (ApiAccessLogGroupArn output) and throttling of every
method of the stage.

    aws apigateway update-stage --region R --rest-api-id ID --stage-name STAGE \\
      --patch-operations "$(python3 deploy/stage_settings.py --log-group-arn ARN)"

`zappa update` keeps them: it redeploys the stage and patches only its
execution logging, metrics and caching.
"""

import argparse
import json
import re
import sys

# One JSON line per request; $context variables are API Gateway's.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTimeEpoch",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "bytes": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integration.latency",
    "userAgent": "$context.identity.userAgent",
}
LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^:*]+$")


def patch_operations(log_group_arn: str, *, rate: float, burst: int) -> list[dict[str, str]]:
    arn = log_group_arn.removesuffix(":*")
    if not LOG_GROUP_ARN.match(arn):
        raise ValueError(f"not a log group ARN: {log_group_arn!r}")
    if rate <= 0 or burst <= 0:
        raise ValueError("the rate and the burst must be positive")
    return [
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
        {
            "op": "replace",
            "path": "/accessLogSettings/format",
            "value": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
        },
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": f"{rate:g}"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-group-arn", required=True, help="ApiAccessLogGroupArn output")
    parser.add_argument(
        "--rate", type=float, default=200.0, help="steady requests per second (stage throttling)"
    )
    parser.add_argument("--burst", type=int, default=400, help="burst of requests")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        operations = patch_operations(args.log_group_arn, rate=args.rate, burst=args.burst)
    except ValueError as exc:
        print(f"stage_settings: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(operations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
