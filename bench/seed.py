"""A fresh benchmark database and its data: users with tokens and sessions, conversations, turns.

Everything here runs in the orchestrating process, after django.setup() on the bench settings.
"""

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.services import create_api_token
from conversations import figures
from conversations.models import Conversation, Turn, Usage

LOAD_USERS = 16  # one per load connection, as real clients are different people
MINT_USERS = 8
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TEXT = (
    "the weather tomorrow looks like rain in the afternoon so take an umbrella and maybe a coat "
    "what about the weekend in berlin paris madrid sunny warm cold wind light heavy snow clear "
    "could you tell me how long it takes to cook rice pasta beans about twenty minutes on low heat "
    "thanks that helps a lot sure anything else I can do for you today yes please remind me"
)
WORDS = TEXT.split()


@dataclass
class Fixtures:
    """What the load needs to authenticate and address the seeded data."""

    load_tokens: list[str] = field(default_factory=list)
    load_conversations: list[str] = field(default_factory=list)
    mint_cookies: list[str] = field(default_factory=list)
    history_token: str = ""
    history_cookie: str = ""
    export_token: str = ""
    export_conversations: dict[int, str] = field(default_factory=dict)
    query_counts: dict[str, dict[int, int]] = field(default_factory=dict)


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url`, through the server's `postgres` database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing an odd database name: {name!r}")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def prepare() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def seed(*, export_sizes: tuple[int, ...], history_sizes: tuple[int, ...]) -> Fixtures:
    rng = random.Random(9)
    fixtures = Fixtures()
    names = [f"load{i:02}" for i in range(LOAD_USERS)] + [f"mint{i}" for i in range(MINT_USERS)]
    names += [f"history{n}" for n in history_sizes] + ["export"]
    users = {user.username: user for user in _create_users(names)}
    tokens = _create_tokens(users.values())

    for i in range(LOAD_USERS):
        user = users[f"load{i:02}"]
        fixtures.load_tokens.append(tokens[user.pk])
        conversation = Conversation.objects.create(owner=user, model="gpt-realtime", session_count=1)
        fixtures.load_conversations.append(str(conversation.pk))
    fixtures.mint_cookies = [_session_cookie(users[f"mint{i}"]) for i in range(MINT_USERS)]

    for size in history_sizes:
        user = users[f"history{size}"]
        conversations = Conversation.objects.bulk_create(
            Conversation(
                owner=user,
                title=" ".join(rng.choices(WORDS, k=4)).capitalize() if n % 3 else "",
                model="gpt-realtime",
                voice="marin",
                session_count=1,
                status=Conversation.Status.ENDED,
            )
            for n in range(size)
        )
        for conversation in conversations:
            _create_turns(conversation, 4, rng)
        _spread_creation_times(user)
    largest = max(history_sizes)
    fixtures.history_token = tokens[users[f"history{largest}"].pk]
    fixtures.history_cookie = _session_cookie(users[f"history{largest}"])

    exporter = users["export"]
    fixtures.export_token = tokens[exporter.pk]
    for size in export_sizes:
        conversation = Conversation.objects.create(
            owner=exporter, title=f"{size} turns", model="gpt-realtime", voice="marin", session_count=3
        )
        _create_turns(conversation, size, rng)
        fixtures.export_conversations[size] = str(conversation.pk)

    fixtures.query_counts = count_history_queries(users=[users[f"history{n}"] for n in history_sizes])
    return fixtures


def count_history_queries(*, users) -> dict[str, dict[int, int]]:
    """Queries of the history page and API for each user (who differ in how many conversations they have)."""
    counts: dict[str, dict[int, int]] = {"history_page": {}, "history_api": {}}
    for user in users:
        size = Conversation.objects.for_user(user).count()
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user, backend=MODEL_BACKEND)
        for name, path in (("history_page", "/conversations/"), ("history_api", "/api/conversations/")):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}")
            counts[name][size] = len(queries)
    return counts


def _create_users(names: list[str]):
    password = make_password(get_random_string(20))  # hashed once: the load never logs in
    User = get_user_model()
    User.objects.bulk_create(
        User(username=name, email=f"{name}@bench.invalid", password=password) for name in names
    )
    return User.objects.filter(username__in=names)


def _create_tokens(users) -> dict[int, str]:
    """An API token per user, by user id."""
    return {user.pk: create_api_token(user=user, name="bench", lifetime=None) for user in users}


def _session_cookie(user) -> str:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user, backend=MODEL_BACKEND)
    return client.cookies["sessionid"].value


def csrf_headers(session_cookie: str) -> dict:
    """Headers of a logged-in browser tab: session and CSRF cookies, and the CSRF header."""
    token = get_random_string(32)
    return {"Cookie": f"sessionid={session_cookie}; csrftoken={token}", "X-CSRFToken": token}


def _create_turns(conversation: Conversation, count: int, rng: random.Random) -> None:
    start = timezone.now() - dt.timedelta(days=3)
    turns, clock = [], 0.0
    for position in range(count):
        role = "user" if position % 2 == 0 else "assistant"
        tool = role == "assistant" and position % 10 == 5
        text = "" if tool else " ".join(rng.choices(WORDS, k=rng.randint(6, 70))).capitalize() + "."
        seconds = 1.5 + len(text) / 15
        turns.append(
            Turn(
                conversation=conversation,
                item_id=f"item_{conversation.pk.hex[:8]}_{position:06}",
                previous_item_id=f"item_{conversation.pk.hex[:8]}_{position - 1:06}" if position else "",
                role="tool" if tool else role,
                text=text,
                session=1 + position * conversation.session_count // max(count, 1),
                position=position,
                started_at=start + dt.timedelta(seconds=clock),
                ended_at=start + dt.timedelta(seconds=clock + seconds),
                audio_end_ms=int(seconds * 1000) if role == "assistant" and not tool else None,
                tool_name="get_weather" if tool else "",
                call_id=f"call_{position:06}" if tool else "",
                arguments=json.dumps({"location": "Amsterdam"}) if tool else "",
                output=json.dumps({"location": "Amsterdam", "temperature": 11.2, "conditions": "overcast"})
                if tool
                else "",
            )
        )
        clock += seconds + 0.4
    turns = Turn.objects.bulk_create(turns, batch_size=2000)
    today = timezone.localdate()
    Usage.objects.bulk_create(
        (
            Usage(
                turn=turn,
                conversation=conversation,
                user_id=conversation.owner_id,
                model="gpt-realtime",
                day=today,
                text_in=900,
                audio_in=1200,
                text_out=40,
                audio_out=300,
                total_tokens=2440,
                cost="0.029760",
            )
            for turn in turns
            if turn.role == "assistant"
        ),
        batch_size=2000,
    )
    figures.recount([conversation.pk])  # bulk_create writes no figures: count them once


def _spread_creation_times(user) -> None:
    # bulk_create stamps every row with the same auto_now_add time; real histories are spread out.
    table = Conversation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET created_at = now() - random() * interval '90 days', "  # noqa: S608
            "updated_at = now() - random() * interval '90 days' WHERE owner_id = %s",
            [user.pk],
        )
