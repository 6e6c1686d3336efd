"""Who may reach what: bob gets 404 for every id of alice's, anonymous callers get 401 (API) or the
login page, unsafe methods on a session need the CSRF token, and a revoked API token stops at once.
(Login lockout is tested in tests/accounts/test_login.py.)"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db

TURN = {"item_id": "item_bob", "role": "user", "text": "bob was here"}
EXPORT_FORMATS = ["json", "md", "txt", "csv", "srt"]

# (method, url template, JSON body) of every API operation that takes a conversation id.
API_WITH_ID = [
    ("get", "/api/conversations/{id}/", None),
    ("patch", "/api/conversations/{id}/", {"title": "bob was here"}),
    ("patch", "/api/conversations/{id}/", {"status": "ended"}),
    ("delete", "/api/conversations/{id}/", None),
    ("post", "/api/conversations/{id}/turns/", TURN),
    ("post", "/api/conversations/{id}/turns/", [TURN]),
    ("post", "/api/conversations/{id}/usage/", {"session": 1, "seconds": 5}),
    *[("get", f"/api/conversations/{{id}}/export/?format={f}", None) for f in EXPORT_FORMATS],
]
API_WITHOUT_ID = [
    ("get", "/api/conversations/", None),
    ("get", "/api/export/", None),
    ("get", "/api/weather/?location=Amsterdam", None),
]
# (method, url template, form body) of every page that takes a conversation id.
PAGES_WITH_ID = [
    ("get", "/conversations/{id}/", None),
    ("get", "/conversations/{id}/delete/", None),
    ("post", "/conversations/{id}/delete/", {}),
    ("post", "/conversations/{id}/rename/", {"title": "bob was here"}),
    ("get", "/?conversation={id}", None),
]
PAGES = [
    ("get", "/", None),
    ("get", "/conversations/", None),
    ("get", "/accounts/profile/", None),
    ("post", "/accounts/profile/", {"voice": "", "language": "", "instructions": ""}),
    ("post", "/accounts/profile/token/", {}),
    ("post", "/accounts/profile/token/revoke/", {}),
    ("get", "/accounts/password_change/", None),
    ("get", "/admin/", None),
]
# Unsafe requests a logged-in browser makes (session cookie): each needs the CSRF token.
UNSAFE_WITH_SESSION = [
    ("patch", "/api/conversations/{id}/", {"title": "forged"}),
    ("delete", "/api/conversations/{id}/", None),
    ("post", "/api/conversations/{id}/turns/", TURN),
    ("post", "/api/conversations/{id}/usage/", {"session": 1, "seconds": 5}),
    ("post", "/realtime/session/", {}),
    ("post", "/live/session/", {"sdp": "v=0\r\n"}),
    ("post", "/conversations/{id}/rename/", {"title": "forged"}),
    ("post", "/conversations/{id}/delete/", {}),
    ("post", "/accounts/profile/", {"voice": "", "language": "", "instructions": "forged"}),
    ("post", "/accounts/profile/token/", {}),
    ("post", "/accounts/profile/token/revoke/", {}),
    ("post", "/accounts/password_change/", {}),
    ("post", "/accounts/logout/", {}),
]


def send(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    if url.startswith(("/api/", "/realtime/", "/live/")):
        return getattr(client, method)(url, body, format="json")
    return getattr(client, method)(url, body)


def ids(cases):
    return [f"{m.upper()} {u.split('?')[0] if 'export' not in u else u}" for m, u, _ in cases]


@pytest.fixture
def alices(alice_conversation):
    Turn.objects.create(conversation=alice_conversation, item_id="item_a1", role="user", text="Secret plans")
    return alice_conversation


def assert_untouched(conversation):
    conversation.refresh_from_db()
    assert conversation.title == "Weather in Oslo"
    assert conversation.status == Conversation.Status.ACTIVE
    assert list(conversation.turns.values_list("item_id", flat=True)) == ["item_a1"]


@pytest.fixture
def bob_token_api(bob):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(user=bob, name='bob', lifetime=None)}")
    return api


@pytest.fixture
def bob_session_api(bob):
    """Bob's browser: session cookie and CSRF token, as api.js sends them."""
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(bob)
    api.get("/accounts/profile/")
    api.credentials(HTTP_X_CSRFTOKEN=api.cookies["csrftoken"].value)
    return api


# --- Another user's ids ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body"), API_WITH_ID, ids=ids(API_WITH_ID))
@pytest.mark.parametrize("auth", ["token", "session"])
def test_bob_gets_404_for_alices_conversation_in_the_api(
    request, auth, method, url, body, alices, bob_token_api, bob_session_api
):
    client = bob_token_api if auth == "token" else bob_session_api
    response = send(client, method, url.format(id=alices.pk), body)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "This conversation does not exist. It may have been deleted."}
    assert_untouched(alices)


def test_a_missing_and_a_foreign_conversation_answer_alike(alices, bob_token_api):
    foreign = bob_token_api.get(f"/api/conversations/{alices.pk}/")
    missing = bob_token_api.get("/api/conversations/5f0c6b0e-0000-4000-8000-000000000000/")
    assert (foreign.status_code, foreign.content) == (missing.status_code, missing.content)


@pytest.mark.parametrize(("method", "url", "body"), PAGES_WITH_ID, ids=ids(PAGES_WITH_ID))
def test_bob_gets_404_for_alices_conversation_pages(method, url, body, alices, bob_client):
    response = send(bob_client, method, url.format(id=alices.pk), body)
    assert response.status_code == 404
    assert "Secret plans" not in response.content.decode()
    assert_untouched(alices)


def test_bob_cannot_mint_a_session_for_alices_conversation(alices, bob_session_api, upstreams):
    response = bob_session_api.post("/realtime/session/", {"conversation": str(alices.pk)}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert not upstreams["mint"].called
    alices.refresh_from_db()
    assert alices.session_count == 0


def test_lists_exports_and_search_show_bob_only_his_own(alices, bob, bob_token_api, bob_client):
    Conversation.objects.create(owner=bob, title="Bob's own")
    listed = bob_token_api.get("/api/conversations/").json()["results"]
    assert [c["title"] for c in listed] == ["Bob's own"]
    assert [
        c["title"] for c in bob_token_api.get("/api/conversations/?search=Secret").json()["results"]
    ] == []
    export = b"".join(bob_token_api.get("/api/export/").streaming_content).decode()
    assert "Bob's own" in export and "Oslo" not in export and str(alices.pk) not in export
    assert "Oslo" not in bob_client.get("/conversations/").content.decode()
    for query in ("Secret", "Oslo"):
        page = bob_client.get(f"/conversations/?q={query}").content.decode()
        assert f"No conversation matches “{query}”" in page and str(alices.pk) not in page


# --- Anonymous callers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"), API_WITH_ID + API_WITHOUT_ID, ids=ids(API_WITH_ID + API_WITHOUT_ID)
)
def test_anonymous_api_calls_get_401(method, url, body, alices):
    response = send(APIClient(), method, url.format(id=alices.pk), body)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == "Token"
    assert_untouched(alices)


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_schema_and_docs_are_not_shown_to_anonymous_callers(url):
    # Both are DRF views (exempt from LoginRequiredMiddleware): a 401, not a redirect to the login page.
    response = Client().get(url)
    assert response.status_code == 401
    assert b"/api/conversations/" not in response.content


def test_anonymous_mint_gets_a_json_refusal_not_the_login_page(upstreams):
    response = APIClient().post("/realtime/session/", {}, format="json")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not upstreams["mint"].called


@pytest.mark.parametrize(("method", "url", "body"), PAGES_WITH_ID + PAGES, ids=ids(PAGES_WITH_ID + PAGES))
def test_anonymous_page_visits_go_to_the_login_page(method, url, body, alices):
    target = url.format(id=alices.pk)
    response = send(Client(), method, target, body)
    assert response.status_code == 302
    login = "/admin/login/" if target.startswith("/admin/") else "/accounts/login/"
    assert response["Location"].startswith(f"{login}?next=")
    assert_untouched(alices)


# --- CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body"), UNSAFE_WITH_SESSION, ids=ids(UNSAFE_WITH_SESSION))
def test_unsafe_requests_with_a_session_but_no_csrf_token_get_403(
    method, url, body, alice, alices, upstreams
):
    client = (
        APIClient(enforce_csrf_checks=True) if url.startswith(("/api/", "/realtime/", "/live/")) else None
    )
    client = client or Client(enforce_csrf_checks=True)
    client.force_login(alice)
    create_api_token(user=alice, name="backup script", lifetime=None)
    response = send(client, method, url.format(id=alices.pk), body)
    assert response.status_code == 403
    if url.startswith(("/api/", "/realtime/", "/live/")):
        assert response["Content-Type"] == "application/json"
        assert "CSRF" in response.json()["detail"]
    assert_untouched(alices)
    assert ApiToken.objects.filter(user=alice).count() == 1
    assert not upstreams["mint"].called
    assert client.get("/accounts/profile/").status_code == 200, "still logged in"


def test_the_same_requests_pass_with_the_csrf_token(alice_api, alices):
    response = alice_api.patch(f"/api/conversations/{alices.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    assert alice_api.post(f"/api/conversations/{alices.pk}/turns/", TURN, format="json").status_code == 201


def test_token_requests_need_no_csrf_token(alice_token_api, alices):
    response = alice_token_api.patch(f"/api/conversations/{alices.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200


# --- API tokens ----------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_at_once(alice_client, alice_token, alices):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token}")
    assert api.get("/api/conversations/").status_code == 200
    digest = ApiToken.objects.get().digest
    assert alice_client.post("/accounts/profile/token/revoke/", {"token": digest}).status_code == 302
    response = api.get("/api/conversations/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert api.get(f"/api/conversations/{alices.pk}/export/").status_code == 401


def test_bob_cannot_revoke_alices_token(bob_client, alice_token):
    digest = ApiToken.objects.get().digest
    bob_client.post("/accounts/profile/token/revoke/", {"token": digest})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token}")
    assert api.get("/api/conversations/").status_code == 200


def test_a_token_of_a_deactivated_user_is_refused(alice, alice_token):
    alice.is_active = False
    alice.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token}")
    assert api.get("/api/conversations/").status_code == 401


def test_an_api_token_cannot_mint_voice_sessions(alice_token_api, upstreams):
    response = alice_token_api.post("/realtime/session/", {}, format="json")
    assert response.status_code in (401, 403)
    assert not upstreams["mint"].called


def test_the_admin_is_for_staff_only(alice_client):
    response = alice_client.get("/admin/conversations/conversation/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
