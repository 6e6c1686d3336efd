"""Every HTML page carries our security headers: a nonce-based CSP without 'unsafe-inline',
connect-src limited to ourselves and the Realtime origin, no framing, a referrer policy and a
Permissions-Policy that allows the microphone to our own pages only."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from html_checks import executable_problems, parse_csp, scan

from accounts.services import create_api_token, get_preference
from conversations import figures
from conversations.models import DailyQuota, SessionGrant, Turn, Usage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTML_PAGES_ANONYMOUS = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/done/",
    "/admin/login/",
    "/no-such-page/",
]
HTML_PAGES_ALICE = [
    "/",
    "/?conversation={conversation}",
    "/conversations/",
    "/conversations/?q=Oslo",
    "/conversations/{conversation}/",
    "/conversations/{conversation}/delete/",
    "/accounts/profile/",
    "/accounts/password_change/",
    "/accounts/password_change/done/",
    "/api/docs/",
    "/conversations/00000000-0000-0000-0000-000000000000/",
    "/no-such-page/",
]
# POST-only views (answering GET with 405), and the reset link, which needs a token (tested below).
NOT_PAGES = {"rename", "create-token", "revoke-token", "logout", "password_reset_confirm", "confirm-email"}


@pytest.fixture
def history(alice, alice_conversation, staff):
    """Something in every admin changelist, so that change pages exist for each model."""
    user = Turn.objects.create(conversation=alice_conversation, item_id="item_u1", role="user", text="Hi")
    Turn.objects.create(
        conversation=alice_conversation, item_id="item_t1", role="tool", tool_name="get_weather", position=1
    )
    Usage.objects.create(
        turn=user, conversation=alice_conversation, user=alice, day="2025-01-14", total_tokens=10
    )
    figures.recount([alice_conversation.pk])
    SessionGrant.objects.create(user=alice, conversation=alice_conversation, outcome="granted")
    DailyQuota.objects.create(user=alice, day="2025-01-14", used=1)
    create_api_token(user=alice, name="backup script", lifetime=None)
    get_preference(user=alice)
    return alice_conversation


def assert_security_headers(response, settings, url):
    assert response["Content-Type"].startswith("text/html"), url
    csp = parse_csp(response["Content-Security-Policy"])
    for directive, sources in csp.items():
        assert "'unsafe-inline'" not in sources, f"{url}: {directive} allows 'unsafe-inline'"
        assert "'unsafe-eval'" not in sources, f"{url}: {directive} allows 'unsafe-eval'"
        assert "*" not in sources, f"{url}: {directive} allows any origin"
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and all(
        source == "'self'" or source.startswith("'nonce-") for source in csp["script-src"]
    ), csp["script-src"]
    realtime = "{0.scheme}://{0.netloc}".format(urlsplit(settings.OPENAI_BASE_URL))
    assert sorted(csp["connect-src"]) == sorted(["'self'", realtime]), url
    assert csp["media-src"], url
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert "microphone=(self)" in response["Permissions-Policy"].replace(" ", ""), url
    assert_not_stored(response, url)

    # Whatever the page runs is ours: our own files, or inline code carrying this response's nonce.
    nonces = [s[len("'nonce-") : -1] for s in csp["script-src"] if s.startswith("'nonce-")]
    html = response.content.decode()
    assert executable_problems(html, nonce=nonces[0] if nonces else None) == [], url
    page = scan(html)
    assert not any("style" in e.attrs for e in page.elements if not url.startswith("/admin/")), (
        f"{url}: a style attribute, which style-src 'self' blocks"
    )
    return nonces


def assert_not_stored(response, url):
    """Pages and API answers may carry personal data: no browser or proxy cache may keep them."""
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, f"{url}: Cache-Control {response.get('Cache-Control')!r}"


def get(client, url):
    response = client.get(url, follow=True)
    assert response.status_code in (200, 404), (url, response.status_code)
    return response


def test_every_public_page_sends_the_security_headers(client, settings):
    for url in HTML_PAGES_ANONYMOUS:
        assert_security_headers(get(client, url), settings, url)


def test_every_page_of_a_logged_in_user_sends_the_security_headers(alice_client, history, settings):
    for template in HTML_PAGES_ALICE:
        url = template.format(conversation=history.pk)
        assert_security_headers(get(alice_client, url), settings, url)


def test_the_talk_page_loads_its_module_with_a_fresh_nonce(alice_client, settings):
    seen = set()
    for _ in range(2):
        response = alice_client.get("/")
        nonces = assert_security_headers(response, settings, "/")
        assert len(nonces) == 1, "the talk page's module needs the nonce in script-src"
        scripts = [s for s in scan(response.content.decode()).tags("script") if s.attrs.get("src")]
        assert [s.attrs.get("nonce") for s in scripts] == nonces
        seen.add(nonces[0])
    assert len(seen) == 2, "every response gets its own nonce"


def test_password_reset_pages_send_the_security_headers(client, alice, settings):
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    response = client.get(f"/accounts/reset/{uid}/{token}/", follow=True)
    assert response.redirect_chain and b'name="new_password1"' in response.content
    assert_security_headers(response, settings, "reset confirm")
    assert_security_headers(client.get(f"/accounts/reset/{uid}/wrong-token/"), settings, "reset invalid")


def test_e_mail_confirmation_pages_send_the_security_headers(client, alice, settings):
    alice.is_active = False
    alice.save()
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    response = client.get(f"/accounts/signup/confirm/{uid}/{token}/")
    assert b"Confirm and log in" in response.content
    assert_security_headers(response, settings, "confirm e-mail")
    assert_security_headers(client.get(f"/accounts/signup/confirm/{uid}/wrong/"), settings, "confirm invalid")


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_lockout_page_sends_the_security_headers(client, alice, settings):
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert_security_headers(response, settings, "lockout")


def test_every_admin_changelist_and_change_page_sends_the_security_headers(history, staff, settings):
    client = Client()
    client.force_login(staff)
    urls = ["/admin/", "/admin/password_change/", "/admin/auth/user/add/"]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if (obj := model._default_manager.first()) is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, settings, url)
    assert len(urls) > len(admin.site._registry) + 5


def test_json_answers_send_the_headers_too(alice_api, alice_conversation, settings):
    for url in ("/api/conversations/", f"/api/conversations/{alice_conversation.pk}/", "/api/nothing/"):
        response = alice_api.get(url)
        assert response["Content-Type"] == "application/json", url
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert_not_stored(response, url)


def test_exports_and_token_answers_are_never_stored(alice_token_api, alice_conversation):
    conversation = f"/api/conversations/{alice_conversation.pk}/"
    urls = [conversation, f"{conversation}turns/", "/api/export/", "/api/schema/", "/api/weather/"]
    urls += [f"{conversation}export/?format={fmt}" for fmt in ("json", "md", "txt", "csv", "srt")]
    for url in urls:
        assert_not_stored(alice_token_api.get(url), url)


def test_the_page_lists_cover_every_page_of_our_apps():
    """A new page in accounts/ or conversations/ must be added to the lists above."""
    from accounts.urls import urlpatterns as account_urls
    from conversations.urls import urlpatterns as conversation_urls

    listed = " ".join(HTML_PAGES_ALICE + HTML_PAGES_ANONYMOUS)
    for pattern in [*account_urls, *conversation_urls]:
        route = str(pattern.pattern)
        if route.startswith(("api/", "realtime/", "live/")) or pattern.name in NOT_PAGES:
            continue
        prefix = "/accounts/" if pattern in account_urls else "/"
        assert prefix + route.replace("<uuid:pk>", "{conversation}") in listed, route
