"""The repository documents itself: it cites no notes kept outside it."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A path that starts with "shared/": notes kept outside the repository, which a clone does not have.
OUTSIDE_CITATION = re.compile(r"(?<![\w./-])shared/[\w./-]+")


def tracked_text_files() -> dict[str, str]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    texts = {}
    for name in filter(None, listing.split("\0")):
        try:
            texts[name] = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
    return texts


def test_no_tracked_file_cites_notes_outside_the_repository():
    citations = [
        f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for name, text in tracked_text_files().items()
        for match in OUTSIDE_CITATION.finditer(text)
    ]
    assert citations == [], "Cite docs/ in this repository instead:\n" + "\n".join(citations)
