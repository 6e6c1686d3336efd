"""The repository documents itself: it cites no notes kept outside it, and the files its\ndocumentation names exist."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A path that starts with "shared/": notes kept outside the repository, which a clone does not have.
OUTSIDE_CITATION = re.compile(r"(?<![\w./-])shared/[\w./-]+")
MARKDOWN_NAME = re.compile(r"(?<![\w./-])[\w./-]*[\w-]\.md\b")


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


# A file path inside the repository, e.g. "conversations/upstreams/realtime.py" or "docs/account-data.md".
REPOSITORY_PATH = re.compile(
    r"(?<![\w./-])([\w-]+)((?:/[\w.-]+)+\.(?:py|md|js|mjs|html|css|toml|txt|json|sh|cfg))\b"
)


def test_every_repository_file_the_documentation_names_exists():
    files = tracked_text_files()
    top_level_folders = {path.split("/")[0] for path in files if "/" in path}
    missing = [
        f"{name}: {match.group()}"
        for name, text in files.items()
        if name.endswith(".md")
        for match in REPOSITORY_PATH.finditer(text)
        if match.group(1) in top_level_folders and not (ROOT / match.group()).exists()
    ]
    assert missing == [], "These files are not in the repository:\n" + "\n".join(missing)


def test_every_markdown_document_cited_anywhere_is_in_the_repository():
    files = tracked_text_files()
    paths = set(files)
    names = {Path(path).name for path in paths}
    missing = [
        f"{name}: {match.group()}"
        for name, text in files.items()
        for match in MARKDOWN_NAME.finditer(text)
        if match.group() not in paths and ("/" in match.group() or match.group() not in names)
    ]
    assert missing == [], "These documents are not in the repository:\n" + "\n".join(missing)
