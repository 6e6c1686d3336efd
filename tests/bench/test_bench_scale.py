"""`make bench-scale`: the seed's planted words, its version mark, and the per-row verdict."""

import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from bench import scale, scale_seed
from conversations.models import Conversation, Turn

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the seed writes with COPY")


def test_the_fixed_count_and_common_words_carry_the_target_and_the_rare_word_only_reports():
    flat = {"10k": 12.0, "1m": 15.0, "growth": 1.25}
    assert scale.verdict("search page, fixed-count word", flat)[1] == "yes"
    assert scale.verdict("API search, common word", flat)[1] == "yes"
    assert scale.verdict("search page, fixed-count word", {**flat, "growth": 1.6})[1] == "NO"
    assert (
        scale.verdict("API search, fixed-count word", {"10k": 90.0, "1m": 110.0, "growth": 1.22})[1] == "NO"
    )
    assert scale.verdict("search page, rare word", {**flat, "growth": 3.0}) == ("report", "-")
    assert scale.verdict("history page", flat) == ("report", "-")


def _fixed_turns(user) -> list[Turn]:
    return list(
        Turn.objects.filter(conversation__owner=user, text__icontains=scale_seed.FIXED_WORD).order_by(
            "item_id"
        )
    )


@on_postgres
@pytest.mark.django_db(transaction=True)  # the seed ends with VACUUM, which refuses a transaction
def test_the_fixed_count_word_is_in_the_same_forty_turns_at_every_size_and_fills_the_search_page(client):
    user = get_user_model().objects.create_user(scale_seed.HEAVY_USER, password="unused-password-42")
    scale_seed.grow_heavy_user(10_000)
    assert scale_seed.heavy_turns() == 10_000
    at_10k = [(t.item_id, t.text) for t in _fixed_turns(user)]
    assert len(at_10k) == scale_seed.FIXED_TURNS == 40
    assert len({t.conversation_id for t in _fixed_turns(user)}) == 40
    assert Turn.objects.filter(text__icontains=scale_seed.FIXED_WORD).count() == 40  # nobody else's

    client.force_login(user)
    page = client.get("/conversations/", {"q": scale_seed.FIXED_WORD}).content.decode()
    # A full page, one snippet a row (the word may open its sentence, capitalized), and a next page.
    assert page.lower().count(f"<mark>{scale_seed.FIXED_WORD}</mark>") == 20
    assert 'rel="next"' in page

    scale_seed.grow_heavy_user(11_000)  # topping up adds conversations without the word
    conversations = Conversation.objects.filter(owner=user).order_by("created_at")
    assert conversations.count() == 1 + 40 + 2
    times = list(conversations.values_list("created_at", "updated_at"))
    # One after the other in time, whatever their size.
    assert all(ended < next_start for (_, ended), (next_start, _) in itertools.pairwise(times))
    assert [(t.item_id, t.text) for t in _fixed_turns(user)] == at_10k

    Conversation.objects.filter(owner=user).delete()
    scale_seed.grow_heavy_user(10_000)  # seeded again: the same turns, word for word
    assert [(t.item_id, t.text) for t in _fixed_turns(user)] == at_10k


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_is_marked_with_the_seed_version_only_once_marked():
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{settings["NAME"]}" IS NULL')
    assert scale._seed_version(url) is None
    scale_seed.mark_seeded()
    assert scale._seed_version(url) == scale_seed.SEED_VERSION
    assert scale._seed_version(re.sub(r"/[^/]+$", "/no_such_bench_database", url)) is False
