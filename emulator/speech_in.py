"""Speech recognition of the caller: pocketsphinx endpointing plus grammar-first decoding."""

import asyncio
import logging
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from pocketsphinx import Decoder, Endpointer

from . import pronunciations
from .cities import CITIES, fold

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
NOISE_FLOOR = 100  # peak amplitude of the added noise, of 32767
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
        self._grammar.add_jsgf_string("voiceapp", grammar())
        self._grammar.activate_search("voiceapp")
        self._free = Decoder(samprate=SAMPLE_RATE, logfn="/dev/null")
        self._lock = threading.Lock()

    def transcribe_sync(self, pcm: bytes) -> str:
        """Decode one utterance (16 kHz mono s16): the grammar, a check of the places it heard,
        free decoding if the grammar found nothing."""
        with self._lock:
            words = _decode_words(self._grammar, _with_noise_floor(pcm))
            if _places(words) and not self._places_confirmed(words, pcm):
                words = _without_places(words)  # better "which city?" than another city's weather
            if not words:
                words = _decode_words(self._free, _with_noise_floor(pcm))
        return " ".join(words)

    def _places_confirmed(self, words: list[str], pcm: bytes) -> bool:
        """Decode the utterance again, slightly changed (5% faster and higher; a louder noise
        floor): pocketsphinx's mistakes on a name tend to be unstable, its right answers do not.
        The places stand if a second opinion agrees."""
        for variant in (_with_noise_floor(_faster(pcm, 1.05), seed=5), _with_noise_floor(pcm, 200, seed=3)):
            if _places(_decode_words(self._grammar, variant)) == _places(words):
                return True
        return False

    async def transcribe(self, pcm: bytes) -> str:
        """Decode one utterance in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, self.transcribe_sync, pcm)


class RecognizerProcess(Recognizer):
    """The recogniser in a process of its own, as the server uses it.

    pocketsphinx keeps the GIL while it decodes: in the server's process, a few calls speaking at
    once starved the event loop until ICE consent checks went unanswered and calls dropped.
    """

    def __init__(self) -> None:  # no decoders here: they live in the worker
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_worker)
        self._pool.submit(_transcribe_in_worker, b"").result()  # ready when the decoders are

    def transcribe_sync(self, pcm: bytes) -> str:
        """Decode one utterance in the worker process."""
        return self._pool.submit(_transcribe_in_worker, pcm).result()

    async def transcribe(self, pcm: bytes) -> str:
        """Decode one utterance in the worker process."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, _transcribe_in_worker, pcm)

    def close(self) -> None:
        """Stop the worker."""
        self._pool.shutdown(cancel_futures=True)


_worker: Recognizer | None = None


def _start_worker() -> None:
    global _worker
    _worker = Recognizer()


def _transcribe_in_worker(pcm: bytes) -> str:
    return _worker.transcribe_sync(pcm) if pcm else ""


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


def _decode_words(decoder: Decoder, pcm: bytes) -> list[str]:
    """Decode one utterance into words, from the same start state whatever was decoded before."""
    # The feature extraction adapts to each utterance (its noise estimate carries over to the
    # next): British "what's the weather in bern" was heard as "cologne" after some phrases and
    # not after others. Rebuilding it costs ~2 ms.
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    words = [word for word in (hyp.hypstr.split() if hyp else []) if not word.startswith(("<", "["))]
    while words and words[-1] == "and":
        words.pop()
    return words


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
