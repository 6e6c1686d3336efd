"""SQLite, the default database, under a few concurrent users: the app as deployed (gunicorn, two
worker processes) on a fresh SQLite file, users posting turns while reading their history."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.served_app import app_env, create_users, gunicorn, log_in, manage

USERS = 4
TURNS_EACH = 50
PASSWORD = "load-test-password-8c1e"


def _turn(username: str, n: int) -> dict:
    body = {
        "item_id": f"item_{n:03d}",
        "previous_item_id": f"item_{n - 1:03d}" if n else "",
        "session": 1,
        "position": n,
        "role": "user" if n % 2 == 0 else "assistant",
        "text": f"Turn {n} of {username}: what is the weather like in Oslo today?",
    }
    if n % 4 == 3:
        del body["position"]  # placed after its previous item
    if n % 2:
        body["usage"] = {"total_tokens": 120, "output_token_details": {"audio_tokens": 80}}
    return body


def _user_session(base: str, username: str, conversation: str) -> list[tuple[str, int]]:
    """Log in, post TURNS_EACH turns (every third twice: a late transcript updates it), reading
    the conversation and the history page back after every fifth."""
    answers = []
    url = f"/api/conversations/{conversation}/"
    with httpx.Client(base_url=base, timeout=60) as client:
        log_in(client, username, PASSWORD)
        for n in range(TURNS_EACH):
            body = _turn(username, n)
            answers.append(("post", client.post(f"{url}turns/", json=body).status_code))
            if n % 3 == 0:
                body["text"] += " Updated."
                answers.append(("update", client.post(f"{url}turns/", json=body).status_code))
            if n % 5 == 4:
                answers.append(("read", client.get(url).status_code))
                answers.append(("page", client.get("/conversations/").status_code))
        stored = client.get(url).json()
        assert [turn["item_id"] for turn in stored["turns"]] == [f"item_{n:03d}" for n in range(TURNS_EACH)]
    return answers


def test_a_few_concurrent_users_on_sqlite_get_no_errors(tmp_path):
    # DEBUG as `make run` has it: the pages' static files then need no collectstatic.
    env = app_env(
        DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path / 'load.sqlite3'}", CACHE_URL="locmemcache://load"
    )
    manage(env, "migrate", "--noinput")
    conversations = create_users(env, [f"user{n}" for n in range(USERS)], PASSWORD)

    with gunicorn(env, workers=2, threads=4) as (base, log), ThreadPoolExecutor(USERS) as pool:
        results = list(pool.map(lambda item: _user_session(base, *item), conversations.items()))

    answers = [answer for result in results for answer in result]
    failures = [answer for answer in answers if answer[1] >= 400]
    assert failures == [], f"{len(failures)} of {len(answers)} requests failed: {failures[:10]}"
    assert [kind for kind, status in answers if status == 201] == ["post"] * USERS * TURNS_EACH
    assert not [line for line in log if "Traceback" in line or "database is locked" in line]
