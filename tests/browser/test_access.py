"""Sign-in on the dashboard (SPEC §13 "Access"): a bad token stays on the form, a viewer
sees the data but no New Task (nor any action), an operator cancels a job, and signing
out goes back to the form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Console, screenshot
from tests.browser.test_operate import waiting_job
from tests.system import RunningSystem, start_system

TOKENS = "vera:viewer:viewer-browser-token,otto:operator:operator-browser-token"
OPERATOR = {"Authorization": "Bearer operator-browser-token"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("signin"), env={"ODTO_TOKENS": TOKENS})
    try:
        yield system
    finally:
        system.stop()


def sign_in(page: Any, system: RunningSystem, token: str) -> None:
    page.goto(f"{system.web_url}/")
    page.wait_for_url("**/signin")
    page.fill("#signin-token", token)
    page.click("#signin-submit")


def test_a_bad_token_stays_on_the_sign_in_form(page: Any, guarded: RunningSystem) -> None:
    sign_in(page, guarded, "not-a-token")
    page.locator("#signin-error").wait_for()
    assert "Unknown token" in page.inner_text("#signin-error")
    assert page.url.endswith("/signin")
    assert page.context.cookies() == []
    screenshot(page, "signin-refused")


def test_a_viewer_sees_the_data_but_no_new_task_and_signs_out(
    page: Any, console: Console, guarded: RunningSystem
) -> None:
    sign_in(page, guarded, "viewer-browser-token")
    page.locator("#splash").wait_for(state="hidden")
    assert page.inner_text("#session-who") == "vera · viewer"
    assert page.locator("#open-new-task").is_hidden()
    assert page.locator("#bulk-retry-start").is_hidden()
    assert page.locator("#session-readonly").is_visible()
    assert "operator role" in (page.get_attribute("#session-readonly", "title") or "")
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts never see the token
    page.locator("#live-indicator[data-state='live']").wait_for()  # the stream, with the cookie
    screenshot(page, "signed-in-viewer")

    page.click("#sign-out")
    page.wait_for_url("**/signin")
    page.goto(f"{guarded.web_url}/")
    page.wait_for_url("**/signin")
    assert console.errors == []


def test_an_operator_cancels_a_job_and_the_audit_names_the_token(
    page: Any, console: Console, guarded: RunningSystem
) -> None:
    waiting = waiting_job(guarded)
    sign_in(page, guarded, "operator-browser-token")
    page.locator("#splash").wait_for(state="hidden")
    assert page.locator("#open-new-task").is_visible()
    page.goto(f"{guarded.web_url}/#/jobs/{waiting}")
    page.locator("#job-status .pill[data-status='PENDING']").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel job").click()
    page.locator("#job-action-result.success").wait_for()
    page.locator("#job-status .pill[data-status='CANCELLED']").wait_for()
    audit = httpx.get(f"{guarded.read_model_url}/audit", headers=OPERATOR, timeout=10).json()
    assert [e["actor"] for e in audit["items"] if e["target"] == waiting] == ["otto"]
    assert console.errors == []


def test_a_viewer_gets_no_cancel_button(page: Any, guarded: RunningSystem) -> None:
    waiting = waiting_job(guarded)
    sign_in(page, guarded, "viewer-browser-token")
    page.locator("#splash").wait_for(state="hidden")
    page.goto(f"{guarded.web_url}/#/jobs/{waiting}")
    page.locator("#job-status .pill[data-status='PENDING']").wait_for()
    assert page.locator("#job-cancel").is_hidden()
