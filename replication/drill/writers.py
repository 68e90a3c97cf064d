"""Concurrent writers that behave like the pages: follow 421, wait out 503."""

import threading
import time
from dataclasses import dataclass, field

from .client import Answer, Stack, tiny_png

MAX_RETRY_WAIT = 5.0


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
    acks: list[Ack] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name=f"writer-{self.number}", daemon=True)
        self._tokens: dict[str, str] = {}
        self._photo_in: dict[str, str] = {}  # region -> a photo of ours it holds
        self._count = 0

    def run(self) -> None:
        while not self.stop.is_set():
            region = self.region
            token = self._token(region)
            if token is None:
                self._look_elsewhere(region)
                continue
            answer, kind = self._write(region, token)
            self.attempts.append(Attempt(self.number, region, answer.status, time.time()))
            self._handle(answer, kind, region)

    def _token(self, region: str) -> str | None:
        if region not in self._tokens:
            try:
                self._tokens[region] = self.stack.token(region, self.username, self.password)
            except Exception:
                return None
        return self._tokens[region]

    def _write(self, region: str, token: str) -> tuple[Answer, str]:
        self._count += 1
        photo = self._photo_in.get(region)
        if photo and self._count % 3:
            message = f"drill comment {self.number}-{self._count}"
            answer = self.stack.request(
                "POST",
                region,
                f"/api/photos/{photo}/comments",
                token=token,
                json={"message": message},
            )
            return answer, "comment"
        answer = self.stack.request(
            "POST",
            region,
            "/api/photos",
            token=token,
            data={"title": f"drill {self.number}-{self._count}"},
            files={"image": ("drill.png", tiny_png(self._count), "image/png")},
        )
        return answer, "photo"

    def _handle(self, answer: Answer, kind: str, region: str) -> None:
        if answer.status == 201:
            body = answer.body
            photo_id = body["id"] if kind == "photo" else body.get("photo_id", "")
            if kind == "photo":
                self._photo_in[region] = body["id"]
            else:
                photo_id = photo_id or self._photo_in.get(region, "")
            self.acks.append(Ack(self.number, kind, body["id"], photo_id, region, time.time()))
        elif answer.status == 421:
            self.region = answer.body.get("writable_region") or self.region
        elif answer.status == 503:
            try:
                wait = float(answer.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            self.stop.wait(min(wait, MAX_RETRY_WAIT))
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
