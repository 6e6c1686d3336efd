"""Fixtures for the emulator's tests: async test support, the shared recogniser, a fresh app."""

import asyncio
import inspect
from pathlib import Path

import pytest
from emulator_harness import API_KEY

from emulator.app import create_app
from emulator.calls import use_loopback_only
from emulator.knobs import Knobs
from emulator.speech_in import Recognizer

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.emulator)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests in a fresh event loop (no pytest-asyncio needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(scope="session")
def recognizer():
    """Decoders take ~0.6 s to build; share them across the suite like the server does."""
    use_loopback_only()
    return Recognizer()


@pytest.fixture
def knobs():
    return Knobs()


@pytest.fixture
def app(recognizer, knobs):
    """A fresh emulator application, not started (see emulator_harness.running)."""
    return create_app(api_key=API_KEY, knobs=knobs, recognizer=recognizer)
