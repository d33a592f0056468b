"""Accounts: tokens map to users and their organisations; nobody touches another's namespace."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hf_endpoints_emulator.auth import Accounts, bearer_token, check_namespace
from hf_endpoints_emulator.config import User
from hf_endpoints_emulator.errors import ApiError
from hf_endpoints_emulator.testing import EmulatorHandle, http_client
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

ALICE = User("alice", "hf_alice", ("acme",))
BOB = User("bob", "hf_bob", ("acme", "bobs-shop"))

HTTP = http_client()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
        ("abc", None),
    ],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token({"authorization": header}) == token


def test_accounts_and_namespaces() -> None:
    accounts = Accounts([ALICE, BOB])
    assert (
        accounts.find("hf_bob") == BOB
        and accounts.find("nope") is None
        and accounts.find(None) is None
    )
    assert accounts.authenticate({"authorization": "Bearer hf_alice"}) == ALICE
    with pytest.raises(ApiError) as caught:
        accounts.authenticate({})
    assert caught.value.status == 401
    check_namespace(BOB, "acme")
    check_namespace(BOB, "bob")
    with pytest.raises(ApiError) as forbidden:
        check_namespace(ALICE, "bobs-shop")
    assert forbidden.value.status == 403


@pytest.fixture
def emu(make_emulator: Callable[..., EmulatorHandle]) -> EmulatorHandle:
    return make_emulator(user="alice", token="hf_alice", orgs=("acme",), extra_users=(BOB,))


def test_whoami(emu: EmulatorHandle) -> None:
    for user in (ALICE, BOB):
        me = HTTP.get(
            f"{emu.base_url}/api/whoami-v2", headers={"authorization": f"Bearer {user.token}"}
        ).json()
        assert (me["name"], me["type"]) == (user.name, "user")
        assert [org["name"] for org in me["orgs"]] == list(user.orgs)
    denied = HTTP.get(
        f"{emu.base_url}/api/whoami-v2", headers={"authorization": "Bearer hf_nobody"}
    )
    assert (denied.status_code, denied.json()) == (
        401,
        {"error": "Invalid credentials in Authorization header"},
    )


def test_users_cannot_read_or_change_each_others_endpoints(emu: EmulatorHandle) -> None:
    alice = Endpoints(emu, "alice", "hf_alice")
    bob_in_alice = Endpoints(emu, "alice", "hf_bob")
    try:
        alice.create(endpoint_body("private-stuff"))
        base = "/v2/endpoint/alice"
        attempts = [
            bob_in_alice.http.get(base),
            bob_in_alice.http.post(base, json=endpoint_body("intruder")),
            bob_in_alice.http.get(f"{base}/private-stuff"),
            bob_in_alice.http.put(f"{base}/private-stuff", json={"model": {"repository": "evil"}}),
            bob_in_alice.http.delete(f"{base}/private-stuff"),
            bob_in_alice.http.post(f"{base}/private-stuff/pause"),
            bob_in_alice.http.post(f"{base}/private-stuff/resume"),
            bob_in_alice.http.post(f"{base}/private-stuff/scale-to-zero"),
            bob_in_alice.http.get("/v2/provider/alice"),
        ]
        assert [r.status_code for r in attempts] == [403] * len(attempts)
        assert all("bob" in r.json()["error"] for r in attempts)
        kept = alice.get("private-stuff")
        assert kept["model"]["repository"] == "gpt2" and kept["status"]["state"] != "paused"
        assert [e["name"] for e in alice.http.get(base).json()["items"]] == ["private-stuff"]
    finally:
        alice.close()
        bob_in_alice.close()


def test_shared_org_is_shared_and_private_orgs_are_not(emu: EmulatorHandle) -> None:
    alice_acme = Endpoints(emu, "acme", "hf_alice")
    bob_acme = Endpoints(emu, "acme", "hf_bob")
    alice_shop = Endpoints(emu, "bobs-shop", "hf_alice")
    bob_shop = Endpoints(emu, "bobs-shop", "hf_bob")
    try:
        alice_acme.create(endpoint_body("team-ep"))
        assert bob_acme.get("team-ep")["status"]["createdBy"]["name"] == "alice"
        assert (
            bob_acme.update("team-ep", {"tags": ["bob-was-here"]})["status"]["updatedBy"]["name"]
            == "bob"
        )
        bob_shop.create(endpoint_body("shop-ep"))
        assert alice_shop.http.get("/v2/endpoint/bobs-shop/shop-ep").status_code == 403
    finally:
        for client in (alice_acme, bob_acme, alice_shop, bob_shop):
            client.close()


def test_bob_cannot_deploy_from_the_catalog_into_alices_namespace(emu: EmulatorHandle) -> None:
    url = f"{emu.base_url}/api/v1/catalog/model/HuggingFaceTB/SmolLM2-135M-Instruct/deploy"
    response = HTTP.post(
        url, json={"namespace": "alice"}, headers={"authorization": "Bearer hf_bob"}
    )
    assert response.status_code == 403
    assert HTTP.post(url, json={"namespace": "alice"}).status_code == 401
    ok = HTTP.post(
        url,
        json={"namespace": "bob", "config": {"name": "mine"}},
        headers={"authorization": "Bearer hf_bob"},
    )
    assert ok.status_code == 200 and ok.json()["endpoint"]["name"] == "mine"
