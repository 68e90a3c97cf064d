"""The banner's texts come from the server alone: pages render them and hand them to the scripts."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import RequestContext, Template
from django.test import RequestFactory, override_settings

from accounts.users import AnonymousUser
from mra_site.middleware import DOOR_HEADER, served_through_door
from routing.banner import Situation, banner_texts, text_fill, write_status
from routing.selectors import StateRecord
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY

SCRIPTS = sorted((Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
PAGE = Template('{% extends "base.html" %}{% block content %}<p>page</p>{% endblock %}')
SCRIPT_TEXTS = re.compile(r'<script id="script-texts" type="application/json">(.*?)</script>', re.S)


def record(state: RoutingState) -> StateRecord:
    return StateRecord(
        app_id="mra",
        state=state,
        version=2,
        updated_at="2026-01-01T00:00:00+00:00",
        updated_by="olga",
        reason="maintenance window",
        fenced_from=PRIMARY if state is RoutingState.FENCED else None,
    )


def page_for(
    state_record: StateRecord | None, monkeypatch, headers: dict[str, str] | None = None
) -> tuple[str, dict]:
    """A page as the serving region renders it, without asking an emulator for the state."""
    monkeypatch.setattr("routing.templatetags.routing.routing_state_get", lambda **_: state_record)
    request = RequestFactory().get("/upload/", headers=headers or {})
    request.user = AnonymousUser()
    html = PAGE.render(RequestContext(request))
    return html, json.loads(SCRIPT_TEXTS.search(html)[1])


@pytest.mark.parametrize(
    ("state", "serving", "situation", "message"),
    [
        (RoutingState.ACTIVE, PRIMARY, Situation.OPEN, ""),
        (
            RoutingState.FENCED,
            PRIMARY,
            Situation.FENCED,
            "Uploads and comments are paused for a moment.",
        ),
        (
            RoutingState.ACTIVE,
            SECONDARY,
            Situation.READ_ONLY,
            f"This address only shows photos for now; uploads and comments are taken on {PRIMARY}.",
        ),
        (
            None,
            SECONDARY,
            Situation.STATE_UNREADABLE,
            "Uploads and comments are paused: this address cannot check whether it may take them.",
        ),
    ],
)
def test_the_banner_names_the_situation_and_the_reason(state, serving, situation, message):
    status = write_status(record=record(state) if state else None, serving_region=serving)
    assert (status.situation, status.message) == (situation, message)
    assert status.writable_here is (situation is Situation.OPEN)
    assert status.reason == message


# What ordinary users must not read: where the site runs and how.
REGION_NAME = re.compile(r"\b[a-z]{2}-[a-z]+-\d\b")
ARCHITECTURE_WORDS = re.compile(
    r"region|primary|secondary|replica|fence|failover|routing|state\b|operator", re.I
)


@pytest.mark.parametrize("serving", [PRIMARY, SECONDARY])
def test_through_the_door_no_sentence_names_a_region_or_the_architecture(serving):
    texts = banner_texts(serving_region=serving, door=True)
    assert texts[Situation.OPEN]["banner"] == ""
    assert texts[Situation.FENCED]["banner"] == "Uploads and comments are paused for a moment."
    for situation, text in texts.items():
        for words in (text["banner"], text["announce"], text["reason"]):
            filled = text_fill(words, writable_region=SECONDARY)
            assert not REGION_NAME.search(filled), (situation, filled)
            assert not ARCHITECTURE_WORDS.search(filled), (situation, filled)
        assert text["link"] == ""
    for state in RoutingState:
        status = write_status(record=record(state), serving_region=serving, door=True)
        for words in (status.message, status.reason):
            assert not REGION_NAME.search(words) and not ARCHITECTURE_WORDS.search(words)


@pytest.mark.parametrize("door", [True, False])
@pytest.mark.parametrize("state", list(RoutingState))
def test_the_operators_reason_never_reaches_users(state, door):
    for serving in (PRIMARY, SECONDARY):
        status = write_status(record=record(state), serving_region=serving, door=door)
        for words in (status.message, status.reason, status.link):
            assert "maintenance window" not in words and "olga" not in words


def test_reopening_is_announced_though_nothing_is_shown():
    for door in (True, False):
        opened = banner_texts(serving_region=PRIMARY, door=door)[Situation.OPEN]
        assert opened["banner"] == ""
        assert opened["announce"] == "Uploads and comments are open again."


def test_a_template_is_filled_only_where_a_value_is_given():
    template = "{serving_region} is here; writes go to {writable_region}."
    assert text_fill(template, serving_region=PRIMARY) == (
        f"{PRIMARY} is here; writes go to {{writable_region}}."
    )


def script_keys(script: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, (Path(settings.BASE_DIR) / "static/js" / script).read_text()))


@override_settings(MRA_REGION=SECONDARY)
def test_the_page_gives_the_scripts_every_text_they_use(monkeypatch):
    html, texts = page_for(record(RoutingState.ACTIVE), monkeypatch)

    situations = script_keys("state.js", r'return "(\w+)";')
    assert situations and situations <= set(texts["routing"])
    for text in texts["routing"].values():
        assert set(text) == {"banner", "announce", "reason", "look", "link"}
        # The script fills the writable region and nothing else.
        assert set(re.findall(r"\{(\w+)\}", "".join(text.values()))) <= {"writable_region"}
    for script in ("photos.js", "upload.js", "forms.js"):
        photo_keys = script_keys(script, r"(?<![\w/])texts\.(\w+)")
        assert photo_keys and photo_keys <= set(texts["photos"]), script

    # What the script shows for the state it polls is what the server rendered for it.
    read_only = texts["routing"][Situation.READ_ONLY]
    assert text_fill(read_only["banner"], writable_region=PRIMARY) in html
    region_down = texts["routing"][Situation.REGION_DOWN]["banner"]
    assert f"{SECONDARY} is not answering" in region_down
    assert f"(Checked with {PRIMARY}.)" in region_down


def test_the_upload_page_script_speaks_with_the_servers_words(monkeypatch):
    _, texts = page_for(record(RoutingState.ACTIVE), monkeypatch)
    megabytes = f"{settings.MRA_PHOTO_MAX_BYTES / (1024 * 1024):g} MB"
    assert f"The file is larger than {megabytes}." in texts["photos"]["too_large"]
    assert texts["photos"]["empty_file"].startswith("The file is empty.")


# A sentence: a quoted string starting with a capital and holding three words or more.
SENTENCE = re.compile(r"""(["'`])[A-Z][^"'`\n]*\s\S+\s[^"'`\n]*\1""")
WORDS_OF_THE_TEXTS = ("Uploads", "paused", "read-only", "not answering", "Loading", "larger than")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_hold_no_sentence_of_their_own(script):
    source = script.read_text()
    assert not SENTENCE.search(source), SENTENCE.search(source)
    assert not [word for word in WORDS_OF_THE_TEXTS if word in source]


DOOR = {DOOR_HEADER: "1"}
BANNER_TAG = re.compile(r'<div class="routing-banner[^>]*>', re.S)


@override_settings(MRA_REGION=SECONDARY)
def test_a_page_through_the_door_says_nothing_while_writes_are_open(monkeypatch):
    html, texts = page_for(record(RoutingState.ACTIVE), monkeypatch, headers=DOOR)
    banner = BANNER_TAG.search(html)[0]
    assert 'data-door="1"' in banner and "quiet" in banner
    assert re.search(r"<div class=\"wrap\" data-routing-body hidden>", html)
    assert re.search(r"data-writable-link[^>]*hidden", html)
    # The live region is there, empty: the script writes into it only what changes.
    assert re.search(r'aria-live="polite"[^>]*data-routing-announce[^>]*></p>', html)
    for text in texts["routing"].values():
        assert text["link"] == ""
        # Through the door nothing is left to fill: no region is named.
        assert not re.findall(r"\{(\w+)\}", "".join(text.values()))
    header = re.sub(r"<[^>]+>", " ", html[html.index("<header") : html.index("</header>")])
    assert not REGION_NAME.search(header), header

    fenced, _ = page_for(record(RoutingState.FENCED), monkeypatch, headers=DOOR)
    assert "Uploads and comments are paused for a moment." in fenced
    assert "maintenance window" not in fenced


@pytest.mark.parametrize("value", [None, "0", "yes"])
@override_settings(MRA_REGION=SECONDARY)
def test_a_page_on_a_regional_address_is_not_marked_as_through_the_door(monkeypatch, value):
    headers = {DOOR_HEADER: value} if value is not None else {}
    html, texts = page_for(record(RoutingState.ACTIVE), monkeypatch, headers=headers)
    assert "data-door" not in BANNER_TAG.search(html)[0]
    assert "This address only shows photos for now" in html
    assert texts["routing"][Situation.READ_ONLY]["link"] == "Continue on {writable_region}"


def test_served_through_door_reads_the_doors_header_only():
    factory = RequestFactory()
    assert served_through_door(factory.get("/", headers=DOOR))
    assert not served_through_door(factory.get("/"))
    assert not served_through_door(factory.get("/", headers={"X-Door": "1"}))
    assert not served_through_door(None)


@override_settings(MRA_REGION=SECONDARY)
def test_the_read_only_page_links_to_the_same_page_in_the_writable_region(monkeypatch):
    html, _ = page_for(record(RoutingState.ACTIVE), monkeypatch)
    link = re.search(r'<a href="([^"]+)" data-writable-link[^>]*>([^<]*)</a>', html)
    assert link and "hidden" not in link[0]
    assert link[1] == f"{settings.MRA_REGION_URLS[PRIMARY]}/upload/"
    assert link[2] == f"Continue on {PRIMARY}"
    fenced, _ = page_for(record(RoutingState.FENCED), monkeypatch)
    assert re.search(r"data-writable-link[^>]*hidden", fenced)
