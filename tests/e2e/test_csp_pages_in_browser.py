"""In a real Chromium, the pages around the talk page (history, profile, auth pages, the admin) run
under our Content-Security-Policy without a single violation. The talk page itself is covered by
test_voice_in_browser.py."""

import pytest
from django.contrib import admin
from playwright.sync_api import expect

from conversations import figures
from conversations.models import Conversation, Turn, Usage
from tests.e2e.conftest import csp_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<img src=x onerror=alert(1)><script>alert("xss")</script>'


@pytest.fixture
def history(django_user_model):
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw-alice-e2e-12345")
    conversation = Conversation.objects.create(owner=alice, title=HOSTILE, model="gpt-realtime")
    turn = Turn.objects.create(conversation=conversation, item_id="u1", role="user", text=HOSTILE)
    Turn.objects.create(
        conversation=conversation,
        item_id="t1",
        role="tool",
        tool_name="get_weather",
        arguments='{"location": "Oslo"}',
        output=HOSTILE,
        position=1,
    )
    Usage.objects.create(turn=turn, conversation=conversation, user=alice, day="2025-01-14", total_tokens=5)
    figures.recount([conversation.pk])
    return alice, conversation


def visit(page, url) -> list[str]:
    page.console_errors.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    violations = csp_violations(page)
    page.evaluate("window.__csp = []")
    assert page.dialogs == [], f"{url}: a payload ran"
    return violations


def watch_dialogs(page):
    """Collect alert() dialogs: a payload that ran would open one."""
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def test_history_profile_and_auth_pages_report_no_csp_violation(app, browser, history):
    alice, conversation = history
    page = watch_dialogs(browser())
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"):
        assert visit(page, app + path) == [], path
    log_in(page, app, alice)
    for path in (
        "/conversations/",
        "/conversations/?q=img",
        f"/conversations/{conversation.pk}/",
        f"/conversations/{conversation.pk}/delete/",
        "/accounts/profile/",
        "/accounts/password_change/",
        "/no-such-page/",
    ):
        assert visit(page, app + path) == [], path
    page.goto(f"{app}/conversations/{conversation.pk}/")
    page.locator("details summary").first.click()  # the tool call's arguments and result
    assert csp_violations(page) == []


def test_admin_pages_report_no_csp_violation(app, browser, history, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-staff-e2e-12345")
    _, conversation = history
    page = watch_dialogs(browser())
    assert visit(page, app + "/admin/login/") == []
    log_in(page, app, staff)
    paths = [
        "/admin/",
        f"/admin/conversations/conversation/{conversation.pk}/change/",
        "/admin/auth/user/add/",
    ]
    paths += [f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry]
    for path in paths:
        assert visit(page, app + path) == [], path
    # The changelist's action bar and filters are scripted: use them.
    page.goto(app + "/admin/conversations/conversation/")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", index=1)
    assert csp_violations(page) == []


def test_the_api_docs_page_reports_no_csp_violation(app, browser, history):
    alice, _ = history
    page = watch_dialogs(browser())
    log_in(page, app, alice)
    assert visit(page, app + "/api/docs/") == []
    # Swagger UI really rendered the schema from our own static files.
    expect(page.get_by_text("/api/conversations/").first).to_be_visible()
