"""State survives: the SQLite store, and the emulator process killed and started again."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hf_endpoints_emulator import lifecycle
from hf_endpoints_emulator.app import TOKEN_KEY, create_app
from hf_endpoints_emulator.config import EmulatorConfig, default_state_path
from hf_endpoints_emulator.store import DuplicateName, EndpointRecord, Store
from hf_endpoints_emulator.testing import http_client, run_emulator, run_emulator_process
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

HTTP = http_client()


def record(name: str, namespace: str = "ns", endpoint_id: str | None = None) -> EndpointRecord:
    return EndpointRecord(
        namespace=namespace,
        name=name,
        id=endpoint_id or f"id{name:0>14}"[:16],
        config={"name": name, "tags": ["t"]},
        created_at=1.0,
        updated_at=2.0,
        created_by="u",
        updated_by="u",
        schedule=lifecycle.deploy(1.0, EmulatorConfig().timings),
    )


def test_store_round_trip_on_disk(tmp_path: Path) -> None:
    path = str(tmp_path / "nested" / "state.sqlite3")
    store = Store(path)
    first = store.insert(record("a"))
    store.insert(record("b"))
    with pytest.raises(DuplicateName):
        store.insert(record("a", endpoint_id="other-id-000000"))
    store.touch(first.id, 50.0)
    store.touch(first.id, 40.0)  # activity never moves back
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    store.close()

    reopened = Store(path)
    loaded = reopened.get("ns", "a")
    assert loaded is not None
    assert loaded.config == {"name": "a", "tags": ["t"]} and loaded.schedule == first.schedule
    assert loaded.last_activity == 50.0 and loaded.seq == first.seq
    assert [r.name for r in reopened.list("ns")] == ["a", "b"]
    assert reopened.get_by_id(first.id) == loaded
    assert reopened.meta("k") == "v2" and reopened.meta("missing") is None
    assert reopened.delete("ns", "a") and not reopened.delete("ns", "a")
    assert [r.name for r in reopened.list()] == ["b"]
    reopened.close()


def test_store_is_safe_across_threads() -> None:
    store = Store(":memory:")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(25):
                inserted = store.insert(
                    record(f"w{worker}-{i}", endpoint_id=f"{worker:02d}{i:014d}")
                )
                store.touch(inserted.id, float(i))
                if i % 5 == 0:
                    store.list("ns")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list("ns")) == 200


def test_default_state_path_follows_xdg(tmp_path: Path) -> None:
    assert (
        default_state_path({"XDG_DATA_HOME": str(tmp_path)})
        == tmp_path / "pulumi-hf-endpoints" / "emulator.sqlite3"
    )
    assert default_state_path({}).parts[-4:] == (
        ".local",
        "share",
        "pulumi-hf-endpoints",
        "emulator.sqlite3",
    )


def test_generated_token_is_kept_per_state_file(tmp_path: Path) -> None:
    state = str(tmp_path / "s.sqlite3")
    first = create_app(EmulatorConfig(state=state, backend="synthetic")).state.emulator
    token = first.config.token
    assert token is not None and token.startswith("hf_emu_")
    first.store.close()
    second = create_app(EmulatorConfig(state=state, backend="synthetic")).state.emulator
    assert second.config.token == token and second.store.meta(TOKEN_KEY) == token
    second.store.close()
    given = create_app(
        EmulatorConfig(state=state, token="explicit", backend="synthetic")
    ).state.emulator
    assert given.config.token == "explicit"
    given.store.close()


def test_in_process_restart_keeps_endpoints(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    with run_emulator(
        state=state, token="tok", backend="synthetic", pending_seconds=0.1, initializing_seconds=0.1
    ) as emu:
        client = Endpoints(emu)
        created = client.create(endpoint_body("keeper", env={"A": "1"}))
        client.watch("keeper", "running")
        client.close()
    with run_emulator(state=state, token="tok", backend="synthetic") as emu:
        client = Endpoints(emu)
        kept = client.get("keeper")
        client.close()
    assert kept["status"]["createdAt"] == created["status"]["createdAt"]
    assert kept["model"]["env"] == {"A": "1"} and kept["status"]["state"] == "running"


def test_killed_process_keeps_endpoints_and_resumes_timers(tmp_path: Path) -> None:
    state = tmp_path / "emulator.sqlite3"
    with run_emulator_process(state, pending_seconds=2, initializing_seconds=6) as proc:
        client = Endpoints(proc)
        try:
            client.create(endpoint_body("slow"))
            client.create(endpoint_body("paused-one"))
            client.action("paused-one", "pause")
            client.watch("slow", "initializing")
            before = client.get("slow")
            proc.restart()  # SIGKILL mid-deployment, start again
            assert proc.running
            after = client.get("slow")
            assert after["status"]["createdAt"] == before["status"]["createdAt"]
            assert after["status"]["url"] == before["status"]["url"]
            # The deployment continues from the stored schedule: a restarted timer would show
            # a second "pending", or phases that begin later than the create.
            assert client.watch("slow", "running") == ["pending", "initializing", "running"]
            created = _epoch(before["status"]["createdAt"])
            (_, pending), (_, initializing), (_, running) = client.transitions("slow")
            assert pending == pytest.approx(created, abs=0.002)
            assert (initializing - pending, running - pending) == (
                pytest.approx(2),
                pytest.approx(8),
            )
            assert client.state("paused-one") == "paused"
            assert [
                e["name"] for e in client.http.get(f"/v2/endpoint/{proc.user}").json()["items"]
            ] == ["slow", "paused-one"]
        finally:
            client.close()


def test_restart_with_a_new_port_and_a_clean_stop(tmp_path: Path) -> None:
    state = tmp_path / "emulator.sqlite3"
    with run_emulator_process(state, token="hf_fixed") as proc:
        client = Endpoints(proc)
        client.create(endpoint_body("ep"))
        client.close()
        assert proc.stop() == 0  # SIGTERM: clean shutdown, exit code 0
        assert "Emulator stopped." in proc.log()
        assert f"HF_ENDPOINTS_API_URL={proc.api_url}" in proc.log()
        assert "token: hf_fixed" in proc.log()
        proc.start()
        response = HTTP.get(f"{proc.api_url}/endpoint/{proc.user}/ep", headers=proc.headers)
        assert response.status_code == 200


def _epoch(stamp: str) -> float:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(tzinfo=timezone.utc).timestamp()


def test_cli_options_build_the_config() -> None:
    from hf_endpoints_emulator.cli import config_from_args
    from hf_endpoints_emulator.serving.options import ServingOptions
    from pulumi_hf_endpoints.cli import build_parser

    args = build_parser().parse_args(
        [
            "emulator",
            "--port",
            "0",
            "--state",
            ":memory:",
            "--user",
            "me",
            "--token",
            "hf_me",
            "--org",
            "a",
            "--org",
            "b",
            "--extra-user",
            "bob:hf_bob:c,d",
            "--pending-seconds",
            "0.5",
            "--time-scale",
            "0.0167",
            "--backend",
            "synthetic",
            "--model",
            "me/tiny=/models/tiny.gguf",
            "--max-concurrent-requests",
            "4",
            "--max-batch-size",
            "8",
        ]
    )
    config = config_from_args(args)
    assert (config.port, config.state, config.user, config.token, config.orgs) == (
        0,
        ":memory:",
        "me",
        "hf_me",
        ("a", "b"),
    )
    assert config.extra_users[0].namespaces == ("bob", "c", "d")
    assert (config.timings.pending_seconds, config.timings.time_scale) == (0.5, 0.0167)
    assert (config.backend, dict(config.models), config.max_concurrent_requests) == (
        "synthetic",
        {"me/tiny": "/models/tiny.gguf"},
        4,
    )
    assert ServingOptions.from_config(config).max_concurrent_generations == 8
    defaults = config_from_args(build_parser().parse_args(["emulator"]))
    assert ServingOptions.from_config(defaults).max_concurrent_generations == 32
    with pytest.raises(ValueError, match="--max-batch-size must be at least 1, not 0"):
        config_from_args(build_parser().parse_args(["emulator", "--max-batch-size", "0"]))
    assert (defaults.host, defaults.port, defaults.backend, defaults.orgs) == (
        "127.0.0.1",
        8765,
        "llama",
        ("emulator-org",),
    )
    for bad in (["--model", "no-equals"], ["--extra-user", "nameonly"], ["--backend", "gpu"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["emulator", *bad])
