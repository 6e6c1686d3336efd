"""Speech recognition of the caller: pocketsphinx endpointing plus grammar-first decoding."""

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import re
import threading
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
from pocketsphinx import Decoder, Endpointer, Hypothesis

from . import pronunciations
from .cities import CITIES, fold

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
NOISE_FLOOR = 100  # peak amplitude of the added noise, of 32767
# Words espeak-ng and users say that the bundled CMU dictionary lacks.
_EXTRA_WORDS = {"kyiv": "K IY IH V"}
# The cepstral mean an utterance heard while spoken is normalised by (see `_Opinion`): a typical
# mean of a question over a quiet line.
CMN_PRIOR = "56.8,-2.49,-1.48,14.59,-2.92,-3.28,-11.43,-17.60,-0.61,-4.13,4.28,-3.53,-6.09"


def _city_names() -> list[str]:
    names = {fold(city.name).replace("-", " ") for city in CITIES}
    return sorted(n for n in names if n.replace(" ", "").isalpha())


def grammar(*, two_questions: bool = False) -> str:
    """Return the JSGF grammar of the phrases tests and users are likely to say (or of two weather
    questions said without a pause)."""
    cities = " | ".join(_city_names())
    utterance = "<weather> <weather>" if two_questions else "<weather> | <chat>"
    return f"""#JSGF V1.0;
grammar voiceapp;
public <utterance> = {utterance};
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


def _grammar_decoder() -> Decoder:
    """A decoder of the grammar (building one blocks for ~0.3 s)."""
    decoder = Decoder(samprate=SAMPLE_RATE, lm=None, logfn="/dev/null")
    for word, phones in _EXTRA_WORDS.items():
        decoder.add_word(word, phones, update=False)
    _add_espeak_pronunciations(decoder, grammar_words())
    decoder.add_jsgf_string("voiceapp", grammar())
    decoder.add_jsgf_string("two_questions", grammar(two_questions=True))
    decoder.activate_search("voiceapp")
    return decoder


class _NoiseFloor:
    """`_with_noise_floor` for audio that arrives in pieces."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self, pcm: bytes) -> bytes:
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.int32)
        noise = self._rng.integers(-NOISE_FLOOR, NOISE_FLOOR + 1, len(samples))
        return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()


class _Faster:
    """`_faster` for audio that arrives in pieces."""

    def __init__(self, factor: float) -> None:
        self._factor = factor
        self._samples = np.zeros(0)
        self._position = 0.0  # of the next output sample, in `_samples`

    def __call__(self, pcm: bytes) -> bytes:
        self._samples = np.concatenate([self._samples, np.frombuffer(pcm, dtype=np.int16)])
        positions = np.arange(self._position, len(self._samples) - 1, self._factor)
        out = np.interp(positions, np.arange(len(self._samples)), self._samples).astype(np.int16)
        if len(positions):
            self._position = positions[-1] + self._factor
        consumed = int(self._position)
        self._samples, self._position = self._samples[consumed:], self._position - consumed
        return out.tobytes()


class _Opinion:
    """One grammar decoder hearing an utterance while it is spoken (as it is, or 5% faster).

    Fed in pieces, pocketsphinx normalises the features by a running cepstral mean that starts
    from `CMN_PRIOR` rather than by the utterance's own mean (measured: 405/408 right, 0 wrong
    cities on the clean questions of `make asr-check`, against 404 for whole utterances).
    """

    def __init__(self, decoder: Decoder, faster: bool) -> None:
        self.decoder = decoder
        self._transforms = (_Faster(1.05), _NoiseFloor(seed=5)) if faster else (_NoiseFloor(seed=0),)
        decoder.reinit_feat()  # the same start state whatever was decoded before
        decoder.set_cmn(CMN_PRIOR)
        decoder.start_utt()

    def hear(self, pcm: bytes) -> None:
        for transform in self._transforms:
            pcm = transform(pcm)
        self.decoder.process_raw(pcm)

    def words(self) -> list[str]:
        self.decoder.end_utt()
        return _words(self.decoder.hyp())


class Recognizer:
    """Decoders built once at start-up (building one blocks for ~0.5 s) and shared by calls.

    An utterance is decoded by the grammar, then the places it heard are checked by second
    opinions: the same audio slightly changed (5% faster and higher; a louder noise floor).
    pocketsphinx's mistakes on a name tend to be unstable, its right answers do not, so the places
    stand only if a second opinion agrees (better "which city?" than another city's weather).
    Free decoding if the grammar found nothing.
    """

    def __init__(self, *, free: bool = True) -> None:
        self._grammar = _grammar_decoder()  # whole utterances
        self._idle = [_grammar_decoder()]  # for utterances heard while spoken (more if needed)
        self._hearing: dict[int, _Opinion] = {}
        self._free = Decoder(samprate=SAMPLE_RATE, logfn="/dev/null") if free else None
        self._lock = threading.Lock()

    # -- the decodes (in the thread or worker process that owns the decoders) ----------------

    def ready(self) -> bool:
        """True (once the decoders are built)."""
        return True

    def open(self, key: int, faster: bool) -> None:
        """Start hearing utterance `key` while it is spoken (as it is, or 5% faster)."""
        decoder = self._idle.pop() if self._idle else _grammar_decoder()
        self._hearing[key] = _Opinion(decoder, faster)

    def hear(self, key: int, pcm: bytes) -> None:
        """Decode the next piece of utterance `key`."""
        self._hearing[key].hear(pcm)

    def close(self, key: int) -> list[str]:
        """End utterance `key`: what was heard."""
        opinion = self._hearing.pop(key)
        try:
            return opinion.words()
        finally:
            self._idle.append(opinion.decoder)

    def drop(self, key: int) -> None:
        """Forget utterance `key`."""
        if key in self._hearing:
            self.close(key)

    def heard(self, pcm: bytes) -> list[str]:
        """What the grammar hears."""
        return _decode_words(self._grammar, _with_noise_floor(pcm))

    def faster(self, pcm: bytes) -> list[str]:
        """A second opinion: the utterance 5% faster and higher."""
        return _decode_words(self._grammar, _with_noise_floor(_faster(pcm, 1.05), seed=5))

    def louder(self, pcm: bytes) -> list[str]:
        """A third opinion: the utterance over a louder noise floor."""
        return _decode_words(self._grammar, _with_noise_floor(pcm, 200, seed=3))

    def two_questions(self, pcm: bytes) -> list[str]:
        """Two weather questions said without a pause, if that explains the audio better than one
        question about several places (else nothing): the one-question grammar turned "what's the
        weather in lima what's the weather in lisbon" into "lima and dublin and lisbon". A single
        question finds no path through two."""
        _, one = _decode_scored(self._grammar, _with_noise_floor(pcm))
        self._grammar.activate_search("two_questions")
        try:
            words, two = _decode_scored(self._grammar, _with_noise_floor(pcm))
        finally:
            self._grammar.activate_search("voiceapp")
        return words if words and two > one else []

    def free(self, pcm: bytes) -> list[str]:
        """What free decoding (no grammar) hears."""
        return _decode_words(self._free, _with_noise_floor(pcm))

    # -- one utterance -----------------------------------------------------------------------

    def _call(self, worker: int, method: str, *args: object) -> Future:
        """Call a decoding method (here: now); `worker` says which of two may run side by side."""
        future: Future = Future()
        try:
            future.set_result(getattr(self, method)(*args))
        except Exception as error:  # noqa: BLE001 - handed to whoever waits for the result
            future.set_exception(error)
        return future

    def transcribe_sync(self, pcm: bytes) -> str:
        """Decode one utterance (16 kHz mono s16), as if it had been heard while spoken."""
        stream = Stream(self)
        stream.hear(pcm)
        return self.verdict(*stream.close(), pcm)

    def verdict(self, heard: Future, faster: Future, pcm: bytes) -> str:
        """What was said, from the grammar's and the second opinion's words on utterance `pcm`."""
        with self._lock:
            words = heard.result()
            places = _places(words)
            if len(places) > 1 and (two := self._call(0, "two_questions", pcm).result()):
                return " ".join(two)  # the scripted model asks which city was meant
            if places and _places(faster.result()) != places and _places(self._louder(pcm)) != places:
                words = _without_places(words)
            if not words:
                words = self._call(0, "free", pcm).result()
        return " ".join(words)

    def _louder(self, pcm: bytes) -> list[str]:
        return self._call(0, "louder", pcm).result()

    async def transcribe(self, pcm: bytes) -> str:
        """Decode one utterance in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, self.transcribe_sync, pcm)

    def stream(self) -> "Stream":
        """Start hearing an utterance while it is spoken."""
        return Stream(self)


class Stream:
    """An utterance heard while it is spoken: `hear` its audio as it arrives, then `finish`.

    The grammar and the second opinion each decode it as it arrives (in the server, in one worker
    process each), so at the end of speech only the end of the utterance is left to decode.
    """

    _numbers = itertools.count()

    def __init__(self, recognizer: Recognizer) -> None:
        self._recognizer = recognizer
        self._keys = {0: next(self._numbers), 1: next(self._numbers)}  # per worker: grammar, faster
        self._ended = False
        for worker, key in self._keys.items():
            _log_failure(recognizer._call(worker, "open", key, worker == 1))

    def hear(self, pcm: bytes) -> None:
        """Queue the next piece of the utterance (16 kHz mono s16)."""
        for worker, key in self._keys.items():
            _log_failure(self._recognizer._call(worker, "hear", key, pcm))

    def close(self) -> tuple[Future, Future]:
        """End the utterance: the grammar's words and the second opinion's, to come."""
        self._ended = True
        return tuple(self._recognizer._call(worker, "close", key) for worker, key in self._keys.items())

    def finish(self, pcm: bytes) -> "asyncio.Future[str]":
        """End the utterance (whose whole audio is `pcm`); what was said, once decoded."""
        heard, faster = self.close()
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, self._recognizer.verdict, heard, faster, pcm)

    def cancel(self) -> None:
        """Drop the utterance (the caller was cut off, the buffer cleared, the call ended)."""
        if not self._ended:
            self._ended = True
            for worker, key in self._keys.items():
                _log_failure(self._recognizer._call(worker, "drop", key))


def _log_failure(call: Future) -> None:
    call.add_done_callback(_report_failure)


def _report_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("recogniser task failed", exc_info=future.exception())


class RecognizerProcess(Recognizer):
    """The recogniser in two processes of its own, as the server uses it.

    pocketsphinx keeps the GIL while it decodes: in the server's process, a few calls speaking at
    once starved the event loop until ICE consent checks went unanswered and calls dropped. Two
    workers, so that the grammar's decode and the first second opinion run side by side (on two
    cores, recognition then takes one decode's time). They start with `start` and build their
    decoders meanwhile; utterances sent before they are ready wait for them.
    """

    def __init__(self) -> None:  # no decoders here: they live in the workers
        context = multiprocessing.get_context("spawn")
        self._workers = [
            ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_start_worker, initargs=(index == 0,)
            )
            for index in range(2)
        ]
        self._lock = contextlib.nullcontext()  # each worker decodes one utterance at a time

    def start(self) -> Future:
        """Start the workers (else the first utterance does); the future is done when they are ready."""
        return _all_of([worker.submit(_in_worker, "ready") for worker in self._workers])

    def _call(self, worker: int, method: str, *args: object) -> Future:
        return self._workers[worker].submit(_in_worker, method, *args)

    def close(self) -> None:
        """Stop the workers."""
        for worker in self._workers:
            worker.shutdown(cancel_futures=True)


def _all_of(futures: list[Future]) -> Future:
    """A future done when all `futures` are (failed if one failed)."""
    combined: Future = Future()

    def check(_: Future) -> None:
        if all(future.done() for future in futures) and not combined.done():
            failed = [future.exception() for future in futures if future.exception() is not None]
            if failed:
                combined.set_exception(failed[0])
            else:
                combined.set_result([future.result() for future in futures])

    for future in futures:
        future.add_done_callback(check)
    return combined


_worker: Recognizer | None = None


def _start_worker(free: bool) -> None:
    global _worker
    _worker = Recognizer(free=free)


def _in_worker(method: str, *args: object) -> object:
    return getattr(_worker, method)(*args)


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
    """Decode one utterance into words."""
    return _decode_scored(decoder, pcm)[0]


def _decode_scored(decoder: Decoder, pcm: bytes) -> tuple[list[str], float]:
    """Decode one utterance into words and its path's score, from the same start state whatever
    was decoded before."""
    # The feature extraction adapts to each utterance (its noise estimate carries over to the
    # next): British "what's the weather in bern" was heard as "cologne" after some phrases and
    # not after others. Rebuilding it costs ~2 ms.
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return _words(hyp), hyp.best_score if hyp else float("-inf")


def _words(hyp: Hypothesis | None) -> list[str]:
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
    """Splits a 16 kHz mono s16 stream into utterances; returns start/stop events as they occur.

    With `streaming`, `("speech", ms, pcm)` events between them carry the utterance's audio as it
    arrives (together, exactly the audio of the stop event), to be decoded while it is spoken.
    """

    LEAD_MS = 150
    KEEP_MS = 60_000

    def __init__(self, *, streaming: bool = False) -> None:
        self._endpointer = Endpointer(sample_rate=SAMPLE_RATE)
        self._streaming = streaming
        self._pending = b""
        self._history = bytearray()
        self._history_start = 0  # bytes of the stream before `_history`
        self._sent = 0  # bytes of the stream up to which speech events carried the utterance
        self._start_ms = 0
        self._in_speech = False

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is in progress."""
        return self._in_speech

    def feed(self, pcm: bytes) -> list[tuple[str, int, bytes]]:
        """Consume audio; return `("start", ms, b"")`, (streaming) `("speech", ms, pcm)` and
        `("stop", ms, utterance_pcm)` events."""
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
                self._sent = self._offset(self._start_ms - self.LEAD_MS)
                events.append(("start", self._start_ms, b""))
            if not self._endpointer.in_speech:
                self._in_speech = False
                end = int(self._endpointer.speech_end * 1000)
                self._speech(events, end)
                events.append(("stop", end, self._since(self._start_ms - self.LEAD_MS)))
        if self._in_speech:
            self._speech(events, (self._history_start + len(self._history)) // BYTES_PER_MS)
        return events

    def _speech(self, events: list, ms: int) -> None:
        end = self._history_start + len(self._history)
        if self._streaming and end > self._sent:
            events.append(("speech", ms, bytes(self._history[max(0, self._sent - self._history_start) :])))
        self._sent = end

    def _remember(self, frame: bytes) -> None:
        self._history += frame
        excess = len(self._history) - self.KEEP_MS * BYTES_PER_MS
        if excess > 0:
            del self._history[:excess]
            self._history_start += excess

    def _offset(self, ms: int) -> int:
        """Position (bytes) of `ms` in the stream, within what is remembered."""
        return max(self._history_start, max(0, ms) * BYTES_PER_MS)

    def _since(self, ms: int) -> bytes:
        # The endpointer's own speech frames drop weak endings ("paris" lost its "s"), so the
        # utterance is cut from the raw stream, up to now (~0.3 s past the detected end).
        return bytes(self._history[self._offset(ms) - self._history_start :])


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
