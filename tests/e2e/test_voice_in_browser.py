"""Voice scenarios: a real Chromium with a fake microphone talks to the app and the emulator, on
either voice upstream: VOICE_API=realtime (the Realtime API) or VOICE_API=live (GPT-Live)."""

import httpx
import pytest
from playwright.sync_api import expect

from conversations.models import Conversation, SessionGrant, Usage
from tests.e2e.conftest import ARTIFACTS, csp_violations, log_in, received_audio_energy

TURN = "#transcript [data-role]"
BOTH_UPSTREAMS = pytest.mark.parametrize("upstream", ["realtime", "live"], indirect=True)
# GPT-Live acknowledges a question it delegates ("Let me check that for you.") before the tool
# runs: one assistant turn more than the Realtime API has.
ACKNOWLEDGEMENT = {"realtime": [], "live": ["assistant"]}


@pytest.fixture(params=["realtime"])
def upstream(request, settings):
    """The voice API the app uses (the talk page follows it); Realtime unless parametrized."""
    settings.VOICE_API = request.param
    return request.param


@pytest.fixture
def start_talking(app, browser, alice, upstream):
    def start(microphone):
        page = browser(microphone)
        log_in(page, app, alice)
        page.goto(f"{app}/")
        page.click("#connect")
        return page

    return start


def wait_for_turn(page, role: str, text: str, timeout: float = 30_000):
    locator = page.locator(f'#transcript [data-role="{role}"]', has_text=text)
    locator.first.wait_for(timeout=timeout)
    return locator.first


def stored_turns(alice):
    conversation = Conversation.objects.get(owner=alice)
    return [(t.role, t.text, t.tool_name, t.status) for t in conversation.turns.all()]


@BOTH_UPSTREAMS
def test_asking_for_the_weather_shows_both_sides_plays_audio_and_stores_it_in_order(
    start_talking, say, alice, upstream
):
    page = start_talking(say("what is the weather in amsterdam"))
    wait_for_turn(page, "user", "weather in amsterdam")
    wait_for_turn(page, "tool", "Amsterdam")
    wait_for_turn(page, "assistant", "Amsterdam")
    roles = page.locator(TURN).evaluate_all("els => els.map(e => e.dataset.role)")
    assert roles.index("user") < roles.index("tool") < roles.index("assistant", roles.index("tool"))
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    assert received_audio_energy(page) > 0
    page.click("#connect")  # Stop
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert [role for role, *_ in turns] == ["user", *ACKNOWLEDGEMENT[upstream], "tool", "assistant"]
    assert "weather in amsterdam" in turns[0][1]
    assert turns[-2][2] == "get_weather"
    assert "Amsterdam" in turns[-1][1]
    conversation = Conversation.objects.get(owner=alice)
    assert conversation.status == "ended"
    tokens = Usage.objects.filter(conversation=conversation, turn__isnull=False)
    assert tokens.exists() and all(line.total_tokens > 0 for line in tokens)
    if upstream == "live":
        events = page.evaluate("window.__events")  # Stop said goodbye and heard the final usage
        assert events.index("> session.close") < events.index("< session.closed")
        assert turns[1][1] == "Let me check that for you."
        assert tokens.get().turn.role == "tool"  # the delegation backend's tokens
        time = Usage.objects.get(conversation=conversation, turn__isnull=True)  # session.closed's
        assert time.session == 1 and time.seconds >= 15  # every GPT-Live create bills 15 s
    assert csp_violations(page) == []


@BOTH_UPSTREAMS
def test_a_question_about_two_cities_runs_two_tools_and_gets_one_answer(start_talking, say, alice, upstream):
    page = start_talking(say("what is the weather in paris and berlin"))
    wait_for_turn(page, "user", "paris and berlin")
    wait_for_turn(page, "assistant", "Berlin")
    expect(page.locator('#transcript [data-role="tool"]')).to_have_count(2)
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    answers = 1 + len(ACKNOWLEDGEMENT[upstream])
    expect(page.locator('#transcript [data-role="assistant"]')).to_have_count(answers)
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert [role for role, *_ in turns] == ["user", *ACKNOWLEDGEMENT[upstream], "tool", "tool", "assistant"]
    assert {tool for _, _, tool, _ in turns if tool} == {"get_weather"}
    assert "Paris" in turns[-1][1] and "Berlin" in turns[-1][1]


@BOTH_UPSTREAMS
def test_a_typed_message_gets_an_answer_and_is_stored(start_talking, say, alice, upstream):
    page = start_talking(say("hello", lead=30))  # the microphone stays silent during the test
    expect(page.locator("#message")).to_be_enabled(timeout=15_000)
    page.fill("#message", "what is the weather in tokyo")
    page.keyboard.press("Enter")
    wait_for_turn(page, "user", "what is the weather in tokyo")
    wait_for_turn(page, "assistant", "Tokyo")
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    page.click("#mute")
    expect(page.locator("#status")).to_have_attribute("data-state", "muted")
    if upstream == "live":  # GPT-Live is told too (it then hears silence)
        page.wait_for_function("() => window.__events.includes('< session.input_audio.muted')")
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert turns[0][:2] == ("user", "what is the weather in tokyo")
    assert [role for role, *_ in turns] == ["user", "tool", "assistant"]


def test_speaking_over_the_assistant_interrupts_the_reply_and_stores_it_as_interrupted(
    start_talking, say, alice
):
    page = start_talking(say("tell me a joke", "thank you", gap=2.0))
    wait_for_turn(page, "user", "joke")
    wait_for_turn(page, "user", "thank you", timeout=40_000)
    interrupted = page.locator('#transcript [data-role="assistant"]', has_text="interrupted")
    expect(interrupted.first).to_be_visible(timeout=20_000)
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    first_reply = next(turn for turn in turns if turn[0] == "assistant")
    assert first_reply[3] == "interrupted"
    assert [role for role, *_ in turns][:2] == ["user", "assistant"]


def test_a_denied_microphone_gets_a_clear_message(app, browser, alice):
    page = browser(deny_microphone=True)
    log_in(page, app, alice)
    page.goto(f"{app}/")
    page.click("#connect")
    expect(page.locator("#error-text")).to_contain_text("microphone", ignore_case=True)
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")
    assert not Conversation.objects.filter(owner=alice, turns__isnull=False).exists()


@BOTH_UPSTREAMS
def test_an_exhausted_daily_quota_gets_a_clear_message(app, browser, alice, say, settings, upstream):
    settings.REALTIME_SESSIONS_PER_DAY = 0
    page = browser(say("hello"))
    log_in(page, app, alice)
    page.goto(f"{app}/")
    page.click("#connect")
    expect(page.locator("#error-text")).to_contain_text("Voice sessions are switched off for today")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")


def test_a_turn_post_lost_on_the_network_is_retried_and_stored_once(start_talking, say, alice, browser):
    attempts = []

    def flaky(route):
        attempts.append(route.request.post_data)
        if len(attempts) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page = start_talking(say("hello"))
    page.route("**/turns/", flaky)
    wait_for_turn(page, "assistant", "Hello")
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert len(attempts) > len(turns)  # the lost post was sent again
    assert [role for role, *_ in turns] == ["user", "assistant"]
    assert csp_violations(page) == []


@BOTH_UPSTREAMS
def test_a_dropped_call_reconnects_and_the_conversation_goes_on_in_a_new_session(
    start_talking, say, alice, emulator, upstream
):
    # The second question comes long after the first: by then the page has reconnected.
    page = start_talking(say("what is the weather in paris", "what is the weather in tokyo", gap=12))
    wait_for_turn(page, "assistant", "Paris")
    assert httpx.post(f"{emulator}/_emulator/drop", json={}).json()["dropped"]
    expect(page.locator("#notice")).to_have_text("Connection lost — reconnecting…")
    page.screenshot(path=ARTIFACTS / f"reconnecting-{upstream}.png")
    expect(page.locator("#connect")).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(page.locator("#notice")).to_contain_text("Reconnected")
    wait_for_turn(page, "user", "weather in tokyo", timeout=40_000)
    wait_for_turn(page, "assistant", "Tokyo")
    page.screenshot(path=ARTIFACTS / f"reconnected-{upstream}.png")
    # The first session's turns are still on screen, above the second's.
    texts = page.locator(TURN).all_inner_texts()
    assert min(i for i, t in enumerate(texts) if "paris" in t.lower()) < min(
        i for i, t in enumerate(texts) if "tokyo" in t.lower()
    )
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    conversation = Conversation.objects.get(owner=alice)  # one conversation, two sessions
    assert conversation.session_count == 2
    turns = list(conversation.turns.in_order())
    questions = [(turn.session, turn.text) for turn in turns if turn.role == "user"]
    assert [session for session, _ in questions] == [1, 2]
    assert "paris" in questions[0][1] and "tokyo" in questions[1][1]
    assert any(turn.session == 2 and turn.role == "assistant" and "Tokyo" in turn.text for turn in turns)
    assert len({turn.item_id for turn in turns}) == len(turns)  # nothing stored twice
    assert csp_violations(page) == []


def test_a_reconnect_refused_by_the_daily_quota_says_so_and_stops(
    start_talking, say, alice, emulator, settings
):
    page = start_talking(say("hello"))
    wait_for_turn(page, "assistant", "Hello")
    settings.REALTIME_SESSIONS_PER_DAY = 1  # the session running now was the last one today
    assert httpx.post(f"{emulator}/_emulator/drop", json={}).json()["dropped"]
    expect(page.locator("#error-text")).to_contain_text("your one voice session for today", timeout=20_000)
    expect(page.locator("#error-retry")).to_be_hidden()  # retrying would only be refused again
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")
    page.screenshot(path=ARTIFACTS / "reconnect-refused.png")

    assert [role for role, *_ in stored_turns(alice)] == ["user", "assistant"]
    outcomes = list(SessionGrant.objects.filter(user=alice).order_by("id").values_list("outcome", flat=True))
    assert outcomes == [SessionGrant.Outcome.GRANTED, SessionGrant.Outcome.QUOTA_EXCEEDED]  # tried once
    assert Conversation.objects.get(owner=alice).status == "ended"


# The Realtime variant (an upstream ending, like a dropped call) runs with --runslow only.
@pytest.mark.parametrize(
    "upstream", ["live", pytest.param("realtime", marks=pytest.mark.slow)], indirect=True
)
def test_at_the_session_cap_the_conversation_continues_in_a_new_session(
    start_talking, say, alice, emulator_knobs, upstream
):
    # GPT-Live: the page rolls over before session.expires_at; Realtime: the upstream ends the
    # session with session_expired. Either way the next session takes over.
    emulator_knobs(session_limit=16)
    page = start_talking(say("hello", lead=90))  # the microphone stays silent
    expect(page.locator("#message")).to_be_enabled(timeout=15_000)
    page.fill("#message", "hello")
    page.keyboard.press("Enter")
    wait_for_turn(page, "assistant", "Hello")
    expect(page.locator("#notice")).to_contain_text("continues in a new one", timeout=30_000)
    expect(page.locator("#connect")).to_have_attribute("data-state", "connected")
    page.fill("#message", "what is the weather in tokyo")
    page.keyboard.press("Enter")
    wait_for_turn(page, "assistant", "Tokyo")
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    conversation = Conversation.objects.get(owner=alice)
    assert conversation.session_count == 2
    typed = [(t.session, t.text) for t in conversation.turns.in_order() if t.role == "user"]
    assert typed == [(1, "hello"), (2, "what is the weather in tokyo")]
    if upstream == "live":  # the first session's time was reported when it closed
        assert set(
            Usage.objects.filter(conversation=conversation, turn=None).values_list("session", flat=True)
        ) == {1, 2}


def test_a_silent_network_loss_is_noticed_after_its_grace_and_reconnects(start_talking, say, alice, emulator):
    page = start_talking(say("hello"))
    wait_for_turn(page, "assistant", "Hello")
    # Like pulling a cable: nothing more arrives and the channel stays "open"; only ICE notices.
    assert httpx.post(f"{emulator}/_emulator/drop", json={"mode": "silent"}).json()["dropped"]
    expect(page.locator("#notice")).to_have_text("Connection lost — reconnecting…", timeout=30_000)
    expect(page.locator("#status")).to_have_text("Reconnecting…")  # not the lost call's "Listening"
    expect(page.locator("#notice")).to_contain_text("Reconnected", timeout=20_000)
    expect(page.locator("#connect")).to_have_attribute("data-state", "connected")
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    conversation = Conversation.objects.get(owner=alice)
    assert conversation.session_count == 2
    assert [(t.session, t.role) for t in conversation.turns.in_order()][:2] == [
        (1, "user"),
        (1, "assistant"),
    ]
