"""`make run` decides on offline mode (emulator + its speech packages) from the environment and .env."""

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_run_script():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = load_run_script()


def test_a_key_only_in_dot_env_means_no_emulator(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# my settings\nOPENAI_API_KEY=sk-from-dot-env\n")
    env = run.app_environment({"PATH": "/usr/bin"}, env_file)
    assert env["OPENAI_API_KEY"] == "sk-from-dot-env"
    assert not run.needs_emulator(env)


def test_no_key_anywhere_means_the_emulator(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("REALTIME_VOICE=cedar\n")
    env = run.app_environment({}, env_file)
    assert run.needs_emulator(env)
    assert run.needs_emulator(run.app_environment({}, tmp_path / "missing.env"))


def test_real_environment_variables_win_over_dot_env(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_API_KEY=sk-from-dot-env\nDEBUG=false\n")
    env = run.app_environment({"OPENAI_API_KEY": ""}, env_file)
    assert run.needs_emulator(env)  # an explicitly empty key still means offline
    assert env["DEBUG"] == "false"  # .env may turn debug off; make run only defaults it on
    assert run.app_environment({}, tmp_path / "missing.env")["DEBUG"] == "true"


def test_reading_dot_env_leaves_this_process_environment_alone(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("VOICEAPP_TEST_ONLY_VARIABLE=1\n")
    run.app_environment({}, env_file)
    assert "VOICEAPP_TEST_ONLY_VARIABLE" not in os.environ


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_with_the_key_only_in_dot_env_installs_no_speech_packages(tmp_path):
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dot-env\n")
    env = {key: value for key, value in os.environ.items() if key not in {"OPENAI_API_KEY", "MAKEFLAGS"}}
    # -n prints the recipes instead of running them (a recursive $(MAKE) line still runs, as -n too).
    result = subprocess.run(
        ["make", "-n", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "scripts/run.py" in result.stdout
    assert "espeak-ng" not in result.stdout and "apt-get" not in result.stdout


def test_a_terminated_run_leaves_no_server_behind(tmp_path, unused_tcp_port):
    """runserver's autoreloader serves from a child process; a SIGTERM to run.py must stop it too."""
    import signal
    import socket
    import sys
    import time
    import urllib.request

    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-not-used",  # no emulator: this is about the web server
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PORT": str(unused_tcp_port),
    }
    script = subprocess.Popen(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{unused_tcp_port}/healthz"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not come up")
    finally:
        script.send_signal(signal.SIGTERM)
        script.wait(timeout=30)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", unused_tcp_port)) != 0, "a server still answers"


@pytest.fixture
def unused_tcp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
