"""Command line: `python -m emulator --host 127.0.0.1 --port 8100`."""

import argparse
import asyncio
import logging
import os
import signal

from aiohttp import web

from .app import create_app
from .calls import use_loopback_only
from .knobs import TRANSCRIPTION_TIMINGS, Knobs
from .speech_in import RecognizerProcess

logger = logging.getLogger("emulator")


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse options; every option also has an EMULATOR_* environment variable."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local emulator of the OpenAI Realtime and GPT-Live APIs (WebRTC) and Open-Meteo.",
    )
    parser.add_argument("--host", default=env("EMULATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("EMULATOR_PORT", "8100")))
    parser.add_argument(
        "--api-key",
        default=env("EMULATOR_API_KEY", "sk-emulator-local"),
        help="server API key accepted as Bearer (or api-key header)",
    )
    parser.add_argument(
        "--session-limit",
        type=float,
        default=float(env("EMULATOR_SESSION_LIMIT", "3600")),
        help="seconds before a call gets session_expired and is closed",
    )
    parser.add_argument(
        "--transcription-timing",
        choices=TRANSCRIPTION_TIMINGS,
        default=env("EMULATOR_TRANSCRIPTION_TIMING", "during_response"),
        help="when the user transcription event arrives relative to the response",
    )
    parser.add_argument(
        "--transcription-fails",
        action="store_true",
        default=_flag(env("EMULATOR_TRANSCRIPTION_FAILS", "0")),
        help="send ...input_audio_transcription.failed instead of .completed",
    )
    parser.add_argument(
        "--generation-pace",
        type=float,
        default=float(env("EMULATOR_GENERATION_PACE", "0.8")),
        help="transcript deltas span this fraction of the audio's duration",
    )
    parser.add_argument(
        "--no-truncate-on-interrupt",
        dest="truncate_on_interrupt",
        action="store_false",
        default=_flag(env("EMULATOR_TRUNCATE_ON_INTERRUPT", "1")),
        help="do not send conversation.item.truncated after a barge-in",
    )
    parser.add_argument(
        "--live-usage-interval",
        type=float,
        default=float(env("EMULATOR_LIVE_USAGE_INTERVAL", "5")),
        help="seconds between GPT-Live session.usage.updated events (upstream: about 60)",
    )
    parser.add_argument(
        "--live-prepaid-seconds",
        type=float,
        default=float(env("EMULATOR_LIVE_PREPAID_SECONDS", "15")),
        help="seconds every GPT-Live session bills up front",
    )
    parser.add_argument(
        "--no-live-access",
        dest="live_access",
        action="store_false",
        default=_flag(env("EMULATOR_LIVE_ACCESS", "1")),
        help="answer every GPT-Live create with 403 model_not_found (a key without access)",
    )
    parser.add_argument("--log-level", default=env("EMULATOR_LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the server until SIGINT/SIGTERM."""
    use_loopback_only()
    knobs = Knobs(
        session_limit=args.session_limit,
        transcription_timing=args.transcription_timing,
        transcription_fails=args.transcription_fails,
        generation_pace=args.generation_pace,
        truncate_on_interrupt=args.truncate_on_interrupt,
        live_usage_interval=args.live_usage_interval,
        live_prepaid_seconds=args.live_prepaid_seconds,
        live_access=args.live_access,
    )
    recognizer = RecognizerProcess()
    app = create_app(api_key=args.api_key, knobs=knobs, recognizer=recognizer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, access_log=logger if args.log_level.upper() == "DEBUG" else None)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    print(f"emulator listening on http://{args.host}:{args.port}", flush=True)
    # Only now the recogniser's workers start (not to compete with the above for the CPU) and
    # build their decoders; speech sent before they are ready waits for them.
    loop.create_task(_announce_recognizer(recognizer))
    await stop.wait()
    await runner.cleanup()
    recognizer.close()


async def _announce_recognizer(recognizer: RecognizerProcess) -> None:
    try:
        await asyncio.wrap_future(recognizer.start())
    except Exception:
        logger.exception("speech recognition failed to start")
        return
    print("emulator speech recognition ready", flush=True)


def main() -> None:
    """Entry point."""
    args = parse_args()
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
