"""The rows of the conformance table, each run against one paused endpoint.

Two kinds of rows:

- a property row (`property:<name>`) sets, changes and clears one property with the update
  bodies the provider itself sends (`spec.update_payload`), and reads each answer back as the
  provider does (`spec.spec_from_api`): "ok" when the service then holds what the program says,
  so that a refresh finds no drift;
- a behaviour row sends the raw request a belief of docs/service-api.md rests on (a `null`, a
  route without its domain, a deprecated instance...) and records what the service did.

Every row carries what the emulator does (`emulator`); the test suite runs the same rows
against the emulator, where each must agree. A row never prints a secret value: a secret is
observed by what comes back in its place (`null`, empty, echoed, masked).
"""

from __future__ import annotations

import json
import secrets as _random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import spec
from ..client.api import EndpointsApi
from ..client.errors import ApiStatusError
from ..client.models import Endpoint

MARKER_TAG = "pulumi-hf-endpoints-conformance"
"""The tag that says what the endpoint is, for anyone who finds it in the console."""
REPOSITORY = "HuggingFaceTB/SmolLM2-135M-Instruct"
TGI_IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.4"
VLLM_IMAGE = "vllm/vllm-openai:v0.10.0"
OK = "ok"


@dataclass(frozen=True)
class Hardware:
    """Where the endpoint runs: one small CPU instance by default."""

    vendor: str = "aws"
    region: str = "us-east-1"
    instance_type: str = "intel-spr"
    instance_size: str = "x1"
    accelerator: str = "cpu"


def endpoint_properties(name: str, namespace: str, hardware: Hardware) -> dict[str, Any]:
    """The endpoint the conformance run creates, as Pulumi properties."""
    return {
        "name": name,
        "namespace": namespace,
        "repository": REPOSITORY,
        "framework": "pytorch",
        "task": "text-generation",
        "accelerator": hardware.accelerator,
        "vendor": hardware.vendor,
        "region": hardware.region,
        "instanceType": hardware.instance_type,
        "instanceSize": hardware.instance_size,
        "type": "authenticated",
        "minReplica": 1,
        "maxReplica": 1,
        "tags": [MARKER_TAG],
    }


@dataclass(frozen=True)
class Row:
    """One line of the table: what the service did against what the emulator does."""

    id: str
    what: str
    service: Any
    emulator: Any

    @property
    def agrees(self) -> bool:
        return bool(self.service == self.emulator)


def refused(error: ApiStatusError) -> str:
    return f"refused {error.status_code}"


@dataclass
class Session:
    """The endpoint under test, and what the provider believes the service holds."""

    api: EndpointsApi
    namespace: str
    name: str
    base: dict[str, Any]
    created: dict[str, Any] = field(default_factory=dict)
    current: spec.EndpointSpec | None = None

    def desired(self, **changes: Any) -> spec.EndpointSpec:
        props = {**self.base, **{k: v for k, v in changes.items() if v is not None}}
        for key, value in changes.items():
            if value is None:
                props.pop(key, None)
        return spec.spec_from_properties(props)

    def raw(self) -> dict[str, Any]:
        return self.api.get_endpoint(self.namespace, self.name).raw

    def put(self, body: Mapping[str, Any]) -> str:
        """Send an update as written: "ok", or how the service refused it."""
        try:
            self.api.update_endpoint(self.namespace, self.name, body)
        except ApiStatusError as error:
            return refused(error)
        return OK

    def apply(self, desired: spec.EndpointSpec) -> str:
        """Bring the endpoint to `desired` with the provider's own update body."""
        assert self.current is not None
        payload = spec.update_payload(self.current, desired)
        outcome = self.put(payload) if payload else OK
        if outcome == OK:
            self.current = desired
        return outcome

    def resync(self) -> None:
        """Believe what the service reports (after raw requests), then go back to the base."""
        base = self.desired()
        live = Endpoint.from_raw(self.raw())
        self.current = spec.spec_from_api(live, self.namespace, prior=base)
        self.apply(base)


# --- property rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyCase:
    """`values` are set in turn (None: removed from the program); `always` holds what the
    property needs beside it."""

    property: str
    values: tuple[Any, Any, Any]
    always: Mapping[str, Any] = field(default_factory=dict)


def _secret_value() -> str:
    return "conformance-" + _random.token_hex(8)


def property_cases(name: str) -> list[PropertyCase]:
    domain = f"{name}.conformance.invalid"
    return [
        PropertyCase("maxReplica", (2, 3, None)),
        PropertyCase("minReplica", (0, 2, None), always={"maxReplica": 2}),
        PropertyCase("scaleToZeroTimeout", (30, 60, None), always={"minReplica": 0}),
        PropertyCase("scalingMetric", ("pendingRequests", "hardwareUsage", None)),
        PropertyCase(
            "scalingThreshold", (1.5, 3, None), always={"scalingMetric": "pendingRequests"}
        ),
        PropertyCase("revision", ("main", None, None)),
        PropertyCase(
            "customImage",
            (
                {"url": TGI_IMAGE, "engine": "tgi", "healthRoute": "/health"},
                {"url": VLLM_IMAGE, "engine": "vLLM", "port": 8000},
                None,
            ),
        ),
        PropertyCase("containerCommand", (["python3"], ["python3", "-u"], None)),
        PropertyCase("containerArgs", (["--a"], ["--b", "1"], None)),
        PropertyCase("env", ({"CONFORMANCE_A": "1"}, {"CONFORMANCE_A": "2", "B": "3"}, None)),
        PropertyCase("secrets", ({"CONFORMANCE_S": _secret_value()}, {"T": _secret_value()}, None)),
        PropertyCase("tags", ([MARKER_TAG, "a"], [MARKER_TAG, "b"], [MARKER_TAG])),
        PropertyCase("path", ("/a", "/b", None)),
        PropertyCase("domain", (domain, f"api.{domain}", None)),
        PropertyCase("cacheHttpResponses", (True, False, None)),
        PropertyCase("instanceSize", ("x2", "x4", "x1")),
    ]


def run_property(session: Session, case: PropertyCase) -> list[str]:
    """One outcome per step: "ok" when the service holds what the program says."""
    outcomes: list[str] = []
    for value in case.values:
        desired = session.desired(**case.always, **{case.property: value})
        outcome = session.apply(desired)
        if outcome == OK:
            live = spec.spec_from_api(
                Endpoint.from_raw(session.raw()), session.namespace, prior=desired
            )
            if case.property in spec.changed_properties(live, desired):
                shown = live.to_properties().get(case.property)
                outcome = "holds " + json.dumps(shown, sort_keys=True)
        outcomes.append(outcome)
    session.apply(session.desired())
    return outcomes


# --- behaviour rows --------------------------------------------------------------------------

#: What huggingface_hub reads with `[]` from every answer (`InferenceEndpoint._populate_from_raw`).
REQUIRED_KEYS = (
    ("name",),
    ("type",),
    ("healthRoute",),
    ("model", "repository"),
    ("model", "framework"),
    ("model", "revision"),
    ("model", "task"),
    ("status", "state"),
    ("status", "createdAt"),
    ("status", "updatedAt"),
)


def _missing(raw: Mapping[str, Any], paths: Sequence[tuple[str, ...]]) -> list[str]:
    missing = []
    for path in paths:
        node: Any = raw
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) and key in node else ...
        if node is ...:
            missing.append(".".join(path))
    return missing


def _route(raw: Mapping[str, Any]) -> Any:
    route = raw.get("route")
    if not isinstance(route, Mapping):
        return None
    kept = {k: v for k, v in route.items() if v is not None}
    return kept or None


def _cache(raw: Mapping[str, Any]) -> Any:
    features = raw.get("experimentalFeatures")
    return features.get("cacheHttpResponses") if isinstance(features, Mapping) else "absent"


def _secret_kind(raw: Mapping[str, Any], key: str, sent: str) -> str:
    model = raw.get("model") or {}
    if "secrets" not in model:
        return "no secrets key"
    values = model.get("secrets") or {}
    if key not in values:
        return "key missing"
    value = values[key]
    if value is None:
        return "null"
    if value == "":
        return "empty"
    return "echoed" if value == sent else "masked"


def create_answer_keys(session: Session) -> Any:
    return _missing(session.created, REQUIRED_KEYS)


def cache_location(session: Session) -> Any:
    raw = session.raw()
    features = raw.get("experimentalFeatures")
    return {
        "topLevel": "cacheHttpResponses" in raw,
        "underExperimentalFeatures": isinstance(features, Mapping)
        and "cacheHttpResponses" in features,
    }


def cache_written_top_level(session: Session) -> Any:
    seen = []
    for value in (True, False):
        outcome = session.put({"cacheHttpResponses": value})
        seen.append(_cache(session.raw()) if outcome == OK else outcome)
    return seen


def secrets_on_read(session: Session) -> Any:
    sent = _secret_value()
    outcome = session.put({"model": {"secrets": {"CONFORMANCE_SECRET": sent}}})
    kind = _secret_kind(session.raw(), "CONFORMANCE_SECRET", sent) if outcome == OK else outcome
    cleared = session.put({"model": {"secrets": {}}})
    left = (session.raw().get("model") or {}).get("secrets") if cleared == OK else cleared
    return {"afterSet": kind, "afterEmptyMap": left}


def null_is_absent(session: Session) -> Any:
    first = session.put({"compute": {"scaling": {"minReplica": 0, "scaleToZeroTimeout": 30}}})
    second = session.put(
        {"compute": {"scaling": {"scaleToZeroTimeout": None}}, "cacheHttpResponses": None}
    )
    scaling = session.raw()["compute"]["scaling"]
    return [first, second, scaling.get("scaleToZeroTimeout")]


def timeout_kept_when_min_replica_rises(session: Session) -> Any:
    session.put({"compute": {"scaling": {"minReplica": 0, "scaleToZeroTimeout": 30}}})
    outcome = session.put({"compute": {"scaling": {"minReplica": 1}}})
    scaling = session.raw()["compute"]["scaling"]
    return [outcome, scaling.get("minReplica"), scaling.get("scaleToZeroTimeout")]


def default_measure(session: Session) -> Any:
    seen = []
    for measure in ({"pendingRequests": 2.0}, {"hardwareUsage": None}):
        outcome = session.put({"compute": {"scaling": {"measure": measure}}})
        seen.append(
            session.raw()["compute"]["scaling"].get("measure") if outcome == OK else outcome
        )
    return seen


def route_replaced_whole(session: Session) -> Any:
    domain = f"{session.name}.conformance.invalid"
    first = session.put({"route": {"domain": domain, "path": "/a"}})
    second = session.put({"route": {"path": "/b"}})
    return [first, second, _route(session.raw())]


def route_cleared_by_empty_object(session: Session) -> Any:
    session.put({"route": {"path": "/a"}})
    outcome = session.put({"route": {}})
    return [outcome, _route(session.raw())]


def timeout_range(session: Session) -> Any:
    return [
        session.put({"compute": {"scaling": {"minReplica": 0, "scaleToZeroTimeout": minutes}}})
        for minutes in (14, 15, 2880, 2881)
    ]


def revision_main(session: Session) -> Any:
    outcome = session.put({"model": {"revision": "main"}})
    return [outcome, session.raw()["model"].get("revision")]


def task_enum(session: Session) -> Any:
    return session.put({"model": {"task": "text_generation"}})


def deprecated_hardware(session: Session) -> Any:
    return session.put(
        {"compute": {"accelerator": "cpu", "instanceType": "intel-icl", "instanceSize": "x1"}}
    )


def unknown_hardware(session: Session) -> Any:
    return session.put({"compute": {"instanceSize": "x64"}})


def logs_in_seconds(session: Session) -> Any:
    every = session.api.get_logs(session.namespace, session.name)
    tomorrow = session.api.get_logs(session.namespace, session.name, since=time.time() + 86400)
    epoch = session.api.get_logs(session.namespace, session.name, since=0)
    return {"fromTomorrowIsEmpty": tomorrow == [], "fromEpochIsAll": len(epoch) == len(every)}


def logs_replica_filter(session: Session) -> Any:
    none = session.api.get_logs(session.namespace, session.name, replica="no-such-replica")
    return {"unknownReplicaIsEmpty": none == []}


@dataclass(frozen=True)
class Behaviour:
    id: str
    what: str
    run: Callable[[Session], Any]
    emulator: Any


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "create-answer-keys",
        "the create answer has every key huggingface_hub reads",
        create_answer_keys,
        [],
    ),
    Behaviour(
        "read-cache-under-experimental-features",
        "GET reports cacheHttpResponses under experimentalFeatures only",
        cache_location,
        {"topLevel": False, "underExperimentalFeatures": True},
    ),
    Behaviour(
        "update-cache-top-level",
        "PUT cacheHttpResponses true, then false, read back",
        cache_written_top_level,
        [True, False],
    ),
    Behaviour(
        "secrets-read-null",
        "a secret's value on GET; secrets after PUT {}",
        secrets_on_read,
        {"afterSet": "null", "afterEmptyMap": {}},
    ),
    Behaviour(
        "update-null-is-absent",
        "PUT scaleToZeroTimeout 30, then null: the timeout after",
        null_is_absent,
        [OK, OK, 30],
    ),
    Behaviour(
        "scale-to-zero-kept-when-min-replica-rises",
        "PUT minReplica 1 over a 30-minute timeout: minReplica, timeout",
        timeout_kept_when_min_replica_rises,
        [OK, 1, 30],
    ),
    Behaviour(
        "measure-default",
        "PUT measure pendingRequests 2, then hardwareUsage null",
        default_measure,
        [{"pendingRequests": 2.0}, {"hardwareUsage": None}],
    ),
    Behaviour(
        "route-replaced-whole",
        "PUT route domain+path, then route {path} only: the route after",
        route_replaced_whole,
        [OK, OK, {"path": "/b"}],
    ),
    Behaviour(
        "clear-route-empty-object",
        "PUT route {}: the route after",
        route_cleared_by_empty_object,
        [OK, None],
    ),
    Behaviour(
        "scale-to-zero-range",
        "PUT scaleToZeroTimeout 14, 15, 2880, 2881 (minutes)",
        timeout_range,
        ["refused 400", OK, OK, "refused 400"],
    ),
    Behaviour(
        "revision-reported-as-sent",
        "PUT revision main: the revision reported",
        revision_main,
        [OK, "main"],
    ),
    Behaviour("task-enum", "PUT task text_generation", task_enum, "refused 400"),
    Behaviour(
        "deprecated-hardware-refused",
        "PUT instance intel-icl x1 (deprecated July 2025)",
        deprecated_hardware,
        "refused 400",
    ),
    Behaviour("hardware-not-found", "PUT instance size x64", unknown_hardware, "refused 400"),
    Behaviour(
        "logs-from-to-seconds",
        "logs from tomorrow, and from 1970, read as Unix seconds",
        logs_in_seconds,
        {"fromTomorrowIsEmpty": True, "fromEpochIsAll": True},
    ),
    Behaviour(
        "logs-replica-filter",
        "logs of a replica that does not exist",
        logs_replica_filter,
        {"unknownReplicaIsEmpty": True},
    ),
)

#: Every row id, in table order.
CHECK_IDS: tuple[str, ...] = (
    *(f"property:{case.property}" for case in property_cases("x")),
    *(b.id for b in BEHAVIOURS),
)


def run_checks(session: Session, *, on_row: Callable[[Row], None] | None = None) -> list[Row]:
    """Every row, in order, each leaving the endpoint as it found it (as far as the service
    lets it: a row that cannot restore a value is seen by the next one)."""
    rows: list[Row] = []

    def done(row: Row) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(row)

    for case in property_cases(session.name):
        outcomes = run_property(session, case)
        done(
            Row(
                f"property:{case.property}",
                "set, change, clear, with the provider's update bodies",
                outcomes,
                [OK] * len(case.values),
            )
        )
    for behaviour in BEHAVIOURS:
        done(Row(behaviour.id, behaviour.what, behaviour.run(session), behaviour.emulator))
        session.resync()
    return rows
