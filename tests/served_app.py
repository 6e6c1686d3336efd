"""The app as deployed, for tests that need real HTTP: gunicorn (gthread workers) in a subprocess."""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(**overrides: str) -> dict:
    """Production settings on plain HTTP at 127.0.0.1, plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    env.update(
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "served-app-test-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    """Run `manage.py <args>` with `env`; returns its output, fails the test when it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        pytest.fail(f"manage.py {' '.join(args[:1])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 8) -> Iterator[tuple[str, list[str]]]:
    """Serve the app with `env`; yields (base URL, output lines so far, filled when it stops)."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "voiceapp.wsgi", "--worker-class", "gthread"]
    command += ["--workers", str(workers), "--threads", str(threads)]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout", "60"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start: {process.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)
    output: list[str] = []
    try:
        yield base, output
    finally:
        process.terminate()
        try:
            text = process.communicate(timeout=20)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            text = process.communicate()[0].decode()
        output.extend(text.splitlines())


def create_users(env: dict, usernames: list[str], password: str) -> dict[str, str]:
    """Create the users, each with one conversation; returns {username: conversation id}."""
    script = f"""
import json
from django.contrib.auth import get_user_model
from conversations.models import Conversation
ids = {{}}
for name in {usernames!r}:
    user = get_user_model().objects.create_user(name, password={password!r})
    ids[name] = str(Conversation.objects.create(owner=user, model="gpt-realtime").pk)
print(json.dumps(ids))
"""
    return json.loads(manage(env, "shell", "--no-imports", "-c", script).strip().splitlines()[-1])


def log_in(client: httpx.Client, username: str, password: str) -> None:
    """Log in through the login form, as a browser does; later posts carry the CSRF header."""
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/accounts/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302, answer.text[:500]
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]


@contextlib.contextmanager
def fake_upstreams() -> Iterator[str]:
    """The benchmark's fake OpenAI + Open-Meteo (bench/upstream.py); yields its /v1 base URL.
    POST {"hang": true} to <port>/_bench/hang makes every upstream URL answer nothing."""
    port = free_port()
    command = [sys.executable, "-m", "bench.upstream", "--port", str(port), "--delay", "0"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in process.stdout.readline()
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()  # a graceful stop would wait for the calls it keeps hanging
        process.wait(timeout=10)


def upstream_env(base: str) -> dict:
    """Settings pointing OpenAI and Open-Meteo at `base` (fake_upstreams)."""
    return {
        "OPENAI_API_KEY": "sk-served-app-test",
        "OPENAI_BASE_URL": base,
        "OPEN_METEO_GEOCODING_URL": f"{base}/search",
        "OPEN_METEO_FORECAST_URL": f"{base}/forecast",
    }
