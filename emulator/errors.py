"""The OpenAI error envelope shared by REST responses and data-channel `error` events."""

from aiohttp import web


class ApiError(Exception):
    """An upstream-shaped error: HTTP status plus `{message, type, param, code}`."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str | None = None,
        param: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.type = type

    def as_dict(self) -> dict:
        """Return the inner error object (`{message, type, param, code}`)."""
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}

    def response(self) -> web.Response:
        """Return the REST response `{"error": {...}}` with this error's status."""
        return web.json_response({"error": self.as_dict()}, status=self.status)


def unknown_parameter(param: str) -> ApiError:
    """Return the error upstream gives for a field it does not know."""
    return ApiError(f"Unknown parameter: '{param}'.", code="unknown_parameter", param=param)


def missing_parameter(param: str) -> ApiError:
    """Return the error upstream gives for a missing required field."""
    return ApiError(f"Missing required parameter: '{param}'.", code="missing_required_parameter", param=param)


def invalid_value(param: str, message: str) -> ApiError:
    """Return an `invalid_value` error for `param`."""
    return ApiError(message, code="invalid_value", param=param)


def invalid_type(param: str, expected: str, value: object) -> ApiError:
    """Return the error upstream gives when a field has the wrong JSON type."""
    return ApiError(
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
        code="invalid_type",
        param=param,
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
