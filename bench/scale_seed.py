"""Seed `make bench-scale`'s data with COPY: one heavy user grown to each size, and everyone else.

The heavy user "scale" owns conversations of TURNS_PER_CONVERSATION turns; 100 other users own
OTHERS_TURNS turns between them, so the table also holds data the heavy user's pages must not read.
The heavy user's first 10k turns are the same at every size (same layout, same random stream): one
conversation of DETAIL_TURNS (the detail page) and FIXED_TURNS conversations of SMALL_TURNS, so that
10k already fills more than a page of the history; beyond 10k, conversations of TURNS_PER_CONVERSATION.
Sizes are reached by topping up: the 1M data set is the 10k one plus 990k turns.

Words follow a Zipf-like distribution over a vocabulary, plus planted words. Two have a fixed
frequency: RARE_WORD in one turn of RARE_EVERY, COMMON_WORD in one turn of COMMON_EVERY; a search
for either finds 100× more turns at 1M than at 10k, as it would in real data. FIXED_WORD has a fixed
count: one turn in each of the FIXED_TURNS small conversations of the first 10k and nowhere else, so
its search has the same result at every size (two full pages of 20), and its growth is the data's
size alone.

A finished seeding writes SEED_VERSION into the database's comment (`mark_seeded`); bench/scale.py
seeds again a database whose mark differs, so that a change here is never measured on old data.
"""

import datetime as dt
import random
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from knox.models import get_digest_token

from accounts.models import ApiToken
from conversations.models import Conversation, Turn, Usage

HEAVY_USER = "scale"
OTHER_USERS = 100
OTHERS_TURNS = 200_000
TURNS_PER_CONVERSATION = 500
CHUNK_TURNS = 50_000
DETAIL_TURNS = 2_000  # one conversation of this size, for the detail page
SMALL_TURNS = 200  # the rest of the first 10k turns: FIXED_TURNS conversations of this size
FIXED_WORD, FIXED_TURNS = "saxophone", 40
FIXED_POSITION = 100  # the turn of each small conversation that holds FIXED_WORD (a user turn)
SEED_VERSION = "bench-scale seed 2"  # change it whenever the seeded data changes
RARE_WORD, RARE_EVERY = "zanzibar", 10_000
COMMON_WORD, COMMON_EVERY = "umbrella", 20
VOCABULARY = [
    "weather",
    "tomorrow",
    "looks",
    "like",
    "rain",
    "afternoon",
    "take",
    "coat",
    "what",
    "about",
    "weekend",
    "berlin",
    "paris",
    "madrid",
    "sunny",
    "warm",
    "cold",
    "wind",
    "light",
    "heavy",
    "snow",
    "clear",
    "could",
    "tell",
    "long",
    "takes",
    "cook",
    "rice",
    "pasta",
    "beans",
    "twenty",
    "minutes",
    "heat",
    "thanks",
    "helps",
    "sure",
    "anything",
    "else",
    "today",
    "please",
    "remind",
    "meeting",
    "train",
    "station",
    "ticket",
    "price",
    "dinner",
    "recipe",
    "garden",
    "flowers",
    "water",
    "plants",
    "music",
    "playlist",
    "song",
    "album",
    "concert",
    "evening",
    "morning",
    "coffee",
    "breakfast",
    "lunch",
    "friend",
    "family",
    "birthday",
    "present",
    "shopping",
    "list",
    "milk",
    "bread",
    "cheese",
    "apples",
    "oranges",
    "holiday",
    "flight",
    "hotel",
    "beach",
    "mountain",
    "hiking",
    "trail",
    "bicycle",
    "repair",
    "tyre",
    "pressure",
    "library",
    "book",
    "chapter",
    "author",
    "history",
    "science",
    "physics",
    "planet",
    "star",
    "moon",
    "ocean",
    "river",
    "bridge",
    "city",
]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def heavy_turns() -> int:
    """Turns the heavy user owns now (0 when the data set is not seeded)."""
    return Turn.objects.filter(conversation__owner__username=HEAVY_USER).count()


def seed_base() -> dict:
    """Users, tokens and everyone else's turns; the heavy user starts with none."""
    User = get_user_model()
    password = make_password("scale-bench-password")
    names = [HEAVY_USER, "scale-staff"] + [f"other{i:03}" for i in range(OTHER_USERS)]
    User.objects.bulk_create(
        User(
            username=name,
            email=f"{name}@bench.invalid",
            password=password,
            is_staff=name == "scale-staff",
            is_superuser=name == "scale-staff",
        )
        for name in names
    )
    ApiToken.objects.bulk_create(
        ApiToken(user=user, digest=digest, token_key=token[:15], name="bench")
        for user in User.objects.all()
        for digest, token in [get_digest_token()]
    )
    rng = random.Random(17)
    others = list(User.objects.filter(username__startswith="other").values_list("pk", flat=True))
    per_user = OTHERS_TURNS // len(others)
    for owner in others:
        _add_turns(owner_id=owner, turns=per_user, rng=rng, per_conversation=per_user // 4, offset=0)
    return {"password": "scale-bench-password"}


def grow_heavy_user(target: int) -> None:
    """Top the heavy user up to `target` turns, phase by phase: the DETAIL_TURNS conversation, the
    FIXED_TURNS small conversations that hold FIXED_WORD, then conversations of TURNS_PER_CONVERSATION."""
    owner = get_user_model().objects.get(username=HEAVY_USER).pk
    have = heavy_turns()
    if have >= target:
        return
    rng = random.Random(have + 1)
    small_end = DETAIL_TURNS + FIXED_TURNS * SMALL_TURNS
    phases = [
        (DETAIL_TURNS, DETAIL_TURNS, False),
        (small_end, SMALL_TURNS, True),
        (max(target, small_end), TURNS_PER_CONVERSATION, False),
    ]
    for end, per_conversation, fixed in phases:
        end = min(end, target)
        if have < end:
            _add_turns(
                owner_id=owner,
                turns=end - have,
                rng=rng,
                per_conversation=per_conversation,
                offset=have,
                fixed=fixed,
            )
            have = end
    with connection.cursor() as cursor:
        # As autovacuum would: statistics, and the visibility map that lets the search's count of
        # matches come from the index alone.
        cursor.execute("VACUUM ANALYZE")


def mark_seeded() -> None:
    """Record in the database's comment that its seeding is complete and of SEED_VERSION."""
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [SEED_VERSION])


def _text(rng: random.Random, serial: int, fixed: bool = False) -> str:
    words = rng.choices(VOCABULARY, weights=WEIGHTS, k=rng.randint(6, 40))
    if fixed:
        words.insert(rng.randrange(len(words)), FIXED_WORD)
    if serial % RARE_EVERY == RARE_EVERY // 2:
        words.insert(rng.randrange(len(words)), RARE_WORD)
    if serial % COMMON_EVERY == 3:
        words.insert(rng.randrange(len(words)), COMMON_WORD)
    return " ".join(words).capitalize() + "."


def _add_turns(
    *, owner_id: int, turns: int, rng: random.Random, per_conversation: int, offset: int, fixed: bool = False
) -> None:
    """COPY `turns` turns in conversations of `per_conversation`, a chunk at a time (memory stays flat);
    with `fixed`, FIXED_WORD in the turn at FIXED_POSITION of each conversation."""
    chunk = per_conversation * max(1, CHUNK_TURNS // per_conversation)
    for start in range(0, turns, chunk):
        _copy_chunk(
            owner_id=owner_id,
            turns=min(chunk, turns - start),
            rng=rng,
            per_conversation=per_conversation,
            offset=offset + start,
            fixed=fixed,
        )


def _copy_chunk(
    *, owner_id: int, turns: int, rng: random.Random, per_conversation: int, offset: int, fixed: bool
) -> None:
    """Conversations of `per_conversation` turns, with usage on assistant turns."""
    conversations, turn_rows, usage_rows = [], [], []
    turn_ids = _next_ids(Turn, turns)
    usage_ids = iter(_next_ids(Usage, turns))
    day = timezone.localdate()
    for index in range(turns):
        serial = offset + index
        if index % per_conversation == 0:
            conversation = uuid.UUID(int=rng.getrandbits(128), version=4)
            # 97 minutes per 500 turns, from the conversation's first turn: one conversation after the
            # other in time whatever their size (the small ones 38.8 minutes apart).
            created = START + dt.timedelta(minutes=serial * 97 / TURNS_PER_CONVERSATION)
            count = min(per_conversation, turns - index)
            conversations.append(
                {
                    "id": conversation,
                    "owner_id": owner_id,
                    "title": "" if len(conversations) % 3 else f"Planning {VOCABULARY[serial % 40]}",
                    "status": "ended",
                    "model": "gpt-realtime",
                    "voice": "marin",
                    "session_count": 1,
                    "created_at": created,
                    "updated_at": created + dt.timedelta(seconds=5 * count),
                    "started_at": created,
                    "ended_at": created + dt.timedelta(seconds=5 * count),
                    # The stored figures (conversations/figures.py), counted below with the rows.
                    "turn_count": 0,
                    "total_tokens": 0,
                    "total_cost": Decimal(0),
                    "last_turn_at": None,
                }
            )
            head = conversations[-1]
            position = 0
        role = "user" if position % 2 == 0 else "assistant"
        tool = role == "assistant" and position % 10 == 5
        moment = created + dt.timedelta(seconds=5 * position)
        turn_id = turn_ids[index]
        turn_rows.append(
            {
                "id": turn_id,
                "conversation_id": conversation,
                "item_id": f"item_{serial:08}",
                "previous_item_id": f"item_{serial - 1:08}" if position else "",
                "role": "tool" if tool else role,
                "text": "" if tool else _text(rng, serial, fixed and position == FIXED_POSITION),
                "status": "completed",
                "session": 1,
                "position": position,
                "started_at": moment,
                "ended_at": moment + dt.timedelta(seconds=4),
                "audio_end_ms": 4000 if role == "assistant" and not tool else None,
                "tool_name": "get_weather" if tool else "",
                "call_id": f"call_{serial}" if tool else "",
                "arguments": '{"location": "Amsterdam"}' if tool else "",
                "output": '{"temperature": 11.2, "conditions": "overcast"}' if tool else "",
                "created_at": moment,
                "updated_at": moment,
            }
        )
        head["turn_count"] += 1
        head["last_turn_at"] = moment + dt.timedelta(seconds=4)  # each turn ends after the previous
        if role == "assistant" and not tool:
            head["total_tokens"] += 2440
            head["total_cost"] += Decimal("0.029760")
            usage_rows.append(
                {
                    "id": next(usage_ids),
                    "turn_id": turn_id,
                    "conversation_id": conversation,
                    "user_id": owner_id,
                    "model": "gpt-realtime",
                    "day": day,
                    "text_in": 900,
                    "audio_in": 1200,
                    "text_out": 40,
                    "audio_out": 300,
                    "total_tokens": 2440,
                    "cost": "0.029760",
                }
            )
        position += 1
    _copy(Conversation, conversations)
    _copy(Turn, turn_rows)
    _copy(Usage, usage_rows)
    for model in (Turn, Usage):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )


def _next_ids(model, count: int) -> list[int]:
    start = (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    return list(range(start, start + count))


def _copy(model, rows: list[dict]) -> None:
    """COPY rows into the model's table; a column the rows leave out gets the field's default, so
    that a column added later does not break the seeding."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields]
    defaults = {}
    for f in fields:
        if f.attname not in rows[0]:
            if f.default is NOT_PROVIDED and not f.null:
                raise RuntimeError(f"bench-scale seeding: no value for {model.__name__}.{f.attname}")
            defaults[f.attname] = f.get_default() if f.default is not NOT_PROVIDED else None
    columns = [f.column for f in fields]
    names = ", ".join(f'"{c}"' for c in columns)
    connection.ensure_connection()
    sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"  # noqa: S608
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[f.attname] if f.attname in row else defaults[f.attname] for f in fields])
