"""The emulators run on jemalloc, Python's objects included (devstack/allocator.py),
whether the tests, the benchmarks or the Procfile start them."""

import subprocess
import sys
from pathlib import Path

import psutil

from devstack.allocator import JEMALLOC_CONF
from devstack.processes import ROOT


def test_the_test_emulators_allocate_everything_with_jemalloc(emulators):
    for emulator in emulators.values():
        pid = emulator.proc.pid
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libjemalloc.so.2" in maps, "scripts/install-debian-packages installs libjemalloc2"
        environ = psutil.Process(pid).environ()
        assert environ["PYTHONMALLOC"] == "malloc"
        assert environ["MALLOC_CONF"] == JEMALLOC_CONF


def test_the_procfile_starts_its_emulators_through_the_allocator():
    lines = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    for name in ("aws_primary", "aws_secondary"):
        assert lines[name].startswith(".venv/bin/python -m devstack.allocator env "), lines[name]
        assert "scripts/moto-server" in lines[name]
    printed = subprocess.run(
        [sys.executable, "-m", "devstack.allocator", "env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "PYTHONMALLOC=malloc" in printed
    assert f"MALLOC_CONF={JEMALLOC_CONF}" in printed
    assert any(line.startswith("LD_PRELOAD=") and "libjemalloc" in line for line in printed)


def test_the_allocator_needs_a_command():
    answer = subprocess.run(
        [sys.executable, "-m", "devstack.allocator"], cwd=ROOT, capture_output=True, text=True
    )
    assert answer.returncode != 0
    assert "usage" in answer.stderr
