"""Tokens of Django REST framework's authtoken app (kept in clear text) keep working after the
upgrade, stored from then on as hashes; the clear-text copies are gone."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_api_tokens")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def test_drf_tokens_become_hashed_api_tokens_that_still_work(alice):
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            # The table as rest_framework.authtoken created it.
            cursor.execute(
                "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone"
                " NOT NULL, user_id integer NOT NULL UNIQUE)"
                if connection.vendor == "postgresql"
                else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime NOT NULL,"
                " user_id integer NOT NULL UNIQUE)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                [OLD_KEY, "2026-01-15 10:00:00+00:00", alice.pk],
            )
        _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            left = cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert left == 0
    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.expiry, token.created.year) == ("API token", None, 2026)
    assert OLD_KEY not in (token.digest, token.token_key)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert api.get("/api/conversations/").status_code == 200
