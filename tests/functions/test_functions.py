"""`get_hardware` and `list_endpoints` (and their `_output` forms) against the emulator: typed
rows, filters, every page, the stack config / environment / token file discovery the provider
uses, errors that name what failed without the token, and the `_output` forms inside a program
under Pulumi's mocks (known inputs call, unknown ones do not)."""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from hf_endpoints_emulator import hardware as emulated_hardware
from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import (
    EndpointSummary,
    FunctionError,
    GetHardwareResult,
    Hardware,
    InferenceEndpoint,
    ListEndpointsResult,
    get_hardware,
    get_hardware_output,
    list_endpoints,
    list_endpoints_output,
)
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.properties import to_snake
from pulumi_hf_endpoints.settings import SettingError
from tests.emulator.control_plane_testkit import endpoint_body
from tests.harness import capture_program
from tests.provider.test_check_diff import GPT2

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schema.json").read_text())
OUTPUTS = SCHEMA["resources"]["hf-endpoints:index:InferenceEndpoint"]["properties"]


class StackConfig(dict[str, str]):
    """The stack's config as `pulumi config set` leaves it: every change is applied with
    `pulumi.runtime.set_all_config` (in this thread's context; a program sets it itself)."""

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        pulumi.runtime.set_all_config(dict(self))

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        pulumi.runtime.set_all_config(dict(self))

    def program(self, body: Callable[[], None]) -> Callable[[], None]:
        """`body` as a program of this stack: Pulumi's config is set in the program's context."""

        def program() -> None:
            pulumi.runtime.set_all_config(dict(self))
            body()

        return program


@pytest.fixture
def stack_config() -> Iterator[StackConfig]:
    config = StackConfig()
    yield config
    pulumi.runtime.set_all_config({})


@pytest.fixture
def configured(emulator: EmulatorHandle, stack_config: StackConfig) -> EmulatorHandle:
    """A stack configured for the emulator, token included, and nothing in the environment."""
    stack_config["huggingface:apiUrl"] = emulator.api_url
    stack_config["huggingface:token"] = emulator.token
    return emulator


def counter(emulator: EmulatorHandle, path: str = "*", method: str = "*") -> str:
    """Count the requests on `path` (a rule that delays each one by a millisecond)."""
    rule = emulator.faults.stall(0.001, method=method, path=path, times=None)
    return str(rule["id"])


def count(emulator: EmulatorHandle, rule_id: str) -> int:
    return next(int(f["fired"]) for f in emulator.faults.list() if f["id"] == rule_id)


def create(emulator: EmulatorHandle, namespace: str, *bodies: dict[str, Any]) -> None:
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        for body in bodies:
            api.create_endpoint(namespace, body)


# ------------------------------------------------------------------------------ get_hardware


def test_every_row_of_the_hardware_list_typed_and_sorted(configured: EmulatorHandle) -> None:
    result = get_hardware()
    assert isinstance(result, GetHardwareResult) and result.namespace == configured.user
    document = emulated_hardware.provider_document({})
    computes = [c for v in document["vendors"] for r in v["regions"] for c in r["computes"]]  # type: ignore[attr-defined]
    assert len(result.hardware) == len(computes) > 90
    assert {h.id for h in result.hardware} == {c["id"] for c in computes}
    keys = [
        (h.vendor, h.region, h.accelerator, h.instance_type, h.num_accelerators)
        for h in result.hardware
    ]
    assert keys == sorted(keys)
    l4 = next(h for h in result.hardware if h.id == "aws-us-east-1-nvidia-l4-x4")
    assert l4 == Hardware(
        id="aws-us-east-1-nvidia-l4-x4",
        vendor="aws",
        region="us-east-1",
        accelerator="gpu",
        instance_type="nvidia-l4",
        instance_size="x4",
        architecture="Nvidia L4",
        num_accelerators=4,
        num_cpus=32,
        memory_gb=128.0,
        gpu_memory_gb=96.0,  # all four GPUs together
        price_per_hour=3.8,
        status="available",
        max_accelerators=64,
        used_accelerators=0,
    )
    assert type(l4.price_per_hour) is float and type(l4.num_accelerators) is int
    assert l4.deployable and l4.free_accelerators == 64
    statuses = {h.status for h in result.hardware}
    assert statuses == {"available", "low_availability", "not_available", "deprecated"}
    b200 = next(h for h in result.hardware if h.instance_type == "nvidia-b200")
    assert b200.max_accelerators == 0 and not b200.deployable  # its quota must be requested


def test_filters_ignore_case_and_combine(configured: EmulatorHandle) -> None:
    gpus = get_hardware(vendor="AWS", region="eu-west-1", accelerator="Gpu")
    assert (gpus.vendor, gpus.region, gpus.accelerator, gpus.instance_type) == (
        "AWS",
        "eu-west-1",
        "Gpu",
        None,
    )
    assert gpus.hardware and {(h.vendor, h.region, h.accelerator) for h in gpus.hardware} == {
        ("aws", "eu-west-1", "gpu")
    }
    assert "nvidia-l4" not in {h.instance_type for h in gpus.hardware}  # not offered there
    a100 = get_hardware(instance_type="nvidia-a100", region="us-east4")
    assert [h.instance_size for h in a100.hardware] == ["x1", "x2", "x4", "x8"]
    assert [h.price_per_hour for h in a100.hardware] == [3.6, 7.2, 14.4, 28.8]
    # Each value exists, the combination does not: an empty result, not an error.
    assert get_hardware(vendor="azure", accelerator="gpu").hardware == ()


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"region": "us-east1"}, "region 'us-east1'"),
        ({"vendor": "oracle"}, "vendor 'oracle'"),
        ({"accelerator": "tpu"}, "accelerator 'tpu'"),
        ({"instance_type": "nvidia-l40"}, "instance_type 'nvidia-l40'"),
    ],
)
def test_a_filter_value_no_row_has_names_the_values_there_are(
    configured: EmulatorHandle, filters: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=named) as error:
        get_hardware(**filters)
    assert "there:" in str(error.value)


def test_quota_follows_what_the_namespace_runs(configured: EmulatorHandle) -> None:
    body = endpoint_body("big", min_replica=2, max_replica=2)
    body["compute"] |= {"accelerator": "gpu", "instanceType": "nvidia-l40s", "instanceSize": "x4"}
    create(configured, configured.user, body)
    l40s = get_hardware(region="us-east-1", instance_type="nvidia-l40s").hardware
    assert {(h.max_accelerators, h.used_accelerators) for h in l40s} == {(8, 8)}
    assert not any(h.deployable for h in l40s)  # 2 replicas x 4 GPUs used the quota up
    other = get_hardware(region="eu-west-1", instance_type="nvidia-l40s").hardware
    assert {h.used_accelerators for h in other} == {0}  # quota is per region


# ------------------------------------------------------------------------------ list_endpoints


def test_list_endpoints_reads_every_page(configured: EmulatorHandle) -> None:
    names = [f"ep-{i:02d}" for i in range(23)]  # the service's pages hold 20
    create(configured, configured.user, *(endpoint_body(n) for n in reversed(names)))
    pages = counter(configured, "/v2/endpoint/*", "GET")
    result = list_endpoints()
    assert isinstance(result, ListEndpointsResult) and result.namespace == configured.user
    assert [e.name for e in result.endpoints] == names
    assert count(configured, pages) == 2


def test_list_endpoints_filters_on_the_service(configured: EmulatorHandle) -> None:
    create(
        configured,
        configured.user,
        endpoint_body("blue-a"),
        endpoint_body("blue-b"),
        {**endpoint_body("green-a"), "tags": ["prod", "eu"]},
    )
    assert [e.name for e in list_endpoints(search="blue").endpoints] == ["blue-a", "blue-b"]
    assert [e.name for e in list_endpoints(tags=["prod", "eu"]).endpoints] == ["green-a"]
    assert [e.name for e in list_endpoints(tags="prod").endpoints] == ["green-a"]
    assert list_endpoints(tags=["prod", "us"]).endpoints == ()


def test_an_endpoint_summary_reads_like_the_resource(configured: EmulatorHandle) -> None:
    body = {**endpoint_body("summary", type="authenticated"), "tags": ["a"]}
    create(configured, configured.user, body)
    (ep,) = list_endpoints().endpoints
    assert isinstance(ep, EndpointSummary)
    assert ep.id == f"{configured.user}/summary"
    assert (ep.repository, ep.framework, ep.task) == ("gpt2", "pytorch", "text-generation")
    assert ep.type == "authenticated"
    assert (ep.vendor, ep.region, ep.accelerator) == ("aws", "us-east-1", "cpu")
    assert (ep.instance_type, ep.instance_size, ep.min_replica, ep.max_replica) == (
        "intel-spr",
        "x1",
        1,
        2,
    )
    assert ep.tags == ("a",) and ep.status in ("pending", "initializing", "running")
    assert ep.created_at and ep.created_at.endswith("Z")
    # Every field but the id is an output of InferenceEndpoint, under its Python name.
    python_names = {to_snake(name) for name in OUTPUTS}
    assert {f.name for f in dataclasses.fields(EndpointSummary)} - {"id"} <= python_names


def test_list_endpoints_of_another_namespace(configured: EmulatorHandle) -> None:
    create(configured, "emulator-org", endpoint_body("org-one"))
    create(configured, configured.user, endpoint_body("mine"))
    result = list_endpoints("emulator-org")
    assert result.namespace == "emulator-org"
    assert [e.id for e in result.endpoints] == ["emulator-org/org-one"]


# ------------------------------------------------------------------------------ results


def test_results_read_as_mappings_and_export_whole(configured: EmulatorHandle) -> None:
    create(configured, configured.user, endpoint_body("exported"))
    row = get_hardware(instance_type="nvidia-t4", region="us-east4").hardware[0]
    assert row["price_per_hour"] == 0.5 and dict(row)["gpu_memory_gb"] == 16
    assert list(row.keys()) == [f.name for f in dataclasses.fields(Hardware)]
    assert dict(row.items()) == dict(row) and "gpu_memory_gb" in row
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.price_per_hour = 0  # type: ignore[misc]
    listed = list_endpoints()
    for value in (row, listed):
        # What `pulumi.export` sends to the engine: plain JSON, snake_case keys, the fields
        # whole (a Mapping was exported as the list of its keys under the real CLI).
        wire = _serialize(value)
        assert isinstance(wire, dict)
        assert json.loads(json.dumps(wire)) == wire
    assert _serialize(row)["instance_type"] == "nvidia-t4"
    assert _serialize(listed)["endpoints"][0]["name"] == "exported"
    assert pickle.loads(pickle.dumps(listed)) == listed


def _serialize(value: Any) -> Any:
    """What `pulumi.export(name, value)` registers: the SDK's `massage` of stack outputs, then
    its serialisation (pulumi/runtime/stack.py, rpc.py)."""
    import asyncio

    from pulumi.runtime.stack import massage

    return asyncio.run(rpc.serialize_property(massage(value, []), [], "output"))


def test_results_hold_no_token(configured: EmulatorHandle) -> None:
    create(
        configured,
        configured.user,
        {
            **endpoint_body("secretive"),
            "model": {**endpoint_body("x")["model"], "secrets": {"API_KEY": "sk-secret-value"}},
        },
    )
    hardware, endpoints = get_hardware(), list_endpoints()
    for result in (hardware, endpoints):
        text = repr(result) + json.dumps(_serialize(result)) + repr(pickle.dumps(result))
        assert configured.token not in text
        assert "sk-secret-value" not in text


# ------------------------------------------------------------------------------ discovery


def test_stack_config_wins_over_the_environment(
    emulator: EmulatorHandle, stack_config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", "http://127.0.0.1:9/v2")  # nothing listens
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment_not_valid")
    stack_config["huggingface:apiUrl"] = emulator.api_url
    stack_config["huggingface:token"] = emulator.token
    assert get_hardware(region="us-east-1").namespace == emulator.user


def test_the_environment_serves_without_stack_config(
    emulator: EmulatorHandle, stack_config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", emulator.api_url)
    monkeypatch.setenv("HF_TOKEN", emulator.token)
    assert list_endpoints().namespace == emulator.user


def test_the_token_file_of_hf_auth_login_serves_last(
    emulator: EmulatorHandle,
    stack_config: StackConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(emulator.token + "\n")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    stack_config["huggingface:apiUrl"] = emulator.api_url
    assert get_hardware(vendor="azure").namespace == emulator.user


def test_the_namespace_setting_and_the_argument(
    configured: EmulatorHandle, stack_config: StackConfig
) -> None:
    create(configured, "emulator-org", endpoint_body("in-org"))
    whoami = counter(configured, "/api/whoami-v2")
    stack_config["huggingface:namespace"] = "emulator-org"
    assert [e.name for e in list_endpoints().endpoints] == ["in-org"]
    assert get_hardware(vendor="gcp").namespace == "emulator-org"
    assert list_endpoints(configured.user).endpoints == ()  # the argument wins
    assert count(configured, whoami) == 0  # a namespace was always known


def test_max_retries_and_request_timeout_come_from_stack_config(
    configured: EmulatorHandle, stack_config: StackConfig
) -> None:
    configured.faults.respond(503, path="/v2/provider/*", times=1)
    assert get_hardware(vendor="azure").hardware  # the default retries absorb one 503
    stack_config["huggingface:maxRetries"] = "0"
    stack_config["huggingface:requestTimeout"] = "30"
    configured.faults.respond(503, path="/v2/provider/*", times=1)
    with pytest.raises(FunctionError, match="503"):
        get_hardware(vendor="azure")
    stack_config["huggingface:requestTimeout"] = "fast"
    with pytest.raises(SettingError, match="huggingface:requestTimeout"):
        get_hardware()


def test_a_refused_token_says_where_it_came_from_but_not_what_it_is(
    emulator: EmulatorHandle, stack_config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack_config["huggingface:apiUrl"] = emulator.api_url
    stack_config["huggingface:namespace"] = emulator.user
    stack_config["huggingface:token"] = "hf_wrongwrongwrongwrongwrong"
    with pytest.raises(FunctionError) as refused:
        get_hardware()
    message = str(refused.value)
    assert "401" in message and "the stack config `huggingface:token`" in message
    assert "hf_wrongwrong" not in message
    del stack_config["huggingface:token"]
    monkeypatch.setenv("HF_TOKEN", "hf_fromtheenvironmentwrongwrong")
    with pytest.raises(FunctionError, match="the HF_TOKEN environment variable"):
        list_endpoints()
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(FunctionError, match="No Hugging Face token was found"):
        list_endpoints()


# ------------------------------------------------------------------------------ in a program


def test_output_forms_with_known_inputs_resolve_in_a_program(
    configured: EmulatorHandle, stack_config: StackConfig
) -> None:
    create(configured, configured.user, endpoint_body("listed"))
    seen: dict[str, Any] = {}

    def program() -> None:
        region = pulumi.Output.from_input("us-east-1")
        offers = get_hardware_output(vendor="aws", region=region, accelerator="gpu")
        cheapest = offers.apply(
            lambda r: min(
                (h for h in r.hardware if (h.gpu_memory_gb or 0) >= 17),
                key=lambda h: h.price_per_hour or 0,
            )
        )
        InferenceEndpoint(
            "picked",
            **{
                **GPT2,
                "accelerator": "gpu",
                "instance_type": cheapest.apply(lambda h: h.instance_type),
                "instance_size": cheapest.apply(lambda h: h.instance_size),
            },
        )
        listed = list_endpoints_output(namespace=pulumi.Output.from_input(configured.user))
        listed.apply(lambda r: seen.__setitem__("names", [e.name for e in r.endpoints]))

    for preview in (True, False):  # a data source reads the service at preview as well
        (res,) = capture_program(stack_config.program(program), preview=preview)
        assert (res.inputs["instanceType"], res.inputs["instanceSize"]) == ("nvidia-l4", "x1")
        assert seen.pop("names") == ["listed"]


def test_output_forms_stay_unknown_without_calling_while_an_input_is(
    configured: EmulatorHandle, stack_config: StackConfig
) -> None:
    requests = counter(configured)

    def program() -> None:
        upstream = InferenceEndpoint("upstream", **GPT2)
        offers = get_hardware_output(region=upstream.region)  # unknown until it is created
        listed = list_endpoints_output(namespace=upstream.namespace)
        InferenceEndpoint(
            "downstream",
            **{
                **GPT2,
                "instance_type": offers.apply(lambda r: r.hardware[0].instance_type),
                "tags": listed.apply(lambda r: [e.name for e in r.endpoints]),
            },
        )

    resources = capture_program(
        stack_config.program(program), preview=True, new_resource=lambda args: ("", {})
    )
    downstream = next(r for r in resources if r.name == "downstream")
    assert isinstance(downstream.inputs["instanceType"], Unknown)
    assert isinstance(downstream.inputs["tags"], Unknown)
    assert count(configured, requests) == 0


def test_output_forms_call_off_the_programs_event_loop(
    configured: EmulatorHandle, stack_config: StackConfig
) -> None:
    """Two lookups in flight at once: neither blocks the event loop the other needs."""
    rule = configured.faults.gather(2, method="GET", path="/v2/provider/*", seconds=20)

    def program() -> None:
        a = get_hardware_output(vendor="aws")
        b = get_hardware_output(vendor="gcp")
        tags = pulumi.Output.all(a, b).apply(lambda r: [x.vendor or "" for x in r])
        InferenceEndpoint("both", **{**GPT2, "tags": tags})

    (res,) = capture_program(stack_config.program(program))
    assert res.inputs["tags"] == ["aws", "gcp"]
    (gathered,) = (f for f in configured.faults.list() if f["id"] == rule["id"])
    assert (gathered["gathered"], gathered["timedOut"]) == (2, 0)


def test_the_package_root_stays_lazy_and_exports_the_functions() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pulumi_hf_endpoints as p\n"
        "assert not {'pulumi', 'pydantic', 'httpx'} & set(sys.modules), sys.modules.keys()\n"
        "from pulumi_hf_endpoints import functions\n"
        "for name in ('get_hardware', 'get_hardware_output', 'list_endpoints',\n"
        "             'list_endpoints_output', 'GetHardwareResult', 'ListEndpointsResult',\n"
        "             'EndpointSummary', 'Hardware', 'FunctionError'):\n"
        "    assert name in p.__all__ and getattr(p, name) is getattr(functions, name), name\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
