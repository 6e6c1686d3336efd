"""Shared fixtures: personas (alice owns things, bob must never see them) and their clients."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import create_api_token
from conversations.models import Conversation

PASSWORD = "correct-horse-battery-staple-42"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the longer variants (marked slow)")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--runslow"):
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="a longer variant: run with --runslow"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas are created in almost every test; real PBKDF2 rounds would dominate the runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached upstream answers must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@example.com", PASSWORD)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(alice, bob):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    return other


@pytest.fixture
def alice_api(alice):
    """An API client authenticated by session, with CSRF checks enforced like a browser."""
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(alice)
    api.get("/accounts/profile/")  # sets the csrftoken cookie
    api.credentials(HTTP_X_CSRFTOKEN=api.cookies["csrftoken"].value)
    return api


@pytest.fixture
def alice_token(alice):
    return create_api_token(user=alice, name="test client", lifetime=None)


@pytest.fixture
def alice_token_api(alice_token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token}")
    return api


@pytest.fixture
def bob_api(bob):
    api = APIClient()
    api.force_authenticate(bob)
    return api


@pytest.fixture
def alice_conversation(alice):
    return Conversation.objects.create(owner=alice, title="Weather in Oslo", model="gpt-realtime")
