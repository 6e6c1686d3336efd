"""Races on PostgreSQL, against the app as deployed: gunicorn with 2 gthread workers on the test
database, OpenAI replaced by a small local server. 50 parallel mints of one user take exactly the
daily quota; 800 turn posts from 8 clients, every turn sent twice in random order, store each turn
once and in order."""

import json
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.conf import settings
from django.db import connection

from accounts.services import create_api_token
from conversations.models import Conversation, DailyQuota, SessionGrant, Turn
from tests import served_app
from tests.security.conftest import logged_in_browser
from tests.served_app import app_env

pytestmark = pytest.mark.django_db(transaction=True)

QUOTA = 7
MINTS = 50
TURNS = 400
CLIENTS = 8
SERVER_KEY = "sk-concurrency-suite-key"


class FakeOpenAI(BaseHTTPRequestHandler):
    """POST /v1/realtime/client_secrets answering like the real API, a little slowly."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(0.05)
        if self.headers.get("Authorization") != f"Bearer {SERVER_KEY}":
            self.send_response(401)
            self.end_headers()
            return
        answer = json.dumps(
            {
                "value": "ek_" + secrets.token_hex(16),
                "expires_at": int(time.time()) + 60,
                "session": {**body["session"], "object": "realtime.session", "id": "sess_concurrency"},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("x-request-id", "req_" + secrets.token_hex(4))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_openai():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gunicorn(transactional_db, fake_openai):
    """The app under gunicorn (2 gthread workers, as deployed) on pytest-django's test database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…): SQLite serialises writers anyway")
    db = settings.DATABASES["default"]
    env = app_env(
        # The same key as this process: it signs the session's auth hash we create here.
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        OPENAI_API_KEY=SERVER_KEY,
        OPENAI_BASE_URL=fake_openai,
        REALTIME_SESSIONS_PER_DAY=str(QUOTA),
        MINT_THROTTLE_RATE="10000/min",
        UPSTREAM_MAX_CONCURRENT="64",  # only the quota may refuse here
        TURNS_THROTTLE_RATE="100000/min",
        TIME_ZONE=settings.TIME_ZONE,
    )
    with served_app.gunicorn(env) as (base, output):
        yield base
    assert not [line for line in output if "Traceback" in line], output[-30:]


def test_parallel_mints_of_one_user_take_exactly_the_daily_quota(gunicorn, alice):
    cookies, headers = logged_in_browser(alice)
    start = threading.Barrier(MINTS)

    def mint(_):
        with httpx.Client(base_url=gunicorn, cookies=cookies, headers=headers, timeout=20) as client:
            start.wait()
            response = client.post("/realtime/session/", json={})
            return response.status_code, response.json()

    with ThreadPoolExecutor(MINTS) as pool:
        results = list(pool.map(mint, range(MINTS)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * QUOTA + [429] * (MINTS - QUOTA), statuses
    keys = {body["client_secret"] for status, body in results if status == 201}
    assert len(keys) == QUOTA and all(key.startswith("ek_") for key in keys)
    assert all("voice sessions for today" in body["detail"] for status, body in results if status == 429)
    assert DailyQuota.objects.get(user=alice).used == QUOTA
    assert Conversation.objects.filter(owner=alice).count() == QUOTA
    outcomes = SessionGrant.objects.filter(user=alice)
    assert outcomes.filter(outcome=SessionGrant.Outcome.GRANTED).count() == QUOTA
    assert outcomes.filter(outcome=SessionGrant.Outcome.QUOTA_EXCEEDED).count() == MINTS - QUOTA


def test_duplicated_turn_posts_from_many_clients_store_each_turn_once_in_order(
    gunicorn, alice, alice_conversation
):
    token = create_api_token(user=alice, name="load client", lifetime=None)
    url = f"/api/conversations/{alice_conversation.pk}/turns/"
    expected = [
        {
            "item_id": f"item_{n:04d}",
            "previous_item_id": f"item_{n - 1:04d}" if n else "",
            "role": "user" if n % 2 == 0 else "assistant",
            "text": f"Turn number {n}, said {'by you' if n % 2 == 0 else 'by the assistant'}.",
            "session": 1,
            "position": n,
        }
        for n in range(TURNS)
    ]
    posts = expected * 2  # every turn twice: a retry after a lost answer, or a second tab
    random.Random(9).shuffle(posts)
    batches = [posts[index::CLIENTS] for index in range(CLIENTS)]

    def client_posts(batch):
        statuses = []
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(base_url=gunicorn, headers=headers, timeout=20) as client:
            for body in batch:
                statuses.append(client.post(url, json=body).status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for batch in pool.map(client_posts, batches) for status in batch]

    assert len(statuses) == 2 * TURNS
    assert sorted(set(statuses)) <= [200, 201], sorted(set(statuses))
    assert statuses.count(201) == TURNS, "exactly one post of each turn created it"
    stored = list(
        Turn.objects.filter(conversation=alice_conversation)
        .in_order()
        .values("item_id", "role", "text", "position")
    )
    assert len(stored) == TURNS
    assert stored == [{k: t[k] for k in ("item_id", "role", "text", "position")} for t in expected]
    detail = httpx.get(
        f"{gunicorn}/api/conversations/{alice_conversation.pk}/", headers={"Authorization": f"Token {token}"}
    ).json()
    assert [turn["item_id"] for turn in detail["turns"]] == [t["item_id"] for t in expected]
    assert detail["turn_count"] == TURNS
