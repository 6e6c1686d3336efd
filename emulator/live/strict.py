"""Strict validation with the `openai` package's GPT-Live models, answered as upstream errors."""

# The SDK's models accept unknown fields and try every member of a union; the real server rejects
# unknown fields and reports the one mistake that matters. This module does both on top of pydantic.

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ApiError, invalid_type, invalid_value, missing_parameter, unknown_parameter

_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def validate(model: type[BaseModel], data: object, path: str) -> BaseModel:
    """Validate `data` as `model` without coercion or unknown fields; raise the upstream error."""
    if not isinstance(data, dict):
        raise invalid_type(path, "an object", data)
    try:
        parsed = model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise _first_error(exc, data, path) from None
    unknown = unknown_field(parsed, path)
    if unknown:
        raise unknown_parameter(unknown)
    return parsed


def unknown_field(value: object, path: str) -> str | None:
    """Return the dotted path of the first field the SDK does not know, if any."""
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            return _join(path, key)
        for name, field in type(value).model_fields.items():
            found = unknown_field(getattr(value, name), _join(path, field.alias or name))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unknown_field(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _first_error(exc: ValidationError, data: Any, path: str) -> ApiError:
    """Pick the error of the union member the client meant, and word it like the server."""
    errors = [_locate(error, data, path) for error in exc.errors()]
    # A union member whose `type`/`role` literal did not match is not what the client meant.
    rejected = {branch for error in errors for branch in error["wrong_branch"]}
    meant = [e for e in errors if not (set(e["branches"]) & rejected)]
    if not meant:
        literals = [e for e in errors if e["wrong_branch"]]
        choices = []
        for error in literals:
            choices += [c.strip(" '") for c in str(error["ctx"].get("expected", "")).split(" or ")]
        choices = list(dict.fromkeys(c for part in choices for c in part.split(", ") if c))
        error = literals[0]
        supported = ", ".join(f"'{choice}'" for choice in choices)
        return invalid_value(
            error["param"], f"Invalid value: '{error['input']}'. Supported values are: {supported}."
        )
    error = meant[0]
    kind, param = error["type"], error["param"]
    if kind == "missing":
        return missing_parameter(param)
    if kind in _TYPE_NAMES:
        return invalid_type(param, _TYPE_NAMES[kind], error["input"])
    if kind in ("literal_error", "enum"):
        return invalid_value(
            param, f"Invalid value: '{error['input']}'. Supported values are: {error['ctx']['expected']}."
        )
    return invalid_value(param, f"Invalid '{param}': {error['msg']}.")


def _locate(error: dict, data: Any, path: str) -> dict:
    """Turn pydantic's location (which names union members) into the client's dotted path."""
    param, value, branches, member_at = path, data, [], -1
    loc = error["loc"]
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            param, value = f"{param}[{part}]", value[part]
        elif isinstance(value, dict) and part in value:
            param, value = _join(param, part), value[part]
        elif last and error["type"] == "missing":
            param = _join(param, part)
        else:
            branches.append((param, part))  # a union member's name, not a field
            member_at = position
    # A literal error on the member's own `type`/`role` means the client meant another member.
    discriminant = (
        branches
        and member_at == len(loc) - 2
        and loc[-1] in ("type", "role")
        and error["type"] == "literal_error"
    )
    wrong = [branches[-1]] if discriminant else []
    return {**error, "param": param, "branches": branches, "wrong_branch": wrong}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
