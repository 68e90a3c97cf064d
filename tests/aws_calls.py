"""pytest plugin: every AWS call the session's sites make is recorded
(MRA_AWS_CALL_LOG) and, when the session ends, checked against the site role's
policy in deploy/cloudformation/regional.yaml (devstack/policycheck.py). A call
the role may not make fails the session, each one printed.

Each xdist worker checks its own sites' log and hands its findings to the
controller, which prints them and sets the exit status.
"""

from pathlib import Path

import pytest

from devstack import policycheck
from mra_site.aws import calllog

LOG_KEY = pytest.StashKey[Path]()
FINDINGS_KEY = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def aws_call_log(tmp_path_factory, pytestconfig) -> Path:
    """The file this worker's sites record their AWS calls in."""
    path = tmp_path_factory.getbasetemp() / "aws-calls.jsonl"
    path.touch()
    pytestconfig.stash[LOG_KEY] = path
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Mark where each test's calls begin: before its fixtures are set up, or
    just after for the test that starts the sites."""
    path = item.config.stash.get(LOG_KEY, None)
    if path is not None:
        calllog.append(str(path), {"test": item.nodeid})
    yield
    if path is None and LOG_KEY in item.config.stash:
        calllog.append(str(item.config.stash[LOG_KEY]), {"test": item.nodeid})


def findings(path: Path) -> list[str]:
    """What is wrong with the calls of the log at `path`, one line each."""
    lines = calllog.read(path)
    try:
        from devstack import iam  # noqa: F401
    except ImportError:
        # Without the template's documents only the mapping can be checked.
        found = policycheck.violations(policycheck.attributed(lines), lambda region: [])
        return [v.describe() for v in found if v.resource == "?"]
    return [v.describe() for v in policycheck.check_log(lines)]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    config = session.config
    path = config.stash.get(LOG_KEY, None)
    found = config.stash.setdefault(FINDINGS_KEY, [])
    if path is not None:
        found += findings(path)
    if hasattr(config, "workerinput"):
        config.workeroutput["aws_call_findings"] = found
    elif found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    found = getattr(node, "workeroutput", {}).get("aws_call_findings", [])
    node.config.stash.setdefault(FINDINGS_KEY, []).extend(found)


def pytest_terminal_summary(terminalreporter, config):
    found = config.stash.get(FINDINGS_KEY, [])
    if found:
        terminalreporter.write_sep("=", f"{len(found)} AWS calls outside the site role's policy")
        for line in found:
            terminalreporter.write_line(line, red=True)
