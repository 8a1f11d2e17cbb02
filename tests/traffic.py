"""A scripted front end for the proxy tests: a careful client's session, and the sloppy
requests real front ends send (a lost id, a made-up id, a bad body), so that the traffic
gives every clause ``verify-trace`` judges a chance to be broken."""

from __future__ import annotations

import time

import httpx

#: How long the careful client waits for a session to become Ready.
READY_WITHIN = 20.0


def careful(client: httpx.Client, user: str = "u-careful") -> str | None:
    """Create, poll to Ready (and once more), run, stream, get, delete; the session id
    (None: the create handed out none, and the client stopped there)."""
    created = client.post(f"/users/{user}/sessions", json={"metadata": {"tab": "1"}})
    session_id = created.json().get("session_id")
    if created.status_code != 201 or not isinstance(session_id, str):
        client.get(f"/users/{user}/sessions")  # a front end shows the list instead
        return None
    deadline = time.monotonic() + READY_WITHIN
    while True:
        status = client.get(f"/users/{user}/sessions/{session_id}/status")
        if status.json().get("phase") in ("Ready", "Failed"):
            break
        assert time.monotonic() < deadline, "the session never became Ready"
        time.sleep(0.02)
    client.get(f"/users/{user}/sessions/{session_id}/status")  # a final phase stays final
    message = {"role": "user", "parts": [{"text": "hello"}]}
    body = {"user_id": user, "session_id": session_id, "new_message": message}
    client.post("/run", json=body)
    with client.stream("POST", "/run_sse", json=body) as stream:
        stream.read()
    client.get(f"/users/{user}/sessions/{session_id}")
    client.delete(f"/users/{user}/sessions/{session_id}")
    return session_id


def sloppy(client: httpx.Client, user: str = "u-sloppy") -> None:
    """What front ends get wrong: lost ids, a made-up id, a bad body, an unknown session."""
    message = {"role": "user", "parts": [{"text": "hi"}]}
    client.get(f"/users/{user}/sessions/undefined/status")
    client.post("/run", json={"user_id": user, "session_id": "undefined", "new_message": message})
    client.post(f"/users/{user}/sessions", json={"session_id": "null"})
    client.post("/run", json={"user_id": user, "session_id": "made-up-id", "new_message": message})
    client.post("/run", json={"user_id": user, "session_id": "made-up-id"})  # no message: 422
    client.get(f"/users/{user}/sessions/never-created")


def drive(base_url: str, *, with_sloppy: bool = True) -> None:
    """The whole script against ``base_url`` (the proxy)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        careful(client)
        if with_sloppy:
            sloppy(client)
