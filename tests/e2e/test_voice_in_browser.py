"""Voice scenarios: a real Chromium with a fake microphone talks to the app and the emulator."""

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation
from tests.e2e.conftest import csp_violations, log_in, received_audio_energy

TURN = "#transcript [data-role]"


@pytest.fixture
def start_talking(app, browser, alice):
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


def test_asking_for_the_weather_shows_both_sides_plays_audio_and_stores_it_in_order(
    start_talking, say, alice
):
    page = start_talking(say("what is the weather in amsterdam"))
    wait_for_turn(page, "user", "weather in amsterdam")
    wait_for_turn(page, "tool", "Amsterdam")
    wait_for_turn(page, "assistant", "Amsterdam")
    roles = page.locator(TURN).evaluate_all("els => els.map(e => e.dataset.role)")
    assert roles.index("user") < roles.index("assistant")
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    assert received_audio_energy(page) > 0
    page.click("#connect")  # Stop
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert [role for role, *_ in turns] == ["user", "tool", "assistant"]
    assert "weather in amsterdam" in turns[0][1]
    assert turns[1][2] == "get_weather"
    assert "Amsterdam" in turns[2][1]
    assert Conversation.objects.get(owner=alice).status == "ended"
    assert csp_violations(page) == []


def test_a_question_about_two_cities_runs_two_tools_and_gets_one_answer(start_talking, say, alice):
    page = start_talking(say("what is the weather in paris and berlin"))
    wait_for_turn(page, "user", "paris and berlin")
    wait_for_turn(page, "assistant", "Berlin")
    expect(page.locator('#transcript [data-role="tool"]')).to_have_count(2)
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
    expect(page.locator('#transcript [data-role="assistant"]')).to_have_count(1)
    page.click("#connect")
    expect(page.locator("#connect")).to_have_attribute("data-state", "idle")

    turns = stored_turns(alice)
    assert [role for role, *_ in turns] == ["user", "tool", "tool", "assistant"]
    assert {tool for _, _, tool, _ in turns[1:3]} == {"get_weather"}
    assert "Paris" in turns[3][1] and "Berlin" in turns[3][1]


def test_a_typed_message_gets_an_answer_and_is_stored(start_talking, say, alice):
    page = start_talking(say("hello", lead=30))  # the microphone stays silent during the test
    expect(page.locator("#message")).to_be_enabled(timeout=15_000)
    page.fill("#message", "what is the weather in tokyo")
    page.keyboard.press("Enter")
    wait_for_turn(page, "user", "what is the weather in tokyo")
    wait_for_turn(page, "assistant", "Tokyo")
    expect(page.locator("#status")).to_have_attribute("data-state", "listening", timeout=20_000)
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


def test_an_exhausted_daily_quota_gets_a_clear_message(app, browser, alice, say, settings):
    settings.REALTIME_SESSIONS_PER_DAY = 0
    page = browser(say("hello"))
    log_in(page, app, alice)
    page.goto(f"{app}/")
    page.click("#connect")
    expect(page.locator("#error-text")).to_contain_text("voice sessions for today")
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
