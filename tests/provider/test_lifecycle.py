"""InferenceEndpoint end to end: Pulumi's provider host driving the emulator, as `pulumi up`,
`refresh` and `destroy` would."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import NotFoundError
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2

ZEPHYR: dict[str, Any] = {
    "repository": "HuggingFaceH4/zephyr-7b-beta",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "gpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "protected",
    "instance_size": "x1",
    "instance_type": "nvidia-a10g",
    "custom_image": {
        "health_route": "/health",
        "env": {
            "MAX_BATCH_PREFILL_TOKENS": "2048",
            "MAX_INPUT_LENGTH": "1024",
            "MAX_TOTAL_TOKENS": "1512",
            "MODEL_ID": "/repository",
        },
        "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
    },
}


def api_of(emulator: Any) -> EndpointsApi:
    return EndpointsApi(emulator.token, api_url=emulator.api_url)


def names_in(emulator: Any) -> set[str]:
    with api_of(emulator) as api:
        return {e["name"] for e in api.list_endpoints(emulator.user)}


def test_guide_endpoint_is_created_served_updated_and_destroyed(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("my-endpoint", **GPT2)
    step = engine.up(res.urn, res.inputs)
    assert step.op == "create"
    out = step.outputs
    assert out is not None
    assert out["status"] == "running"
    assert out["namespace"] == emulator.user  # resolved through whoami
    assert step.id == f"{emulator.user}/{out['name']}"
    assert out["type"] == "authenticated"
    health = httpx.get(
        out["url"].rstrip("/") + out["healthRoute"],
        headers={"authorization": f"Bearer {emulator.token}"},
    )
    assert health.status_code == 200

    scaled = declare("my-endpoint", **{**GPT2, "instance_size": "x4"}, min_replica=2, max_replica=6)
    step = engine.up(scaled.urn, scaled.inputs)
    assert step.op == "update"
    assert step.outputs is not None and step.outputs["maxReplica"] == 6
    assert step.outputs["url"] == out["url"] and step.outputs["status"] == "running"
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, out["name"])
    assert live["compute"]["scaling"]["minReplica"] == 2
    assert live["compute"]["scaling"]["maxReplica"] == 6
    assert live["compute"]["instanceSize"] == "x4"

    assert engine.up(scaled.urn, scaled.inputs).op == "same"
    engine.destroy(res.urn)
    assert out["name"] not in names_in(emulator)


def test_custom_image_endpoint_and_image_env_update(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("zephyr", **ZEPHYR, name="aws-zephyr-7b-beta-0486")
    step = engine.up(res.urn, res.inputs)
    assert step.outputs is not None and step.outputs["status"] == "running"
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "aws-zephyr-7b-beta-0486")
    assert live["model"]["image"]["custom"]["url"].endswith("text-generation-inference:1.1.0")
    assert live["model"]["env"]["MODEL_ID"] == "/repository"

    changed = copy.deepcopy(ZEPHYR)
    changed["custom_image"]["env"]["MAX_INPUT_LENGTH"] = "2048"
    res2 = declare("zephyr", **changed, name="aws-zephyr-7b-beta-0486")
    step = engine.up(res2.urn, res2.inputs)
    assert step.op == "update"
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "aws-zephyr-7b-beta-0486")
    assert live["model"]["env"]["MAX_INPUT_LENGTH"] == "2048"
    assert live["model"]["env"]["MODEL_ID"] == "/repository"  # sent whole, nothing lost
    engine.destroy_all()


def test_pause_and_resume_follow_the_paused_input(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("batch", **GPT2, name="batch-endpoint")
    engine.up(res.urn, res.inputs)
    paused = declare("batch", **GPT2, name="batch-endpoint", paused=True)
    step = engine.up(paused.urn, paused.inputs)
    assert step.op == "update" and step.outputs is not None
    assert step.outputs["status"] == "paused" and step.outputs["paused"] is True
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, "batch-endpoint")["status"]["state"] == "paused"
    step = engine.up(res.urn, res.inputs)
    assert step.outputs is not None and step.outputs["status"] == "running"
    engine.destroy_all()


def test_create_paused(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("cold", **GPT2, paused=True)
    step = engine.up(res.urn, res.inputs)
    assert step.outputs is not None and step.outputs["status"] == "paused"
    engine.destroy_all()


def test_refresh_shows_drift_and_the_next_plan_corrects_it(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("drift", **GPT2, name="drift-endpoint", secrets={"API_KEY": "k-123"})
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        api.update_endpoint(
            emulator.user, "drift-endpoint", {"compute": {"scaling": {"maxReplica": 5}}}
        )
    step = engine.refresh(res.urn)
    assert step.op == "refresh" and step.outputs is not None
    assert step.outputs["maxReplica"] == 5
    assert step.inputs["maxReplica"] == 5
    # The service redacts secret values: refresh keeps ours instead of wiping them.
    assert step.outputs["secrets"] == {"API_KEY": "k-123"}
    plan = engine.preview(res.urn, res.inputs)
    assert plan.op == "update"
    step = engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "drift-endpoint")
    assert live["compute"]["scaling"]["maxReplica"] == 1
    assert engine.preview(res.urn, res.inputs).op == "same"
    engine.destroy_all()


def test_refresh_of_a_deleted_endpoint_removes_it(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("gone", **GPT2, name="gone-endpoint")
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        api.delete_endpoint(emulator.user, "gone-endpoint")
    assert engine.refresh(res.urn).op == "removed"
    assert res.urn not in engine.state


def test_auto_named_replacement_creates_the_new_endpoint_first(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2)
    old = engine.up(res.urn, res.inputs).outputs
    assert old is not None
    moved = declare("chat", **{**GPT2, "region": "eu-west-1"})
    step = engine.up(moved.urn, moved.inputs)
    assert step.op == "replace" and step.delete_before_replace is False
    assert step.rpcs[-2:] == ["Create", "Delete"]
    assert step.outputs is not None and step.outputs["name"] != old["name"]
    assert step.outputs["region"] == "eu-west-1"
    assert names_in(emulator) == {step.outputs["name"]}
    engine.destroy_all()


def test_named_replacement_deletes_first(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="fixed-name")
    engine.up(res.urn, res.inputs)
    moved = declare("chat", **{**GPT2, "region": "eu-west-1"}, name="fixed-name")
    step = engine.up(moved.urn, moved.inputs)
    assert step.op == "replace" and step.delete_before_replace is True
    assert step.rpcs[-2:] == ["Delete", "Create"]
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, "fixed-name")["provider"]["region"] == "eu-west-1"
    engine.destroy_all()


def test_name_conflict_asks_for_adopt_existing_and_adoption_works(
    live_host: ProviderHost, emulator: Any
) -> None:
    from pulumi_hf_endpoints import spec

    with api_of(emulator) as api:
        payload = spec.create_payload(
            spec.spec_from_properties(
                {**{k: v for k, v in declare("x", **GPT2).inputs.items() if not k.startswith("__")}}
            ),
            "existing-endpoint",
        )
        api.create_endpoint(emulator.user, payload)
    engine = Engine(live_host)
    res = declare("existing", **GPT2, name="existing-endpoint", max_replica=3)
    with pytest.raises(ProviderError, match="adoptExisting"):
        engine.up(res.urn, res.inputs)
    assert "existing-endpoint" in names_in(emulator)  # the failed create touched nothing

    adopt = declare(
        "existing", **GPT2, name="existing-endpoint", max_replica=3, adopt_existing=True
    )
    step = engine.up(adopt.urn, adopt.inputs)
    assert step.op == "create" and step.outputs is not None
    assert step.outputs["status"] == "running"
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "existing-endpoint")
    assert live["compute"]["scaling"]["maxReplica"] == 3
    engine.destroy_all()
    assert "existing-endpoint" not in names_in(emulator)


def test_adoption_over_a_different_region_is_refused_naming_the_difference(
    live_host: ProviderHost, emulator: Any
) -> None:
    """The region cannot change on an existing endpoint: adopting it would update what can be
    updated and record a region the service does not have. Refused, and nothing changes."""
    from pulumi_hf_endpoints import spec

    elsewhere = {k: v for k, v in declare("x", **GPT2).inputs.items() if not k.startswith("__")}
    elsewhere["region"] = "eu-west-1"
    with api_of(emulator) as api:
        api.create_endpoint(
            emulator.user, spec.create_payload(spec.spec_from_properties(elsewhere), "far-away")
        )
    engine = Engine(live_host)
    adopt = declare("near", **GPT2, name="far-away", max_replica=3, adopt_existing=True)
    with pytest.raises(ProviderError) as info:
        engine.up(adopt.urn, adopt.inputs)
    message = info.value.message
    assert "region: the endpoint has 'eu-west-1', this resource wants 'us-east-1'" in message
    assert "Nothing was changed" in message and adopt.urn not in engine.state
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "far-away")
    assert live["provider"]["region"] == "eu-west-1"
    assert live["compute"]["scaling"]["maxReplica"] == 1
    assert not any(t.startswith("pulumi-owner:") for t in live["tags"] or [])


def test_lost_create_answer_never_takes_over_someone_elses_endpoint(
    live_host: ProviderHost, emulator: Any
) -> None:
    from pulumi_hf_endpoints import spec

    theirs = {k: v for k, v in declare("x", **GPT2).inputs.items() if not k.startswith("__")}
    theirs["repository"] = "openai-community/gpt2-large"
    with api_of(emulator) as api:
        api.create_endpoint(
            emulator.user, spec.create_payload(spec.spec_from_properties(theirs), "taken")
        )
    # Our POST gets a 503: it may have been processed, so the provider looks the name up.
    emulator.faults.respond(503, method="POST", path=f"/v2/endpoint/{emulator.user}")
    engine = Engine(live_host)
    res = declare("ours", **GPT2, name="taken")
    with pytest.raises(ProviderError, match="adoptExisting"):
        engine.up(res.urn, res.inputs)
    assert res.urn not in engine.state
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "taken")
    assert live["model"]["repository"] == "openai-community/gpt2-large"  # left as it was


def test_failed_deployment_is_rolled_back(live_host: ProviderHost, emulator: Any) -> None:
    emulator.faults.fail_deployments(1, "Out of GPU capacity in us-east-1", operations=["create"])
    engine = Engine(live_host)
    res = declare("broken", **GPT2, name="broken-endpoint")
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    message = info.value.message
    assert "failed to deploy" in message and "Out of GPU capacity" in message
    assert "was deleted" in message
    assert res.urn not in engine.state
    assert names_in(emulator) == set()


def test_wait_timeout_is_rolled_back(live_host: ProviderHost, emulator: Any) -> None:
    emulator.faults.set_timings(initializing_seconds=30)
    engine = Engine(live_host)
    res = declare("slow", **GPT2, name="slow-endpoint", wait_timeout=1)
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    assert "after 1 s waiting" in info.value.message and "was deleted" in info.value.message
    assert names_in(emulator) == set()


def test_wait_false_returns_before_the_endpoint_serves(
    live_host: ProviderHost, emulator: Any
) -> None:
    emulator.faults.set_timings(initializing_seconds=30)
    engine = Engine(live_host)
    res = declare("nowait", **GPT2, wait=False)
    step = engine.up(res.urn, res.inputs)
    assert step.outputs is not None and step.outputs["status"] in ("pending", "initializing")
    engine.destroy_all()


def test_get_reads_an_existing_endpoint(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("src", **GPT2, name="shared-endpoint")
    engine.up(res.urn, res.inputs)
    (got,) = [r for r in [declare_get("shared", f"{emulator.user}/shared-endpoint")]]
    step = engine.get(got.urn, f"{emulator.user}/shared-endpoint", got.inputs)
    assert step.op == "read" and step.outputs is not None
    assert step.outputs["repository"] == "gpt2" and step.outputs["status"] == "running"
    engine.destroy(res.urn)


def test_delete_of_an_endpoint_already_gone_succeeds(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("twice", **GPT2, name="twice-endpoint")
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        api.delete_endpoint(emulator.user, "twice-endpoint")
        with pytest.raises(NotFoundError):
            api.get_endpoint(emulator.user, "twice-endpoint")
    engine.destroy(res.urn)
    assert res.urn not in engine.state


def test_no_token_or_secret_in_outputs_errors_or_logs(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    secret_value = "sv-ultra-secret-4711"
    res = declare("s", **GPT2, name="secret-endpoint", secrets={"API_KEY": secret_value})
    engine.up(res.urn, res.inputs)
    emulator.faults.fail_deployments(1, "boom", operations=["create"])
    bad = declare("t", **GPT2, name="failing-endpoint")
    with pytest.raises(ProviderError) as info:
        engine.up(bad.urn, bad.inputs)
    engine.refresh(res.urn)
    engine.destroy_all()
    text = live_host.transcript_text() + live_host.stderr_text() + info.value.details
    assert emulator.token not in text
    # The secret travels in inputs and outputs (Pulumi encrypts it there); nowhere else.
    assert secret_value not in info.value.details + live_host.stderr_text()


def declare_get(name: str, id_: str) -> Any:
    from pulumi_hf_endpoints import InferenceEndpoint
    from tests.harness import capture_program

    (res,) = capture_program(lambda: InferenceEndpoint.get(name, id_))
    return res


def test_a_service_message_quoting_a_secret_never_reaches_the_error(
    live_host: ProviderHost, emulator: Any
) -> None:
    secret_value = "sv-quoted-by-the-service-31337"
    emulator.faults.respond(
        400,
        method="POST",
        path=f"/v2/endpoint/{emulator.user}",
        message=f"model.secrets.API_KEY: value {secret_value} is not allowed",
    )
    res = declare("quoted", **GPT2, name="quoted-secret", secrets={"API_KEY": secret_value})
    with pytest.raises(ProviderError) as info:
        Engine(live_host).up(res.urn, res.inputs)
    assert "400 Bad Request" in info.value.message and "is not allowed" in info.value.message
    assert secret_value not in info.value.details
    assert secret_value not in live_host.stderr_text()
