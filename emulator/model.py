"""The deterministic scripted "model": decides whether to call get_weather or what to say."""

import json
import re
from dataclasses import dataclass

from .cities import CITIES, fold

WEATHER_TOOL = "get_weather"
WHICH_CITY = "Which city did you mean?"
_WEATHER_WORDS = re.compile(r"\b(weather|temperature|forecast|raining|rain|sunny|hot|cold|warm)\b")
_PLACE_TAIL = re.compile(r"\b(?:in|for|at)\s+(.+)$")
_ASKING = re.compile(r"(what|how|is it|will it|tell me|give me|check)\b")
_TRAILING = re.compile(r"\b(?:today|tonight|right now|now|please|like|at the moment)\s*$")
_CANONICAL = {fold(city.name): city.name for city in CITIES}
_WMO_WORDS = {
    0: "clear",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "foggy",
    48: "foggy",
    51: "drizzling",
    53: "drizzling",
    55: "drizzling",
    61: "raining lightly",
    63: "raining",
    65: "raining heavily",
    71: "snowing lightly",
    73: "snowing",
    75: "snowing heavily",
    80: "showery",
    81: "showery",
    82: "showery",
    95: "stormy",
}
_CANNED = (
    (re.compile(r"\bjoke\b"), "Why did the cloud stay home? It was feeling a little under the weather."),
    (re.compile(r"\bhow are you\b"), "I'm doing well, thank you for asking. How can I help?"),
    (re.compile(r"\b(thank you|thanks)\b"), "You're welcome!"),
    (re.compile(r"^(hello|hi|hey|good morning|good evening)\b"), "Hello! Ask me about the weather anywhere."),
    (re.compile(r"\b(goodbye|bye)\b"), "Goodbye!"),
    (re.compile(r"^stop\b"), "Okay, I'll stop."),
)


@dataclass(frozen=True)
class FunctionCall:
    """One tool call the scripted model decided to make."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Plan:
    """What a response will contain: spoken/written text, or function calls."""

    text: str = ""
    calls: tuple[FunctionCall, ...] = ()


def places_in(text: str) -> list[str]:
    """Return the place names of a weather question, canonicalised ("sao paulo" → "São Paulo")."""
    sentence = fold(text).strip().rstrip("?.!")
    if not _WEATHER_WORDS.search(sentence):
        return []
    tail = _PLACE_TAIL.search(sentence)
    if not tail or _WEATHER_WORDS.search(tail.group(1)):
        return []  # no place, or two questions run together: which city is meant is unclear
    places = []
    for part in re.split(r",|\band\b", _TRAILING.sub("", tail.group(1))):
        name = _TRAILING.sub("", part.strip(" .,?!")).strip()
        if name:
            places.append(_CANONICAL.get(name, name.title()))
    return places


def asks_for_weather_without_a_place(text: str) -> bool:
    """Whether `text` is a weather question whose place is missing ("what's the weather in")."""
    sentence = fold(text).strip().rstrip("?.!")
    if not _WEATHER_WORDS.search(sentence) or places_in(sentence):
        return False
    return bool(_ASKING.match(sentence) or re.search(r"\b(in|for)$", sentence))


def plan(items: list[dict], tools: list[dict], tool_choice: object = "auto") -> Plan:
    """Decide the next response from the conversation items and the declared tools."""
    outputs = _pending_outputs(items)
    if outputs:
        return Plan(text=" ".join(_describe(call, output) for call, output in outputs))
    text = _last_user_text(items)
    if text is None:
        return Plan(text="How can I help you today?")
    if not text.strip():
        return Plan(text="Sorry, I didn't catch that. Could you say it again?")
    weather_tool = _tool(tools, WEATHER_TOOL)
    places = places_in(text)
    if places and weather_tool and tool_choice != "none":
        key = _argument_name(weather_tool)
        return Plan(calls=tuple(FunctionCall(WEATHER_TOOL, json.dumps({key: place})) for place in places))
    if weather_tool and asks_for_weather_without_a_place(text):
        # The recogniser leaves out a city it is unsure of: better to ask than to guess.
        return Plan(text=WHICH_CITY)
    for pattern, reply in _CANNED:
        if pattern.search(fold(text)):
            return Plan(text=reply)
    return Plan(text=f"You said: {text.strip()}.")


def _tool(tools: list[dict], name: str) -> dict | None:
    return next((t for t in tools if t.get("type", "function") == "function" and t.get("name") == name), None)


def _argument_name(tool: dict) -> str:
    """Use the declared schema's place argument, so arguments match what the app expects."""
    schema = tool.get("parameters") or {}
    properties = schema.get("properties") or {}
    for name in (*schema.get("required", ()), *properties):
        if properties.get(name, {}).get("type", "string") == "string":
            return name
    return "location"


def _last_user_text(items: list[dict]) -> str | None:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            parts = [
                c.get("text") if c.get("type") == "input_text" else c.get("transcript")
                for c in item.get("content", [])
            ]
            return " ".join(p for p in parts if p)
    return None


def _pending_outputs(items: list[dict]) -> list[tuple[dict, dict]]:
    """Function outputs given since the last user or assistant message, with their calls."""
    calls = {}
    pending = []
    for item in items:
        if item.get("type") == "message" and item.get("role") in ("user", "assistant"):
            pending = []
        elif item.get("type") == "function_call":
            calls[item.get("call_id")] = item
        elif item.get("type") == "function_call_output":
            pending.append(item)
    return [(calls.get(o.get("call_id"), {}), o) for o in pending]


def _describe(call: dict, output: dict) -> str:
    """Turn one tool output into a sentence; an error object becomes an apology."""
    try:
        arguments = json.loads(call.get("arguments") or "{}")
    except ValueError:
        arguments = {}
    try:
        data = json.loads(output.get("output") or "")
    except ValueError:
        data = output.get("output")
    place = next(iter(arguments.values()), None) if isinstance(arguments, dict) else None
    if not isinstance(data, dict) or "error" in data or "detail" in data:
        return f"Sorry, I couldn't get the weather for {place or 'that place'}."
    place = _find(data, ("location", "city", "name", "place")) or place or "that place"
    temperature = _find(data, ("temperature", "temperature_2m", "temp_c", "temp", "temperature_c"))
    condition = _find(data, ("description", "conditions", "condition", "summary", "sky", "weather"))
    if condition is None:
        code = _find(data, ("weather_code", "weathercode", "code"))
        condition = _WMO_WORDS.get(code) if isinstance(code, int) else None
    if not isinstance(temperature, int | float):
        return f"Sorry, I couldn't get the weather for {place}."
    sentence = f"In {place} it is {round(temperature)} degrees"
    return f"{sentence} and {condition}." if isinstance(condition, str) else f"{sentence}."


def _find(data: object, keys: tuple[str, ...]) -> object:
    """Depth-first lookup of the first key present, in tool outputs of any nesting."""
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if value is not None and not isinstance(value, dict | list):
                return value
        for value in data.values():
            found = _find(value, keys)
            if found is not None:
                return found
    return None
