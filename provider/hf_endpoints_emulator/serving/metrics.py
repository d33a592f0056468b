"""Prometheus text for `/metrics`, with TGI's metric names where TGI has one.

Counters are per endpoint (one TGI process per endpoint in the real service); the
`tgi_emulator_*` series describe the shared backend and are the emulator's own.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from .runner import ModelRunner

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_TOKEN_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 4000)


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def render(self, name: str, help_text: str) -> list[str]:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            cumulative += count
            lines.append(f'{name}_bucket{{le="{bound:g}"}} {cumulative}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {self.n}')
        lines += [f"{name}_sum {self.total:.6f}", f"{name}_count {self.n}"]
        return lines


@dataclass
class EndpointMetrics:
    """What one endpoint has served since the emulator started."""

    requests: int = 0
    successes: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    duration: Histogram = field(default_factory=lambda: Histogram(_DURATION_BUCKETS))
    generated_tokens: Histogram = field(default_factory=lambda: Histogram(_TOKEN_BUCKETS))
    input_length: Histogram = field(default_factory=lambda: Histogram(_TOKEN_BUCKETS))

    def render(self, runner: ModelRunner | None) -> str:
        lines = [
            "# HELP tgi_request_count Generation requests received.",
            "# TYPE tgi_request_count counter",
            f"tgi_request_count {self.requests}",
            "# HELP tgi_request_success Generation requests that succeeded.",
            "# TYPE tgi_request_success counter",
            f"tgi_request_success {self.successes}",
            "# HELP tgi_request_failure Generation requests that failed, by error type.",
            "# TYPE tgi_request_failure counter",
        ]
        lines += [f'tgi_request_failure{{err="{k}"}} {v}' for k, v in sorted(self.failures.items())]
        lines += self.duration.render("tgi_request_duration", "End-to-end request seconds.")
        lines += self.generated_tokens.render(
            "tgi_request_generated_tokens", "Tokens generated per request."
        )
        lines += self.input_length.render("tgi_request_input_length", "Prompt tokens per request.")
        lines += [
            "# HELP tgi_request_in_flight Requests being served (the 429 limit applies to it).",
            "# TYPE tgi_request_in_flight gauge",
            f"tgi_request_in_flight {self.in_flight}",
        ]
        if runner is not None:
            label = f'backend="{runner.backend.kind}",model="{runner.backend.model_name}"'
            lines += [
                "# HELP tgi_queue_size Generations waiting for a free model context.",
                "# TYPE tgi_queue_size gauge",
                f"tgi_queue_size {runner.waiting}",
                "# HELP tgi_batch_current_size Generations running now.",
                "# TYPE tgi_batch_current_size gauge",
                f"tgi_batch_current_size {runner.running}",
                "# HELP tgi_emulator_backend_generated_tokens Tokens the backend produced "
                "(shared by endpoints serving the same model).",
                "# TYPE tgi_emulator_backend_generated_tokens counter",
                f"tgi_emulator_backend_generated_tokens{{{label}}} {runner.tokens_generated}",
                "# HELP tgi_emulator_generations_cancelled Generations stopped because their "
                "client went away.",
                "# TYPE tgi_emulator_generations_cancelled counter",
                f"tgi_emulator_generations_cancelled{{{label}}} {runner.cancelled}",
            ]
        return "\n".join(lines) + "\n"
