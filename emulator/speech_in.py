"""Speech recognition of the caller: pocketsphinx endpointing plus grammar-first decoding."""

import asyncio
import logging
import re
import threading

import numpy as np
from pocketsphinx import Decoder, Endpointer

from . import pronunciations
from .cities import CITIES, fold

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
NOISE_FLOOR = 100  # peak amplitude of the added noise, of 32767
FRAME_BYTES = SAMPLE_RATE // 100 * 2  # pocketsphinx's 10 ms frames
# Words espeak-ng and users say that the bundled CMU dictionary lacks.
_EXTRA_WORDS = {"kyiv": "K IY IH V"}


def _city_names() -> list[str]:
    names = {fold(city.name).replace("-", " ") for city in CITIES}
    return sorted(n for n in names if n.replace(" ", "").isalpha())


def grammar() -> str:
    """Return the JSGF grammar of the phrases tests and users are likely to say."""
    cities = " | ".join(_city_names())
    return f"""#JSGF V1.0;
grammar voiceapp;
public <utterance> = <weather> | <chat>;
<weather> = [<ask>] <topic> [like] [<when>] (in | for) <places> [<when>]
          | (is it | will it be) (raining | sunny | cold | hot | warm) in <places> [<when>]
          | how (hot | cold | warm) is it in <places> [<when>];
<ask> = what is the | what's the | how is the | how's the | tell me the | give me the
      | what is | how is | check the | and the;
<topic> = weather | temperature | forecast;
<when> = today | right now | now | please;
<places> = <city> [and <city>] [and <city>];
<city> = {cities};
<chat> = hello | hello there | hi | hi there | hey | good morning | good evening
       | how are you | how are you doing | tell me a joke | tell me another joke
       | thank you | thank you very much | thanks | stop | please stop | goodbye | bye
       | what can you do | who are you | what time is it | yes | no | okay
       | set a timer for <number> minutes;
<number> = one | two | three | four | five | ten | fifteen | twenty | thirty;
"""


def places_grammar() -> str:
    """The second pass: only the places, for the audio after "in" / "for"."""
    rules = [line for line in grammar().splitlines() if line.startswith(("<when>", "<places>", "<city>"))]
    return "\n".join(["#JSGF V1.0;", "grammar places;", "public <tail> = <places> [<when>];", *rules, ""])


def grammar_words() -> list[str]:
    """Every word the grammar can produce."""
    body = grammar().split("grammar voiceapp;", 1)[1]
    body = re.sub(r"<[^>]*>", " ", body)
    return sorted({word for word in re.findall(r"[a-z']+", body) if word != "public"})


def _add_espeak_pronunciations(decoder: Decoder, words: list[str]) -> None:
    """Add how espeak-ng's voices say each word as alternatives to the dictionary's entries."""
    for word, variants in pronunciations.espeak(words).items():
        known = []
        while phones := decoder.lookup_word(word if not known else f"{word}({len(known) + 1})"):
            known.append(phones)
        for phones in sorted(variants - set(known)):
            known.append(phones)
            decoder.add_word(f"{word}({len(known)})", phones, update=False)


class Recognizer:
    """Decoders built once at start-up (building one blocks for ~0.5 s) and shared by calls."""

    def __init__(self) -> None:
        self._grammar = Decoder(samprate=SAMPLE_RATE, lm=None, logfn="/dev/null")
        for word, phones in _EXTRA_WORDS.items():
            self._grammar.add_word(word, phones, update=False)
        _add_espeak_pronunciations(self._grammar, grammar_words())
        self._grammar.add_jsgf_string("places", places_grammar())
        self._grammar.add_jsgf_string("voiceapp", grammar())
        self._grammar.activate_search("voiceapp")
        self._free = Decoder(samprate=SAMPLE_RATE, logfn="/dev/null")
        self._lock = threading.Lock()

    def transcribe_sync(self, pcm: bytes) -> str:
        """Decode one utterance (16 kHz mono s16): the grammar, a check of the places it heard,
        free decoding if the grammar found nothing."""
        with self._lock:
            words, places_from = _decode_words(self._grammar, _with_noise_floor(pcm))
            if places_from is not None and not self._places_confirmed(words, pcm[places_from:]):
                words = _without_places(words)  # better "which city?" than another city's weather
            if not words:
                words, _ = _decode_words(self._free, _with_noise_floor(pcm))
        return " ".join(words)

    def _places_confirmed(self, words: list[str], tail: bytes) -> bool:
        """Decode the audio after "in" again, slightly changed (5% faster and higher; a louder
        noise floor): pocketsphinx's mistakes on a name tend to be unstable, its right answers
        do not. The places stand if a second opinion agrees."""
        heard = _places(words)
        self._grammar.activate_search("places")
        try:
            for variant in (
                _with_noise_floor(_faster(tail, 1.05), seed=5),
                _with_noise_floor(tail, 200, seed=3),
            ):
                second, _ = _decode_words(self._grammar, variant)
                if [word for word in second if word not in _NOT_PLACES] == heard:
                    return True
            return False
        finally:
            self._grammar.activate_search("voiceapp")

    async def transcribe(self, pcm: bytes) -> str:
        """Decode one utterance in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, self.transcribe_sync, pcm)


def _with_noise_floor(pcm: bytes, amplitude: int = NOISE_FLOOR, seed: int | None = None) -> bytes:
    # Exact digital silence (espeak-ng, Opus) upsets pocketsphinx's feature normalisation: a
    # faint noise floor (about -50 dBFS), like any real microphone's, is what its model expects.
    # Measured with `make asr-check`: no floor ~35% of cities, ±8 ~89%, ±100 ~97% (±400 no better).
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.int32)
    rng = np.random.default_rng(len(samples) if seed is None else seed)
    noise = rng.integers(-amplitude, amplitude + 1, len(samples))
    return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()


def _faster(pcm: bytes, factor: float) -> bytes:
    """Resample so that the audio plays `factor` times faster (and higher)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    positions = np.arange(0, max(0, len(samples) - 1), factor)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16).tobytes()


_PLACE_WORDS = ("in", "for")
_NOT_PLACES = ("and", "today", "right", "now", "please")


def _decode_words(decoder: Decoder, pcm: bytes) -> tuple[list[str], int | None]:
    """Decode one utterance; return its words and the byte offset where its places begin."""
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    words: list[str] = []
    places_from = None
    for segment in decoder.seg() or ():
        word = re.sub(r"\(\d+\)$", "", segment.word)  # "paris(2)": another pronunciation
        if word.startswith(("<", "[")):
            continue
        if places_from is None and words and words[-1] in _PLACE_WORDS:
            places_from = segment.start_frame * FRAME_BYTES
        words.append(word)
    while words and words[-1] == "and":
        words.pop()
    return words, places_from if _places(words) else None


def _places(words: list[str]) -> list[str]:
    """The place words after the last "in" / "for" (none for a sentence without them)."""
    indexes = [i for i, word in enumerate(words) if word in _PLACE_WORDS]
    tail = words[indexes[-1] + 1 :] if indexes else []
    return [word for word in tail if word not in _NOT_PLACES]


def _without_places(words: list[str]) -> list[str]:
    """Cut a sentence after its last "in" / "for": what is left asks about no place."""
    indexes = [i for i, word in enumerate(words) if word in _PLACE_WORDS]
    return words[: indexes[-1] + 1] if indexes else words


class Listener:
    """Splits a 16 kHz mono s16 stream into utterances; returns start/stop events as they occur."""

    LEAD_MS = 150
    KEEP_MS = 60_000

    def __init__(self) -> None:
        self._endpointer = Endpointer(sample_rate=SAMPLE_RATE)
        self._pending = b""
        self._history = bytearray()
        self._history_start_ms = 0
        self._start_ms = 0
        self._in_speech = False

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is in progress."""
        return self._in_speech

    def feed(self, pcm: bytes) -> list[tuple[str, int, bytes]]:
        """Consume audio; return `("start", ms, b"")` and `("stop", ms, utterance_pcm)` events."""
        events = []
        self._pending += pcm
        size = self._endpointer.frame_bytes
        while len(self._pending) >= size:
            frame, self._pending = self._pending[:size], self._pending[size:]
            self._remember(frame)
            if self._endpointer.process(frame) is None:
                continue
            if not self._in_speech:
                self._in_speech = True
                self._start_ms = int(self._endpointer.speech_start * 1000)
                events.append(("start", self._start_ms, b""))
            if not self._endpointer.in_speech:
                self._in_speech = False
                end = int(self._endpointer.speech_end * 1000)
                events.append(("stop", end, self._since(self._start_ms - self.LEAD_MS)))
        return events

    def _remember(self, frame: bytes) -> None:
        self._history += frame
        excess = len(self._history) - self.KEEP_MS * BYTES_PER_MS
        if excess > 0:
            del self._history[:excess]
            self._history_start_ms += excess // BYTES_PER_MS

    def _since(self, ms: int) -> bytes:
        # The endpointer's own speech frames drop weak endings ("paris" lost its "s"), so the
        # utterance is cut from the raw stream, up to now (~0.3 s past the detected end).
        offset = max(0, ms - self._history_start_ms) * BYTES_PER_MS
        return bytes(self._history[offset:])


def trim_silence(pcm: bytes) -> bytes:
    """Cut a push-to-talk buffer to its speech (the decoders invent words in long silences)."""
    listener = Listener()
    events = listener.feed(pcm) + listener.feed(bytes(Listener.LEAD_MS * 4 * BYTES_PER_MS))
    starts = [ms for kind, ms, _ in events if kind == "start"]
    stops = [ms for kind, ms, _ in events if kind == "stop"]
    if not starts:
        return pcm
    begin = max(0, starts[0] - Listener.LEAD_MS) * BYTES_PER_MS
    end = (stops[-1] + 300) * BYTES_PER_MS if stops else len(pcm)
    return pcm[begin:end]
