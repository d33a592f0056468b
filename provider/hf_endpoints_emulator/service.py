"""What the control plane does to endpoints: the operations behind the routes.

Routes (control plane, catalog, endpoint proxy) check who is asking; this class validates,
applies the lifecycle rules, consults the fault book and persists. It never touches HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import deployment, hardware, hub, lifecycle, views
from .activity import ActivityTracker
from .config import EmulatorConfig, Timings, User
from .errors import ApiError, bad_request, invalid, not_found
from .faults import FaultBook
from .logs import LogLine, endpoint_log
from .schemas import EndpointBody, EndpointPatch
from .store import DuplicateName, EndpointRecord, Store
from .validation import check_config, fold_experimental_features, merge_update, normalize

_ID_ALPHABET = string.ascii_lowercase + string.digits
MAX_PAGE_SIZE = 100


def new_endpoint_id() -> str:
    """16 lowercase alphanumerics, like the host label of a real endpoint URL."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _scaling(config: dict[str, Any]) -> lifecycle.Scaling:
    scaling = config["compute"]["scaling"]
    return lifecycle.Scaling(scaling["minReplica"], scaling.get("scaleToZeroTimeout"))


def _encode_cursor(direction: str, seq: int) -> str:
    raw = json.dumps({direction: seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        (direction, seq), *rest = data.items()
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise bad_request("Invalid cursor") from None
    if (
        rest
        or direction not in ("after", "before")
        or not isinstance(seq, int)
        or isinstance(seq, bool)
    ):
        raise bad_request("Invalid cursor")
    return direction, seq


@dataclass(frozen=True)
class Page:
    records: list[EndpointRecord]
    next_cursor: str | None
    prev_cursor: str | None


class EndpointService:
    def __init__(
        self,
        config: EmulatorConfig,
        store: Store,
        faults: FaultBook,
        activity: ActivityTracker,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.faults = faults
        self.activity = activity
        self.clock = clock
        #: Replaced at run time through `PUT /emulator/timings`; phases already started keep theirs.
        self.timings: Timings = config.timings

    # Reading

    def _situation(self, record: EndpointRecord) -> dict[str, Any]:
        """What the lifecycle of `record` depends on besides its schedule, as of now."""
        return {
            "scaling": _scaling(record.config),
            "timings": self.timings,
            "now": self.clock(),
            "last_activity": record.last_activity,
            "busy": self.activity.busy(record.id),
        }

    def observe(self, record: EndpointRecord) -> lifecycle.Observation:
        return lifecycle.observe(record.schedule, **self._situation(record))

    def transitions(self, record: EndpointRecord) -> list[lifecycle.Transition]:
        """Every state the endpoint has entered since it was created, with when."""
        current = lifecycle.transitions(record.schedule, **self._situation(record))
        return [*record.history, *current]

    def logs(self, record: EndpointRecord) -> list[LogLine]:
        """The endpoint's container log up to now (see `logs.py`)."""
        return endpoint_log(
            endpoint_id=record.id,
            config=record.config,
            transitions=self.transitions(record),
            schedule=record.schedule,
            failures=record.failures,
            requests=self.activity.recent_requests(record.id),
            now=self.clock(),
        )

    def _replace_schedule(
        self, record: EndpointRecord, schedule: lifecycle.Schedule, **changes: Any
    ) -> EndpointRecord:
        """`record` with a new schedule; what the old one went through is kept as history."""
        if schedule is record.schedule:
            return replace(record, **changes)
        history = tuple(self.transitions(record))[-lifecycle.HISTORY_LIMIT :]
        old = record.schedule
        failures = record.failures
        if old.error and old.final in lifecycle.FAILURES and old.ends_at <= self.clock():
            failures = (*failures, (old.ends_at, old.error))[-lifecycle.HISTORY_LIMIT :]
        return replace(record, schedule=schedule, history=history, failures=failures, **changes)

    def render(self, record: EndpointRecord) -> dict[str, Any]:
        deployed = any(state == lifecycle.RUNNING for state, _ in self.transitions(record))
        return views.render(record, self.observe(record), self.config.base_url, deployed=deployed)

    def get(self, namespace: str, name: str) -> EndpointRecord:
        record = self.store.get(namespace, name)
        if record is None:
            raise not_found()
        return record

    def list(
        self,
        namespace: str,
        limit: int | None = None,
        cursor: str | None = None,
        tags: str | None = None,
        search: str | None = None,
    ) -> Page:
        """One page, oldest first; `tags` keeps endpoints having every comma-separated tag,
        `search` those whose name contains it (case-insensitive)."""
        size = self.config.default_page_size if limit is None else limit
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise bad_request(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        records = self.store.list(namespace)
        wanted = {tag.strip() for tag in (tags or "").split(",") if tag.strip()}
        if wanted:
            records = [r for r in records if wanted <= set(r.config.get("tags") or [])]
        if search:
            records = [r for r in records if search.lower() in r.name.lower()]
        if cursor is None:
            page = records[:size]
        else:
            direction, seq = _decode_cursor(cursor)
            if direction == "after":
                page = [r for r in records if r.seq > seq][:size]
            else:
                page = [r for r in records if r.seq < seq][-size:]
        if not page:
            return Page([], None, None)
        has_next = records[-1].seq > page[-1].seq
        has_prev = records[0].seq < page[0].seq
        return Page(
            page,
            _encode_cursor("after", page[-1].seq) if has_next else None,
            _encode_cursor("before", page[0].seq) if has_prev else None,
        )

    def used_accelerators(
        self, namespace: str, *, besides: str | None = None
    ) -> dict[tuple[str, str, str], int]:
        """Accelerators the namespace's running replicas hold, by (vendor, region, instance
        type); `besides` names an endpoint left out of the count."""
        used: dict[tuple[str, str, str], int] = {}
        for record in self.store.list(namespace):
            if record.name == besides:
                continue
            observed = self.observe(record)
            if observed.target_replica == 0:
                continue
            provider, compute = record.config["provider"], record.config["compute"]
            offer = hardware.find(
                provider["vendor"],
                provider["region"],
                compute["accelerator"],
                compute["instanceType"],
                compute["instanceSize"],
            )
            if offer is not None:
                key = (offer.vendor, offer.region, offer.instance.instance_type)
                used[key] = (
                    used.get(key, 0) + offer.instance.num_accelerators * observed.target_replica
                )
        return used

    # Changing

    def _check_quota(
        self, namespace: str, config: dict[str, Any], offer: hardware.Offer, name: str
    ) -> None:
        used = self.used_accelerators(namespace, besides=name)
        key = (offer.vendor, offer.region, offer.instance.instance_type)
        replicas = max(config["compute"]["scaling"]["minReplica"], 1)
        refusal = hardware.quota_refusal(offer, replicas, used.get(key, 0))
        if refusal is not None:
            raise bad_request(refusal)

    def _failure(self, operation: str, name: str, config: dict[str, Any]) -> str | None:
        """Why this deployment fails: a fault rule, else the configuration itself."""
        return self.faults.deployment_failure(operation, name) or deployment.failure(config)

    def create(
        self,
        user: User,
        namespace: str,
        body: EndpointBody,
        *,
        on_deprecated_hardware: bool = False,
    ) -> EndpointRecord:
        """A new endpoint. `on_deprecated_hardware`: as one created before its instance type
        was deprecated (the admin route that replays old stacks)."""
        sent = body.model_dump(mode="json", exclude_unset=True)
        config = normalize(fold_experimental_features(sent))
        offer = check_config(config, choosing_hardware=not on_deprecated_hardware)
        hub.check_model(
            self.config.hub, config["model"]["repository"], config["model"].get("revision")
        )
        if self.store.get(namespace, body.name) is not None:
            raise self._conflict()
        self._check_quota(namespace, config, offer, body.name)
        now = self.clock()
        failure = self._failure("create", body.name, config)
        record = EndpointRecord(
            namespace=namespace,
            name=body.name,
            id=new_endpoint_id(),
            config=config,
            created_at=now,
            updated_at=now,
            created_by=user.name,
            updated_by=user.name,
            schedule=lifecycle.deploy(now, self.timings, failure),
        )
        try:
            return self.store.insert(record)
        except DuplicateName:
            raise self._conflict() from None

    @staticmethod
    def _conflict() -> ApiError:
        return ApiError(409, "An endpoint with the same name already exists")

    def update(self, user: User, namespace: str, name: str, patch: EndpointPatch) -> EndpointRecord:
        record = self.get(namespace, name)
        sent = patch.model_dump(mode="json", exclude_unset=True)
        changes = {key: value for key, value in sent.items() if value is not None}
        if changes.pop("name", name) != name:
            raise invalid("name", "cannot be changed, create a new endpoint instead")
        provider = changes.pop("provider", None)
        if provider is not None and provider != record.config["provider"]:
            raise invalid("provider", "cannot be changed, create a new endpoint instead")
        kind = changes.pop("type", record.config["type"])
        if kind != record.config["type"]:
            # Restating the type is accepted (some clients send it with every update); changing
            # it is not: no documentation of the service offers it on an existing endpoint.
            raise invalid(
                "type",
                f"cannot be changed from `{record.config['type']}` to `{kind}` on an existing"
                " endpoint, create a new endpoint instead",
            )
        config = normalize(merge_update(record.config, fold_experimental_features(changes)))
        before = record.config
        moved = any(
            config["compute"][k] != before["compute"][k]
            for k in ("accelerator", "instanceType", "instanceSize")
        )
        offer = check_config(config, choosing_hardware=moved)
        model, old_model = config["model"], before["model"]
        if (model["repository"], model.get("revision")) != (
            old_model["repository"],
            old_model.get("revision"),
        ):
            hub.check_model(self.config.hub, model["repository"], model.get("revision"))
        if config == normalize(record.config):
            return record
        if (
            moved
            or config["compute"]["scaling"]["maxReplica"]
            > before["compute"]["scaling"]["maxReplica"]
        ):
            self._check_quota(namespace, config, offer, name)
        now = self.clock()
        observed = self.observe(record)
        schedule = record.schedule
        if observed.state in (lifecycle.RUNNING, lifecycle.UPDATING, lifecycle.UPDATE_FAILED):
            failure = self._failure("update", name, config)
            schedule = lifecycle.roll_out(now, self.timings, observed.ready_replica, failure)
        elif observed.state in (lifecycle.PENDING, lifecycle.INITIALIZING, lifecycle.FAILED):
            failure = self._failure("update", name, config)
            schedule = lifecycle.deploy(now, self.timings, failure)
        # paused and scaledToZero endpoints take the new configuration when they next start.
        record = self._replace_schedule(
            record, schedule, config=config, updated_at=now, updated_by=user.name
        )
        self.store.save(record)
        return record

    def delete(self, namespace: str, name: str) -> None:
        record = self.get(namespace, name)
        self.store.delete(namespace, name)
        self.activity.forget(record.id)

    def _reschedule(self, record: EndpointRecord, schedule: lifecycle.Schedule) -> EndpointRecord:
        record = self._replace_schedule(record, schedule)
        self.store.save(record)
        return record

    def pause(self, namespace: str, name: str) -> EndpointRecord:
        record = self.get(namespace, name)
        if self.observe(record).state == lifecycle.PAUSED:
            return record
        return self._reschedule(record, lifecycle.settle(self.clock(), lifecycle.PAUSED))

    def resume(self, namespace: str, name: str) -> EndpointRecord:
        record = self.get(namespace, name)
        state = self.observe(record).state
        if state == lifecycle.RUNNING:
            raise bad_request("Endpoint is already running")
        if state in (lifecycle.PENDING, lifecycle.INITIALIZING, lifecycle.UPDATING):
            return record
        failure = self._failure("resume", name, record.config)
        return self._reschedule(record, lifecycle.resume(self.clock(), self.timings, failure))

    def scale_to_zero(self, namespace: str, name: str) -> EndpointRecord:
        record = self.get(namespace, name)
        if self.observe(record).state in (lifecycle.PAUSED, lifecycle.SCALED_TO_ZERO):
            return record
        return self._reschedule(record, lifecycle.settle(self.clock(), lifecycle.SCALED_TO_ZERO))

    def wake(self, record: EndpointRecord) -> EndpointRecord:
        """A request reached a scaled-to-zero endpoint: start it (cold start)."""
        if self.observe(record).state != lifecycle.SCALED_TO_ZERO:
            return record
        return self._reschedule(record, lifecycle.wake(self.clock(), self.timings))
