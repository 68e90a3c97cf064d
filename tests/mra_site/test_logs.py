"""The door's health checks, several a second, stay out of the logs; everything
else a site answers is logged as before."""

import datetime
import logging
from types import SimpleNamespace

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.log import log_response
from gunicorn.config import Config

from devstack.gunicorn import Log


@pytest.mark.parametrize(
    ("path", "status", "logged"),
    [
        ("/writablez", 503, False),
        ("/readyz", 503, False),
        ("/writablez", 500, True),
        ("/api/photos", 503, True),
    ],
)
def test_django_logs_a_health_checks_503_only_when_it_is_not_one(caplog, path, status, logged):
    request = RequestFactory().get(path)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        log_response(
            "%s: %s", "refused", path, response=HttpResponse(status=status), request=request
        )
    assert bool(caplog.records) == logged, caplog.records


def _request(path: str, status: int) -> tuple[SimpleNamespace, SimpleNamespace, dict]:
    response = SimpleNamespace(status=f"{status} X", status_code=status, headers=[], sent=2)
    request = SimpleNamespace(path=path, headers=[])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.0"}
    return response, request, environ


def test_gunicorn_access_log_leaves_out_the_doors_checks(tmp_path):
    config = Config()
    log_file = tmp_path / "access.log"
    config.set("accesslog", str(log_file))
    log = Log(config)
    took = datetime.timedelta(milliseconds=3)
    for path, status in [
        ("/writablez", 200),
        ("/writablez", 503),
        ("/readyz", 200),
        ("/healthz", 200),
        ("/readyz", 500),
        ("/photos/", 200),
    ]:
        log.access(*_request(path, status), took)
    for handler in log.access_log.handlers:
        handler.flush()
    lines = log_file.read_text().splitlines()
    assert [line.split('"')[1] for line in lines] == [
        "GET /readyz HTTP/1.0",
        "GET /photos/ HTTP/1.0",
    ]
