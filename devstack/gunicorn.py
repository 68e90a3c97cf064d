"""How each regional site runs under gunicorn locally: the Procfile and the test
sites both start it with `-c python:devstack.gunicorn`.

One process with many threads: the work is waiting on AWS (and Pillow releases
the GIL while it decodes), and a single pool lets the front door bound what
reaches a site. The door (devstack/door.py) lets at most DOOR_WRITES writes and
DOOR_READS reads into a site at once, fewer than its threads, so the door's
health checks (/writablez, /readyz) always find a free thread and a site busy
with slow uploads is never taken for a dead one.
"""

import os

from gunicorn.glogging import Logger

from mra_site.logs import HEALTH_CHECK_PATHS

THREADS = 16
DOOR_WRITES = 8
DOOR_READS = 6
assert DOOR_WRITES + DOOR_READS < THREADS, "keep threads free for the health checks"

worker_class = "gthread"
workers = 1
threads = THREADS
timeout = 30
control_socket_disable = True
# The worker's heartbeat touches a file on every turn of its loop (the thread
# that accepts connections); on a disk under other work that blocks, and every
# request waits. gunicorn's documentation advises a memory-backed directory
# (it creates an unlinked mkstemp file there, so a shared directory is safe).
MEMORY_TMP = "/dev/shm"  # noqa: S108
worker_tmp_dir = MEMORY_TMP if os.path.isdir(MEMORY_TMP) else None


class Log(Logger):
    """gunicorn's logger, without the door's health checks in the access log: a
    dozen a second between the two sites would bury every request a person
    made (HAProxy logs when a check changes a region's standing). A check
    answered with a server error other than 503 is still logged."""

    def access(self, resp, req, environ, request_time) -> None:
        status = resp.status_code or 0
        if req.path in HEALTH_CHECK_PATHS and (status < 500 or status == 503):
            return
        super().access(resp, req, environ, request_time)


logger_class = Log
