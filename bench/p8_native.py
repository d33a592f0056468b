"""P8 native provider: `pulumi preview` of 16 endpoints through the native provider against the
dynamic one, and the plugin's start.

Preview: two stacks of the same Python program, one `pulumi` CLI (`make pulumi-cli`), the same
emulator and config: 16 `InferenceEndpoint`s (the dynamic resource, through Pulumi's Python
host), and 16 `hf-endpoints:index:InferenceEndpoint` resources declared with
`pulumi.CustomResource` (the native provider, `pulumi-resource-hf-endpoints`, named in the
project's `plugins:`), with the same properties. So the program, the language host and the CLI
are the same, and the figure is what each provider costs a preview. Each round runs, on each
stack in turn (the order alternates): `preview` of the creates (empty stack); after one `up`
each, rounds of `preview` of the unchanged stack. Median wall time of one `pulumi` command.

Start: from starting the plugin's process to its GetSchema answered (the first thing the engine
asks a plugin it does not know), against starting Pulumi's Python host for dynamic providers to
its GetPluginInfo answered. Median of interleaved starts.

`--quick`: 2 endpoints, one round, 3 starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import SMALL_ENDPOINT, BenchResult, Figure, emulator_process, median

ID = "P8"
TITLE = "Native provider: preview of 16 endpoints vs the dynamic provider, and plugin start"

MANY, ROUNDS, STARTS = 16, 5, 10
QUICK_MANY, QUICK_ROUNDS, QUICK_STARTS = 2, 1, 3
PHASES = {"pending_seconds": 0.5, "initializing_seconds": 0.5}
PLUGIN = Path(sys.executable).parent / "pulumi-resource-hf-endpoints"

PROJECT = """\
name: bench-native
description: Benchmark stack (bench/p8_native.py)
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
plugins:
  providers:
    - name: hf-endpoints
      path: {plugin_dir}
"""

PROGRAM = '''\
"""{count} endpoints through the {kind} provider, the same properties."""

import pulumi

PROPS = {props!r}

if {kind!r} == "dynamic":
    from pulumi_hf_endpoints import InferenceEndpoint

    for i in range({count}):
        InferenceEndpoint(f"{prefix}-{{i:02d}}", **PROPS)
else:
    from pulumi_hf_endpoints.names import to_camel

    for i in range({count}):
        pulumi.CustomResource(
            "hf-endpoints:index:InferenceEndpoint",
            f"{prefix}-{{i:02d}}",
            {{to_camel(key): value for key, value in PROPS.items()}},
        )
'''

KINDS = ("dynamic", "native")


def unavailable() -> str | None:
    from bench.p7_real_cli import cli_unavailable

    missing = cli_unavailable()
    if missing:
        return missing
    if not PLUGIN.exists():
        return f"{PLUGIN} is missing: run `make install`"
    return None


def _stacks(work: Path, emu: Any, count: int) -> dict[str, Any]:
    from tests.realcli.cli import CliStack, tools_bin

    bin_dir = tools_bin()
    assert isinstance(bin_dir, Path), bin_dir
    src = work / "src"
    src.mkdir()
    (src / "Pulumi.yaml").write_text(PROJECT.format(plugin_dir=PLUGIN.parent))
    props = {**SMALL_ENDPOINT, "type": "authenticated"}
    stacks = {}
    for kind in KINDS:
        stack = CliStack(
            bin_dir, src, work / kind, env_extra={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.1"}
        )
        stack.write_program(
            PROGRAM.format(kind=kind, count=count, prefix=f"p8-{kind}", props=props)
        )
        stack.init()
        stack.use_emulator(emu.api_url, emu.token)  # huggingface:* for the dynamic provider
        stack.config_set("hf-endpoints:apiUrl", emu.api_url)
        stack.config_set("hf-endpoints:token", emu.token, secret=True)
        stacks[kind] = stack
    return stacks


def _start_seconds(command: list[str], method: str) -> float:
    """Wall time from starting a plugin to its answer to `method` (GetSchema/GetPluginInfo)."""
    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            request = (
                provider_pb2.GetSchemaRequest() if method == "GetSchema" else empty_pb2.Empty()
            )
            getattr(stub, method)(request, timeout=60, wait_for_ready=True)
        return time.perf_counter() - started
    finally:
        process.kill()
        process.wait()


def run(quick: bool) -> BenchResult:
    result = BenchResult(ID, TITLE, quick)
    missing = unavailable()
    if missing:
        result.notes.append(f"skipped: {missing}")
        return result
    many, rounds, starts = (
        (QUICK_MANY, QUICK_ROUNDS, QUICK_STARTS) if quick else (MANY, ROUNDS, STARTS)
    )
    result.params = {"endpoints": many, "rounds": rounds, "starts": starts, "cpus": os.cpu_count()}
    native = [str(PLUGIN)]
    dynamic = [sys.executable, "-u", "-m", "pulumi.dynamic"]
    start: dict[str, list[float]] = {"native": [], "dynamic": []}
    for _ in range(starts):
        start["native"].append(_start_seconds(native, "GetSchema"))
        start["dynamic"].append(_start_seconds(dynamic, "GetPluginInfo"))
    result.add(
        Figure(
            "P8 plugin start, GetSchema answered",
            "s",
            median(start["native"]),
            median(start["dynamic"]),
            reference_label="Python dynamic host, GetPluginInfo",
            goal=1.0,
            goal_kind="max",
            goal_on="ours",
        )
    )

    times: dict[str, dict[str, list[float]]] = {k: {"create": [], "unchanged": []} for k in KINDS}
    with tempfile.TemporaryDirectory(prefix="bench-p8-") as tmp, emulator_process(**PHASES) as emu:
        stacks = _stacks(Path(tmp), emu, many)
        try:
            for stack in stacks.values():
                stack.run("preview")  # warm the disk cache and the plugin's first start
            for label in ("create", "unchanged"):
                if label == "unchanged":
                    for stack in stacks.values():
                        stack.up("--parallel", str(many))
                for i in range(rounds):
                    order = KINDS if i % 2 == 0 else KINDS[::-1]
                    for kind in order:
                        began = time.perf_counter()
                        stacks[kind].preview(
                            *(("--expect-no-changes",) if label == "unchanged" else ())
                        )
                        times[kind][label].append(time.perf_counter() - began)
            for stack in stacks.values():
                stack.destroy()
        finally:
            for stack in stacks.values():
                stack.close()
    for label, what in (("create", "plan of creates"), ("unchanged", "unchanged stack")):
        result.add(
            Figure(
                f"P8 `pulumi preview` of {many} native endpoints, {what}",
                "s",
                median(times["native"][label]),
                median(times["dynamic"][label]),
                reference_label=f"{many} dynamic endpoints",
                goal=1.2,
                goal_kind="max",
            )
        )
    for kind in KINDS:
        for label, values in times[kind].items():
            result.notes.append(
                f"{kind}, preview ({label}): median {median(values):.2f} s "
                f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
            )
    result.samples = {"preview_seconds": times, "start_seconds": start}
    return result
