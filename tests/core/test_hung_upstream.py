"""A hung upstream (it accepts the call and never answers) must not stall unrelated requests: the
app as deployed (gunicorn gthread) with more concurrent mints than the per-service limit."""

from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx
import pytest

from tests.served_app import app_env, create_users, fake_upstreams, gunicorn, log_in, manage, upstream_env

PASSWORD = "hung-upstream-password-7d2a"
THREADS, LIMIT, MINTS = 4, 2, 8


@pytest.fixture
def hung(tmp_path):
    """(base URL, a logged-in client) of the app, its upstreams hung."""
    with fake_upstreams() as upstream:
        env = app_env(
            DEBUG="true",  # the pages' static files without collectstatic
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            CACHE_URL="locmemcache://hung",
            UPSTREAM_MAX_CONCURRENT=str(LIMIT),
            UPSTREAM_TIMEOUT="10",
            MINT_THROTTLE_RATE="1000/min",
            **upstream_env(upstream),
        )
        manage(env, "migrate", "--noinput")
        create_users(env, ["alice"], PASSWORD)
        with gunicorn(env, workers=1, threads=THREADS) as (base, _):
            client = httpx.Client(base_url=base, timeout=60)
            log_in(client, "alice", PASSWORD)
            httpx.post(upstream.replace("/v1", "/_bench/hang"), json={"hang": True})
            yield base, client


def test_calls_beyond_the_limit_fail_fast_and_other_pages_still_answer(hung):
    base, client = hung

    def mint(_):
        with httpx.Client(base_url=base, timeout=60, cookies=client.cookies, headers=client.headers) as own:
            response = own.post("/realtime/session/", json={})
            return response.status_code, response.json()

    with ThreadPoolExecutor(MINTS) as pool:
        mints = [pool.submit(mint, n) for n in range(MINTS)]
        refused = []
        for done in as_completed(mints):
            refused.append(done.result())
            if len(refused) == MINTS - LIMIT:
                break
        # The calls holding the slots still wait for the upstream, and the pages answer meanwhile.
        health = httpx.get(f"{base}/healthz", timeout=60)
        history = client.get("/conversations/")
        still_waiting = sum(not future.done() for future in mints)
        hung_ones = [future.result() for future in mints if future.result() not in refused]

    assert refused == [
        (503, {"detail": "The voice service is answering slowly right now. Please try again in a moment."})
    ] * (MINTS - LIMIT)
    assert (health.status_code, history.status_code) == (200, 200)
    assert still_waiting == LIMIT
    assert [status for status, _ in hung_ones] == [504] * LIMIT
