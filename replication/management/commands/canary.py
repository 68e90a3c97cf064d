"""`manage.py canary`: write a heartbeat to the writing region every second."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from replication.canary import canary_run


class Command(BaseCommand):
    help = "Run the lag canary: one heartbeat item and object per interval in the writing region."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=settings.MRA_CANARY_INTERVAL_SECONDS)
        parser.add_argument("--beats", type=int, default=None, help="stop after this many")

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"canary: a heartbeat every {options['interval']:g} s")
        count = canary_run(interval=options["interval"], stop=stop, beats=options["beats"])
        self.stdout.write(f"canary: stopped after {count} heartbeats")
