"""P1 preview: Check + Diff of 50 endpoints through Pulumi's provider host, offline.

The stack is made for real first (50 creates on the emulator through the host), so Check gets
the stored inputs and Diff the stored outputs, exactly what `pulumi preview` of an unchanged
program sends. Then, per round, a fresh `python -m pulumi.dynamic` is started with every network
route (API URL, Hub URL, HTTP(S) proxies) leading to a server that counts requests and answers
503, and the engine's sequence is replayed: Configure, then Check and Diff per resource, one at a
time as the step generator does. The reference is `bench.noop_provider.NoopProvider` receiving
the same property bags (only the `__provider` blob differs). Request messages are serialised
before the clock starts, so only the host and the provider are timed.

- cold: a fresh host; the first Check unpickles the provider, imports its module and calls
  configure(); what a `pulumi preview` pays.
- warm: further passes in the same host (3 per host); the per-resource cost of check() and
  diff().
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

from bench.common import (
    BenchResult,
    CountingServer,
    Figure,
    blob_of,
    declare_endpoints,
    emulator_process,
    host_env,
    median,
)

ID = "P1"
TITLE = "Preview: Check + Diff of 50 endpoints through the provider host"

N_RESOURCES = 50


def _make_stack(names: list[str]) -> list[dict[str, Any]]:
    """Create the endpoints on the emulator through the host; return, per resource, what the
    engine keeps: urn, id, stored inputs and outputs, and the program's inputs."""
    from tests.harness import ProviderHost

    declared = declare_endpoints(names)
    fast = {"pending_seconds": 0.02, "initializing_seconds": 0.02}
    with emulator_process(**fast) as emu:
        env = host_env({"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.02"})
        with ProviderHost(env=env) as host:
            host.configure(
                {"huggingface:token": emu.token, "huggingface:apiUrl": emu.api_url},
                secret_keys=["huggingface:token"],
            )

            def up(res: Any) -> dict[str, Any]:
                checked = host.check(res.urn, {}, res.inputs)
                assert not checked.failures, checked.failures
                created = host.create(res.urn, checked.inputs)
                again = host.check(res.urn, checked.inputs, res.inputs).inputs
                return {
                    "urn": res.urn,
                    "id": created.id,
                    "program": res.inputs,
                    "inputs": checked.inputs,
                    "outputs": created.outputs,
                    "checked": again,
                }

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                return list(pool.map(up, declared))


def _requests(stack: list[dict[str, Any]], blob: str | None) -> list[tuple[Any, Any]]:
    """(CheckRequest, DiffRequest) per resource, with `blob` as the provider if given."""
    from pulumi.runtime.proto import provider_pb2

    from tests.harness import to_struct

    def bag(props: dict[str, Any]) -> dict[str, Any]:
        return {**props, "__provider": blob} if blob is not None else props

    pairs = []
    for entry in stack:
        name = entry["urn"].rsplit("::", 1)[-1]
        type_ = entry["urn"].split("::")[-2]
        check = provider_pb2.CheckRequest(
            urn=entry["urn"],
            olds=to_struct(bag(entry["inputs"])),
            news=to_struct(bag(entry["program"])),
            randomSeed=b"\0" * 32,
            name=name,
            type=type_,
        )
        diff = provider_pb2.DiffRequest(
            id=entry["id"],
            urn=entry["urn"],
            olds=to_struct(bag(entry["outputs"])),
            news=to_struct(bag(entry["checked"])),
            old_inputs=to_struct(bag(entry["inputs"])),
            name=name,
            type=type_,
        )
        pairs.append((check, diff))
    return pairs


WARM_PASSES = 3


def _preview(
    counting: CountingServer, pairs: list[tuple[Any, Any]]
) -> tuple[float, float, list[float], list[int]]:
    """One fresh host: (start-up s, cold pass s, warm passes s, diff answers of the cold pass)."""
    import grpc
    from pulumi.runtime.proto import provider_pb2_grpc

    from tests.harness import ProviderHost

    api = f"{counting.url}/v2"
    started = time.perf_counter()
    with ProviderHost(env=host_env(counting.env())) as host:
        startup = time.perf_counter() - started
        host.configure(
            {"huggingface:token": "hf_bench_offline_not_a_token", "huggingface:apiUrl": api},
            secret_keys=["huggingface:token"],
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
        try:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            passes = []
            changes: list[int] = []
            for _ in range(1 + WARM_PASSES):
                t0 = time.perf_counter()
                for check, diff in pairs:
                    stub.Check(check, timeout=60)
                    answer = stub.Diff(diff, timeout=60)
                    changes.append(answer.changes)
                passes.append(time.perf_counter() - t0)
        finally:
            channel.close()
    return startup, passes[0], passes[1:], changes[: len(pairs)]


def run(quick: bool) -> BenchResult:
    from bench.noop_provider import NoopProvider
    from pulumi_hf_endpoints.provider import InferenceEndpointProvider

    result = BenchResult(ID, TITLE, quick)
    rounds = 2 if quick else 9
    names = [f"bench-p1-{i:02d}" for i in range(N_RESOURCES)]
    stack = _make_stack(names)
    ours_blob = blob_of(InferenceEndpointProvider())
    noop_blob = blob_of(NoopProvider())
    variants = {"ours": _requests(stack, None), "noop": _requests(stack, noop_blob)}
    assert stack[0]["program"]["__provider"] == ours_blob
    result.params = {
        "resources": N_RESOURCES,
        "rounds": rounds,
        "endpoint": "design example: TGI custom image, scaling, env",
        "order": "Check then Diff per resource, sequential (the engine's step generator)",
    }

    samples: dict[str, dict[str, list[float]]] = {
        v: {"startup": [], "cold": [], "warm": []} for v in variants
    }
    requests_by: dict[str, int] = {}
    diff_answers: dict[str, set[int]] = {v: set() for v in variants}
    for i in range(rounds):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))
        for variant in order:
            with CountingServer() as counting:
                startup, cold, warm, changes = _preview(counting, variants[variant])
                requests_by[variant] = requests_by.get(variant, 0) + counting.count
            samples[variant]["startup"].append(startup)
            samples[variant]["cold"].append(cold)
            samples[variant]["warm"].extend(warm)
            diff_answers[variant].update(changes)

    from pulumi.runtime.proto import provider_pb2

    unchanged = diff_answers["ours"] == {provider_pb2.DiffResponse.DIFF_NONE}
    if not unchanged:
        result.notes.append(f"our diff reported changes on an unchanged stack: {diff_answers}")
    result.add(
        Figure(
            "P1 HTTP requests during preview (50 endpoints)",
            "req",
            float(requests_by["ours"]),
            float(requests_by["noop"]),
            reference_label="no-op provider",
            goal=0,
            goal_kind="max",
            goal_on="ours",
            goal_text="0",
            note=f"over {rounds} previews, cold and warm; counting server behind every route",
        )
    )
    cold_ours, cold_noop = median(samples["ours"]["cold"]), median(samples["noop"]["cold"])
    warm_ours, warm_noop = median(samples["ours"]["warm"]), median(samples["noop"]["warm"])
    result.add(
        Figure(
            "P1 preview time, fresh host (incl. provider import)",
            "s",
            cold_ours,
            cold_noop,
            reference_label="no-op provider",
            goal=1.5,
            goal_kind="max",
        )
    )
    result.add(
        Figure(
            "P1 preview time, warm host (check+diff only)",
            "s",
            warm_ours,
            warm_noop,
            reference_label="no-op provider",
            goal=1.5,
            goal_kind="max",
        )
    )
    result.add(
        Figure(
            "P1 per resource, warm (Check+Diff RPCs)",
            "s",
            warm_ours / N_RESOURCES,
            warm_noop / N_RESOURCES,
            reference_label="no-op provider",
        )
    )
    result.add(
        Figure(
            "P1 host start-up (same for both; not in the ratios)",
            "s",
            median(samples["ours"]["startup"]),
            median(samples["noop"]["startup"]),
            reference_label="no-op provider",
        )
    )
    result.samples = {"seconds": samples, "requests": requests_by, "diff_all_unchanged": unchanged}
    return result
