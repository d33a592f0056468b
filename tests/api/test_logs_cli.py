"""`pulumi-hf-endpoints logs NAMESPACE/NAME [--follow] [--tail N]` against the emulator."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, http_client
from pulumi_hf_endpoints import cli
from pulumi_hf_endpoints.cli import build_parser, main
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body


@pytest.fixture
def chat(emulator: EmulatorHandle) -> Iterator[EndpointsApi]:
    """A running endpoint `chat`; the client to read and delete it."""
    endpoints = Endpoints(emulator)
    endpoints.create(endpoint_body("chat"))
    endpoints.watch("chat", "running")
    endpoints.close()
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        yield api


def command(*args: str) -> list[str]:
    """The console script's argv, run as `python -m`, finding token and URL in the env."""
    return [sys.executable, "-m", "pulumi_hf_endpoints.cli", "logs", *args]


def env_of(emulator: EmulatorHandle) -> dict[str, str]:
    return {**os.environ, "HF_TOKEN": emulator.token, "HF_ENDPOINTS_API_URL": emulator.api_url}


def test_tail_prints_the_last_lines(
    chat: EndpointsApi, emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    every = chat.get_logs(emulator.user, "chat")
    argv = ["logs", f"{emulator.user}/chat", "--tail", "3", "--token", emulator.token]
    assert main([*argv, "--api-url", emulator.api_url]) == 0
    assert capsys.readouterr().out.splitlines() == every[-3:]


def test_replica_prints_one_replicas_lines(
    chat: EndpointsApi, emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    every = chat.get_logs(emulator.user, "chat")
    replica = every[0].split()[2]
    argv = ["logs", f"{emulator.user}/chat", "--replica", replica, "--token", emulator.token]
    assert main([*argv, "--api-url", emulator.api_url]) == 0
    assert capsys.readouterr().out.splitlines() == chat.get_logs(
        emulator.user, "chat", replica=replica
    )
    assert main([*argv[:3], "none-such", *argv[4:], "--api-url", emulator.api_url]) == 0
    assert capsys.readouterr().out == ""


def test_a_name_alone_and_the_environment_are_enough(
    chat: EndpointsApi,
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", emulator.token)
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", emulator.api_url)
    assert main(["logs", "chat"]) == 0  # the token's own namespace (whoami)
    assert capsys.readouterr().out.splitlines() == chat.get_logs(emulator.user, "chat")


def test_follow_prints_new_lines_and_ends_when_the_endpoint_is_deleted(
    chat: EndpointsApi, emulator: EmulatorHandle
) -> None:
    last = chat.get_logs(emulator.user, "chat", tail=1)
    process = subprocess.Popen(
        command(f"{emulator.user}/chat", "--follow", "--tail", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_of(emulator),
        text=True,
    )
    try:
        assert process.stdout is not None
        assert [process.stdout.readline().rstrip("\n")] == last
        endpoint = chat.get_endpoint(emulator.user, "chat")
        http_client().get(f"{endpoint.status.url}/health")
        assert '"GET /health HTTP/1.1" 200' in process.stdout.readline()
        chat.delete_endpoint(emulator.user, "chat")
        rest, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert rest == "" and err == ""


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT's default action, as a command started from a terminal has it.
    A shell without job control starts background jobs with SIGINT ignored, an ignored
    signal stays ignored across exec, and Python then never raises KeyboardInterrupt: a test
    run launched that way would wait for an interrupt that cannot come."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_follow_quietly(chat: EndpointsApi, emulator: EmulatorHandle) -> None:
    process = subprocess.Popen(
        command(f"{emulator.user}/chat", "-f", "-n", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_of(emulator),
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline()  # following, blocked on the stream
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == cli.INTERRUPTED_STATUS == 130
    assert "Traceback" not in err and err.strip() == ""


def test_a_closed_pipe_ends_it_quietly(chat: EndpointsApi, emulator: EmulatorHandle) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # what `head` has done once it has its lines
    try:
        done = subprocess.run(
            command(f"{emulator.user}/chat"),
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env_of(emulator),
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == cli.BROKEN_PIPE_STATUS == 141
    assert done.stderr == b""


def test_errors_are_one_line_without_the_token(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--token", emulator.token, "--api-url", emulator.api_url]
    assert main(["logs", f"{emulator.user}/missing", *base]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 404 Not Found") and len(err.splitlines()) == 1
    assert emulator.token not in err
    assert main(["logs", "/missing", *base]) == 2
    assert "NAMESPACE/NAME" in capsys.readouterr().err
    assert main(["logs", f"{emulator.user}/missing", "--tail", "-1", *base]) == 2
    wrong = "hf_NotTheRightToken000111222"
    assert (
        main(["logs", f"{emulator.user}/missing", "--token", wrong, "--api-url", emulator.api_url])
        == 1
    )
    err = capsys.readouterr().err
    assert "401" in err and wrong not in err


def test_every_option_has_help() -> None:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    parser = subparsers.choices["logs"]
    options = {o for action in parser._actions for o in action.option_strings}
    assert {"--follow", "-f", "--tail", "-n", "--token", "--api-url"} <= options
    for action in parser._actions:
        assert action.help, action.option_strings or action.dest
