"""A fake OpenAI + Open-Meteo for the benchmark: `python -m bench.upstream --port P --delay 0.05`.

client_secrets and live/sessions answer after a fixed delay with realistic bodies (GPT-Live's
with an SDP answer, shaped as openai.types.live.LiveCreateResponse); the weather URLs answer at
once. `POST /_bench/hang {"hang": true}` makes every upstream URL wait forever instead (the app's
UPSTREAM_TIMEOUT has to end those calls), `{"hang": false}` restores normal answers.
`POST /_bench/timings` returns (and clears) how long each session create took inside the fake, so
that the bench leaves the upstream's own time out.
"""

import argparse
import asyncio
import secrets
import time

from aiohttp import web

from bench.sdp import ANSWER

HANG = web.AppKey("hang", dict)
DELAY = web.AppKey("delay", float)
TIMINGS = web.AppKey("timings", list)  # seconds each session create took here, for the bench to subtract


async def _wait(request: web.Request) -> None:
    if request.app[HANG]["on"]:
        await asyncio.Event().wait()  # never answers; the caller's timeout ends it
    await asyncio.sleep(request.app[DELAY])


def _timed(handler):
    """Record how long the fake itself took to answer (its delay, and any lateness of its event loop)."""

    async def timed(request: web.Request) -> web.Response:
        started = time.perf_counter()
        response = await handler(request)
        request.app[TIMINGS].append(time.perf_counter() - started)
        return response

    return timed


@_timed
async def client_secrets(request: web.Request) -> web.Response:
    body = await request.json()
    await _wait(request)
    ttl = body.get("expires_after", {}).get("seconds", 60)
    session = {"id": f"sess_{secrets.token_hex(12)}", "object": "realtime.session", **body.get("session", {})}
    return web.json_response(
        {"value": f"ek_{secrets.token_hex(16)}", "expires_at": int(time.time()) + ttl, "session": session},
        headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
    )


@_timed
async def live_sessions(request: web.Request) -> web.Response:
    body = await request.json()
    offer = body.get("transport", {}).get("sdp", "")
    if not body.get("session", {}).get("model") or not offer.startswith("v=0"):
        return web.json_response(
            {
                "error": {
                    "message": "session.model and transport.sdp are required",
                    "type": "invalid_request_error",
                }
            },
            status=400,
        )
    await _wait(request)
    return web.json_response(
        {"session": {"id": f"live_{secrets.token_hex(12)}"}, "transport": {"type": "webrtc", "sdp": ANSWER}},
        status=201,
        headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
    )


async def search(request: web.Request) -> web.Response:
    await _wait(request)
    name = request.query.get("name", "Amsterdam")
    place = {
        "name": name,
        "latitude": 52.374,
        "longitude": 4.8897,
        "country": "Netherlands",
        "admin1": "North Holland",
    }
    return web.json_response({"results": [place], "generationtime_ms": 0.5})


async def forecast(request: web.Request) -> web.Response:
    await _wait(request)
    return web.json_response(
        {
            "latitude": float(request.query.get("latitude", 52.37)),
            "longitude": float(request.query.get("longitude", 4.89)),
            "utc_offset_seconds": 3600,
            "current_units": {
                "temperature_2m": "°C",
                "apparent_temperature": "°C",
                "relative_humidity_2m": "%",
                "wind_speed_10m": "km/h",
            },
            "current": {
                "time": "2025-03-14T12:00",
                "temperature_2m": 11.2,
                "apparent_temperature": 9.4,
                "relative_humidity_2m": 71,
                "wind_speed_10m": 14.3,
                "weather_code": 3,
            },
        }
    )


async def set_hang(request: web.Request) -> web.Response:
    request.app[HANG]["on"] = bool((await request.json()).get("hang"))
    return web.json_response(request.app[HANG])


async def timings(request: web.Request) -> web.Response:
    """The recorded session-create times (seconds), cleared."""
    recorded = list(request.app[TIMINGS])
    request.app[TIMINGS].clear()
    return web.json_response(recorded)


def make_app(*, delay: float) -> web.Application:
    app = web.Application()
    app[HANG] = {"on": False}
    app[DELAY] = delay
    app[TIMINGS] = []
    app.router.add_post("/v1/realtime/client_secrets", client_secrets)
    app.router.add_post("/v1/live/sessions", live_sessions)
    app.router.add_get("/v1/search", search)
    app.router.add_get("/v1/forecast", forecast)
    app.router.add_post("/_bench/hang", set_hang)
    app.router.add_post("/_bench/timings", timings)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--delay", type=float, default=0.05, help="seconds before client_secrets and live/sessions answer"
    )
    args = parser.parse_args()
    web.run_app(
        make_app(delay=args.delay),
        host=args.host,
        port=args.port,
        access_log=None,
        print=lambda *_: print("listening", flush=True),
    )


if __name__ == "__main__":
    main()
