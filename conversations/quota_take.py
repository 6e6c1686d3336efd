"""Taking one of today's voice sessions and reading the user's preferences in one statement
(PostgreSQL).

A session start needs both before the upstream call: the quota unit (committed on its own, so
that it holds while the upstream is called) and the preferences the session is configured with.
One round trip here; the UPDATE commits with the statement (autocommit), as it did alone.
"""

import functools

from django.db import connection

from accounts.models import Preference
from conversations.models import DailyQuota

PREFERENCE_FIELDS = list(Preference._meta.concrete_fields)


def take_unit(*, user, day, limit: int) -> tuple[bool, Preference]:
    """(whether a unit of the `day`'s quota was taken, the user's preferences: an unsaved default
    when none were saved). Takes nothing when the day's row is missing or used up."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [user.pk, day, limit, user.pk])
        taken, *values = cursor.fetchone()
    if values[0] is None:
        return bool(taken), Preference(user=user)
    preference = Preference.from_db(connection.alias, [field.attname for field in PREFERENCE_FIELDS], values)
    Preference.user.field.set_cached_value(preference, user)
    return bool(taken), preference


@functools.cache
def _sql() -> str:
    columns = ", ".join(f"preference.{field.column}" for field in PREFERENCE_FIELDS)
    return (
        f"WITH taken AS (UPDATE {DailyQuota._meta.db_table} SET used = used + 1 "
        "WHERE user_id = %s AND day = %s AND used < %s RETURNING id) "
        f"SELECT (SELECT count(*) FROM taken), {columns} FROM (SELECT 1) AS one "
        f"LEFT JOIN {Preference._meta.db_table} AS preference ON preference.user_id = %s"
    )
