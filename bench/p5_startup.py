"""P5 start-up: import cost in a fresh interpreter, relative to `import pulumi`, and blob size.

Each statement runs in its own `python -c` (cwd a temp dir, so only installed code is found),
timing the import itself with `perf_counter` (interpreter start-up is the same for all and is
reported apart as process wall time). Runs are interleaved, the order rotating every round, and
medians are reported. Statements:

- `import pulumi_hf_endpoints`: the package (public names load lazily);
- `from pulumi_hf_endpoints import InferenceEndpoint`: what a Pulumi program loads;
- `import pulumi_hf_endpoints.provider`: what the provider host loads when it unpickles
  `__provider` (the host has `pulumi` loaded already, so the reference is `import pulumi`).

When a statement misses the goal, `python -X importtime` profiles it and the modules it loads
beyond `import pulumi` are ranked by self time and grouped by top-level package.

The `__provider` blob is what Pulumi stores in state for every resource (base64 of the dill
pickle); the reference is `bench.noop_provider.NoopProvider`'s, the smallest possible.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

from bench.common import BenchResult, Figure, blob_of, median

ID = "P5"
TITLE = "Start-up: import time vs `import pulumi`, and the __provider blob"

REFERENCE = "import pulumi"
STATEMENTS = {
    "package": "import pulumi_hf_endpoints",
    "program": "from pulumi_hf_endpoints import InferenceEndpoint",
    "provider": "import pulumi_hf_endpoints.provider",
}
#: What the program and host statements would cost if spec/pydantic loaded lazily (on the first
#: check), measured as the rest of what they import: Pulumi's dynamic-provider module.
FLOOR = "import pulumi.dynamic, pulumi.output"
_TIMER = (
    "import time as _t\n_s = _t.perf_counter()\n{stmt}\n"
    "_e = _t.perf_counter()\nimport sys\nsys.stdout.write(repr(_e - _s))"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # installed code only, as a Pulumi program or host sees it
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


def time_import(stmt: str, cwd: str) -> tuple[float, float]:
    """(import seconds measured inside the interpreter, process wall seconds)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(stmt=stmt)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    wall = time.perf_counter() - start
    return float(out.stdout.strip()), wall


def importtime(stmt: str, cwd: str) -> dict[str, tuple[int, int, int]]:
    """module -> (self µs, cumulative µs, depth) from `python -X importtime`."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", stmt],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules: dict[str, tuple[int, int, int]] = {}
    pattern = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
    for line in out.stderr.splitlines():
        match = pattern.match(line)
        if match:
            self_us, cum_us, indent, name = match.groups()
            modules[name] = (int(self_us), int(cum_us), len(indent) // 2)
    return modules


def profile(stmt: str, cwd: str, runs: int = 3) -> dict[str, Any]:
    """What `stmt` imports beyond `import pulumi`: top modules and packages by self time
    (medians of `runs` profiles each)."""
    base: set[str] = set()
    extra_runs: list[dict[str, tuple[int, int, int]]] = []
    for _ in range(runs):
        base |= set(importtime(REFERENCE, cwd))
        extra_runs.append(importtime(stmt, cwd))
    names = set().union(*extra_runs) - base
    self_ms = {n: median([r[n][0] / 1e3 for r in extra_runs if n in r]) for n in names}
    cum_ms = {n: median([r[n][1] / 1e3 for r in extra_runs if n in r]) for n in names}
    packages: dict[str, float] = defaultdict(float)
    for name, value in self_ms.items():
        packages[name.split(".")[0]] += value
    top_modules = sorted(self_ms, key=lambda n: -self_ms[n])[:12]
    biggest = sorted(names, key=lambda n: -cum_ms[n])  # subtrees: who pulls the weight in
    return {
        "statement": stmt,
        "extra_modules": len(names),
        "extra_self_ms_total": round(sum(self_ms.values()), 1),
        "by_package_ms": {
            k: round(v, 1) for k, v in sorted(packages.items(), key=lambda kv: -kv[1])[:10]
        },
        "top_modules_self_ms": {n: round(self_ms[n], 2) for n in top_modules},
        "top_modules_cumulative_ms": {n: round(cum_ms[n], 1) for n in biggest[:12]},
    }


def run(quick: bool) -> BenchResult:
    from bench.noop_provider import NoopProvider
    from pulumi_hf_endpoints.provider import InferenceEndpointProvider

    result = BenchResult(ID, TITLE, quick)
    rounds = 8 if quick else 20
    result.params = {"rounds": rounds, "timer": "perf_counter around the import, in `python -c`"}
    cases = {"reference": REFERENCE, **STATEMENTS, "floor": FLOOR}
    inside: dict[str, list[float]] = {k: [] for k in cases}
    wall: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory(prefix="bench-p5-") as cwd:
        for stmt in cases.values():  # warm the disk cache and bytecode
            time_import(stmt, cwd)
        keys = list(cases)
        for i in range(rounds):
            order = keys[i % len(keys) :] + keys[: i % len(keys)]
            for key in order:
                seconds, process = time_import(cases[key], cwd)
                inside[key].append(seconds)
                wall[key].append(process)
        ref = median(inside["reference"])
        goals_missed = []
        labels = {
            "package": "P5 `import pulumi_hf_endpoints`",
            "program": "P5 `from pulumi_hf_endpoints import InferenceEndpoint`",
            "provider": "P5 `import pulumi_hf_endpoints.provider` (host)",
        }
        for key in STATEMENTS:
            figure = result.add(
                Figure(
                    labels[key],
                    "s",
                    median(inside[key]),
                    ref,
                    reference_label=REFERENCE,
                    goal=1.3,
                    goal_kind="max",
                )
            )
            if figure.met is False:
                goals_missed.append(key)
        result.add(
            Figure(
                f"P5 floor without pydantic at import: `{FLOOR}`",
                "s",
                median(inside["floor"]),
                ref,
                reference_label=REFERENCE,
                note="what lazy imports of spec (pydantic) in provider.py/resource.py would leave",
            )
        )
        result.add(
            Figure(
                "P5 process wall, `python -c <provider import>`",
                "s",
                median(wall["provider"]),
                median(wall["reference"]),
                reference_label=f"python -c '{REFERENCE}'",
            )
        )
        result.samples = {"import_seconds": inside, "process_seconds": wall}
        profiles = {}
        to_profile = goals_missed or (["provider"] if not quick else [])
        if quick:
            to_profile = to_profile[-1:]  # the host's import; one profile is enough for a smoke run
        for key in to_profile:
            profiles[key] = profile(STATEMENTS[key], cwd, runs=1 if quick else 3)
        result.samples["profiles"] = profiles

    ours_blob = blob_of(InferenceEndpointProvider())
    noop_blob = blob_of(NoopProvider())
    result.add(
        Figure(
            "P5 __provider blob size",
            "B",
            float(len(ours_blob)),
            float(len(noop_blob)),
            reference_label="no-op provider",
            goal=200,
            goal_kind="max",
            goal_on="ours",
            goal_text="≤ 200 B",
        )
    )
    result.samples["blobs"] = {"ours": ours_blob, "noop": noop_blob}
    for key, prof in profiles.items():
        packages = ", ".join(f"{k} {v:.0f} ms" for k, v in list(prof["by_package_ms"].items())[:6])
        result.notes.append(
            f"{STATEMENTS[key]}: {prof['extra_modules']} modules beyond `import pulumi`, "
            f"{prof['extra_self_ms_total']:.0f} ms self time; by package: {packages}"
        )
    return result
