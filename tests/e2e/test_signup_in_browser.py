"""Scenario 1: a new person signs up and logs in through the real forms."""

from django.contrib.auth import get_user_model

from tests.e2e.conftest import csp_violations

PASSWORD = "a-long-Pass-phrase-9"


def test_sign_up_log_out_and_log_in_again(app, browser):
    page = browser()
    page.goto(f"{app}/")
    assert "/accounts/login/" in page.url

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url(f"{app}/")
    assert page.locator("#connect").is_visible()
    assert page.locator("nav").get_by_text("dora").is_visible()
    assert get_user_model().objects.filter(username="dora").exists()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{app}/accounts/login/")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{app}/")
    assert page.locator("#connect").is_visible()
    assert csp_violations(page) == []
