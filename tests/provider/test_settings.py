"""Stack settings for the control-plane client: parsed by key, bad values named, and used."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pulumi_hf_endpoints import settings
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import names_in


def test_unset_settings_keep_the_clients_defaults() -> None:
    assert settings.client_settings({}).options() == {}
    blank = {settings.REQUEST_TIMEOUT: " ", settings.MAX_RETRIES: ""}
    assert settings.client_settings(blank).options() == {}


def test_settings_arrive_as_strings_and_become_client_options() -> None:
    got = settings.client_settings({settings.REQUEST_TIMEOUT: "2.5", settings.MAX_RETRIES: " 0 "})
    assert got.options() == {"timeout": 2.5, "max_retries": 0}
    api = EndpointsApi("hf_x", api_url="http://127.0.0.1:9/v2", **got.options())
    assert api.timeout.read == api.timeout.connect == 2.5 and api.max_retries == 0


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (settings.REQUEST_TIMEOUT, "soon", "from 1 to 3600"),
        (settings.REQUEST_TIMEOUT, "0", "from 1 to 3600"),
        (settings.REQUEST_TIMEOUT, "nan", "from 1 to 3600"),
        (settings.REQUEST_TIMEOUT, "1e9", "from 1 to 3600"),
        (settings.MAX_RETRIES, "-1", "from 0 to 20"),
        (settings.MAX_RETRIES, "2.5", "from 0 to 20"),
        (settings.MAX_RETRIES, "many", "from 0 to 20"),
    ],
)
def test_bad_values_name_the_key_and_the_range(key: str, value: str, allowed: str) -> None:
    with pytest.raises(settings.SettingError) as info:
        settings.client_settings({key: value})
    assert key in str(info.value) and allowed in str(info.value) and repr(value) in str(info.value)


@contextmanager
def _host(emulator: Any, **config: str) -> Iterator[ProviderHost]:
    with ProviderHost(env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}) as host:
        host.configure(
            {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url, **config},
            secret_keys=["huggingface:token"],
        )
        yield host


def test_a_bad_setting_fails_the_operation_by_name_before_any_request(emulator: Any) -> None:
    with _host(emulator, **{settings.REQUEST_TIMEOUT: "fast"}) as host:
        res = declare("bad-setting", **GPT2, name="bad-setting")
        assert host.check(res.urn, {}, res.inputs).failures == []  # preview is not blocked
        with pytest.raises(ProviderError) as info:
            Engine(host).up(res.urn, res.inputs)
    message = info.value.message
    assert "huggingface:requestTimeout must be a number of seconds from 1 to 3600" in message
    assert "'fast'" in message
    assert names_in(emulator) == set()


def test_timeout_and_retries_settings_reach_the_client(emulator: Any) -> None:
    engine: Engine
    with _host(emulator) as host:
        engine = Engine(host)
        res = declare("tuned", **GPT2, name="tuned")
        step = engine.up(res.urn, res.inputs)
        assert step.id is not None and step.outputs is not None
        # Each GET stalls 2 s: the default read timeout (60 s) rides it out.
        emulator.faults.stall(
            2, method="GET", path=f"/v2/endpoint/{emulator.user}/tuned", times=None
        )
        assert host.read(res.urn, step.id, step.outputs).id == step.id
    tight = {settings.REQUEST_TIMEOUT: "1", settings.MAX_RETRIES: "0"}
    with _host(emulator, **tight) as host, pytest.raises(ProviderError) as info:
        host.read(res.urn, step.id, step.outputs)
    assert "Timed out on GET" in info.value.message
    assert "gave up after" not in info.value.message  # one attempt: no retries
    emulator.faults.clear()
    with _host(emulator) as host:
        engine.host = host
        engine.destroy_all()
    assert names_in(emulator) == set()


def test_the_emulators_root_url_works_as_the_api_url(emulator: Any) -> None:
    """`pulumi-hf-endpoints emulator` prints its root URL first; set as huggingface:apiUrl it
    reaches the /v2 API instead of ending in a 404."""
    assert not emulator.base_url.endswith("/v2")
    with _host(emulator, **{settings.API_URL: emulator.base_url}) as host:
        engine = Engine(host)
        res = declare("root-url", **GPT2, name="root-url")
        step = engine.up(res.urn, res.inputs)
        assert step.outputs is not None and step.outputs["status"] == "running"
        assert names_in(emulator) == {"root-url"}
        engine.destroy_all()
    assert names_in(emulator) == set()
