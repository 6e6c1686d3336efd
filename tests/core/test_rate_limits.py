"""Rate limits as deployed: gunicorn (two workers) sharing a Redis of the test's own, a local fake
Open-Meteo. Concurrent requests get exactly the rate; with Redis down, what costs money is refused
and the rest goes on."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.private_redis import private_redis
from tests.served_app import app_env, create_users, fake_upstreams, gunicorn, log_in, manage, upstream_env

PASSWORD = "rate-limit-password-51f0"
RATE = 60
REQUESTS = 130
USERS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def fake_open_meteo():
    with fake_upstreams() as base:
        yield base


@pytest.fixture(scope="module")
def served(tmp_path_factory, fake_open_meteo):
    """(base URL, {user: conversation id}, the private Redis) of the app as deployed; one user per
    test, so that their limits do not mix."""
    with private_redis() as redis_server:
        env = app_env(
            DEBUG="true",  # the login page's static files without collectstatic
            DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('rate-limits') / 'db.sqlite3'}",
            CACHE_URL=redis_server.url,
            WEATHER_THROTTLE_RATE=f"{RATE}/min",
            UPSTREAM_MAX_CONCURRENT="64",  # only the rate limit may refuse here
            **upstream_env(fake_open_meteo),
        )
        manage(env, "migrate", "--noinput")
        conversations = create_users(env, USERS, PASSWORD)
        with gunicorn(env, workers=2, threads=8) as (base, log):
            yield base, conversations, redis_server
        assert not [line for line in log if "Traceback" in line], log[-20:]


def _clients(base: str, username: str, count: int) -> list[httpx.Client]:
    """`count` connections of one logged-in browser."""
    first = httpx.Client(base_url=base, timeout=30)
    log_in(first, username, PASSWORD)
    others = [httpx.Client(base_url=base, timeout=30, cookies=first.cookies) for _ in range(count - 1)]
    for client in others:
        client.headers["X-CSRFToken"] = first.headers["X-CSRFToken"]
    return [first, *others]


@pytest.mark.parametrize("username, concurrency", [("alice", 8), ("bob", 32)])
def test_concurrent_requests_get_exactly_the_rate(served, username, concurrency):
    base, _, _ = served
    clients = _clients(base, username, concurrency)

    def ask(n):
        # Each a different place, so that every answer comes from the (counted) upstream path.
        return clients[n % concurrency].get("/api/weather/", params={"location": f"Town {n}"}).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(ask, range(REQUESTS)))

    assert statuses.count(200) == RATE
    assert statuses.count(429) == REQUESTS - RATE


# Last in this module: it stops the Redis the others share.
def test_with_redis_down_paid_calls_are_refused_and_turns_still_stored(served):
    base, conversations, redis_server = served
    (client,) = _clients(base, "carol", 1)
    conversation = conversations["carol"]
    redis_server.stop()

    weather = client.get("/api/weather/", params={"location": "Oslo"})
    mint = client.post("/realtime/session/", json={})
    turn = client.post(
        f"/api/conversations/{conversation}/turns/", json={"item_id": "u1", "role": "user", "text": "Hi"}
    )

    assert (weather.status_code, weather.json()) == (
        503,
        {"detail": "This is unavailable for a moment. Please try again in a minute."},
    )
    assert weather.headers["Retry-After"] == "30"
    assert mint.status_code == 503 and mint.json() == weather.json()
    assert turn.status_code == 201
