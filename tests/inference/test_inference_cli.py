"""`pulumi-hf-endpoints generate` and `chat` against the emulator."""

from __future__ import annotations

import io

import pytest

from pulumi_hf_endpoints.cli import main
from pulumi_hf_endpoints.inference import EndpointClient
from tests.inference.conftest import Emu


def expected(emu: Emu, prompt: str, n: int) -> str:
    with EndpointClient(emu.url, token=emu.token) as client:
        return client.text_generation(prompt, max_new_tokens=n, seed=5, do_sample=True)


@pytest.mark.parametrize("stream", [False, True])
def test_generate(emu: Emu, capsys: pytest.CaptureFixture[str], stream: bool) -> None:
    argv = ["generate", emu.url, "I am", "--max-new-tokens", "6", "--token", emu.token]
    argv += ["--seed", "5", "--do-sample", "--details"] + (["--stream"] if stream else [])
    assert main(argv) == 0
    out, err = capsys.readouterr()
    text = expected(emu, "I am", 6)
    # POST / returns the prompt too; the stream prints only the new tokens
    assert out == (text.removeprefix("I am") if stream else text) + "\n"
    assert "[finish_reason: length]" in err


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
