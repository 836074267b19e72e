"""The browser harness itself: the network log must see what a page requests, or the other browser tests prove nothing."""

from __future__ import annotations

from tests.browser.conftest import clear_network, external_requests, responses, wait_for


def test_network_log_sees_local_responses_and_external_attempts(chrome, live_server):
    clear_network(chrome)
    chrome.get(f"{live_server}/healthz")
    wait_for(chrome, lambda d: any(u.endswith("/healthz") for u, _ in responses(d)), message="the /healthz response")
    assert (f"{live_server}/healthz", 200) in responses(chrome)
    assert external_requests(chrome) == []

    # a page that tries to leave the machine: the request is recorded even though it cannot succeed
    chrome.execute_script("const i = new Image(); i.src = 'http://tiles.example.invalid/0/0/0.png'; document.body.appendChild(i);")
    wait_for(chrome, lambda d: external_requests(d), message="the external request to be logged")
    assert external_requests(chrome) == ["http://tiles.example.invalid/0/0/0.png"]
    clear_network(chrome)
    assert external_requests(chrome) == []
