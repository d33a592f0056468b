"""docs/service-api.md is what the emulator does: each assumption it names is checked against
the emulator (by a conformance row, which tests/test_conformance.py runs there, or by a probe
here), each bad input is judged by preview, the emulator and the page alike, and the
emulator's answers carry exactly the shape the page documents."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import spec
from pulumi_hf_endpoints.conformance import checks
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body
from tests.seed_examples import GPT2

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "service-api.md").read_text()


def table(marker: str) -> list[list[str]]:
    """The rows of the Markdown table after `<!-- marker -->`, cells stripped, header and
    separator left out."""
    lines = PAGE.split(f"<!-- {marker} -->", 1)[1].strip().splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows[2:]]


def ident(cell: str) -> str:
    match = re.fullmatch(r"`([a-z0-9-]+)`", cell)
    assert match, cell
    return match.group(1)


ASSUMPTIONS = {ident(row[0]): row[-1] for row in table("assumptions")}
BAD_INPUTS = {ident(row[0]): (row[3], row[4]) for row in table("bad-inputs")}


# --- the assumptions ----------------------------------------------------------------------------


@pytest.fixture
def endpoints(emulator: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emulator)
    yield client
    client.close()


def create(endpoints: Endpoints, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = endpoints.http.post(f"/v2/endpoint/{endpoints.namespace}", json=body)
    return response.status_code, response.json()


def settle(endpoints: Endpoints, name: str, timeout: float = 30) -> str:
    """`running` or `failed`, whichever the deployment reaches (from the emulator's record of
    transitions, so a short phase is never missed)."""
    deadline = time.monotonic() + timeout
    while True:
        states = [state for state, _ in endpoints.transitions(name)]
        for final in ("running", "failed"):
            if final in states:
                return final
        assert time.monotonic() < deadline, states
        time.sleep(0.02)


def log_of(endpoints: Endpoints, name: str) -> str:
    return endpoints.http.get(f"/v2/endpoint/{endpoints.namespace}/{name}/logs").text


def probe_quota(endpoints: Endpoints) -> None:
    body = endpoint_body("quota", min_replica=2, max_replica=2)
    body["compute"] |= {"accelerator": "gpu", "instanceType": "nvidia-l40s", "instanceSize": "x8"}
    status, answer = create(endpoints, body)
    assert status == 400 and "Quota" in answer["error"] and "nvidia-l40s" in answer["error"]
    body["compute"]["scaling"] |= {"minReplica": 1}  # 8 of the 8 accelerators: it fits
    assert create(endpoints, body)[0] == 200


def probe_env_name(endpoints: Endpoints) -> None:
    assert create(endpoints, endpoint_body("envname", env={"1BAD KEY": "x"}))[0] == 200
    assert settle(endpoints, "envname") == "failed"
    assert '"1BAD KEY"' in endpoints.get("envname")["status"]["errorMessage"]
    assert '"1BAD KEY"' in log_of(endpoints, "envname")


def probe_env_size(endpoints: Endpoints) -> None:
    env = {f"V{i}": "x" * 110_000 for i in range(20)}  # 2.2 MB in all, each under 128 KiB
    assert create(endpoints, endpoint_body("envsize", env=env))[0] == 200
    assert settle(endpoints, "envsize") == "failed"
    assert "argument list too long" in endpoints.get("envsize")["status"]["errorMessage"]


def probe_model_resolved(endpoints: Endpoints, closed: Endpoints) -> None:
    """A closed Hub (the repositories that exist, and their revisions) refuses the rest at
    create; the default, open one has every repository."""
    assert create(closed, endpoint_body("known", revision="main"))[0] == 200
    status, answer = create(closed, endpoint_body("norepo", repository="nobody/no-such-model"))
    assert status == 400 and "nobody/no-such-model" in answer["error"]
    status, answer = create(closed, endpoint_body("norev", revision="no-such-revision"))
    assert status == 400 and "no-such-revision" in answer["error"]
    assert create(endpoints, endpoint_body("open", repository="nobody/no-such-model"))[0] == 200


def probe_image_without_tag(endpoints: Endpoints) -> None:
    image = {"custom": {"url": "ghcr.io/huggingface/text-generation-inference"}}
    assert create(endpoints, endpoint_body("untagged", image=image))[0] == 200
    assert settle(endpoints, "untagged") == "running"
    assert "Pulling image ghcr.io/huggingface/text-generation-inference:latest" in log_of(
        endpoints, "untagged"
    )


def probe_tags_verbatim(endpoints: Endpoints) -> None:
    tags = ["team:ml", "pulumi-owner:0123456789abcdef.89abcdef"]
    assert create(endpoints, {**endpoint_body("tagged"), "tags": tags})[0] == 200
    assert endpoints.get("tagged")["tags"] == tags


PROBES: dict[str, Callable[..., None]] = {
    "quota-refused": probe_quota,
    "env-name-fails-deployment": probe_env_name,
    "env-size-fails-deployment": probe_env_size,
    "model-resolved-at-create": probe_model_resolved,
    "image-without-tag": probe_image_without_tag,
    "tags-kept-verbatim": probe_tags_verbatim,
}
CLOSED_HUB = {"gpt2": ("main", "a" * 40)}


def test_every_assumption_is_checked_against_the_emulator() -> None:
    assert len(ASSUMPTIONS) >= 15
    for assumption, checked_by in ASSUMPTIONS.items():
        assert checked_by in ("conformance", "probe"), assumption
        if checked_by == "conformance":
            # tests/test_conformance.py runs every conformance row against the emulator.
            assert assumption in checks.CHECK_IDS, assumption
        else:
            assert assumption in PROBES, assumption
    assert set(PROBES) == {a for a, by in ASSUMPTIONS.items() if by == "probe"}


def test_every_behaviour_the_conformance_command_checks_is_on_the_page() -> None:
    for behaviour in checks.BEHAVIOURS:
        assert f"`{behaviour.id}`" in PAGE, behaviour.id


@pytest.mark.parametrize("assumption", sorted(PROBES))
def test_the_emulator_implements_the_assumption(
    assumption: str, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    endpoints = Endpoints(make_emulator())
    try:
        if assumption == "model-resolved-at-create":
            closed = Endpoints(make_emulator(hub=CLOSED_HUB))
            try:
                probe_model_resolved(endpoints, closed)
            finally:
                closed.close()
        else:
            PROBES[assumption](endpoints)
    finally:
        endpoints.close()


# --- bad input --------------------------------------------------------------------------------


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        body = body[key]
    body[leaf] = value


#: case -> (property changes for preview, (create-body path, value) changes for the emulator)
CASES: dict[str, tuple[dict[str, Any], list[tuple[str, Any]]]] = {
    "vendor-region": ({"vendor": "azure"}, [("provider.vendor", "azure")]),
    "unknown-region": ({"region": "us-east-9"}, [("provider.region", "us-east-9")]),
    "unknown-size": ({"instanceSize": "x64"}, [("compute.instanceSize", "x64")]),
    "accelerator-family": (
        {"instanceType": "nvidia-a10g"},
        [("compute.instanceType", "nvidia-a10g")],
    ),
    "many-env-keys": (
        {"env": {f"KEY_{i:05d}": "value" for i in range(10_000)}},
        [("model.env", {f"KEY_{i:05d}": "value" for i in range(10_000)})],
    ),
    "env-too-large": (
        {"env": {f"V{i}": "x" * 110_000 for i in range(20)}},
        [("model.env", {f"V{i}": "x" * 110_000 for i in range(20)})],
    ),
    "image-without-tag": (
        {"customImage": {"url": "ghcr.io/huggingface/text-generation-inference"}},
        [("model.image", {"custom": {"url": "ghcr.io/huggingface/text-generation-inference"}})],
    ),
    "unknown-revision": (
        {"revision": "no-such-revision"},
        [("model.revision", "no-such-revision")],
    ),
    "unknown-repository": (
        {"repository": "nobody/no-such-model"},
        [("model.repository", "nobody/no-such-model")],
    ),
    "env-name": ({"env": {"1BAD KEY": "x"}}, [("model.env", {"1BAD KEY": "x"})]),
    "task-spelling": ({"task": "text_generation"}, [("model.task", "text_generation")]),
    "min-replica-zero": ({"minReplica": 0}, [("compute.scaling.minReplica", 0)]),
}


def test_the_page_lists_every_case_this_test_judges() -> None:
    assert set(BAD_INPUTS) == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_preview_the_emulator_and_the_page_agree(
    case: str, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    preview, emulated = BAD_INPUTS[case]
    changes, edits = CASES[case]
    _, failures = spec.validate_inputs({**GPT2, "type": "authenticated", **changes})
    assert ("refused" if failures else "passes") == preview, failures
    # The emulator's Hub is closed to what this test names, so the Hub's answers are seen.
    endpoints = Endpoints(make_emulator(hub=CLOSED_HUB))
    try:
        body = endpoint_body(case)
        for path, value in edits:
            _set(body, path, value)
        status, answer = create(endpoints, body)
        if status != 200:
            outcome = str(status)
        else:
            outcome = {"running": "deploys", "failed": "deployment fails"}[settle(endpoints, case)]
        assert outcome == emulated, answer
    finally:
        endpoints.close()


# --- the shape of an answer -------------------------------------------------------------------

SHAPE: dict[str, dict[str, list[str]]] = json.loads(
    PAGE.split("<!-- documented-shape -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
)


def _keys_match(name: str, node: Any) -> None:
    documented = SHAPE[name]
    keys = set(node)
    assert set(documented["required"]) <= keys, (name, set(documented["required"]) - keys)
    extra = keys - set(documented["required"]) - set(documented["optional"])
    assert not extra, (name, extra)


def test_an_answer_carries_exactly_the_documented_keys(endpoints: Endpoints) -> None:
    body = endpoint_body(
        "shape",
        scale_to_zero_timeout=30,
        min_replica=0,
        env={"A": "1"},
        secrets={"S": "s"},
        args=["--a"],
        command=["run"],
        revision="main",
    )
    body |= {"route": {"domain": "a.example.com", "path": "/p"}, "tags": ["t"]}
    body |= {"cacheHttpResponses": True}
    body["compute"]["scaling"]["measure"] = {"pendingRequests": 2.0}
    answers = [create(endpoints, body)[1], endpoints.get("shape")]
    answers.append(endpoints.http.get(f"/v2/endpoint/{endpoints.namespace}").json()["items"][0])
    for raw in answers:
        _keys_match("EndpointWithStatus", raw)
        _keys_match("EndpointModel", raw["model"])
        _keys_match("EndpointCompute", raw["compute"])
        _keys_match("EndpointScaling", raw["compute"]["scaling"])
        _keys_match("EndpointStatus", raw["status"])
        _keys_match("ExperimentalFeatures", raw["experimentalFeatures"])
        assert raw["experimentalFeatures"]["cacheHttpResponses"] is True
        assert raw["model"]["secrets"] == {"S": None}
