"""`make run`: migrate, then serve the app on 127.0.0.1:8000.

With no OPENAI_API_KEY in the environment (or .env) the local emulator of the OpenAI Realtime
API and Open-Meteo is started too, and the app is pointed at it (offline mode). Ctrl-C stops both.
"""

import os
import signal
import subprocess
import sys
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


def main() -> None:
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    env = {"DEBUG": "true", **os.environ}
    emulator = None
    if not env.get("OPENAI_API_KEY"):
        emulator = start_emulator()
        base = f"http://127.0.0.1:{EMULATOR_PORT}/v1"
        env.update(
            OPENAI_API_KEY=EMULATOR_KEY,
            OPENAI_BASE_URL=base,
            OPEN_METEO_GEOCODING_URL=f"{base}/search",
            OPEN_METEO_FORECAST_URL=f"{base}/forecast",
        )
        print(f"Offline mode: no OPENAI_API_KEY set, so the app talks to the local emulator at {base}.")
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
        print(f"VoiceApp: open http://{HOST}:{PORT}/ (Ctrl-C stops)")
        subprocess.run([sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}"], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        pass
    finally:
        if emulator:
            emulator.send_signal(signal.SIGINT)
            try:
                emulator.wait(timeout=5)
            except subprocess.TimeoutExpired:
                emulator.kill()


if __name__ == "__main__":
    main()
