"""The emulator's auth, per namespace and per endpoint type.

Two users: the emulator's default user (namespace `emulator-user`, organisation `emulator-org`)
and `mallory` (namespace `mallory`, organisation `mallory-org`). Neither may read, list, change,
pause, resume, scale, delete or create anything in the other's namespaces, nor call the other's
authenticated endpoints; private endpoints answer nobody from outside; public ones answer all.
No token, a wrong token, or a malformed Authorization header is a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.config import User, generate_token
from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import spec
from tests.reliability.support import BASE, FIGURES

pytestmark = pytest.mark.reliability

MALLORY = "mallory"


@dataclass
class World:
    emu: EmulatorHandle
    alice: str  # token of the default user
    mallory: str
    urls: dict[str, str]  # "namespace/name" -> endpoint URL


def _payload(name: str, kind: str) -> dict[str, Any]:
    private = {"privateService": {"accountId": "123456789012"}} if kind == "private" else {}
    return spec.create_payload(
        spec.spec_from_properties({**BASE, "type": kind, "secrets": {"K": "v"}, **private}), name
    )


def _wait_running(client: httpx.Client, namespace: str, name: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        doc = client.get(f"/v2/endpoint/{namespace}/{name}").json()
        if doc["status"]["state"] == "running":
            return str(doc["status"]["url"])
        time.sleep(0.05)
    raise AssertionError(f"{namespace}/{name} did not start")


@pytest.fixture
def world(make_emulator: Callable[..., EmulatorHandle]) -> Iterator[World]:
    mallory_token = generate_token()
    emu = make_emulator(
        extra_users=(User(MALLORY, mallory_token, ("mallory-org",)),),
        pending_seconds=0.02,
        initializing_seconds=0.05,
    )
    urls: dict[str, str] = {}
    plan = [
        (emu.token, emu.user, "pub", "public"),
        (emu.token, emu.user, "auth", "authenticated"),
        (emu.token, emu.user, "priv", "private"),
        (emu.token, "emulator-org", "org-auth", "authenticated"),
        (mallory_token, MALLORY, "m-auth", "authenticated"),
        (mallory_token, "mallory-org", "m-org-pub", "public"),
    ]
    for token, namespace, name, kind in plan:
        with httpx.Client(
            base_url=emu.base_url, timeout=10, headers={"authorization": f"Bearer {token}"}
        ) as client:
            answer = client.post(f"/v2/endpoint/{namespace}", json=_payload(name, kind))
            assert answer.status_code == 200, answer.text
            urls[f"{namespace}/{name}"] = _wait_running(client, namespace, name)
    yield World(emu, emu.token, mallory_token, urls)


def _control_plane_calls(namespace: str, name: str) -> list[tuple[str, str, Any]]:
    base = f"/v2/endpoint/{namespace}"
    return [
        ("GET", base, None),
        ("POST", base, _payload("intruder", "public")),
        ("GET", f"{base}/{name}", None),
        ("PUT", f"{base}/{name}", {"compute": {"scaling": {"minReplica": 0, "maxReplica": 9}}}),
        ("POST", f"{base}/{name}/pause", None),
        ("POST", f"{base}/{name}/resume", None),
        ("POST", f"{base}/{name}/scale-to-zero", None),
        ("DELETE", f"{base}/{name}", None),
        ("GET", f"/v2/provider/{namespace}", None),
    ]


def _data_plane_calls(url: str) -> list[tuple[str, str, Any]]:
    prompt = {"inputs": "Hello", "parameters": {"max_new_tokens": 4}}
    chat = {"model": "tgi", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    return [
        ("GET", f"{url}/health", None),
        ("GET", f"{url}/info", None),
        ("POST", f"{url}/generate", prompt),
        ("POST", f"{url}/generate_stream", prompt),
        ("POST", f"{url}/", prompt),
        ("POST", f"{url}/v1/chat/completions", chat),
    ]


def _send(base_url: str, headers: dict[str, str], method: str, path: str, body: Any) -> int:
    url = path if path.startswith("http") else base_url + path
    response = httpx.request(method, url, json=body, headers=headers, timeout=10)
    return response.status_code


def _snapshot(world: World) -> dict[str, Any]:
    seen = {}
    for key in world.urls:
        namespace = key.split("/")[0]
        token = world.mallory if namespace.startswith("mallory") else world.alice
        doc = httpx.get(
            f"{world.emu.base_url}/v2/endpoint/{key}",
            timeout=10,
            headers={"authorization": f"Bearer {token}"},
        ).json()
        seen[key] = (doc["status"]["state"], doc["compute"], doc["type"], doc["status"]["url"])
    return seen


def test_a_user_cannot_touch_another_users_namespaces(world: World) -> None:
    before = _snapshot(world)
    checks = 0
    cases = [
        (world.mallory, world.emu.user, "auth"),
        (world.mallory, "emulator-org", "org-auth"),
        (world.alice, MALLORY, "m-auth"),
        (world.alice, "mallory-org", "m-org-pub"),
    ]
    for token, namespace, name in cases:
        headers = {"authorization": f"Bearer {token}"}
        for method, path, body in _control_plane_calls(namespace, name):
            status = _send(world.emu.base_url, headers, method, path, body)
            assert status == 403, (method, path, status)
            checks += 1
    # Data plane: the other user's authenticated endpoints refuse; private ones refuse all.
    for token, key in [
        (world.mallory, f"{world.emu.user}/auth"),
        (world.mallory, "emulator-org/org-auth"),
        (world.mallory, f"{world.emu.user}/priv"),
        (world.alice, f"{world.emu.user}/priv"),
        (world.alice, f"{MALLORY}/m-auth"),
    ]:
        for method, url, body in _data_plane_calls(world.urls[key]):
            status = _send("", {"authorization": f"Bearer {token}"}, method, url, body)
            assert status == 403, (key, method, url, status)
            checks += 1
    # Admin routes belong to the emulator's default user alone.
    for method, path in [
        ("GET", "/emulator/faults"),
        ("GET", "/emulator/state"),
        ("DELETE", "/emulator/faults"),
        ("PUT", "/emulator/timings"),
    ]:
        status = _send(
            world.emu.base_url,
            {"authorization": f"Bearer {world.mallory}"},
            method,
            path,
            {} if method == "PUT" else None,
        )
        assert status == 403, (method, path, status)
        checks += 1
    assert _snapshot(world) == before  # nothing changed, nothing created
    listed = httpx.get(
        f"{world.emu.base_url}/v2/endpoint/{world.emu.user}", timeout=10, headers=world.emu.headers
    ).json()
    assert "intruder" not in {e["name"] for e in listed["items"]}
    FIGURES.add("auth: cross-user requests refused", checks)


def test_missing_wrong_or_malformed_credentials_are_401(world: World) -> None:
    bad_headers = [
        {},
        {"authorization": "Bearer hf_wrongwrongwrongwrongwrong"},
        {"authorization": f"Basic {world.alice}"},
        {"authorization": "Bearer"},
        {"authorization": f"Token {world.alice}"},
        {"authorization": f"{world.alice}"},
        {"authorization": f"Bearer {world.alice}x"},
        {"authorization": f"Bearer {world.alice[:-1]}"},
    ]
    checks = 0
    for headers in bad_headers:
        for method, path, body in _control_plane_calls(world.emu.user, "auth"):
            status = _send(world.emu.base_url, headers, method, path, body)
            assert status == 401, (headers, method, path, status)
            checks += 1
        for method, url, body in _data_plane_calls(world.urls[f"{world.emu.user}/auth"]):
            assert _send("", headers, method, url, body) == 401, (headers, method, url)
            checks += 1
        assert _send(world.emu.base_url, headers, "GET", "/emulator/state", None) == 401
        checks += 1
    FIGURES.add("auth: requests without valid credentials refused", checks)


def test_public_endpoints_answer_anyone_and_owners_keep_access(world: World) -> None:
    for headers in (
        {},
        {"authorization": f"Bearer {world.mallory}"},
        {"authorization": "Bearer hf_wrongwrongwrongwrong"},
    ):
        for method, url, body in _data_plane_calls(world.urls[f"{world.emu.user}/pub"]):
            assert _send("", headers, method, url, body) == 200, (headers, method, url)
    own = [
        (world.alice, f"{world.emu.user}/auth"),
        (world.alice, "emulator-org/org-auth"),
        (world.mallory, f"{MALLORY}/m-auth"),
    ]
    for token, key in own:
        for method, url, body in _data_plane_calls(world.urls[key]):
            status = _send("", {"authorization": f"Bearer {token}"}, method, url, body)
            assert status == 200, (key, method, url, status)
        namespace, name = key.split("/")
        status = _send(
            world.emu.base_url,
            {"authorization": f"Bearer {token}"},
            "GET",
            f"/v2/endpoint/{namespace}/{name}",
            None,
        )
        assert status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v2/endpoint/mallory/..%2Femulator-user/auth",
        "/v2/endpoint/mallory%2F..%2Femulator-user/auth",
        "/v2/endpoint/mallory/../emulator-user/auth",
        "/v2/endpoint/emulator-user%00/auth",
        "/v2/endpoint/EMULATOR-USER/auth",
    ],
)
def test_path_tricks_do_not_cross_namespaces(world: World, path: str) -> None:
    answer = httpx.get(
        world.emu.base_url + path, timeout=10, headers={"authorization": f"Bearer {world.mallory}"}
    )
    assert answer.status_code in (400, 403, 404), (path, answer.status_code, answer.text[:200])
    assert answer.status_code != 500
    FIGURES.add("auth: path tricks refused")
