"""Every command of deploy/README.md, through the parser that will read it.

`manage.py X ...` goes through Django's parser for X, `zappa manage STAGE
"..."` first through Zappa's own splitting (its handler runs
`call_command(*command.split(" "))`), `python3 deploy/NAME.py ...` through
that script's `build_parser()`, and every repository path a command or a
template names must exist. A runbook line that cannot work fails here,
named.
"""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError

from deploy import stage_env
from tests.deploy.templates import DEPLOY, TEMPLATES

ROOT = DEPLOY.parent
RUNBOOK = DEPLOY / "README.md"
# The runbook's variables, with values of the right shape.
EXAMPLE_VARIABLES = {
    "PRIMARY": "us-east-1",
    "SECONDARY": "us-west-2",
    "R": "us-east-1",
    "STAGE": "primary",
}
CONTROL = {";", "&&", "||", "|", "(", ")", "&", "{", "}"}
KEYWORDS = {"do", "then", "else", "done", "fi", "eval", "time", "exec", "!", "export"}
PATH_PATTERN = re.compile(r"(?<![\w./-])((?:deploy|scripts|bench|\.ci)/[\w./*-]+)")


def runbook_lines(text: str) -> list[tuple[int, str]]:
    """(line number, command) of every fenced sh block, continuations joined,
    here-documents left out."""
    lines: list[tuple[int, str]] = []
    in_block = False
    heredoc_end: str | None = None
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_block = not in_block and stripped in ("```sh", "```bash")
            continue
        if not in_block:
            continue
        if heredoc_end is not None:
            if stripped == heredoc_end:
                heredoc_end = None
            continue
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", raw)
        if heredoc:
            heredoc_end = heredoc.group(1)
            raw = raw[: heredoc.start()]
        if pending is not None:
            pending = (pending[0], pending[1] + " " + raw.strip())
        else:
            pending = (number, raw.strip())
        if pending[1].endswith("\\"):
            pending = (pending[0], pending[1][:-1].rstrip())
            continue
        if pending[1] and not pending[1].startswith("#"):
            lines.append(pending)
        pending = None
    return lines


def _expand(token: str) -> str:
    def value(match: re.Match) -> str:
        return EXAMPLE_VARIABLES.get(match.group(1) or match.group(2), "example")

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, token)


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line, those inside $(...) included."""
    found: list[list[str]] = []
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|(){}")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    current: list[str] = []
    for token in tokens + [";"]:
        for inner in re.findall(r"\$\(([^()]*)\)", token):
            found.extend(simple_commands(inner))
        if token in CONTROL or token == "$":
            if current:
                found.append(current)
            current = []
        else:
            current.append(token)
    commands = []
    for command in found:
        while command and (command[0] in KEYWORDS or re.fullmatch(r"\w+=.*", command[0])):
            command = command[1:]
        if command:
            commands.append([_expand(t) for t in command])
    return commands


def _django_parse(args: list[str]) -> None:
    name, rest = args[0], args[1:]
    app = get_commands().get(name)
    if app is None:
        raise CommandError(f"no management command {name!r}")
    command = load_command_class(app, name)
    parser = command.create_parser("manage.py", name)
    try:
        parser.parse_args(rest)
    except SystemExit as exc:  # argparse's own exits (--help, errors)
        raise CommandError(f"{name}: arguments refused ({exc})") from exc


def _zappa_manage(args: list[str]) -> list[str]:
    """What Zappa's handler hands to call_command for `zappa manage ...`."""
    rest: list[str] = []
    skip = False
    for token in args:
        if skip:
            skip = False
            continue
        if token in ("-s", "--settings_file", "--client-context", "--qualifier"):
            skip = True
            continue
        if token in ("--all", "--no-color"):
            continue
        rest.append(token)
    stage, tail = rest[0], rest[1:]
    assert stage in ("primary", "secondary"), f"no Zappa stage {stage!r}"
    command = " ".join(tail) if len(tail) > 1 else tail[0]
    return command.split(" ")


def check(command: list[str]) -> None:
    """Raise if this simple command cannot work as written."""
    for token in command:
        for path in PATH_PATTERN.findall(token):
            if path == "deploy/build" or path.startswith("deploy/build/") or "*" in path:
                continue
            assert (ROOT / path).exists(), f"{path} does not exist"
    program = Path(command[0]).name
    if program.startswith("python") and len(command) > 1:
        script, rest = command[1], command[2:]
        if script == "manage.py":
            _django_parse(rest)
        elif script.startswith("deploy/") and script.endswith(".py"):
            module = importlib.import_module("deploy." + Path(script).stem)
            try:
                module.build_parser().parse_args(rest)
            except SystemExit as exc:
                raise AssertionError(f"{script}: arguments refused") from exc
        elif script == "-":
            pass  # a here-document's script
        else:
            assert (ROOT / script).exists(), f"{script} does not exist"
    elif program == "zappa":
        assert "-s" in command and "deploy/zappa_settings.json" in command, (
            "zappa without -s deploy/zappa_settings.json reads ./zappa_settings.json"
        )
        if command[1] == "manage":
            _django_parse(_zappa_manage(command[2:]))
    elif program == "aws":
        for option in ("--template-file", "--template-body"):
            if option in command:
                value = command[command.index(option) + 1].removeprefix("file://")
                assert (ROOT / value).exists(), f"{value} does not exist"


LINES = runbook_lines(RUNBOOK.read_text())


def test_the_runbook_has_the_commands_this_test_reads():
    programs = {Path(c[0]).name for _, line in LINES for c in simple_commands(line)}
    assert {"aws", "zappa", "python3"} <= programs, programs
    assert any("manage.py routing failover" in line for _, line in LINES)


@pytest.mark.parametrize(("number", "line"), LINES, ids=[f"line{n}" for n, _ in LINES])
def test_runbook_command_works_as_written(number, line):
    for command in simple_commands(line):
        try:
            check(command)
        except (AssertionError, CommandError) as exc:
            pytest.fail(f"deploy/README.md line {number}: {line}\n  {' '.join(command)}: {exc}")


@pytest.mark.parametrize(
    "line",
    [
        # Zappa splits on spaces: the quoted reason reaches Django in pieces.
        """zappa manage primary "routing fence --reason 'planned maintenance'" """
        "-s deploy/zappa_settings.json",
        ".venv/bin/python manage.py routing promote",
        "python3 deploy/stage_env.py tertiary",
        "aws cloudformation deploy --template-file deploy/cloudformation/missing.yaml",
        "python3 deploy/build.py upload-template",
    ],
)
def test_a_line_that_cannot_work_is_refused(line):
    with pytest.raises((AssertionError, CommandError)):
        for command in simple_commands(line):
            check(command)


def test_simple_commands_reach_inside_substitutions_and_groups():
    line = '(eval "$(python3 deploy/stage_env.py $STAGE)"; .venv/bin/python manage.py check)'
    assert simple_commands(line) == [
        ["python3", "deploy/stage_env.py", "primary"],
        ["$(python3 deploy/stage_env.py primary)"],
        [".venv/bin/python", "manage.py", "check"],
    ]


def test_every_repository_path_the_templates_and_runbook_name_exists():
    texts = {p.name: p.read_text() for p in [RUNBOOK, *TEMPLATES.glob("*.yaml")]}
    for name, text in texts.items():
        for path in PATH_PATTERN.findall(text):
            path = path.rstrip(".")
            if path == "deploy/build" or path.startswith("deploy/build/") or "*" in path:
                continue
            assert (ROOT / path).exists(), f"{name} names {path}, which does not exist"


def test_routing_from_an_operator_machine_needs_only_settings(tmp_path):
    """`eval "$(python3 deploy/stage_env.py secondary)"; manage.py routing ...`:
    production settings, empty endpoints (real AWS), no Lambda involved. The
    command's settings and parser load with no network at all (a proxy that
    refuses every connection); the signing key is given, as on a workstation
    that runs checks."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    for export in stage_env.stage_exports("secondary"):
        key, _, value = export.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    assert env["MRA_AWS_ENDPOINTS"] == ""
    assert env["DJANGO_SETTINGS_MODULE"] == "mra_site.settings.production"
    env |= {
        "DJANGO_SECRET_KEY": "operator-" + "Zq8w" * 13,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "routing", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failover" in result.stdout and "us-west-2" in result.stdout
