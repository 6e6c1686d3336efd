"""Extra pronunciations for the recogniser: how espeak-ng's American and British voices say words.

The CMU dictionary pocketsphinx ships gives one or two American pronunciations; espeak-ng (our own
voice, and the one the tests speak with) says many city names differently ("Milan" m-ih-l-AA-n,
British "weather" without the r). Each voice's phonemes are converted to CMU phones and added as
alternatives, which is also closer to how many people say those names.
"""

import functools
import hashlib
import os
import subprocess
from pathlib import Path

# espeak-ng English phonemes → CMU phones; where American and British differ: (American, British).
# British "3:" (Bern, Perth) has no r: as ER the US model heard British "Bern" as "Cologne".
_PHONES: dict[str, str | tuple[str, str]] = {
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V",
    "T": "TH", "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "tS": "CH", "dZ": "JH",
    "m": "M", "n": "N", "N": "NG", "l": "L", "r": "R", "w": "W", "j": "Y", "h": "HH", "x": "K",
    "t#": "T", "d#": "D", "z#": "Z", "l#": "L", "n-": "N", "r-": ("R", ""), "?": "",
    "a": ("AE", "AA"), "aa": ("AE", "AA"), "A:": "AA", "A@": ("AA R", "AA"), "A": "AA",
    "aI": "AY", "aI@": ("AY ER", "AY AH"), "aI3": ("AY ER", "AY AH"), "aU": "AW", "aU@": ("AW ER", "AW AH"),
    "E": "EH", "e@": ("EH R", "EH"), "eI": "EY", "e": "EH",
    "I": "IH", "I2": "IH", "I#": "IH", "i": "IY", "i:": "IY", "i@3": ("IH R", "IH AH"),
    "0": ("AA", "AO"), "O:": "AO", "O@": ("AO R", "AO"), "O": "AO", "o@": ("AO R", "AO"),
    "oU": ("OW", "AH UW"), "@U": ("OW", "AH UW"), "OI": "OY", "U": "UH", "u:": "UW", "U@": ("UH R", "UH AH"),
    "V": "AH", "@": "AH", "@2": "AH", "@5": "AH", "@L": "AH L", "3": ("ER", "AH"), "3:": ("ER", "UH"),
    "a#": "AH", "i@": "IH R",
}  # fmt: skip
VOICES = {"en-us": 0, "en-gb": 1}
# espeak-ng's answers are kept here, keyed by its version, so the recogniser starts without it.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voiceapp-emulator"


def _to_cmu(phonemes: str, accent: int) -> str | None:
    """Convert one espeak-ng word (`-x --sep=_` output) to CMU phones; None if a symbol is unknown."""
    phones = []
    for symbol in phonemes.replace("'", "").replace(",", "").split("_"):
        if not symbol:
            continue
        mapped = _PHONES.get(symbol)
        if mapped is None:
            return None
        phones.append(mapped[accent] if isinstance(mapped, tuple) else mapped)
    text = " ".join(p for p in phones if p)
    return text or None


def espeak(words: list[str]) -> dict[str, set[str]]:
    """Return CMU pronunciations of each (single) word as espeak-ng's en-us and en-gb voices say it."""
    found: dict[str, set[str]] = {word: set() for word in words}
    for voice, accent in VOICES.items():
        lines = _phonemes(voice, words)
        if len(lines) != len(words):
            continue  # espeak-ng merged or split clauses: keep the dictionary's pronunciations
        for word, line in zip(words, lines, strict=True):
            phones = _to_cmu(line, accent)
            if phones:
                found[word].add(phones)
    return found


def _phonemes(voice: str, words: list[str]) -> list[str]:
    """espeak-ng's phonemes (`-x --sep=_`) of each word, a line each; cached on disk."""
    key = hashlib.sha256("\n".join([_espeak_version(), voice, *words]).encode()).hexdigest()[:20]
    path = CACHE / f"phonemes-{key}.txt"
    try:
        return path.read_text().splitlines()
    except OSError:
        pass
    result = subprocess.run(
        ["espeak-ng", "-q", "-x", "--sep=_", "-v", voice],
        input="\n".join(f"{word}." for word in words),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}")
        partial.write_text("\n".join(lines))
        partial.replace(path)
    except OSError:
        pass  # a read-only home: ask espeak-ng every time
    return lines


@functools.cache
def _espeak_version() -> str:
    return subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
