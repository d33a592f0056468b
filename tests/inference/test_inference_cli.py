"""`pulumi-hf-endpoints generate` and `chat` against the emulator."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from typing import Any

import pytest

from pulumi_hf_endpoints import cli, inference_cli
from pulumi_hf_endpoints.cli import build_parser, main
from pulumi_hf_endpoints.inference import EndpointClient
from tests.inference.conftest import Emu


def expected(emu: Emu, prompt: str, n: int, **params: Any) -> str:
    """The generated text alone (without the prompt)."""
    params = {"seed": 5, "do_sample": True, **params}
    with EndpointClient(emu.url, token=emu.token) as client:
        return client.text_generation(prompt, max_new_tokens=n, return_full_text=False, **params)


@pytest.mark.parametrize("stream", [False, True])
def test_generate_prints_the_generated_text_streamed_or_not(
    emu: Emu, capsys: pytest.CaptureFixture[str], stream: bool
) -> None:
    argv = ["generate", emu.url, "I am", "--max-new-tokens", "6", "--token", emu.token]
    argv += ["--seed", "5", "--do-sample", "--details"] + (["--stream"] if stream else [])
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == expected(emu, "I am", 6) + "\n"
    assert not out.startswith("I am")
    assert "[finish_reason: length]" in err


@pytest.mark.parametrize("stream", [False, True])
def test_include_prompt_puts_the_prompt_first_in_both_modes(
    emu: Emu, capsys: pytest.CaptureFixture[str], stream: bool
) -> None:
    argv = ["generate", emu.url, "I am", "--max-new-tokens", "6", "--token", emu.token]
    argv += ["--seed", "5", "--do-sample", "--include-prompt"] + (["--stream"] if stream else [])
    assert main(argv) == 0
    assert capsys.readouterr().out == "I am" + expected(emu, "I am", 6) + "\n"


def test_generate_stops_at_the_default_token_budget(
    emu: Emu, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --max-new-tokens the synthetic source (which never ends by itself) would fill
    the context; the default budget is what is sent instead."""
    assert main(["generate", emu.url, "I am", "--token", emu.token, "--details"]) == 0
    out, err = capsys.readouterr()
    budget = inference_cli.DEFAULT_MAX_NEW_TOKENS
    assert out == expected(emu, "I am", budget, seed=None, do_sample=None) + "\n"
    assert "[finish_reason: length]" in err


@pytest.mark.parametrize("command", ["generate", "chat"])
def test_every_option_has_help_and_the_default_budget_is_shown(command: str) -> None:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    parser = subparsers.choices[command]
    for action in parser._actions:
        assert action.help, action.option_strings or action.dest
    if command == "generate":
        text = " ".join(parser.format_help().split())
        assert f"(default: {inference_cli.DEFAULT_MAX_NEW_TOKENS})" in text


@pytest.mark.parametrize("stream", [False, True])
def test_a_closed_pipe_ends_generate_quietly(emu: Emu, stream: bool) -> None:
    """`generate ... | head`: once the reader has gone, the command stops without a
    traceback, with the status of a tool that SIGPIPE ended. The reader here is gone from the
    start, so the first write meets the closed pipe whatever the timing."""
    argv = [sys.executable, "-m", "pulumi_hf_endpoints.cli", "generate", emu.url, "I am"]
    argv += ["--max-new-tokens", "20", "--token", emu.token] + (["--stream"] if stream else [])
    read_end, write_end = os.pipe()
    os.close(read_end)  # what `head` has done once it has its lines
    try:
        done = subprocess.run(
            argv, stdout=write_end, stderr=subprocess.PIPE, timeout=120, check=False
        )
    finally:
        os.close(write_end)
    assert done.returncode == cli.BROKEN_PIPE_STATUS == 141
    assert done.stderr == b""  # no traceback, no "Exception ignored" at exit


def test_generate_reads_the_prompt_from_stdin(
    emu: Emu, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("I am"))
    argv = ["generate", emu.url, "-", "--max-new-tokens", "6", "--seed", "5", "--do-sample"]
    assert main([*argv, "--token", emu.token]) == 0
    assert capsys.readouterr().out == expected(emu, "I am", 6) + "\n"


def test_chat_streams_each_answer_and_keeps_history(
    emu: Emu, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello\n\nAnd again?\n"))
    argv = ["chat", emu.url, "--token", emu.token, "--max-tokens", "4", "--temperature", "0"]
    argv += ["--system", "Be brief."]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(len(line.split()) == 4 for line in lines)
    with EndpointClient(emu.url, token=emu.token) as client:
        first = client.chat_completion(
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
            max_tokens=4,
            temperature=0,
        )
    assert lines[0] == first.choices[0].message.content


def test_errors_are_one_line_without_the_token(
    emu: Emu, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", emu.url, "x", "--top-p", "1.0", "--token", emu.token]) == 1
    err = capsys.readouterr().err
    assert "`top_p` must be > 0.0 and < 1.0" in err
    wrong = "hf_NotTheRightToken000111222"
    assert main(["generate", emu.url, "x", "--token", wrong]) == 1
    err = capsys.readouterr().err
    assert "401" in err and wrong not in err
    assert main(["generate", "not-a-url", "x"]) == 2
