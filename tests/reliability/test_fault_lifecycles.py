"""Randomised lifecycles under injected faults and emulator restarts.

`RELIABILITY_SEED` changes the plans (default "7"); `RELIABILITY_SCALE` the number of
sequences; `RELIABILITY_WORKERS` how many provider hosts run sequences side by side (each in its
own namespace, with faults scoped to it). A failing sequence is reported with its seed and plan.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, run_emulator_process
from pulumi_hf_endpoints import spec
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.harness import ProviderHost
from tests.reliability.lifecycles import Limits, Restarter, SequenceResult, SequenceRunner
from tests.reliability.support import BASE, FIGURES, scaled

pytestmark = pytest.mark.reliability

SEED = os.environ.get("RELIABILITY_SEED", "7")
WORKERS = max(1, int(os.environ.get("RELIABILITY_WORKERS", "6")))
SEQUENCES = scaled(216)  # with the emulator-restart test: 228 sequences by default
SEQUENCES_PER_WORKER = -(-SEQUENCES // WORKERS)
KILL_SEQUENCES_PER_WORKER = scaled(6)  # 2 hosts x 6 sequences, one emulator process

PHASES = {
    "pending_seconds": 0.05,
    "initializing_seconds": 0.1,
    "updating_seconds": 0.1,
    "resume_seconds": 0.1,
    "wake_seconds": 0.1,
}

# Slower phases for the kill test, so that operations last long enough for kills to land in them.
SLOW_PHASES = {
    "pending_seconds": 0.2,
    "initializing_seconds": 0.5,
    "updating_seconds": 0.4,
    "resume_seconds": 0.4,
    "wake_seconds": 0.2,
}


def host_env(limits: Limits, *, backoff: float | None) -> dict[str, str]:
    env = {
        "PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05",
        "RELIABILITY_HTTP_TIMEOUT": str(limits.http_timeout),
    }
    if backoff is not None:  # None: the shipped backoff (0.5 s doubling, capped at 8 s)
        env["RELIABILITY_BACKOFF"] = str(backoff)
        env["RELIABILITY_MAX_BACKOFF"] = str(backoff * 10)
    return env


def report(results: list[SequenceResult]) -> str:
    bad = [r for r in results if r.violations]
    lines = [f"{len(bad)} of {len(results)} sequences broke an invariant:"]
    for r in bad[:12]:
        lines.append(r.describe())
        lines.extend(f"    {v}" for v in r.violations)
    return "\n".join(lines)


@pytest.mark.timeout(900)
def test_randomized_lifecycles_under_control_plane_faults(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    namespaces = tuple(f"relia-w{w:02d}" for w in range(WORKERS))
    emu = make_emulator(orgs=namespaces, time_scale=1.0, **PHASES)
    limits = Limits(wait_timeout=5.0, http_timeout=1.0, stall_seconds=1.2, slack=20.0)

    def work(worker: int) -> list[SequenceResult]:
        namespace = namespaces[worker]
        with (
            ProviderHost(env=host_env(limits, backoff=0.05), rpc_timeout=120) as host,
            EndpointsApi(emu.token, api_url=emu.api_url) as admin,
        ):
            host.configure(
                {"huggingface:token": emu.token, "huggingface:apiUrl": emu.api_url},
                secret_keys=["huggingface:token"],
            )
            runner = SequenceRunner(
                host=host,
                faults=emu.faults,
                admin=admin,
                token=emu.token,
                namespace=namespace,
                tag=f"w{worker:02d}",
                limits=limits,
                fault_rate=0.7,
            )
            results = [runner.run(f"{SEED}-w{worker:02d}-{i}") for i in range(SEQUENCES_PER_WORKER)]
            leaked = emu.token in host.transcript_text() + host.stderr_text()
            assert not leaked, "the token leaked into the host's transcript or stderr"
            return results

    with ThreadPoolExecutor(WORKERS) as pool:
        results = [r for batch in pool.map(work, range(WORKERS)) for r in batch]
    FIGURES.add("lifecycle sequences: control-plane faults", len(results))
    for key in ("orphans", "hangs", "state entries lost"):
        FIGURES.add(key, 0)  # listed even when zero; violations add to them
    assert len(results) >= SEQUENCES
    assert not any(r.violations for r in results), report(results)


def _snapshot(api: EndpointsApi, namespace: str) -> dict[str, Any]:
    return {
        e["name"]: (
            e["status"]["createdAt"],
            e["status"]["url"],
            e["compute"],
            e["model"],
            e["tags"],
        )
        for e in api.list_endpoints(namespace)
    }


@pytest.mark.timeout(900)
def test_randomized_lifecycles_with_emulator_killed_mid_operation(tmp_path: Path) -> None:
    """The emulator process is SIGKILLed and restarted while steps run (two provider hosts in
    two namespaces share it, so a kill usually lands in two operations at once). Bystander
    endpoints, never touched by the sequences, must come back identical after every restart."""
    namespaces = ("relia-k00", "relia-k01")
    limits = Limits(wait_timeout=10.0, http_timeout=2.0, stall_seconds=2.4, slack=45.0)
    with (
        run_emulator_process(
            tmp_path / "state.sqlite3", org=list(namespaces), time_scale=1.0, **SLOW_PHASES
        ) as proc,
        EndpointsApi(proc.token, api_url=proc.api_url) as admin,
    ):
        for n in range(3):
            payload = spec.create_payload(
                spec.spec_from_properties(
                    {**BASE, "tags": [f"bystander-{n}"], "secrets": {"K": f"v{n}"}}
                ),
                f"bystander-{n}",
            )
            admin.create_endpoint(proc.user, payload)
        before = _snapshot(admin, proc.user)
        lost: list[str] = []
        restarts: list[float] = []

        def verify_after_restart() -> None:
            with EndpointsApi(proc.token, api_url=proc.api_url) as fresh:
                after = _snapshot(fresh, proc.user)
            if after != before:
                lost.append(f"bystanders changed across a restart: {before} != {after}")
                FIGURES.add("lost data")

        def timed_restart() -> None:
            started = time.monotonic()
            proc.restart()
            restarts.append(time.monotonic() - started)

        restarter = Restarter(timed_restart, after=verify_after_restart)

        def work(worker: int) -> list[SequenceResult]:
            with ProviderHost(env=host_env(limits, backoff=None), rpc_timeout=180) as host:
                host.configure(
                    {"huggingface:token": proc.token, "huggingface:apiUrl": proc.api_url},
                    secret_keys=["huggingface:token"],
                )
                with EndpointsApi(proc.token, api_url=proc.api_url) as own_admin:
                    runner = SequenceRunner(
                        host=host,
                        faults=proc.faults,
                        admin=own_admin,
                        token=proc.token,
                        namespace=namespaces[worker],
                        tag=f"k{worker:02d}",
                        limits=limits,
                        fault_rate=0.25,
                        restarter=restarter,
                        kill_rate=0.35,
                    )
                    results = [
                        runner.run(f"{SEED}-k{worker:02d}-{i}")
                        for i in range(KILL_SEQUENCES_PER_WORKER)
                    ]
                assert proc.token not in host.transcript_text() + host.stderr_text()
                return results

        with ThreadPoolExecutor(len(namespaces)) as pool:
            results = [r for batch in pool.map(work, range(len(namespaces))) for r in batch]
        assert _snapshot(admin, proc.user) == before
    FIGURES.add("lifecycle sequences: emulator killed and restarted", len(results))
    FIGURES.add("lost data", 0)
    FIGURES.set("emulator restarts (kill -9, then start on the same state file)", len(restarts))
    if restarts:
        FIGURES.set("emulator restart time, max (s)", max(restarts))
    assert restarts, "no step was interrupted by a restart"
    assert not lost, lost
    assert not any(r.violations for r in results), report(results)
