"""An endpoint's container log, as the service's logs routes serve it, made from what happened.

Nothing is written while the emulator runs: the log is computed when asked for, from the states
the endpoint entered (`EndpointService.transitions`), the causes of its failed deployments and
the data-plane requests its replicas served (`ActivityTracker.recent_requests`). So it survives
a restart (except the request lines, kept in memory) and a line never appears before the moment
it describes. A phase's lines come a few milliseconds apart from its start; a line that would
fall after the next transition never happened and is left out.

A line holds what the service's logs page shows in columns (time, level, replica, content); the
content reads like text-generation-inference's own lines:
``2025-01-01T10:00:00.120Z  INFO 6pajyw3k-z7ghx text_generation_launcher: Starting shard rank=0``.
Secret values never appear: a line names the model, hardware and image (without registry
credentials), never the environment or secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import lifecycle
from .lifecycle import Transition
from .views import timestamp

#: Seconds between the lines of one phase.
LINE_SPACING = 0.01
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_STARTS = (lifecycle.PENDING, lifecycle.INITIALIZING, lifecycle.UPDATING)
INFO, WARN, ERROR = "INFO", "WARN", "ERROR"


@dataclass(frozen=True)
class RequestLine:
    """A data-plane request a replica answered: when it finished, and what it was."""

    at: float
    method: str
    path: str
    status: int
    disconnected: bool = False


@dataclass(frozen=True, order=True)
class LogLine:
    """One line: when, its rank among lines of the same instant, level, replica and text."""

    at: float
    order: int
    level: str
    replica: str
    text: str

    def render(self) -> str:
        return f"{timestamp(self.at)} {self.level:>5} {self.replica} {self.text}"


def _short_id(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:length])


def replica_name(endpoint_id: str, started_at: float) -> str:
    """The deployment and replica identifiers of a deployment, ``6pajyw3k-z7ghx`` as in the
    service's logs page; stable for one deployment of one endpoint."""
    seed = f"{endpoint_id}:{started_at!r}"
    return f"{_short_id(seed, 8)}-{_short_id(seed + ':replica', 5)}"


def image_name(config: Mapping[str, Any]) -> str:
    """The image a replica pulls: the configured URL without registry user-info, or the
    Hugging Face toolkit's."""
    model = config["model"]
    for settings in (model.get("image") or {}).values():
        url = settings.get("url") if isinstance(settings, dict) else None
        if isinstance(url, str) and url:
            scheme, sep, rest = url.partition("://")
            if not sep:
                scheme, rest = "", url
            # `user:password@registry/image`: user-info comes before the first '/'; a digest
            # (`image@sha256:...`) comes after it.
            host, slash, path = rest.partition("/")
            name = scheme + sep + host.rpartition("@")[2] + slash + path
            last = name.rpartition("/")[2]
            # Without a tag or digest, the container runtime pulls `latest` ("docker image
            # pull", https://docs.docker.com/reference/cli/docker/image/pull/).
            return name if ":" in last or "@" in last else name + ":latest"
    return f"huggingface/inference-toolkit ({model.get('framework', 'pytorch')})"


Lines = list[tuple[str, str]]
"""(level, text) of each line, in order."""


def _phase_lines(
    state: str,
    previous: str | None,
    replica: str,
    config: Mapping[str, Any],
    cause: str | None,
) -> tuple[Lines, Lines]:
    """What is logged when the endpoint enters `state` after `previous`: the lines that lead
    to it (a crash before `failed`, "Connected" before `running`), which end at the transition,
    and the lines that follow it, which start there."""
    model = config["model"]
    compute = config["compute"]
    provider = config["provider"]
    repository = model["repository"] + (f"@{model['revision']}" if model.get("revision") else "")
    if state == lifecycle.PENDING:
        where = f"{provider['vendor']} {provider['region']}"
        instance = f"{compute['instanceType']} {compute['instanceSize']}"
        return [], [(INFO, f"endpoint: Scheduling replica {replica} ({where}, {instance})")]
    if state in (lifecycle.INITIALIZING, lifecycle.UPDATING):
        first: Lines = []
        if state == lifecycle.UPDATING:
            first.append((INFO, f"endpoint: Rolling out a new configuration on replica {replica}"))
        elif previous == lifecycle.SCALED_TO_ZERO:
            first.append((INFO, f"endpoint: Scaling up from zero: starting replica {replica}"))
        return [], [
            *first,
            (INFO, f"endpoint: Pulling image {image_name(config)}"),
            (INFO, "endpoint: Image pulled, starting container"),
            (INFO, "text_generation_launcher: Starting shard rank=0"),
            (INFO, f"text_generation_launcher: Loading model weights from {repository}"),
            (INFO, "text_generation_launcher: Waiting for shard to be ready... rank=0"),
        ]
    if state == lifecycle.RUNNING:
        if previous not in (lifecycle.INITIALIZING, lifecycle.UPDATING):
            return [], []
        ready: Lines = [
            (INFO, "text_generation_launcher: Shard ready rank=0"),
            (INFO, "text_generation_launcher: Starting Webserver"),
            (INFO, "text_generation_router: Connected"),
        ]
        after: Lines = []
        if previous == lifecycle.UPDATING:
            after.append((INFO, "endpoint: Replicas of the previous configuration stopped"))
        return ready, after
    if state in (lifecycle.FAILED, lifecycle.UPDATE_FAILED):
        reason = [line for line in (cause or "").splitlines() if line.strip()]
        crash: Lines = [
            (ERROR, f"shard-manager: {line} rank=0")
            for line in reason or [lifecycle.MESSAGES[state]]
        ]
        crash.append((ERROR, "text_generation_launcher: Shard 0 failed to start"))
        after = [(INFO, "text_generation_launcher: Shutting down shards")]
        if state == lifecycle.UPDATE_FAILED:
            kept = "replicas of the previous configuration keep serving"
            after.append((WARN, f"endpoint: Update failed; {kept}"))
        return crash, after
    if state == lifecycle.PAUSED:
        return [], [(INFO, "endpoint: Endpoint paused: replicas stopped")]
    if state == lifecycle.SCALED_TO_ZERO:
        return [], [(INFO, "endpoint: Scaled to zero: replicas stopped")]
    return [], []


def _cause(at: float, failures: Mapping[float, str], current: lifecycle.Schedule) -> str | None:
    for when, message in failures.items():
        if abs(when - at) < 1e-6:
            return message
    if abs(current.ends_at - at) < 1e-6:
        return current.error
    return None


def endpoint_log(
    *,
    endpoint_id: str,
    config: Mapping[str, Any],
    transitions: Sequence[Transition],
    schedule: lifecycle.Schedule,
    failures: Sequence[tuple[float, str]],
    requests: Sequence[RequestLine],
    now: float,
) -> list[LogLine]:
    """Every line of the endpoint's log up to `now`, oldest first."""
    causes = dict(failures)
    lines: list[LogLine] = []
    replica = replica_name(endpoint_id, transitions[0][1]) if transitions else "-"
    serving: list[tuple[float, str]] = []  # (since, replica) of each deployment that ran
    previous: str | None = None
    previous_at = transitions[0][1] if transitions else 0.0
    for index, (state, at) in enumerate(transitions):
        ends = transitions[index + 1][1] if index + 1 < len(transitions) else None
        if state in _STARTS and previous != lifecycle.PENDING:  # a new deployment starts
            replica = replica_name(endpoint_id, at)
        if state == lifecycle.RUNNING:
            serving.append((at, replica))
        before, after = _phase_lines(state, previous, replica, config, _cause(at, causes, schedule))
        timed = [
            (max(previous_at, at - (len(before) - step - 1) * LINE_SPACING), line)
            for step, line in enumerate(before)
        ]
        timed += [(at + step * LINE_SPACING, line) for step, line in enumerate(after)]
        for when, (level, text) in timed:
            if when > now or (ends is not None and when >= ends):
                break
            lines.append(LogLine(when, len(lines), level, replica, text))
        previous, previous_at = state, at
    for request in requests:
        if request.at <= now:
            # Served by the last deployment that ran by then (the old one during an update).
            by = next((name for since, name in reversed(serving) if since <= request.at), replica)
            gone = " (client disconnected)" if request.disconnected else ""
            text = (
                f'text_generation_router: "{request.method} {request.path} HTTP/1.1" '
                f"{request.status}{gone}"
            )
            lines.append(LogLine(request.at, len(lines), INFO, by, text))
    lines.sort()
    return lines


def select(
    lines: Sequence[LogLine],
    *,
    since: int | None = None,
    until: int | None = None,
    tail: int | None = None,
    replica: str | None = None,
) -> list[LogLine]:
    """`lines` from `since` (inclusive) to `until` (exclusive), Unix seconds, of `replica` (its
    `deployment-replica` id, as each line shows it) when given, then the last `tail` of them."""
    chosen = [
        line
        for line in lines
        if (since is None or line.at >= since)
        and (until is None or line.at < until)
        and (replica is None or line.replica == replica)
    ]
    if tail is not None:
        chosen = chosen[-tail:] if tail > 0 else []
    return chosen
