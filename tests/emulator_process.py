"""A script run beside a moto server patched by scripts/moto-server, in a
process of its own: loading the script patches moto for the whole process,
and the script can reach into moto's backends as well as call the server."""

import subprocess
import sys
import textwrap

from devstack.processes import ROOT, free_port

PRELUDE = """\
import importlib.machinery, importlib.util, sys

loader = importlib.machinery.SourceFileLoader("moto_server", sys.argv[1])
spec = importlib.util.spec_from_loader("moto_server", loader)
loader.exec_module(importlib.util.module_from_spec(spec))

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[2]))
server.start()
url = f"http://127.0.0.1:{sys.argv[2]}"


def held_per_call(call, calls):
    # Bytes the process still holds, per call, after `calls` calls of call(n).
    import gc, tracemalloc

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(calls):
        call(n)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / calls
"""


def run_beside_emulator(body: str, timeout: float = 60) -> str:
    """Runs `body` (with `url`, the server's address, and `held_per_call`) and
    returns its output; fails with the end of its errors when it does not exit 0."""
    script = (
        PRELUDE
        + "try:\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
        + "finally:\n    server.stop()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "scripts" / "moto-server"), str(free_port())],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
