"""The token and secret values never leak.

Full lifecycles (create, refresh, update, pause, resume, failed steps, destroy) run with a
token and secret values set, through Pulumi's provider host and directly in-process. Then
everything is scanned: every request and answer the host exchanged (transcript), its stderr and
stdout, every error, the engine state, log records (DEBUG, every logger) and the `__provider`
blob. The token must appear nowhere; secret values only inside the `secrets` property (and the
registry password inside `customImage.credentials.password`), which Pulumi encrypts in state.
"""

from __future__ import annotations

import base64
import json
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import dill
import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.reliability.support import BASE, FIGURES, PROVIDER_KEY, TunedProvider, props

pytestmark = pytest.mark.reliability

SECRET_A = "sv-alpha-7f3e9c1d2b"
SECRET_B = "sv-bravo-0a8b6c4d2e"
SECRET_A2 = "sv-alpha-rotated-55aa"
REGISTRY_PASSWORD = "rp-charlie-9d8c7b6a"
SECRET_VALUES = (SECRET_A, SECRET_B, SECRET_A2, REGISTRY_PASSWORD)

PROGRAM: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "custom",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "authenticated",
    "instance_size": "x2",
    "instance_type": "intel-spr",
    "env": {"LOG_LEVEL": "info"},
    "custom_image": {
        "url": "registry.example.com/team/tgi:1.0",
        "health_route": "/health",
        "credentials": {"username": "robot", "password": REGISTRY_PASSWORD},
    },
    "wait_timeout": 10,
}


def strip_allowed(value: Any, path: tuple[str, ...] = ()) -> Any:
    """`value` without the places secret values may be: any `secrets` map, and a registry
    password under `credentials` (both Pulumi properties it keeps secret)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "secrets" or (key == "password" and path[-1:] == ("credentials",)):
                out[key] = "<allowed>"
            else:
                out[key] = strip_allowed(item, (*path, str(key)))
        return out
    if isinstance(value, list):
        return [strip_allowed(item, path) for item in value]
    if isinstance(value, str) and value.startswith("{"):
        try:  # JSON strings inside the transcript (e.g. struct fields) are scanned the same way
            return strip_allowed(json.loads(value), path)
        except ValueError:
            return value
    return value


def occurrences(text: str, needles: tuple[str, ...]) -> dict[str, int]:
    return {n: text.count(n) for n in needles if n in text}


def exception_texts(exc: BaseException) -> Iterator[str]:
    """Everything an exception carries, along its cause/context chain: message, repr,
    attributes, the formatted traceback, and the headers of any httpx request kept inside."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(vars(current)) if hasattr(current, "__dict__") else ""
        yield "".join(traceback.format_exception(current))
        yield repr(pickle.loads(pickle.dumps(current)).__dict__) if _picklable(current) else ""
        request = getattr(current, "_request", None)  # httpx errors may keep their request
        if isinstance(request, httpx.Request):
            yield repr(dict(request.headers))
        current = current.__cause__ or current.__context__


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.dumps(exc)
    except Exception:
        return False
    return True


@pytest.fixture
def secret_emulator(make_emulator: Callable[..., EmulatorHandle]) -> EmulatorHandle:
    return make_emulator(
        pending_seconds=0.05, initializing_seconds=0.1, updating_seconds=0.1, resume_seconds=0.1
    )


@pytest.mark.parametrize("token_via", ["stack-config", "HF_TOKEN"])
def test_full_lifecycles_leak_neither_token_nor_secret_values(
    secret_emulator: EmulatorHandle, token_via: str
) -> None:
    emu = secret_emulator
    token = emu.token
    env = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
    config = {"huggingface:apiUrl": emu.api_url}
    if token_via == "HF_TOKEN":
        env["HF_TOKEN"] = token
    else:
        config["huggingface:token"] = token
    errors: list[ProviderError] = []
    with ProviderHost(env=env) as host:
        host.configure(config, secret_keys=["huggingface:token"])
        engine = Engine(host)
        res = declare("vault", **PROGRAM, secrets={"API_KEY": SECRET_A, "DB_PASSWORD": SECRET_B})
        assert "secrets" in res.secret_keys  # the program marks them secret for Pulumi
        provider_blob = res.inputs[PROVIDER_KEY]

        def step(action: Callable[[], Any]) -> None:
            try:
                action()
            except ProviderError as error:
                errors.append(error)

        step(lambda: engine.up(res.urn, res.inputs))
        step(lambda: engine.refresh(res.urn))
        rotated = declare(
            "vault",
            **PROGRAM,
            max_replica=2,
            secrets={"API_KEY": SECRET_A2, "DB_PASSWORD": SECRET_B},
        )
        step(lambda: engine.up(rotated.urn, rotated.inputs))
        paused = declare(
            "vault", **PROGRAM, paused=True, secrets={"API_KEY": SECRET_A2, "DB_PASSWORD": SECRET_B}
        )
        step(lambda: engine.up(paused.urn, paused.inputs))
        step(lambda: engine.up(rotated.urn, rotated.inputs))
        step(lambda: engine.preview(res.urn, res.inputs))
        # Failures on the way: a failed update, a server that echoes the token in its error, a
        # failed create (rolled back) and a refused delete.
        emu.faults.fail_deployments(
            1, f"bad secret DB_PASSWORD ({len(SECRET_B)} chars)", operations=["update"]
        )
        step(lambda: engine.up(res.urn, res.inputs))
        emu.faults.respond(
            500,
            method="GET",
            path="/v2/endpoint/*",
            times=6,
            message=f"upstream said: invalid credentials Bearer {token} ({token})",
        )
        step(lambda: engine.refresh(res.urn))
        emu.faults.clear()
        emu.faults.fail_deployments(1, operations=["create"])
        other = declare("vault2", **PROGRAM, secrets={"API_KEY": SECRET_A})
        step(lambda: engine.up(other.urn, other.inputs))
        emu.faults.respond(403, method="DELETE", times=1, message=f"token {token} is read-only")
        step(lambda: engine.destroy(res.urn))
        emu.faults.clear()
        state = json.dumps([vars(e) for e in engine.state.values()], default=str)
        engine.destroy_all()
        assert errors, "the failure steps did not fail"
        assert len(errors) >= 4

        transcript = [entry._asdict() for entry in host.transcript]
        texts = {
            "transcript": json.dumps(transcript, default=str),
            "stderr": host.stderr_text(),
            "stdout": host.stdout_text(),
            "errors": "\n".join(e.details for e in errors),
            "state": state,
        }
    blob = base64.b64decode(provider_blob)
    texts["__provider blob"] = provider_blob + blob.decode("latin-1")
    texts["__provider object"] = repr(vars(dill.loads(blob)))

    # The token: nowhere at all.
    for where, text in texts.items():
        found = occurrences(text, (token,))
        assert not found, f"the token appears in {where}"
    # Secret values: only inside `secrets` (and the registry password in its place).
    restricted = json.dumps(strip_allowed(transcript), default=str)
    assert not occurrences(restricted, SECRET_VALUES), "a secret value outside `secrets`"
    for where in ("stderr", "stdout", "errors", "__provider blob", "__provider object"):
        assert not occurrences(texts[where], SECRET_VALUES), f"a secret value in {where}"
    # ... and they did travel where they belong, so the scan looked at the right data.
    assert SECRET_A2 in texts["transcript"] and REGISTRY_PASSWORD in texts["transcript"]
    assert "***" in texts["errors"]  # the echoed token was redacted, not dropped silently
    FIGURES.add("secret scans: texts scanned", len(texts))
    FIGURES.add("secret scans: token occurrences", 0)
    FIGURES.add("secret scans: secret values outside `secrets`", 0)
    FIGURES.add("secret scans: provider errors scanned", len(errors))


def test_in_process_provider_logs_and_exceptions_leak_nothing(
    secret_emulator: EmulatorHandle,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = secret_emulator
    token = emu.token
    monkeypatch.setenv("PULUMI_HF_ENDPOINTS_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("RELIABILITY_BACKOFF", "0.02")
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    provider = TunedProvider()  # the shipped provider; only its client's backoff is shorter
    provider.configure(
        ConfigureRequest(
            Config(
                raw_config={"huggingface:token": token, "huggingface:apiUrl": emu.api_url},
                project_name="project",
            )
        )
    )
    exceptions: list[BaseException] = []

    def attempt(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:
            exceptions.append(exc)
            return None

    news = props(
        "inproc",
        **{
            "secrets": {"API_KEY": SECRET_A},
            "customImage": {
                "url": "r.example.com/x:1",
                "credentials": {"username": "u", "password": REGISTRY_PASSWORD},
            },
            "framework": "custom",
            "waitTimeout": 10,
        },
    )
    checked = provider.check({}, news)
    assert not checked.failures
    created = provider.create(checked.inputs)
    provider.read(created.id, created.outs)
    changed = {**checked.inputs, "maxReplica": 3, "secrets": {"API_KEY": SECRET_A2}}
    provider.update(created.id, created.outs, changed)
    emu.faults.respond(500, path="/v2/endpoint/*", times=8, message=f"echo {token}")
    attempt(lambda: provider.read(created.id, created.outs))
    attempt(lambda: provider.update(created.id, created.outs, checked.inputs))
    emu.faults.clear()
    emu.faults.fail_deployments(1, operations=["create"])
    attempt(lambda: provider.create(provider.check({}, props("inproc2", waitTimeout=5)).inputs))
    emu.faults.reset(times=6)
    attempt(lambda: provider.read(created.id, created.outs))
    emu.faults.clear()
    provider.delete(created.id, created.outs)
    assert len(exceptions) >= 3

    logs = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    assert "GET" in logs  # the client did log its requests
    assert token not in logs
    assert not occurrences(logs, SECRET_VALUES)
    for exc in exceptions:
        for text in exception_texts(exc):
            assert token not in text, f"token inside {type(exc).__name__}"
            assert not occurrences(text, SECRET_VALUES), type(exc).__name__
    # The provider as Pulumi pickles it after it was configured and used: no config, no client.
    blob = pickle.dumps(provider)
    assert token.encode() not in blob and len(blob) < 200
    FIGURES.add("secret scans: in-process exceptions scanned", len(exceptions))
    FIGURES.add("secret scans: log records scanned", len(caplog.records))


def test_emulator_redacts_secrets_on_read(secret_emulator: EmulatorHandle) -> None:
    from pulumi_hf_endpoints import spec

    emu = secret_emulator
    desired = spec.spec_from_properties(
        {
            **BASE,
            "framework": "custom",
            "secrets": {"API_KEY": SECRET_A, "DB_PASSWORD": SECRET_B},
            "customImage": {
                "url": "r.example.com/x:1",
                "credentials": {"username": "robot", "password": REGISTRY_PASSWORD},
            },
        }
    )
    payload = spec.create_payload(desired, "redacted")
    with httpx.Client(base_url=emu.base_url, headers=emu.headers, timeout=10) as client:
        created = client.post(f"/v2/endpoint/{emu.user}", json=payload)
        assert created.status_code == 200
        answers = [
            created,
            client.get(f"/v2/endpoint/{emu.user}/redacted"),
            client.get(f"/v2/endpoint/{emu.user}"),
            client.put(
                f"/v2/endpoint/{emu.user}/redacted",
                json={"compute": {"scaling": {"minReplica": 1, "maxReplica": 2}}},
            ),
            client.get("/emulator/state"),
        ]
        got = answers[1].json()
        url = got["status"]["url"]
        for text in (a.text for a in answers):
            assert not occurrences(text, SECRET_VALUES)
        assert got["model"]["secrets"] == {"API_KEY": None, "DB_PASSWORD": None}
        assert got["model"]["image"]["custom"]["credentials"] == {"username": "", "password": None}
        served = httpx.get(f"{url}/info", headers=emu.headers, timeout=10)
        assert not occurrences(served.text, SECRET_VALUES)
        client.delete(f"/v2/endpoint/{emu.user}/redacted")
    FIGURES.add("secret scans: emulator answers checked for redaction", len(answers) + 1)
