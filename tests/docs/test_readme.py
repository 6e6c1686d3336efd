"""The README tells a newcomer what to install, how to get into the admin, and what bench and CI need."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f'The README has no "## {title}" section.'
    return match.group(1)


def test_set_up_lists_the_prerequisites_the_makefile_does_not_install():
    set_up = section("Set-up on a fresh Debian machine")
    for prerequisite in ("Python 3.11", "python3-venv", "Node.js", "make"):
        assert prerequisite in set_up


def test_set_up_names_every_debian_package_the_makefile_installs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installed = {
        package
        for packages in re.findall(r"^\t@?\$\(call apt-install,([^)]*)\)", makefile, re.MULTILINE)
        for package in packages.split()
    }
    assert installed, "The Makefile installs no Debian packages any more; update this test."
    set_up = section("Set-up on a fresh Debian machine")
    assert {package for package in installed if f"`{package}`" not in set_up} == set()


def test_the_readme_shows_how_to_create_an_admin_account():
    assert "manage.py createsuperuser" in README
    assert "/admin/" in section("Set-up on a fresh Debian machine")


def test_tests_section_says_what_bench_and_ci_need():
    tests = section("Tests")
    assert "PostgreSQL" in tests and "Redis" in tests
    bench = (ROOT / "bench" / "run.py").read_text(encoding="utf-8")
    database = re.search(r'"BENCH_DATABASE_URL", "[^"]*/(\w+)"', bench).group(1)
    assert f"`{database}`" in tests  # the database make bench drops and recreates
    assert "BENCH_DATABASE_URL" in tests and "CI=true" in tests
