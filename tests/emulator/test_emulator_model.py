"""The scripted model: weather questions become get_weather calls, tool outputs become answers."""

import json

import pytest

from emulator import model

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
]


def user(text: str, audio: bool = False) -> dict:
    content = {"type": "input_audio", "transcript": text} if audio else {"type": "input_text", "text": text}
    return {"id": "item_u", "type": "message", "role": "user", "content": [content]}


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("what is the weather in paris and berlin", ["Paris", "Berlin"]),
        ("What's the weather like in New York today?", ["New York"]),
        ("how is the weather in sao paulo", ["São Paulo"]),
        ("weather in rio de janeiro, london and tokyo", ["Rio de Janeiro", "London", "Tokyo"]),
        ("is it raining in amsterdam", ["Amsterdam"]),
        ("tell me a joke", []),
        ("I live in Paris", []),
    ],
)
def test_it_finds_the_places_of_weather_questions(text, places):
    assert model.places_in(text) == places


def test_a_weather_question_becomes_one_call_per_place():
    plan = model.plan([user("what is the weather in paris and berlin", audio=True)], TOOLS)
    assert plan.text == ""
    assert [(c.name, json.loads(c.arguments)) for c in plan.calls] == [
        ("get_weather", {"location": "Paris"}),
        ("get_weather", {"location": "Berlin"}),
    ]


def test_the_argument_name_follows_the_declared_schema():
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    (call,) = model.plan([user("weather in oslo")], tools).calls
    assert json.loads(call.arguments) == {"city": "Oslo"}


@pytest.mark.parametrize("tools", [[], [{"type": "function", "name": "other"}]])
def test_without_the_tool_it_just_replies(tools):
    plan = model.plan([user("what is the weather in paris")], tools)
    assert plan.calls == ()
    assert plan.text == "You said: what is the weather in paris."


def test_tool_choice_none_disables_calls():
    assert model.plan([user("weather in paris")], TOOLS, "none").calls == ()


def test_tool_outputs_become_one_spoken_answer():
    items = [
        user("weather in paris and berlin"),
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"location": "Paris"}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"location": "Berlin"}',
        },
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": json.dumps({"temperature": 12.4, "description": "partly cloudy"}),
        },
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": json.dumps({"error": "Upstream unavailable"}),
        },
    ]
    assert (
        model.plan(items, TOOLS).text
        == "In Paris it is 12 degrees and partly cloudy. Sorry, I couldn't get the weather for Berlin."
    )


def test_open_meteo_shaped_outputs_are_understood():
    output = {"location": "Oslo", "current": {"temperature_2m": -1.5, "weather_code": 3}}
    items = [
        user("weather in oslo"),
        {"type": "function_call", "call_id": "c", "name": "get_weather", "arguments": '{"location": "Oslo"}'},
        {"type": "function_call_output", "call_id": "c", "output": json.dumps(output)},
    ]
    assert model.plan(items, TOOLS).text == "In Oslo it is -2 degrees and overcast."


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("hello", "Hello! Ask me about the weather anywhere."),
        ("thank you", "You're welcome!"),
        ("what time is it", "You said: what time is it."),
        ("", "Sorry, I didn't catch that. Could you say it again?"),
    ],
)
def test_other_turns_get_a_short_reply(text, reply):
    assert model.plan([user(text)], TOOLS).text == reply


@pytest.mark.parametrize(
    "text",
    [
        "what is the weather in",
        "what's the weather like today",
        "how hot is it in",
        "is it raining",
        # Two questions heard as one utterance: answering one of them, or both, would be a guess.
        "what's the weather in lima what's the weather in lisbon",
        "what is the weather in paris and the temperature in berlin",
    ],
)
def test_a_weather_question_without_a_place_gets_asked_which_city(text):
    plan = model.plan([user(text, audio=True)], TOOLS)
    assert (plan.text, plan.calls) == ("Which city did you mean?", ())


def test_other_sentences_about_the_weather_are_not_taken_for_questions():
    assert model.plan([user("thank you")], TOOLS).text == "You're welcome!"
    assert model.plan([user("I like warm weather")], TOOLS).text == "You said: I like warm weather."
