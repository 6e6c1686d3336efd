"""`make run`: migrate, then serve the app on 127.0.0.1:8000.

With no OPENAI_API_KEY in the environment or in .env, the local emulator of the OpenAI Realtime
API and Open-Meteo is started too (after installing its speech packages when they are missing),
and the app is pointed at it (offline mode). Ctrl-C stops both.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
EMULATOR_PORT = os.environ.get("EMULATOR_PORT", "8100")
EMULATOR_KEY = "sk-emulator-local"


def start_emulator() -> subprocess.Popen:
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            EMULATOR_PORT,
            "--api-key",
            EMULATOR_KEY,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in emulator.stdout:  # wait for its "listening" line
        print(line, end="")
        if "listening" in line:
            break
    if emulator.poll() is not None:
        sys.exit("The local emulator failed to start; see the messages above.")
    return emulator


def app_environment(environment: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The variables the app will run with: `environment`, plus what `env_file` adds (real
    variables win, as in the settings), with DEBUG on unless one of them says otherwise."""

    class FileReader(environ.Env):
        ENVIRON = dict(environment)  # read_env writes here instead of into os.environ

    FileReader.read_env(env_file, overwrite=False)
    return {"DEBUG": "true", **FileReader.ENVIRON}


def needs_emulator(env: Mapping[str, str]) -> bool:
    """Offline mode: no OpenAI key in the environment or in .env."""
    return not env.get("OPENAI_API_KEY")


def install_speech_packages() -> None:
    """The emulator speaks with espeak-ng and sox: `make speech-deps` installs them when missing."""
    if subprocess.run(["make", "--no-print-directory", "speech-deps"], cwd=ROOT).returncode != 0:
        sys.exit("Could not install espeak-ng and sox, which the local emulator needs; see above.")


def main() -> None:
    env = app_environment(os.environ, ROOT / ".env")
    emulator = None
    if needs_emulator(env):
        install_speech_packages()
        emulator = start_emulator()
        base = f"http://127.0.0.1:{EMULATOR_PORT}/v1"
        env.update(
            OPENAI_API_KEY=EMULATOR_KEY,
            OPENAI_BASE_URL=base,
            OPEN_METEO_GEOCODING_URL=f"{base}/search",
            OPEN_METEO_FORECAST_URL=f"{base}/forecast",
        )
        print(f"Offline mode: no OPENAI_API_KEY set, so the app talks to the local emulator at {base}.")
    # A SIGTERM (not only Ctrl-C) must stop what this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
        print(f"VoiceApp: open http://{HOST}:{PORT}/ (Ctrl-C stops)")
        # Its own process group: runserver's autoreloader runs the server in a child process,
        # which would outlive a signal sent to the reloader alone.
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server and server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if emulator:
            emulator.send_signal(signal.SIGINT)
            try:
                emulator.wait(timeout=5)
            except subprocess.TimeoutExpired:
                emulator.kill()


if __name__ == "__main__":
    main()
