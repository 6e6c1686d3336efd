"""Recognition of espeak-ng speech: endpointing and the grammar-first decoder."""

import pytest
from emulator_harness import speak

from emulator.speech_in import Listener, grammar
from scripts.asr_check import CITY_NAMES, PHRASINGS, RIGHT, UNCLEAR, WRONG, outcome

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


def test_what_was_said_before_does_not_change_what_is_heard(recognizer):
    # British "Bern" was heard as "Cologne" after "hello" or "tell me a joke" but not on its own.
    bern = Listener().feed(speak("what's the weather in bern", voice="en-gb"))[-1][2]
    heard = [recognizer.transcribe_sync(bern)]
    for before in ("hello", "tell me a joke", "what is the weather in amsterdam"):
        for voice in ("en-us", "en-gb"):
            recognizer.transcribe_sync(Listener().feed(speak(before, voice=voice))[-1][2])
            heard.append(recognizer.transcribe_sync(bern))
    assert set(heard) == {"what's the weather in bern"}


def test_two_questions_without_a_pause_are_heard_as_two_and_get_asked_about(recognizer):
    # The one-question grammar turned the second "what's the weather in" into a city
    # ("lima and dublin and lisbon").
    first = speak("what's the weather in lima", lead=0.5, tail=0)
    second = speak("what's the weather in lisbon", lead=0, tail=1.0)
    events = Listener().feed(first + second)
    assert [kind for kind, _, _ in events] == ["start", "stop"]
    heard = recognizer.transcribe_sync(events[1][2])
    assert heard == "what's the weather in lima what's the weather in lisbon"
    assert outcome(heard, "Lisbon") == UNCLEAR


# A fixed sample of `make asr-check`: every other city, the page's phrasing and the plain one, two
# voices. The goal is the issue's: at least 97% of the cities right and never another city.
CITY_SAMPLE = [(name, voice) for name in CITY_NAMES[::2] for voice in (("en-us", 150), ("en-gb", 150))]


def test_cities_are_heard_right_or_asked_about_never_mistaken(recognizer):
    outcomes = {}
    for index, (city, (voice, wpm)) in enumerate(CITY_SAMPLE):
        question = PHRASINGS[index % len(PHRASINGS)].format(city=city)
        events = Listener().feed(speak(question, voice=voice, wpm=wpm))
        heard = " ".join(recognizer.transcribe_sync(pcm) for kind, _, pcm in events if kind == "stop")
        outcomes[(city, voice, question)] = (outcome(heard, city), heard)
    wrong = {key: heard for key, (result, heard) in outcomes.items() if result == WRONG}
    right = sum(result == RIGHT for result, _ in outcomes.values())
    assert wrong == {}
    assert right >= 0.97 * len(outcomes), {k: v for k, v in outcomes.items() if v[0] != RIGHT}


async def test_an_utterance_is_decoded_while_it_is_spoken(recognizer):
    phrase = "what is the weather in paris and berlin"
    pcm = speak(phrase)
    listener = Listener(streaming=True)
    events = []
    for offset in range(0, len(pcm), 640):  # 20 ms pieces, as a call's microphone delivers them
        events += listener.feed(pcm[offset : offset + 640])
    assert [kind for kind, _, _ in events if kind != "speech"] == ["start", "stop"]
    speech = [audio for kind, _, audio in events if kind == "speech"]
    assert len(speech) > 50
    assert b"".join(speech) == events[-1][2]  # the pieces are exactly the utterance's audio

    stream = recognizer.stream()
    for audio in speech:
        stream.hear(audio)
    assert await stream.finish(events[-1][2]) == phrase
