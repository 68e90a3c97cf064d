"""Concurrent writers that behave like the pages: on the regional addresses they
follow 421 and wait out 503; through the front door they never pick a region."""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from .client import DOOR, Answer, Stack, tiny_png

MAX_RETRY_WAIT = 5.0
# How long one write through the door may keep waiting out 503s and answers
# that never came before it counts as failed.
DOOR_WRITE_DEADLINE = 30.0
# Answers after which the same write is tried again through the door.
DOOR_RETRIED = {0, 502, 503, 504}

Send = Callable[..., Answer]


@dataclass(frozen=True)
class Ack:
    """A write the stack acknowledged (201)."""

    writer: int
    kind: str  # "photo" or "comment"
    id: str
    photo_id: str
    region: str
    acked_at: float  # wall clock, seconds


@dataclass(frozen=True)
class Attempt:
    writer: int
    region: str
    status: int
    at: float


@dataclass(eq=False)
class Writer(threading.Thread):
    number: int
    stack: Stack
    username: str
    password: str
    region: str
    stop: threading.Event
    # Seconds from the start of one write to the start of the next; 0 writes as
    # fast as the stack answers (a closed loop).
    interval: float = 0.0
    acks: list[Ack] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name=f"writer-{self.number}", daemon=True)
        self._tokens: dict[str, str] = {}
        self._photo_in: dict[str, str] = {}  # region -> a photo of ours it holds
        self._count = 0

    def _paced(self) -> Iterator[None]:
        """Yield when the next write is due, until the drill stops. Paced writers start
        at a random point of their first interval, so that they do not write in step."""
        if self.interval and self.stop.wait(random.uniform(0, self.interval)):
            return
        while not self.stop.is_set():
            started = time.monotonic()
            yield
            self.stop.wait(max(0.0, started + self.interval - time.monotonic()))

    def run(self) -> None:
        for _ in self._paced():
            region = self.region
            token = self._token(region)
            if token is None:
                self._look_elsewhere(region)
                continue
            send = partial(self.stack.request, region=region)
            answer, kind = self._write(send, region, token)
            self.attempts.append(Attempt(self.number, region, answer.status, time.time()))
            self._handle(answer, kind, region)

    def _token(self, region: str) -> str | None:
        if region not in self._tokens:
            try:
                self._tokens[region] = self.stack.token(region, self.username, self.password)
            except Exception:
                return None
        return self._tokens[region]

    def _write(self, send: Send, photo_region: str, token: str) -> tuple[Answer, str]:
        """A comment on a photo of ours `photo_region` holds, or else a new photo."""
        self._count += 1
        photo = self._photo_in.get(photo_region)
        if photo and self._count % 3:
            message = f"drill comment {self.number}-{self._count}"
            answer = send(
                method="POST",
                path=f"/api/photos/{photo}/comments",
                token=token,
                json={"message": message},
            )
            return answer, "comment"
        answer = send(
            method="POST",
            path="/api/photos",
            token=token,
            data={"title": f"drill {self.number}-{self._count}"},
            files={"image": ("drill.png", tiny_png(self._count), "image/png")},
        )
        return answer, "photo"

    def _acknowledged(self, answer: Answer, kind: str, region: str) -> None:
        body = answer.body
        photo_id = body["id"] if kind == "photo" else body.get("photo_id", "")
        if kind == "photo":
            self._photo_in[region] = body["id"]
        else:
            photo_id = photo_id or self._photo_in.get(region, "")
        self.acks.append(Ack(self.number, kind, body["id"], photo_id, region, time.time()))

    def _handle(self, answer: Answer, kind: str, region: str) -> None:
        if answer.status == 201:
            self._acknowledged(answer, kind, region)
        elif answer.status == 421:
            self.region = answer.body.get("writable_region") or self.region
        elif answer.status == 503:
            self.stop.wait(_retry_after(answer))
        elif answer.status == 401:
            self._tokens.pop(region, None)
        elif answer.status == 404 and kind == "comment":
            self._photo_in.pop(region, None)
        elif answer.status == 0:
            self._look_elsewhere(region)
        else:
            self.stop.wait(0.2)

    def _look_elsewhere(self, region: str) -> None:
        """The region did not answer: ask the other one where writes go now."""
        try:
            state = self.stack.state(prefer=next(r for r in self.stack.urls if r != region))
        except Exception:
            self.stop.wait(0.5)
            return
        writable = state.get("writable_region")
        if writable and writable != region:
            self.region = writable
        else:
            self.stop.wait(0.5)


def _retry_after(answer: Answer) -> float:
    try:
        wait = float(answer.header("Retry-After") or "1")
    except ValueError:
        wait = 1.0
    return min(max(wait, 0.0), MAX_RETRY_WAIT)


@dataclass(eq=False)
class DoorWriter(Writer):
    """A writer that only knows the front door: it posts there, waits out 503 +
    Retry-After (and an answer that never came) for at most DOOR_WRITE_DEADLINE,
    and learns which region took a write from the answer's X-MRA-Region. A 421
    is a failure and is not followed; so is any other answer but 201."""

    # Writes that ended without a 201, by their last status ("421", "503", "0"...).
    failures: Counter[str] = field(default_factory=Counter)
    # Answers that were waited out and tried again, by status.
    retried: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._token_value: str | None = None
        self._last_region = DOOR

    def run(self) -> None:
        for _ in self._paced():
            self._one_write()

    def _one_write(self) -> None:
        deadline = time.monotonic() + DOOR_WRITE_DEADLINE
        signed_in_again = False
        while True:
            answer, kind = self._attempt()
            self.attempts.append(Attempt(self.number, answer.region, answer.status, time.time()))
            if answer.status == 201:
                self._last_region = answer.region
                self._acknowledged(answer, kind, answer.region)
                return
            if answer.status == 401 and not signed_in_again:
                # The token's pool may be out of reach from the region that
                # answered: sign in again once, as the page would.
                signed_in_again = True
                self._token_value = None
                self.retried["401"] += 1
                continue
            if answer.status == 404 and kind == "comment":
                # Our photo is not (yet) where the writes go: the next write is a photo.
                self._photo_in.clear()
            if answer.status not in DOOR_RETRIED or time.monotonic() >= deadline:
                self.failures[str(answer.status)] += 1
                if answer.status not in DOOR_RETRIED:
                    self.stop.wait(0.2)
                return
            self.retried[str(answer.status)] += 1
            if self.stop.wait(_retry_after(answer) if answer.status == 503 else 0.25):
                return  # the drill ended while the write was waiting: neither outcome

    def _attempt(self) -> tuple[Answer, str]:
        token = self._door_token()
        if token is None:
            return Answer(0, {"error": "sign_in_failed"}, {}, DOOR), "photo"
        return self._write(self.stack.through_door, self._last_region, token)

    def _door_token(self) -> str | None:
        if self._token_value is None:
            try:
                self._token_value = self.stack.door_token(self.username, self.password)
            except Exception:
                return None
        return self._token_value


def door_write_failures(writers: list[Writer]) -> dict[str, int]:
    """Writes through the door that did not end in a 201, by last status; 421 always listed."""
    total: Counter[str] = Counter({"421": 0})
    for writer in writers:
        total.update(getattr(writer, "failures", Counter()))
    return dict(sorted(total.items()))
