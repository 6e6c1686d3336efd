"""aiohttp routes of the emulator: OpenAI Realtime and GPT-Live REST, Open-Meteo, CORS, test knobs."""

import asyncio
import json
import logging

from aiohttp import web

from . import session_config, weather
from .calls import Call, Calls
from .errors import ApiError, invalid_value, unknown_parameter
from .ids import new_id
from .knobs import Knobs
from .live import config as live_config
from .live.session import LiveSession
from .network import DROP_MODES
from .secrets import SecretStore, parse_create_body
from .speech_in import Recognizer

logger = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, OPTIONS",
    "Access-Control-Expose-Headers": "Location",
    "Access-Control-Max-Age": "600",
}
# Named when a preflight lists no headers; otherwise the listed ones are allowed, whatever they are.
BASE_ALLOWED_HEADERS = "Authorization, Content-Type, api-key"
API_KEY = web.AppKey("api_key", str)
SECRETS = web.AppKey("secrets", SecretStore)
CALLS = web.AppKey("calls", Calls)
KNOBS = web.AppKey("knobs", Knobs)


@web.middleware
async def cors(request: web.Request, handler) -> web.StreamResponse:
    """Answer preflights and add CORS headers everywhere: the page lives on another origin.

    A preflight is granted every header it asks for, as upstream must for its SDKs to work from
    browsers: they add their own (`X-OpenAI-Agents-SDK`, `X-Stainless-*`, …) and change them
    between releases. `Access-Control-Allow-Headers: *` would not do: it never covers
    `Authorization`.
    """
    if request.method == "OPTIONS":
        requested = request.headers.get("Access-Control-Request-Headers", "").strip()
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Headers"] = requested or BASE_ALLOWED_HEADERS
        response.headers["Vary"] = "Access-Control-Request-Headers"
    else:
        try:
            response = await handler(request)
        except ApiError as error:
            response = error.response()
        except web.HTTPException as exc:
            response = exc
    response.headers.update(CORS_HEADERS)
    return response


def create_app(*, api_key: str, knobs: Knobs, recognizer: Recognizer, synthesize=None) -> web.Application:
    """Build the application serving both upstreams."""
    app = web.Application(middlewares=[cors])
    app[API_KEY] = api_key
    app[KNOBS] = knobs
    app[SECRETS] = SecretStore()
    app[CALLS] = Calls(recognizer=recognizer, knobs=knobs, synthesize=synthesize)
    app.router.add_post("/v1/realtime/client_secrets", create_client_secret)
    app.router.add_post("/v1/realtime/calls", create_call)
    app.router.add_post("/v1/realtime/calls/{call_id}/hangup", hangup_call)
    app.router.add_post("/v1/live/sessions", create_live_session)
    app.router.add_get("/v1/search", weather.search_view)
    app.router.add_get("/v1/forecast", weather.forecast_view)
    app.router.add_get("/_emulator/knobs", get_knobs)
    app.router.add_patch("/_emulator/knobs", patch_knobs)
    app.router.add_get("/_emulator/health", health)
    app.router.add_post("/_emulator/drop", drop_connections)
    app.on_shutdown.append(_hang_up_all)
    return app


async def _hang_up_all(app: web.Application) -> None:
    await app[CALLS].close_all()


def _credential(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("api-key")


def _require_api_key(request: web.Request) -> None:
    token = _credential(request)
    if token == request.app[API_KEY]:
        return
    if not token:
        raise ApiError(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            status=401,
            code="invalid_api_key",
        )
    masked = f"{token[:3]}****{token[-4:]}" if len(token) > 8 else "****"
    raise ApiError(f"Incorrect API key provided: {masked}.", status=401, code="invalid_api_key")


async def _json_body(request: web.Request) -> object:
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)"
        ) from None


async def create_client_secret(request: web.Request) -> web.Response:
    """POST /v1/realtime/client_secrets — mint an ephemeral `ek_` key."""
    _require_api_key(request)
    if "OpenAI-Beta" in request.headers:
        raise ApiError(
            "The Realtime API beta shape has been disabled. Remove the 'OpenAI-Beta' header "
            "and use the GA interface.",
            code="beta_api_shape_disabled",
        )
    ttl, session = parse_create_body(await _json_body(request))
    secret = request.app[SECRETS].mint(session, ttl)
    logger.info("minted client secret for session %s", secret.session["id"])
    return web.json_response(
        {"value": secret.value, "expires_at": secret.expires_at, "session": secret.session}
    )


async def create_call(request: web.Request) -> web.Response:
    """POST /v1/realtime/calls — SDP offer in, SDP answer out (201, Location: call id)."""
    if "OpenAI-Beta" in request.headers:
        raise ApiError("The Realtime API beta shape has been disabled.", code="beta_api_shape_disabled")
    token = _credential(request) or ""
    if request.content_type == "multipart/form-data":
        _require_api_key(request)
        offer, config = await _multipart_offer(request)
    elif request.content_type == "application/sdp":
        if token == request.app[API_KEY]:
            config = session_config.effective({"type": "realtime"})
        elif token.startswith("ek_"):
            config = request.app[SECRETS].lookup(token).session
        else:
            _require_api_key(request)
        offer = await request.text()
    else:
        raise ApiError(
            f"Unsupported content type '{request.content_type}'. "
            "Send the SDP offer as application/sdp or multipart/form-data.",
            code="unsupported_content_type",
        )
    if not offer.strip().startswith("v=0"):
        raise ApiError("Invalid SDP offer.", code="invalid_offer", param="sdp")
    call, answer = await _start_call(request, offer, param="sdp", config=config)
    logger.info("call %s started", call.id)
    return web.Response(
        status=201,
        text=answer,
        content_type="application/sdp",
        headers={"Location": f"/v1/realtime/calls/{call.id}"},
    )


async def create_live_session(request: web.Request) -> web.Response:
    """POST /v1/live/sessions — GPT-Live: JSON {session, transport} in, 201 JSON with the answer out."""
    _require_api_key(request)
    if request.content_type != "application/json":
        raise ApiError(
            f"Unsupported content type '{request.content_type}'. Send a JSON body "
            '{"session": {...}, "transport": {"type": "webrtc", "sdp": "<offer>"}}.',
            code="unsupported_content_type",
        )
    session, offer = live_config.parse_create(await _json_body(request))
    knobs = request.app[KNOBS]
    live_config.check_model(session["model"], has_access=knobs.live_access)
    if not offer.strip().startswith("v=0"):
        raise ApiError("Invalid SDP offer.", code="invalid_offer", param="transport.sdp")
    resource = live_config.resolve(session, session_id=new_id("live"), lifetime_s=knobs.session_limit)
    call, answer = await _start_call(
        request,
        offer,
        param="transport.sdp",
        config=resource,
        session_class=LiveSession,
        call_id=resource["id"],
    )
    logger.info("live session %s started", call.id)
    return web.json_response(
        {"session": {"id": call.id}, "transport": {"type": "webrtc", "sdp": answer}}, status=201
    )


async def _start_call(request: web.Request, offer: str, *, param: str, **create) -> tuple[Call, str]:
    """Create a call (Realtime or GPT-Live) and answer its SDP offer; a bad offer closes it again."""
    call = request.app[CALLS].create(**create)
    try:
        return call, await call.answer(offer)
    except ValueError as exc:
        await call.close()
        raise ApiError(f"Invalid SDP offer: {exc}", code="invalid_offer", param=param) from None


async def _multipart_offer(request: web.Request) -> tuple[str, dict]:
    form = await request.post()
    offer = form.get("sdp")
    if offer is None:
        raise ApiError("Missing required parameter: 'sdp'.", code="missing_required_parameter", param="sdp")
    offer = _field_text(offer)
    raw = form.get("session")
    if raw is None:
        return offer, session_config.effective({"type": "realtime"})
    raw = _field_text(raw)
    try:
        session = json.loads(raw)
    except ValueError:
        raise ApiError("Invalid JSON in 'session'.", param="session") from None
    return offer, session_config.effective(session_config.validate(session))


def _field_text(field: object) -> str:
    if isinstance(field, str):
        return field
    if isinstance(field, bytes | bytearray):
        return field.decode()
    return field.file.read().decode()


async def hangup_call(request: web.Request) -> web.Response:
    """POST /v1/realtime/calls/{id}/hangup — end a call (server API key)."""
    _require_api_key(request)
    call = request.app[CALLS].live.get(request.match_info["call_id"])
    if call is None:
        raise ApiError(f"Call '{request.match_info['call_id']}' not found.", status=404, code="not_found")
    await call.close()
    return web.Response(status=200)


async def get_knobs(request: web.Request) -> web.Response:
    """GET /_emulator/knobs — current test knobs."""
    return web.json_response(request.app[KNOBS].as_dict())


async def patch_knobs(request: web.Request) -> web.Response:
    """PATCH /_emulator/knobs — change test knobs for later events."""
    body = await _json_body(request)
    try:
        if not isinstance(body, dict):
            raise ValueError("Send a JSON object of knob names and values.")
        request.app[KNOBS].update(body)
    except ValueError as exc:
        raise ApiError(str(exc), code="invalid_value") from None
    return web.json_response(request.app[KNOBS].as_dict())


async def health(request: web.Request) -> web.Response:
    """GET /_emulator/health — liveness and live call count."""
    return web.json_response({"status": "ok", "calls": len(request.app[CALLS].live)})


def _open_connections(app: web.Application) -> dict:
    """Every open WebRTC connection by id (`rtc_…` Realtime calls, `live_…` GPT-Live sessions)."""
    return dict(app[CALLS].live)


async def drop_connections(request: web.Request) -> web.Response:
    """POST /_emulator/drop — lose one open call (`id`) or all of them, like a network failure."""
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError('Send a JSON object: {"id": optional call id, "mode": "close" or "silent"}.')
    for key in body:
        if key not in ("id", "mode"):
            raise unknown_parameter(key)
    mode = body.get("mode", "close")
    if mode not in DROP_MODES:
        raise invalid_value("mode", f"Invalid value: {mode!r}. Supported values are: 'close', 'silent'.")
    connections = _open_connections(request.app)
    wanted = body.get("id")
    if wanted is not None:
        if wanted not in connections:
            raise ApiError(f"No open call or session '{wanted}'.", status=404, code="not_found", param="id")
        connections = {wanted: connections[wanted]}
    await asyncio.gather(*(connection.close(mode=mode) for connection in connections.values()))
    logger.info("dropped %s (%s)", ", ".join(connections) or "nothing", mode)
    return web.json_response({"dropped": list(connections), "mode": mode})
