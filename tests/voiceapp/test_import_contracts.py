"""The import contracts of `make lint` cover every app of the project."""

import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_app_of_the_project_is_under_the_import_contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    our_apps = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}
    assert our_apps
    assert our_apps <= set(config["root_packages"])
    ancestors = next(c for c in config["contracts"] if c["type"] == "acyclic_siblings")["ancestors"]
    assert set(config["root_packages"]) == set(ancestors)
