"""How well the emulator hears cities: `make asr-check` (add `--webrtc` for the full browser path).

Every bundled city is asked for in every phrasing the talk page suggests, by several espeak-ng
voices; the table gives, per voice and phrasing, how many answers would be about the right city,
how many would ask "Which city did you mean?", and how many would be about another city (must be 0).
Synthesised speech is cached in `.cache/asr/`.
"""

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator import model  # noqa: E402
from emulator.cities import CITIES, fold  # noqa: E402
from emulator.speech_out import speak_as_user  # noqa: E402

CACHE = ROOT / ".cache" / "asr"


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice at a speaking rate (words per minute)."""

    name: str
    rate: int

    @property
    def label(self) -> str:
        return f"{self.name} {self.rate} wpm"


VOICES = (Voice("en-us", 150), Voice("en-gb", 150), Voice("en-us", 185))
# What the talk page suggests ("What's the weather in Amsterdam?") and its plain form.
PHRASINGS = ("what's the weather in {city}", "what is the weather in {city}")
CITY_NAMES = sorted({city.name for city in CITIES})
RIGHT, UNCLEAR, WRONG, MISSED = "right", "unclear", "wrong", "missed"


def speech(text: str, voice: Voice, *, rate: int = 16000, lead: float = 0.5, tail: float = 1.0) -> bytes:
    """espeak-ng speech as raw mono s16 PCM at `rate`, padded with silence; cached on disk."""
    key = hashlib.sha1(f"{text}|{voice}|{rate}|{lead}|{tail}".encode()).hexdigest()[:16]
    path = CACHE / f"{key}.raw"
    if path.exists():
        return path.read_bytes()
    pcm = speak_as_user(text, voice=voice.name, wpm=voice.rate, rate=rate, lead=lead, tail=tail)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pcm)
    return pcm


WEATHER_TOOL = {"type": "function", "name": model.WEATHER_TOOL, "parameters": {"type": "object"}}
KNOWN = {fold(city.name) for city in CITIES}


def outcome(transcript: str, city: str) -> str:
    """What the scripted model would do with the transcript of a question about `city`."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_audio", "transcript": transcript}]}
    plan = model.plan([item], [WEATHER_TOOL])
    places = [json.loads(call.arguments)["location"] for call in plan.calls]
    if places == [city]:
        return RIGHT
    if any(fold(place) in KNOWN for place in places):
        return WRONG
    return UNCLEAR if plan.text == model.WHICH_CITY else MISSED


def transcribe_clean(recognizer, pcm: bytes) -> str:
    """Recognise like a call does, minus WebRTC: endpointing, then each utterance decoded."""
    from emulator.speech_in import Listener

    events = Listener().feed(pcm)
    return " ".join(recognizer.transcribe_sync(audio) for kind, _, audio in events if kind == "stop").strip()


@dataclass
class Result:
    voice: Voice
    phrasing: str
    city: str
    transcript: str
    outcome: str


def measure_clean(voices=VOICES, phrasings=PHRASINGS, cities=CITY_NAMES) -> list[Result]:
    """Recognise every (voice, phrasing, city) from clean audio; return the results."""
    from emulator.speech_in import Recognizer

    recognizer = Recognizer()
    results = []
    for voice in voices:
        for phrasing in phrasings:
            for city in cities:
                pcm = speech(phrasing.format(city=city), voice)
                transcript = transcribe_clean(recognizer, pcm)
                results.append(Result(voice, phrasing, city, transcript, outcome(transcript, city)))
    return results


def report(results: list[Result], title: str) -> bool:
    """Print the accuracy table and the misheard questions; return whether the goal is met."""
    print(f"\n{title}\n")
    print("| voice | phrasing | right | unclear | wrong city | missed | accuracy |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    groups: dict[tuple, Counter] = {}
    for result in results:
        groups.setdefault((result.voice.label, result.phrasing), Counter())[result.outcome] += 1
    total = Counter(result.outcome for result in results)
    for (voice, phrasing), counts in [*groups.items(), (("all", "all"), total)]:
        n = sum(counts.values())
        print(
            f"| {voice} | {phrasing} | {counts[RIGHT]} | {counts[UNCLEAR]} | {counts[WRONG]} "
            f"| {counts[MISSED]} | {100 * counts[RIGHT] / n:.1f}% |"
        )
    misheard = [r for r in results if r.outcome != RIGHT]
    if misheard:
        print("\nMisheard:")
        for r in misheard:
            print(f"  [{r.outcome}] {r.voice.label} · {r.phrasing.format(city=r.city)!r} → {r.transcript!r}")
    n = len(results)
    met = total[RIGHT] >= 0.97 * n and total[WRONG] == 0
    print(
        f"\n{total[RIGHT]}/{n} right ({100 * total[RIGHT] / n:.1f}%), {total[WRONG]} wrong cities: "
        f"goal (>= 97%, 0 wrong) {'met' if met else 'NOT met'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webrtc", action="store_true", help="through Chromium's fake microphone and WebRTC")
    parser.add_argument("--cities", type=int, default=0, help="only the first N cities (quick look)")
    args = parser.parse_args()
    cities = CITY_NAMES[: args.cities] if args.cities else CITY_NAMES
    started = time.monotonic()
    if args.webrtc:
        from scripts.asr_webrtc import measure_webrtc

        results = measure_webrtc(VOICES, PHRASINGS, cities)
        title = "Through WebRTC (Chromium fake microphone → emulator)"
    else:
        results = measure_clean(cities=cities)
        title = "Clean audio (no WebRTC)"
    met = report(results, title)
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
