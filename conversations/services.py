"""Conversation rules: storing turns in order, usage and cost, renaming, ending, retention."""

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from conversations import figures, prices, selectors, turn_insert, upstreams
from conversations.models import TURN_FIELDS, USAGE_COST_MAX, USAGE_COUNTS, Conversation, Turn, Usage
from conversations.upstreams import TokenCounts, live
from core.errors import ServiceError

logger = logging.getLogger(__name__)

TITLE_WORDS = 8
PRUNE_BATCH = 500
MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.000001")
POSITION_MAX = 2_147_483_647  # the position column's largest value (PostgreSQL integer)

# --- Storing turns -----------------------------------------------------------------


def ingest_turns(*, user, conversation_id, turns: list[dict]) -> tuple[list[Turn], bool]:
    """The turn API: store validated bodies in `user`'s conversation `conversation_id` (Http404 when
    it is not theirs); returns the stored turns (body order, with usage) and whether any was new.

    A new turn with its position is one statement (conversations/turn_insert.py) that checks the
    owner itself: the conversation is read first only for a usage report (its voice API and model
    price it) or when the statement stores nothing (record_turn's path).
    """
    stored, any_created, conversation = [], False, None
    for body in turns:
        if body.get("usage") and conversation is None:
            conversation = selectors.owned_conversation(user=user, pk=conversation_id)
        turn = _insert_new(
            owner_id=user.pk, conversation_id=conversation_id, body=body, conversation=conversation
        )
        created = turn is not None
        if not created:
            if conversation is None:
                conversation = selectors.owned_conversation(user=user, pk=conversation_id)
            turn, created = _record_turn(conversation, body)
        stored.append(turn)
        any_created |= created
    return stored, any_created


def record_turns(*, conversation: Conversation, turns: list[dict]) -> tuple[list[Turn], bool]:
    """Store validated turn bodies one by one; returns the stored turns (in body order, with usage)
    and whether any of them was new."""
    stored, any_created = [], False
    for body in turns:
        turn, created = record_turn(conversation=conversation, body=body)
        stored.append(turn)
        any_created |= created
    return stored, any_created


def record_turn(*, conversation: Conversation, body: dict) -> tuple[Turn, bool]:
    """Insert or update the turn `body["item_id"]` of `conversation`; returns (turn, created).

    Idempotent: a new item is one plain INSERT guarded by the unique (conversation, item_id)
    constraint; when it already exists (a retry, a second tab, a concurrent post) the row is locked
    and updated instead. An update changes only the fields the body carries; null or "" never
    blanks a stored value (a late transcript updates text, a retry loses nothing).

    Ordering rule: turns are listed by TURN_ORDER (session, position, link depth, id). A body
    without `position` goes right after its `previous_item_id` turn when that turn is stored (same
    session and position, one link deeper), else at the end of its session (latest session when
    not given). When a predecessor arrives after its successors, the successors the server placed
    move right after it, with their whole chain.
    """
    turn = _insert_new(
        owner_id=conversation.owner_id, conversation_id=conversation.pk, body=body, conversation=conversation
    )
    if turn is not None:
        return turn, True
    return _record_turn(conversation, body)


def _insert_new(*, owner_id, conversation_id, body: dict, conversation: Conversation | None) -> Turn | None:
    """The one-statement insert of a new, positioned turn (PostgreSQL), or None: record_turn's
    transaction then. A usage report needs `conversation`."""
    values = _turn_values(body)
    if values.get("position") is None or connection.vendor != "postgresql":
        return None
    turn = Turn(
        conversation_id=conversation_id,
        **{field: value for field, value in values.items() if value is not None},
    )
    title = title_from_text(turn.text) if turn.role == Turn.Role.USER and turn.text.strip() else ""
    usage = _new_usage(conversation, turn, body["usage"]) if body.get("usage") else None
    return turn_insert.insert(turn, title=title, usage=usage, owner_id=owner_id)


def _turn_values(body: dict) -> dict:
    return {field: body[name] for name, field in TURN_FIELDS.items() if name in body}


def _record_turn(conversation: Conversation, body: dict) -> tuple[Turn, bool]:
    values = _turn_values(body)
    with transaction.atomic():
        turn = _insert_turn(conversation, values)
        created = moved = turn is not None
        earlier = False
        if not created:
            turn, moved, earlier = _update_turn(conversation, body["item_id"], values)
        if moved:
            _pull_successors(conversation, turn)
        usage_change = (0, Decimal(0))
        if body.get("usage"):
            usage_change = _record_usage(conversation, turn, body["usage"], created=created)
        elif created:
            Turn.usage.related.set_cached_value(turn, None)  # known to have none: no query to ask
        _touch_conversation(conversation, turn, created=created, usage_change=usage_change, earlier=earlier)
    return turn, created


def _insert_turn(conversation: Conversation, values: dict) -> Turn | None:
    """INSERT the turn, or None when the item is already stored."""
    turn = Turn(
        conversation=conversation, **{field: value for field, value in values.items() if value is not None}
    )
    if values.get("position") is None:
        _place(conversation, turn, session_given=values.get("session") is not None)
    try:
        # A savepoint, so that the duplicate's IntegrityError leaves the transaction usable.
        with transaction.atomic():
            turn.save(force_insert=True)
    except IntegrityError:
        return None
    return turn


def _update_turn(conversation: Conversation, item_id: str, values: dict) -> tuple[Turn, bool, bool]:
    """Update the stored item; returns it, whether its place changed and whether its time
    (figures.turn_time) moved earlier."""
    existing = (
        Turn.objects.select_for_update(of=("self",))
        .select_related("usage")
        .get(conversation=conversation, item_id=item_id)
    )
    time_before = figures.turn_time(existing)
    changed = []
    for field, value in values.items():
        if value is None or value == "":
            continue
        if getattr(existing, field) != value:
            setattr(existing, field, value)
            changed.append(field)
    if "position" in changed:  # the client placed it now
        existing.position_assigned, existing.link_depth = False, 0
        changed += ["position_assigned", "link_depth"]
    if changed:
        existing.save(update_fields=[*changed, "updated_at"])
    moved = "position" in changed or "session" in changed
    return existing, moved, figures.turn_time(existing) < time_before


def _place(conversation: Conversation, turn: Turn, *, session_given: bool) -> None:
    turn.position_assigned = True
    previous = None
    if turn.previous_item_id:
        previous = (
            Turn.objects.filter(conversation=conversation, item_id=turn.previous_item_id)
            .order_by()
            .values("session", "position", "link_depth")
            .first()
        )
    if previous and (not session_given or turn.session == previous["session"]):
        turn.session, turn.position = previous["session"], previous["position"]
        turn.link_depth = previous["link_depth"] + 1
        return
    if not session_given:
        latest = conversation.turns.aggregate(n=Max("session"))["n"] or 0
        turn.session = max(latest, conversation.session_count, 1)
    last = conversation.turns.filter(session=turn.session).aggregate(n=Max("position"))["n"]
    # At the largest position, later turns share it: the id then orders them.
    turn.position = 0 if last is None else min(last + 1, POSITION_MAX)


def _pull_successors(conversation: Conversation, turn: Turn) -> None:
    """Move the server-placed turns that follow `turn` by previous_item_id links right after it.

    Only turns of the same session move (a turn whose post named another session stays there),
    and never a turn whose client gave its position.
    """
    placed = Turn.objects.filter(conversation=conversation, session=turn.session, position_assigned=True)
    if not placed.filter(previous_item_id=turn.item_id).exists():
        return
    following: dict[str, list[tuple[int, str]]] = {}
    for pk, item_id, previous in placed.order_by().values_list("pk", "item_id", "previous_item_id"):
        following.setdefault(previous, []).append((pk, item_id))
    depths, seen, level, depth = {}, {turn.item_id}, [turn.item_id], turn.link_depth
    while level:
        depth += 1
        children = [
            (pk, item) for parent in level for pk, item in following.get(parent, ()) if item not in seen
        ]
        seen.update(item for _, item in children)
        depths.update((pk, depth) for pk, _ in children)
        level = [item for _, item in children]
    Turn.objects.filter(pk__in=depths).update(
        position=turn.position,
        link_depth=Case(*(When(pk=pk, then=Value(d)) for pk, d in depths.items())),
    )


def _touch_conversation(
    conversation: Conversation, turn: Turn, *, created: bool, usage_change: tuple, earlier: bool
) -> None:
    """Last activity (for retention), earliest start, a title from the first user words, and the
    stored figures (conversations/figures.py): one UPDATE.

    The figures change by increments, exact however many posts run at once: one more turn when
    `created`, the change of its usage line (`usage_change`: tokens, cost), and last_turn_at raised
    to the turn's time. When the turn's time moved `earlier`, the latest may be another turn's: the
    row is locked, then last_turn_at is recounted (figures.recount explains the order).
    """
    started = turn.started_at or turn.created_at
    changes = {
        "updated_at": timezone.now(),
        "started_at": Case(
            When(Q(started_at__isnull=True) | Q(started_at__gt=started), then=Value(started)),
            default=F("started_at"),
        ),
    }
    if turn.role == Turn.Role.USER and turn.text.strip():
        changes["title"] = Case(When(title="", then=Value(title_from_text(turn.text))), default=F("title"))
    if created:
        changes["turn_count"] = F("turn_count") + 1
    tokens, cost = usage_change
    if tokens:
        changes["total_tokens"] = F("total_tokens") + tokens
    if cost:
        changes["total_cost"] = F("total_cost") + cost
    if earlier:
        locked = Conversation.objects.select_for_update(no_key=True).filter(pk=conversation.pk)
        list(locked.values_list("pk", flat=True))
        changes["last_turn_at"] = figures.counts()["last_turn_at"]
    else:
        moment = Value(figures.turn_time(turn), output_field=Conversation._meta.get_field("last_turn_at"))
        changes["last_turn_at"] = Greatest(Coalesce("last_turn_at", moment), moment)
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def title_from_text(text: str) -> str:
    words = text.split()
    title = " ".join(words[:TITLE_WORDS]).rstrip(",;:")
    if len(words) > TITLE_WORDS:
        title += "…"
    return title[:200]


# --- Usage and cost ------------------------------------------------------------------


def token_cost(*, model: str, counts: TokenCounts) -> Decimal | None:
    """USD cost of one response's tokens at `model`'s REALTIME_PRICES; None when it has no price."""
    per_million = prices.token_prices(model)
    if per_million is None:
        return None

    def price(key: str) -> Decimal:
        return Decimal(str(per_million.get(key, 0)))

    total = Decimal(0)
    for modality in ("text", "audio", "image"):
        tokens = getattr(counts, f"{modality}_in")
        hit = min(getattr(counts, f"{modality}_cached"), tokens)
        total += (tokens - hit) * price(f"{modality}_in") + hit * price(f"{modality}_cached")
    total += counts.text_out * price("text_out") + counts.audio_out * price("audio_out")
    return (total / MILLION).quantize(COST_PLACES)


def _stored_cost(model: str, counts: TokenCounts) -> Decimal:
    cost = token_cost(model=model, counts=counts)
    # Operator-set prices could still price a plausible response beyond the column.
    return min(cost, USAGE_COST_MAX) if cost is not None else Decimal(0).quantize(COST_PLACES)


def _usage_day(turn: Turn):
    return timezone.localdate(turn.ended_at or turn.started_at or timezone.now())


def _usage_fields(conversation: Conversation, turn: Turn, usage: dict) -> dict:
    """A usage row's fields from the upstream's usage object, priced at the conversation's model."""
    module = upstreams.get(conversation.upstream)
    counts = module.token_counts(usage)
    model = module.token_model(conversation.model)
    return {
        "conversation": conversation,
        "user_id": conversation.owner_id,
        "model": model,
        "day": _usage_day(turn),
        "cost": _stored_cost(model, counts),
        **{field: getattr(counts, field) for field in USAGE_COUNTS},
    }


def _new_usage(conversation: Conversation, turn: Turn, usage: dict) -> Usage:
    return Usage(turn=turn, **_usage_fields(conversation, turn, usage))


def _record_usage(
    conversation: Conversation, turn: Turn, usage: dict, *, created: bool
) -> tuple[int, Decimal]:
    """Store the turn's usage line (a new one, or the stored one updated); returns the change of its
    tokens and cost, for the conversation's figures."""
    fields = _usage_fields(conversation, turn, usage)
    # A new turn has no line yet; a stored one is updated under the turn's lock, read again here
    # (the turn's select_related copy may predate a concurrent post that waited on the same lock).
    line = None if created else Usage.objects.select_for_update().filter(turn=turn).first()
    if line is None:
        line = Usage.objects.create(turn=turn, **fields)
        return line.total_tokens, line.cost
    before = (line.total_tokens, line.cost)
    for field, value in fields.items():
        setattr(line, field, value)
    line.save()
    return line.total_tokens - before[0], line.cost - before[1]


def record_session_time(
    *,
    conversation: Conversation,
    session: int,
    seconds: float,
    active_seconds: float | None = None,
    paused_seconds: float | None = None,
) -> tuple[Usage, bool]:
    """Store a GPT-Live session's usage snapshot; returns (its time line, created).

    Snapshots are cumulative: each number only ever grows, so a smaller (older, reordered) value
    than the stored one is ignored and nothing is summed. The cost is recomputed from the stored
    numbers at the line's model price.
    """
    if conversation.upstream != Conversation.Upstream.LIVE:
        raise ServiceError("This conversation does not use GPT-Live; its usage is reported with its turns.")
    if session > conversation.session_count:
        raise ServiceError(f"This conversation has no voice session {session}.")
    snapshot = {
        "seconds": _seconds(seconds),
        "active_seconds": _seconds(active_seconds),
        "paused_seconds": _seconds(paused_seconds),
    }
    with transaction.atomic():
        line, created = _insert_time_line(conversation, session, snapshot)
        if not created:
            line = Usage.objects.select_for_update().get(
                conversation=conversation, session=session, turn=None
            )
            for field, value in snapshot.items():
                stored = getattr(line, field)
                if value is not None and (stored is None or value > stored):
                    setattr(line, field, value)
        cost_before = line.cost
        cost = live.time_cost(model=line.model, seconds=line.seconds, paused_seconds=line.paused_seconds)
        line.cost = min(cost, USAGE_COST_MAX) if cost is not None else Decimal(0)
        line.save()
        if line.cost != cost_before:  # the conversation's figures (figures.py); a time line has no tokens
            Conversation.objects.filter(pk=conversation.pk).update(
                total_cost=F("total_cost") + (line.cost - cost_before)
            )
    return line, created


def _insert_time_line(conversation: Conversation, session: int, snapshot: dict) -> tuple[Usage, bool]:
    line = Usage(
        conversation=conversation,
        user_id=conversation.owner_id,
        model=conversation.model,
        day=timezone.localdate(),
        session=session,
        **snapshot,
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent first snapshot wins, we update it
            line.save(force_insert=True)
    except IntegrityError:
        return line, False
    return line, True


def _seconds(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 3)))


# --- Changing conversations ------------------------------------------------------------


def update_conversation(
    *, conversation: Conversation, title: str | None = None, status: str | None = None
) -> Conversation:
    """Rename and/or end a conversation; ending twice keeps the first end time."""
    if title is not None:
        conversation.title = title.strip()
        conversation.save(update_fields=["title", "updated_at"])
    if status == Conversation.Status.ENDED:
        end_conversation(conversation=conversation)
    return conversation


def end_conversation(*, conversation: Conversation) -> Conversation:
    """Mark the conversation ended now, unless it already is (late transcripts are still accepted)."""
    now = timezone.now()
    Conversation.objects.filter(
        Q(ended_at__isnull=True) | ~Q(status=Conversation.Status.ENDED), pk=conversation.pk
    ).update(status=Conversation.Status.ENDED, ended_at=now, updated_at=now)
    conversation.refresh_from_db(fields=["status", "ended_at", "updated_at"])
    return conversation


def delete_conversation(*, conversation: Conversation) -> None:
    """Delete the conversation with its turns and usage records."""
    conversation.delete()


# --- Retention ------------------------------------------------------------------------


def prune_conversations(*, days: int, dry_run: bool = False) -> tuple[int, int]:
    """Delete conversations with no activity (turn, rename, end) for `days` days.

    Returns (conversations, turns) deleted, or that would be deleted with `dry_run`. `days` <= 0
    deletes nothing.
    """
    if days <= 0:
        return 0, 0
    cutoff = timezone.now() - timedelta(days=days)
    old = Conversation.objects.filter(updated_at__lt=cutoff).order_by()
    if dry_run:
        return old.count(), Turn.objects.filter(conversation__in=old).count()
    conversations = turns = 0
    while batch := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        with transaction.atomic():
            turns += Turn.objects.filter(conversation__in=batch).count()
            conversations += (
                Conversation.objects.filter(pk__in=batch).delete()[1].get(Conversation._meta.label, 0)
            )
    logger.info("pruned %d conversations older than %d days", conversations, days)
    return conversations, turns
