"""ProviderHost against the real `python -m pulumi.dynamic`, with the echo provider."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import grpc
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

from tests.harness import (
    UNKNOWN,
    HostStartError,
    ProviderError,
    ProviderHost,
    exception_text,
    round_trip,
)
from tests.harness.sdk import HOST_SENDS_TRACEBACKS, needs_read_on_get

from .conftest import PROJECT, TOKEN, urn


def props(blob: str, **values: Any) -> dict[str, Any]:
    return {"__provider": blob, **values}


def test_plugin_info_and_port(host: ProviderHost) -> None:
    assert host.alive and host.port
    assert host.get_plugin_info() == "0.1.0"
    assert host.stdout_text().splitlines()[0] == str(host.port)


def test_configure_unwraps_secrets_and_redacts_them_in_the_transcript(blob: str) -> None:
    with ProviderHost(project=PROJECT) as h:
        accept = h.configure(
            {f"{PROJECT}:token": TOKEN, "huggingface:apiUrl": "http://x"},
            secret_keys=[f"{PROJECT}:token"],
        )
        assert accept is False  # the host never accepts secrets
        _, outs = h.create(urn("cfg"), props(blob, name="cfg"))
        assert outs["config_token"] == TOKEN  # the provider saw plaintext
        method, request, _ = h.transcript[0]
        assert method == "Configure"
        assert request["args"] == {f"{PROJECT}:token": "[secret]", "huggingface:apiUrl": "http://x"}
        configure_text = str(h.transcript[0])
        assert TOKEN not in configure_text


def test_every_rpc_round_trips(host: ProviderHost, blob: str) -> None:
    u, start = urn("rt"), len(host.transcript)
    checked = host.check(u, {}, props(blob, name="rt", size=1))
    assert checked.failures == []
    assert checked.inputs["__provider"] == blob
    assert checked.inputs["check_types"] == {"name": "builtins.str", "size": "builtins.float"}

    id_, outs = host.create(u, checked.inputs)
    assert id_.startswith("rt-")
    assert outs["op"] == "create" and outs["name"] == "rt" and outs["__provider"] == blob
    assert outs["config_token"] == TOKEN

    news = host.check(u, checked.inputs, props(blob, name="rt", size=2)).inputs
    diff = host.diff(u, id_, outs, news, old_inputs=checked.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [], False)
    assert host.diff(u, id_, outs, checked.inputs).changes is False

    updated = host.update(u, id_, outs, news, old_inputs=checked.inputs)
    assert updated["op"] == "update" and updated["size"] == 2.0

    read = host.read(u, id_, updated, inputs=news)
    assert read.id == id_ and read.outputs["op"] == "read" and read.inputs is None

    host.delete(u, id_, updated, old_inputs=news)
    methods = [entry.method for entry in host.transcript[start:]]
    assert methods == ["Check", "Create", "Check", "Diff", "Diff", "Update", "Read", "Delete"]


def test_check_failures_are_returned(host: ProviderHost, blob: str) -> None:
    result = host.check(urn("bad"), {}, props(blob, replicas=-1))
    assert result.failures == [("replicas", "must not be negative")]


def test_unknowns_arrive_as_unknown_instances(host: ProviderHost, blob: str) -> None:
    u = urn("unk")
    result = host.check(u, {}, props(blob, name="unk", model=UNKNOWN, nested={"x": Unknown()}))
    assert result.inputs["check_types"]["model"] == "pulumi.output.Unknown"
    assert isinstance(result.inputs["model"], Unknown)
    assert isinstance(result.inputs["nested"]["x"], Unknown)
    id_, outs = host.create(u, props(blob, name="unk", model="m"))
    # Check's Unknown output goes back on the wire as UNKNOWN and reaches diff as Unknown.
    assert host.diff(u, id_, outs, result.inputs).changes is True
    request = host.transcript[-1].request
    assert request["news"]["model"] == UNKNOWN


def test_numbers_become_floats_and_none_keys_vanish(host: ProviderHost, blob: str) -> None:
    _, outs = host.create(
        urn("num"), props(blob, name="num", n=1, nested={"minReplica": 0}, gone_key=None)
    )
    assert outs["n"] == 1.0 and isinstance(outs["n"], float)
    assert isinstance(outs["nested"]["minReplica"], float)
    assert "gone_key" not in outs and "gone_key" not in outs["types"]
    assert round_trip({"a": 1, "b": None, "c": [1, None]}) == {"a": 1.0, "c": [1.0, None]}


@pytest.mark.parametrize("method", ["check", "diff", "create", "read", "update", "delete"])
def test_errors_become_provider_errors_with_the_last_line(
    host: ProviderHost, blob: str, method: str
) -> None:
    u, bad = urn("err"), props(blob, name="err", fail_on=method)
    calls = {
        "check": lambda: host.check(u, {}, bad),
        "diff": lambda: host.diff(u, "id", bad, bad),
        "create": lambda: host.create(u, bad),
        "read": lambda: host.read(u, "id", bad),
        "update": lambda: host.update(u, "id", bad, bad),
        "delete": lambda: host.delete(u, "id", bad),
    }
    with pytest.raises(ProviderError) as info:
        calls[method]()
    err = info.value
    if HOST_SENDS_TRACEBACKS:
        assert err.message == f"ValueError: echo provider told to fail in {method}"
        assert err.details.startswith("Traceback (most recent call last):")
    else:  # gRPC's own wording: the exception's text, without its type
        assert err.message == f"echo provider told to fail in {method}"
        assert err.details == f"Exception calling application: {err.message}"
    assert str(err) == err.message
    assert err.code == grpc.StatusCode.UNKNOWN
    assert err.method == method.capitalize()
    assert host.transcript[-1].response == err.details


def test_read_without_props_or_inputs_fails_like_import(host: ProviderHost) -> None:
    error = "KeyError: '__provider'" if HOST_SENDS_TRACEBACKS else "'__provider'"
    with pytest.raises(ProviderError) as info:
        host.read(urn("imp"), "some-id", None)
    assert info.value.message == error


@needs_read_on_get
def test_get_reads_with_inputs_only(host: ProviderHost, blob: str) -> None:
    read = host.read(urn("get"), "ns/get", None, inputs=props(blob, name="get"))
    assert read.id == "ns/get" and read.outputs["name"] == "get"
    assert "properties" not in host.transcript[-1].request


def test_unimplemented_rpc(host: ProviderHost) -> None:
    with pytest.raises(ProviderError) as info:
        host.call("GetSchema", provider_pb2.GetSchemaRequest())
    assert info.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert "GetSchema is not implemented" in info.value.message


def test_exception_text() -> None:
    tb = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    raise E("a")\n'
    assert exception_text(tb + "KeyError: 'k'\n\n") == "KeyError: 'k'"
    assert exception_text("Exception calling application: 'k'") == "'k'"  # hosts before 3.260
    assert exception_text(tb + "ValueError: one\ntwo\n") == "ValueError: one\ntwo"
    assert exception_text("Deadline Exceeded") == "Deadline Exceeded"


def test_rpc_timeout(host: ProviderHost, blob: str) -> None:
    with pytest.raises(ProviderError) as info:
        host.create(urn("slow"), props(blob, name="slow", sleep=1.5), timeout=0.3)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(1.3)  # let the abandoned create finish before other tests use the workers


def test_four_workers_serialise_eight_creates(host: ProviderHost, blob: str) -> None:
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            host.create(urn(f"c{i}"), props(blob, name=f"c{i}", sleep=0.5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert errors == []
    assert elapsed >= 1.0  # 8 x 0.5 s over 4 workers is at least two rounds


def test_stderr_is_captured_and_survives_close(blob: str) -> None:
    h = ProviderHost(project=PROJECT).start()
    try:
        h.create(urn("log"), props(blob, name="log", stderr="hello from the provider"))
    finally:
        h.close()
    assert "hello from the provider" in h.stderr_text()
    assert h.stdout_text().strip().isdigit()


def test_process_is_gone_after_close_and_kill(blob: str) -> None:
    with ProviderHost(project=PROJECT) as h:
        pid = h.pid
        assert pid is not None and h.alive
    assert not h.alive and h.process is not None and h.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

    k = ProviderHost(project=PROJECT).start()
    k.kill()
    assert not k.alive
    with pytest.raises(RuntimeError, match="not running"):
        k.get_plugin_info()
    k.close()  # idempotent


def test_start_failure_is_reported() -> None:
    h = ProviderHost(python="/bin/false", start_timeout=10)
    with pytest.raises(HostStartError, match="exited with 1"):
        h.start()
    assert not h.alive


def test_secret_wrapped_props_are_sent_plain(host: ProviderHost, blob: str) -> None:
    _, outs = host.create(urn("sec"), props(blob, name="sec", pw=rpc.wrap_rpc_secret("p")))
    assert outs["pw"] == "p"
