"""The drill's view of the stack: the public HTTP API of each regional site and of
the front door in front of them, nothing else."""

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from PIL import Image

from mra_site.polling import poll

REQUEST_TIMEOUT = 3.0
# Through the door, the region that answered names itself.
REGION_HEADER = "X-MRA-Region"
# What an answer through the door is attributed to when no region named itself
# (the door's own answer, or no answer at all).
DOOR = "door"

# How many reads the drill's checks of what a region holds send at once.
CHECKS_AT_ONCE = 8


class StackUnavailable(Exception):
    pass


def tiny_png(seed: int) -> bytes:
    """A small, valid, distinct image for an upload."""
    image = Image.new("RGB", (48, 32), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Answer:
    status: int  # 0 when the region did not answer
    body: dict[str, Any]
    headers: dict[str, str]
    region: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


class Stack:
    """Both regional sites by region, e.g. {"us-east-1": "http://127.0.0.1:8001"}, and
    the front door in front of them when there is one."""

    def __init__(
        self,
        urls: dict[str, str],
        *,
        door_url: str | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.urls = {region: url.rstrip("/") for region, url in urls.items()}
        self.door_url = door_url.rstrip("/") if door_url else None
        self.timeout = timeout

    def request(
        self,
        method: str,
        region: str,
        path: str,
        *,
        token: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Answer:
        """Ask one regional site."""
        return _send(
            method, f"{self.urls[region]}{path}", region, token, timeout or self.timeout, kwargs
        )

    def through_door(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Answer:
        """Ask the front door; the answer's region is the one that produced it."""
        if self.door_url is None:
            raise StackUnavailable("this stack has no front door")
        answer = _send(
            method, f"{self.door_url}{path}", DOOR, token, timeout or self.timeout, kwargs
        )
        answer.region = answer.header(REGION_HEADER) or DOOR
        return answer

    def token(self, region: str, username: str, password: str) -> str:
        answer = self.request(
            "POST", region, "/api/auth/token", json={"username": username, "password": password}
        )
        return _access_token(answer, username, region)

    def door_token(self, username: str, password: str) -> str:
        answer = self.through_door(
            "POST", "/api/auth/token", json={"username": username, "password": password}
        )
        return _access_token(answer, username, f"the front door {self.door_url}")

    def state(self, prefer: str | None = None) -> dict[str, Any]:
        """The routing state from the first region that answers."""
        order = sorted(self.urls, key=lambda region: region != prefer)
        for region in order:
            answer = self.request("GET", region, "/api/state")
            if answer.ok:
                return answer.body
        raise StackUnavailable("no region answers GET /api/state: is the local stack running?")

    def wait_ready(self, region: str, timeout: float) -> bool:
        try:
            return poll(
                lambda: self.request("GET", region, "/readyz").ok,
                timeout=timeout,
                what=f"{region} ready",
                interval=0.25,
            )
        except TimeoutError:
            return False

    def photo_ids(self, region: str, ids: set[str]) -> set[str]:
        """Which of `ids` the region holds (asked CHECKS_AT_ONCE at a time)."""
        ordered = sorted(ids)
        with ThreadPoolExecutor(CHECKS_AT_ONCE) as pool:
            held = pool.map(
                lambda pid: self.request("GET", region, f"/api/photos/{pid}").ok, ordered
            )
            return {pid for pid, ok in zip(ordered, held, strict=True) if ok}

    def comment_ids_of(self, region: str, photo_ids: set[str]) -> dict[str, set[str]]:
        """The comment ids the region holds on each of `photo_ids`."""
        ordered = sorted(photo_ids)
        with ThreadPoolExecutor(CHECKS_AT_ONCE) as pool:
            found = pool.map(lambda pid: self.comment_ids(region, pid), ordered)
            return dict(zip(ordered, found, strict=True))

    def comment_ids(self, region: str, photo_id: str) -> set[str]:
        found: set[str] = set()
        cursor = ""
        while True:
            answer = self.request(
                "GET",
                region,
                f"/api/photos/{photo_id}/comments",
                params={"limit": 100, **({"cursor": cursor} if cursor else {})},
            )
            if not answer.ok:
                return found
            found |= {comment["id"] for comment in answer.body.get("results", [])}
            cursor = answer.body.get("next_cursor") or ""
            if not cursor:
                return found


def _send(
    method: str,
    url: str,
    region: str,
    token: str | None,
    timeout: float,
    kwargs: dict[str, Any],
) -> Answer:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.request(method, url, headers=headers, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        return Answer(0, {"error": "unreachable", "detail": str(exc)}, {}, region)
    try:
        body = response.json()
    except ValueError:
        body = {"error": "not_json", "detail": response.text[:200]}
    return Answer(response.status_code, body, dict(response.headers), region)


def _access_token(answer: Answer, username: str, where: str) -> str:
    if not answer.ok:
        raise StackUnavailable(
            f"cannot sign in {username!r} at {where}: {answer.status} {answer.body}"
        )
    return answer.body["access_token"]
