"""Schemathesis fuzzes every route of the emulator's OpenAPI document
(control plane, whoami, catalog), with valid (positive) and invalid (negative) requests, as the
emulator's user: no answer may be a 5xx.

Each operation runs in three variants: free path parameters (mostly someone else's namespace,
403), the user's own namespace, and the user's own namespace with an endpoint that exists (so
updates, pauses, resumes and deletes reach the service's logic). Example counts are bounded for
CI (`RELIABILITY_SCALE` raises them); the examples are derandomised, hence reproducible.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import spec
from tests.reliability.support import BASE, FIGURES, scaled

pytestmark = pytest.mark.reliability

EXAMPLES = scaled(25, minimum=5)  # per operation, mode and variant
TARGET = "fuzz-target"


def _ensure_target(emu: EmulatorHandle) -> None:
    with httpx.Client(base_url=emu.base_url, headers=emu.headers, timeout=10) as client:
        if client.get(f"/v2/endpoint/{emu.user}/{TARGET}").status_code == 404:
            payload = spec.create_payload(
                spec.spec_from_properties({**BASE, "secrets": {"K": "v"}}), TARGET
            )
            assert client.post(f"/v2/endpoint/{emu.user}", json=payload).status_code == 200


@pytest.mark.timeout(900)
def test_control_plane_routes_never_answer_5xx(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    emu = make_emulator(
        pending_seconds=0.02, initializing_seconds=0.02, updating_seconds=0.02, resume_seconds=0.02
    )
    document = httpx.get(f"{emu.base_url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    session = requests.Session()
    auth = {"authorization": f"Bearer {emu.token}"}
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    skipped: list[str] = []

    def run_examples(strategy: Any, needs_target: bool) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: Any) -> None:
            if needs_target:
                _ensure_target(emu)
            response = case.call(base_url=emu.base_url, session=session, headers=auth, timeout=15)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} "
                    f"query={case.query!r} body={json.dumps(case.body, default=str)[:300]}"
                    f" -> {response.status_code} {response.text[:200]}"
                )

        try:
            call()
        except Unsatisfiable:  # e.g. no way to make a parameterless GET invalid
            skipped.append(repr(strategy)[:80])

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        variants: list[dict[str, Any]] = [{}]
        if "namespace" in names:
            variants.append({"namespace": emu.user})
            # A log stream of an endpoint that exists never ends: a call reading it to the end
            # would wait forever. Its other variants (403, 404, 400) answer at once.
            if "name" in names and not operation.path.endswith("/sse"):
                variants.append({"namespace": emu.user, "name": TARGET})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for fixed in variants:
                run_examples(
                    operation.as_strategy(generation_mode=mode, path_parameters=fixed or None),
                    needs_target=fixed.get("name") == TARGET,
                )

    total = sum(statuses.values())
    FIGURES.add("openapi fuzz: requests", total)
    FIGURES.add("openapi fuzz: 5xx answers", len(server_errors))
    FIGURES.set("openapi fuzz: operations", len(operations))
    FIGURES.set("openapi fuzz: statuses", dict(sorted(statuses.items())))
    assert total >= len(operations) * 2, statuses
    assert not server_errors, "\n".join(server_errors[:20])
