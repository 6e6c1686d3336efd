"""Recognition of espeak-ng speech: endpointing and the grammar-first decoder."""

import pytest
from emulator_harness import speak

from emulator.speech_in import Listener, grammar

PHRASES = [
    "what is the weather in paris and berlin",
    "what is the weather in amsterdam",
    "what's the weather like in new york",
    "how is the weather in rio de janeiro",
    "hello",
    "tell me a joke",
    "thank you",
]


@pytest.mark.parametrize("phrase", PHRASES)
def test_grammar_phrases_are_recognised_exactly(recognizer, phrase):
    events = Listener().feed(speak(phrase))
    assert [kind for kind, _, _ in events] == ["start", "stop"]
    start, stop = events[0][1], events[1][1]
    assert 200 <= start <= 700 < stop
    assert recognizer.transcribe_sync(events[1][2]) == phrase


def test_silence_yields_no_utterance():
    assert Listener().feed(bytes(32000 * 3)) == []


def test_the_grammar_lists_the_bundled_cities():
    text = grammar()
    for city in ("paris", "berlin", "new york", "sao paulo", "zurich", "kyiv"):
        assert f" {city} " in text or f" {city};" in text
