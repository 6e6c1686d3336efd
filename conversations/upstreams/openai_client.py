"""openai-python for both voice upstreams: no retries, our timeouts, Azure's api-key header, and
every failure turned into one sentence for the page and one warning in the log."""

import json
import logging
import time

import httpx
import openai
from django.conf import settings

from core.errors import ServiceError, UpstreamError
from core.upstream_slots import upstream_slot

logger = logging.getLogger(__name__)

SERVICE = "voice service"
NOT_CONFIGURED = "The voice service is not configured. Please tell the site administrator."
BUSY = "The voice service is busy right now. Please try again in a moment."
COULD_NOT_START = "The voice service could not start a session. Please try again later."
UNREADABLE = "The voice service sent an answer we could not read. Please try again."
TIMED_OUT = "The voice service did not answer in time. Please try again."
UNREACHABLE = "The voice service cannot be reached right now. Please try again later."
MODEL_UNAVAILABLE = (
    "The voice model is not available right now. Please tell the site administrator; "
    "voice chat works again once they choose a current model."
)
# How the upstream says that a model is unknown or retired (the code, or words in the message).
MODEL_CODES = {"model_not_found", "model_deprecated", "model_retired", "model_shutdown"}
MODEL_WORDS = ("does not exist", "not found", "deprecated", "retired", "shut down", "no longer available")

_http: httpx.Client | None = None
_clients: dict[tuple, openai.OpenAI] = {}


class ModelUnavailable(UpstreamError):
    """The configured model is unknown or retired upstream: the administrator must change a setting."""

    def __init__(self, *, setting: str, model: str, upstream_status: int, code: str):
        super().__init__(MODEL_UNAVAILABLE, status_code=503, upstream_status=upstream_status)
        self.audit_detail = (
            f"The upstream does not offer the model {model!r} ({code or upstream_status}); "
            f"set {setting} to a current model."
        )


def http_client() -> httpx.Client:
    """The process-wide connection pool under the SDK (tests may swap it for a MockTransport one)."""
    global _http
    if _http is None:
        _http = httpx.Client(
            timeout=_timeout(),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
        )
    return _http


def set_http_client(client: httpx.Client | None) -> None:
    global _http
    _http = client


def client() -> openai.OpenAI:
    """The SDK client for the current settings, made once per configuration (building one costs
    ~0.8 ms); it is thread-safe and shares the connection pool."""
    pool = http_client()
    key = (
        settings.OPENAI_API_KEY,
        settings.OPENAI_BASE_URL,
        settings.UPSTREAM_TIMEOUT,
        settings.UPSTREAM_CONNECT_TIMEOUT,
        id(pool),
    )
    sdk = _clients.get(key)
    if sdk is None or sdk._client is not pool:
        sdk = openai.OpenAI(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL,
            max_retries=0,  # a retried GPT-Live create would open (and bill) a second session
            timeout=_timeout(),
            http_client=pool,
        )
        if len(_clients) > 8:  # settings changed (tests): drop the old ones
            _clients.clear()
        _clients[key] = sdk
    return sdk


class Answer:
    """A 2xx answer of the upstream: status, headers, and `parse()` into the openai-python type."""

    def __init__(self, response: httpx.Response, cast_to: type, sdk: openai.OpenAI):
        self.status_code, self.headers = response.status_code, response.headers
        self._response, self._cast_to, self._sdk = response, cast_to, sdk

    def parse(self):
        """The body as the SDK's typed methods return it (raises ValueError when it is not JSON)."""
        data = self._response.json()
        return self._sdk._process_response_data(data=data, cast_to=self._cast_to, response=self._response)


def call(
    *,
    path: str,
    body: dict,
    cast_to: type,
    models: list[tuple[str, str, str]],
    access_denied: tuple[int, ...] = (401, 403),
    access_sentence: str = NOT_CONFIGURED,
) -> Answer:
    """POST `body` to `path` once; `answer.parse()` is a `cast_to` (an openai-python type).

    `body` is posted as it is, on the SDK's connection pool, and a non-2xx answer goes through the
    SDK's own error mapping: the typed SDK methods would first run the body through the SDK's
    transform (1–7 ms per session, changing nothing in our bodies: tests check that, and the
    bodies against openai-python's request types) and build the request through its option
    copies (another ~2.4 ms of CPU). Raises ServiceError (no key) or UpstreamError with a sentence
    for the page. `access_denied` statuses read `access_sentence` (503). `models` are the
    (setting, model, request field) triples the body names, main model first: an unknown or retired
    one raises ModelUnavailable naming its setting.
    """
    if not settings.OPENAI_API_KEY:
        raise ServiceError(NOT_CONFIGURED, status_code=503)
    sdk = client()
    started = time.monotonic()
    try:
        with upstream_slot(SERVICE):
            response = http_client().post(
                f"{settings.OPENAI_BASE_URL.rstrip('/')}{path}",
                content=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                headers=_headers(sdk),
                timeout=_timeout(),
            )
    except httpx.TimeoutException:
        _warn("%s POST %s timed out after %.2fs", path, started)
        raise UpstreamError(TIMED_OUT, status_code=504) from None
    except httpx.HTTPError as exc:
        _warn("%s POST %s failed after %.2fs: %s", path, started, type(exc).__name__)
        raise UpstreamError(UNREACHABLE) from None
    if not response.is_success:
        error = sdk._make_status_error_from_response(response)
        raise _status_error(error, path, started, models, access_denied, access_sentence) from None
    return Answer(response, cast_to, sdk)


def _headers(sdk: openai.OpenAI) -> dict:
    # The SDK's own headers (JSON, user agent), and the key: a bearer token, or Azure's api-key.
    headers = {key: value for key, value in sdk.default_headers.items() if isinstance(value, str)}
    if settings.OPENAI_AUTH_STYLE == "azure":
        headers["api-key"] = settings.OPENAI_API_KEY
    else:
        headers["Authorization"] = f"Bearer {settings.OPENAI_API_KEY}"
    return headers


def unreadable(path: str, raw: Answer) -> UpstreamError:
    logger.warning("%s POST %s answered %s with a body we could not read", SERVICE, path, raw.status_code)
    return UpstreamError(UNREADABLE, upstream_status=raw.status_code)


def request_id(raw: Answer) -> str:
    return (raw.headers.get("x-request-id") or "")[:100]


def _status_error(exc, path, started, models, access_denied, access_sentence) -> UpstreamError:
    status = exc.status_code
    code = str(exc.code or "")
    elapsed = time.monotonic() - started
    request = exc.request_id or "-"
    # The message may quote part of the key ("sk-proj-****abcd"): log the status and code only.
    if unavailable := _unavailable_model(exc, models):
        model_setting, model = unavailable
        logger.warning(
            "%s POST %s answered %s (%s) in %.2fs, request %s: the upstream does not offer the model %r; "
            "set %s to a current model",
            SERVICE, path, status, code or "-", elapsed, request, model, model_setting,
        )  # fmt: skip
        return ModelUnavailable(setting=model_setting, model=model, upstream_status=status, code=code)
    logger.warning(
        "%s POST %s answered %s (%s) in %.2fs, request %s",
        SERVICE,
        path,
        status,
        code or "-",
        elapsed,
        request,
    )
    if status in access_denied:
        return UpstreamError(access_sentence, status_code=503, upstream_status=status)
    if status == 429:
        retry_after = _retry_after(exc.response.headers.get("retry-after"))
        return UpstreamError(BUSY, status_code=429, retry_after=retry_after, upstream_status=status)
    return UpstreamError(COULD_NOT_START, upstream_status=status)


def _unavailable_model(
    exc: openai.APIStatusError, models: list[tuple[str, str, str]]
) -> tuple[str, str] | None:
    """(setting, model) when the error says that one of `models` is unknown or retired."""
    if exc.status_code not in (400, 404, 410) or not models:
        return None
    param, message = str(exc.param or ""), str(exc.message or "").lower()
    for setting, model, field in models:
        if param == field:  # e.g. invalid_value for session.model
            return setting, model
    if str(exc.code or "") in MODEL_CODES or (
        "model" in message and any(words in message for words in MODEL_WORDS)
    ):
        named = [(setting, model) for setting, model, _ in models if model and model.lower() in message]
        return named[0] if named else models[0][:2]
    return None


def _retry_after(header: str | None) -> int:
    try:
        return max(1, min(int(float(header)), 3600))
    except (TypeError, ValueError):
        return 10


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.UPSTREAM_TIMEOUT, connect=settings.UPSTREAM_CONNECT_TIMEOUT)


def _warn(message: str, path: str, started: float, *args) -> None:
    logger.warning(message, SERVICE, path, time.monotonic() - started, *args)
