"""One JSON object per log record on stdout, for CloudWatch Logs Insights."""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed through `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    def __init__(self, *args, region: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.region = region

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "region": self.region,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# What the front door (and a load balancer on AWS) asks several times a second.
HEALTH_CHECK_PATHS = frozenset({"/healthz", "/readyz", "/writablez"})


class HealthCheckAnswers(logging.Filter):
    """Drops django.request's record of a health check's 503: the answer is the
    signal, for the door that asked, several times a second (`/writablez` of the
    region that is not home answers 503 on every check). A 500 there, a bug, is
    still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return not (
            getattr(record, "status_code", None) == 503
            and getattr(request, "path", None) in HEALTH_CHECK_PATHS
        )
