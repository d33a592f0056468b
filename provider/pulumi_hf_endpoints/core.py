"""What an `InferenceEndpoint` does, whichever Pulumi front end asks: check, plan (diff),
create, read, update and delete, on one endpoint of the service.

Two front ends call this core: the dynamic provider (`provider.py`, which Python programs
pickle into their state) and the native provider (`native/`, the `pulumi-resource-hf-endpoints`
plugin every Pulumi language can use). Neither holds any logic of its own about endpoints:
they translate their requests (property bags, options such as a timeout, a way to report
progress and to be cancelled) into calls of `EndpointCore`, and its answers back.

Configuration is read in `configure_settings()` and at call time, and the HTTP client is created
lazily, so an instance carries nothing until its first call.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import secrets as _random
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from pulumi.output import Unknown

from . import ownership, settings
from .client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    AuthenticationError,
    ConflictError,
    DeploymentFailedError,
    EndpointsApiError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    WaitCancelled,
    WaitTimeoutError,
)
from .spec.properties import OUTPUT_ONLY, REPLACE_ON_CHANGES
from .spec.vocabulary import NAME_MAX_LENGTH

if TYPE_CHECKING:  # pydantic, httpx and the client load on first use, not at import
    from . import spec
    from .client import ApiConfig, Endpoint, EndpointsApi

log = logging.getLogger("pulumi_hf_endpoints.provider")

PRICE_PER_HOUR = "pricePerHour"
"""An output the provider adds from the namespace's hardware list, not from the endpoint."""

# Keys the provider adds to inputs and outputs for its own use; never sent to the service.
LOGICAL_NAME_KEY = "__logicalName"
URN_KEY = "__urn"
"""In the dynamic resource's inputs: its URN, which the program computes, so that the provider
can put status lines beside it (the dynamic host does not pass the URN on)."""
DEFAULTS_KEY = "__defaults"
OWNERSHIP = ownership.OWNERSHIP_KEY
INPUT_KEYS_KEY = "__inputKeys"
"""In outputs: the properties the checked inputs hold. Read gets only the outputs, and refresh
must return inputs with exactly these keys (else the next plan shows properties the program
never set, such as the namespace resolved at create, as removed)."""
_INTERNAL_PREFIX = "__"

_AUTONAME_SUFFIX = 7
_DELETE_TIMEOUT = 600.0
_ROLLBACK_ATTEMPTS = 3


class ResourceError(RuntimeError):
    """An operation on an endpoint resource failed; the message says what happened and what to
    do. The one error the provider raises, so the one class a Pulumi user sees."""


STACK_CONFIG_TOKEN = settings.STACK_CONFIG_TOKEN
MIN_CLI_FOR_CONFIG = "3.139"
"""The first Pulumi CLI that sends stack config to dynamic providers (pulumi/pulumi#17673)."""


def failure(
    what: str,
    exc: BaseException,
    config: ApiConfig | None = None,
    hint: str = "",
    *,
    token_key: str = settings.TOKEN,
) -> ResourceError:
    """`what` failed because of `exc`; a refused token also says where it came from (never what
    it is) and how stack config reaches the provider. `hint` says what to do instead.
    `token_key` is the stack setting that holds the token for this front end."""
    message = f"{what} failed: {exc}" + (f"; {hint}" if hint else "")
    if config is None or not isinstance(exc, AuthenticationError | PermissionDeniedError):
        return ResourceError(message)
    if config.token is None:
        reaches = (
            f" (stack config reaches dynamic providers from Pulumi CLI {MIN_CLI_FOR_CONFIG} on; "
            "older CLIs leave HF_TOKEN and the token file of `hf auth login` as the only sources)"
            if token_key == settings.TOKEN
            else ", or set `token` on an explicit provider"
        )
        return ResourceError(
            f"{message}. No Hugging Face token was found: in a stack, run `pulumi config set "
            f"--secret {token_key} <token>`{reaches}"
        )
    message += f". The token came from {config.token_source}"
    if config.token_source in (STACK_CONFIG_TOKEN, settings.NATIVE_CONFIG_TOKEN):
        message += (
            ". `pulumi refresh` and `pulumi destroy` configure the provider with the stack "
            f"config saved by the last `pulumi up`: if {token_key} changed since, run "
            "`pulumi up` first, or pass --run-program to use the current config"
        )
    return ResourceError(message)


def _is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def _contains_unknown(value: Any) -> bool:
    from .spec.validation import contains_unknown

    return contains_unknown(value, _is_unknown)


def _public(props: Mapping[str, Any]) -> dict[str, Any]:
    """The properties without the provider's and Pulumi's internal keys."""
    return {k: v for k, v in props.items() if not k.startswith(_INTERNAL_PREFIX)}


_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def auto_name(logical_name: str, seed: str | None = None) -> str:
    """A service-valid name from a Pulumi logical name plus a suffix: derived from `seed` when
    given (the same resource asking again gets the same name), else random."""
    base = re.sub(r"[^a-z0-9-]+", "-", logical_name.lower()).strip("-")
    base = re.sub(r"-{2,}", "-", base)
    base = base[: NAME_MAX_LENGTH - _AUTONAME_SUFFIX - 1].rstrip("-") or "endpoint"
    if seed is None:
        suffix = "".join(_random.choice(_SUFFIX_ALPHABET) for _ in range(_AUTONAME_SUFFIX))
    else:
        number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
        digits = []
        for _ in range(_AUTONAME_SUFFIX):
            number, digit = divmod(number, len(_SUFFIX_ALPHABET))
            digits.append(_SUFFIX_ALPHABET[digit])
        suffix = "".join(digits)
    return f"{base}-{suffix}"


def _name_seed(owner: Any, inputs: Mapping[str, Any]) -> str | None:
    """What an auto-name is derived from: the resource's owner id and the properties whose
    change replaces the endpoint. The same resource asking again (after an interrupted `up`, or
    `pulumi state delete`) gets the name it had; a replacement, which changes one of those
    properties, gets another, so that it can be created before the old endpoint is deleted."""
    if not isinstance(owner, str) or not owner:
        return None
    placement = {key: inputs.get(key) for key in REPLACE_ON_CHANGES if key != "name"}
    return owner + json.dumps(placement, sort_keys=True, default=str)


def _spec_of_state(props: Mapping[str, Any]) -> spec.EndpointSpec:
    """The spec recorded in state or inputs, without internal keys and unknown values."""
    from . import spec

    known = {
        k: v
        for k, v in _public(props).items()
        if k in spec.PROPERTY_NAMES and not _contains_unknown(v)
    }
    return spec.spec_from_state(known)


def _input_keys(outputs: Mapping[str, Any]) -> list[str]:
    """The properties the checked inputs hold, as recorded in the outputs. Outputs written by
    0.1.0 do not record them: they are the outputs' properties but the namespace, which is
    always an output and rarely an input (an input that is dropped here comes back unchanged
    from the program at the next Check, so nothing is planned)."""
    recorded = outputs.get(INPUT_KEYS_KEY)
    if isinstance(recorded, list | tuple) and all(isinstance(k, str) for k in recorded):
        return sorted(recorded)
    from . import spec

    return sorted(
        key
        for key in _public(outputs)
        if key in spec.PROPERTY_NAMES and key not in OUTPUT_ONLY and key != "namespace"
    )


def _without_secrets(message: str, *specs: spec.EndpointSpec) -> str:
    """`message` without the endpoint's secret values: the service's reason for a failure may
    quote what the container printed, as its logs do."""
    from .client.messages import redact
    from .forensics import secret_values

    return redact(message, secret_values(*specs))


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _keeps_secrets_out(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A provider operation whose errors never carry a secret value of the endpoint it works
    on: the service's messages may quote one (a validation error, a crashed container's
    output), and Pulumi shows errors in full."""

    @functools.wraps(method)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except ResourceError as exc:
            from .client.messages import redact
            from .forensics import secret_values

            message = str(exc)
            clean = redact(message, secret_values(*args, *kwargs.values()))
            if clean == message:
                raise
            raise ResourceError(clean) from None

    return guarded


def _shown(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True, by_alias=True)
    return repr(value)


def _conflict_message(namespace: str, name: str, holder: str | None) -> str:
    """The 409 of a create, with the fixes in the order they usually apply."""
    whose = (
        "it belongs to another resource of a Pulumi stack"
        if holder is not None
        else "it was not created by this provider (or before ownership markers existed)"
    )
    return (
        f"an endpoint named '{name}' already exists in namespace '{namespace}' and {whose}. "
        "If you renamed this resource (or moved it to another parent), add an alias so that "
        "Pulumi moves its state instead of creating a new endpoint: "
        "opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name='<old logical name>')]). "
        "To take over an endpoint made outside this stack, set adoptExisting "
        "(adopt_existing=True). Otherwise choose another name."
    )


def _hint(api: EndpointsApi, namespace: str, desired: spec.EndpointSpec, exc: Exception) -> str:
    """For a request the service refused (4xx but auth and not-found): what its hardware list
    says about the instance asked for (deprecated, not offered, over quota); see
    hardware_hints.py."""
    from .client.errors import ApiStatusError

    if not isinstance(exc, ApiStatusError) or exc.status_code not in (400, 403, 409, 422):
        return ""
    from .hardware_hints import refusal_hint

    return refusal_hint(api, namespace, desired)


def _split_id(id_: str) -> tuple[str, str]:
    namespace, sep, name = id_.rpartition("/")
    if not sep or not namespace or not name:
        raise ResourceError(f"endpoint id {id_!r} is not of the form 'namespace/name'")
    return namespace, name


@dataclass(frozen=True)
class Checked:
    """Check's answer: the normalised inputs (defaults filled in, an auto-name kept), or the
    inputs as given with one failure per bad property."""

    inputs: dict[str, Any]
    failures: list[spec.Failure]


DiffKind = Literal["add", "delete", "update"]


@dataclass(frozen=True)
class Plan:
    """Diff's answer. `kinds` says, per changed input, whether it is added, deleted or updated
    (from the previous inputs to the new ones); a property in `replaces` replaces the endpoint."""

    changes: bool
    changed: list[str]
    replaces: list[str]
    delete_before_replace: bool
    kinds: dict[str, DiffKind] = field(default_factory=dict)


@dataclass(frozen=True)
class Created:
    id: str
    outputs: dict[str, Any]


@dataclass(frozen=True)
class Refreshed:
    """Read's answer: `id` is "" when the endpoint is gone."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


@dataclass(frozen=True)
class Watch:
    """What a front end offers a long operation: the engine's timeout for it (`customTimeouts`;
    None: `waitTimeout`), a way to show progress while it waits, and a way to be cancelled."""

    timeout: float | None = None
    progress: Callable[[str], None] | None = None
    cancel: threading.Event | None = None


NO_WATCH = Watch()


class Interrupted(ResourceError):
    """A create or update was cancelled while it waited: the endpoint exists, and `outputs` are
    what is known of it, so that the front end records it (the engine's partial failure)."""

    def __init__(self, message: str, id_: str, outputs: dict[str, Any]) -> None:
        super().__init__(message)
        self.id = id_
        self.outputs = outputs


def _progress_line(info: Endpoint) -> str:
    """One status line of a waiting endpoint, as the CLI shows it beside the resource."""
    ready, target = info.status.ready_replica, info.status.target_replica
    replicas = f", {ready or 0}/{target} replicas ready" if target is not None else ""
    message = info.status.message
    detail = f": {message}" if message and info.state not in ("running",) else ""
    return f"endpoint {info.state}{replicas}{detail}"


class EndpointCore:
    """Manages one Hugging Face Inference Endpoint per resource, for either front end."""

    def __init__(self) -> None:
        self._config: dict[str, Any] = {}
        self._client_settings: settings.ClientSettings | settings.SettingError = (
            settings.ClientSettings()
        )
        self._api: EndpointsApi | None = None
        self._lock = threading.Lock()
        self._token_key = settings.TOKEN
        self._token_source = STACK_CONFIG_TOKEN

    # --- configuration --------------------------------------------------------------------

    def configure_settings(
        self,
        values: Mapping[str, Any],
        *,
        token_key: str = settings.TOKEN,
        token_source: str = STACK_CONFIG_TOKEN,
    ) -> None:
        """Take the `huggingface:*` settings (by full key); the token stays in this process.
        `token_key` and `token_source` say, in messages, where this front end's token is set."""
        connection = settings.connection({key: values.get(key) for key in settings.CONNECTION})
        client: settings.ClientSettings | settings.SettingError
        try:
            client = settings.client_settings({key: values.get(key) for key in settings.CLIENT})
        except settings.SettingError as exc:  # reported by the first call that needs the client
            client = exc
        with self._lock:
            self._config = connection
            self._client_settings = client
            self._api = None
            self._token_key = token_key
            self._token_source = token_source

    def _api_config(self) -> ApiConfig:
        return settings.api_config(self._config, token_source=self._token_source)

    def _failure(
        self, what: str, exc: BaseException, config: ApiConfig | None = None, hint: str = ""
    ) -> ResourceError:
        return failure(what, exc, config, hint, token_key=self._token_key)

    def _client(self) -> tuple[EndpointsApi, ApiConfig]:
        from .client.api import EndpointsApi

        config = self._api_config()
        with self._lock:
            client = self._client_settings
            if isinstance(client, settings.SettingError):
                raise ResourceError(str(client))
            if self._api is None:
                self._api = EndpointsApi.from_config(config, **client.options())
            return self._api, config

    # --- check / diff: local only ---------------------------------------------------------

    def check_inputs(self, _olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        """Validate and normalise the program's inputs, locally (no request)."""
        from . import spec

        props = _public(news)
        normalized, failures = spec.validate_inputs(props, is_unknown=_is_unknown)
        if failures:
            return Checked(dict(news), failures)
        inputs = dict(normalized)
        for key in (LOGICAL_NAME_KEY, ownership.OWNER_KEY, URN_KEY):
            if key in news:
                inputs[key] = news[key]
        if "name" not in props:
            previous = _olds.get("name") if _olds else None
            was_auto = "name" in ((_olds or {}).get(DEFAULTS_KEY) or [])
            if isinstance(previous, str) and previous and was_auto:
                inputs["name"] = previous
            elif any(_contains_unknown(inputs.get(k)) for k in REPLACE_ON_CHANGES):
                inputs["name"] = Unknown()  # type: ignore[no-untyped-call]  # known after `up`
            else:
                logical = news.get(LOGICAL_NAME_KEY)
                inputs["name"] = auto_name(
                    logical if isinstance(logical, str) else "endpoint",
                    _name_seed(news.get(ownership.OWNER_KEY), inputs),
                )
            inputs[DEFAULTS_KEY] = ["name"]
        return Checked(inputs, [])

    def plan(
        self,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> Plan:
        """What changing the endpoint from `olds` (its outputs) to `news` (checked inputs) takes,
        locally. `old_inputs` (the previous inputs, when the engine sends them) tells an added
        or removed property from an updated one."""
        from . import spec

        old = _spec_of_state(olds)
        public = _public(news)
        unknown = [k for k, v in public.items() if _contains_unknown(v)]
        known = {k: v for k, v in public.items() if k not in unknown}
        new = _spec_of_state(known)
        changed = spec.changed_properties(old, new, unknown)
        replaces = [p for p in changed if p in REPLACE_ON_CHANGES]
        auto_named = "name" in (news.get(DEFAULTS_KEY) or [])
        # A failed endpoint needs an update even when nothing changed: it redeploys it.
        redeploy = olds.get("status") in spec.FAILED_STATES  # see update_endpoint()
        before = _public(old_inputs if old_inputs is not None else olds)
        kinds: dict[str, DiffKind] = {
            prop: "add" if prop not in before else "delete" if prop not in public else "update"
            for prop in changed
        }
        return Plan(
            changes=bool(changed) or redeploy,
            changed=changed,
            replaces=replaces,
            # An explicit name is unique in its namespace: the old endpoint must go first.
            # An auto-named one gets a fresh name, so the new one can serve before the old goes.
            delete_before_replace=bool(replaces) and not auto_named,
            kinds=kinds,
        )

    # --- create ---------------------------------------------------------------------------

    @_keeps_secrets_out
    def create_endpoint(self, props: Mapping[str, Any], watch: Watch = NO_WATCH) -> Created:
        """Create the endpoint (or take over the one an interrupted run left) and, with `wait`,
        wait until it serves; a create that fails is rolled back."""
        from . import spec

        desired = self._desired(props)
        api, config = self._client()
        try:
            namespace = desired.namespace or config.namespace or api.default_namespace()
        except EndpointsApiError as exc:
            raise self._failure("finding the token's namespace (whoami)", exc, config) from None
        name = desired.name
        if name is None:  # check() always sets it; guard against a program that skipped check
            raise ResourceError("name is required")
        owner = props.get(ownership.OWNER_KEY)
        marker = ownership.new_marker(owner) if isinstance(owner, str) and owner else None
        payload = spec.create_payload(desired, name)
        if marker is not None:
            payload["tags"] = ownership.with_marker(payload.get("tags"), marker)
        adopted = False
        started = time.time()
        try:
            answer = api.create_endpoint(namespace, payload)
        except ConflictError:
            answer, adopted = self._take_over(api, namespace, name, desired, owner, marker)
        except MalformedResponseError as exc:
            # The service said yes (2xx) but its answer is unreadable: the endpoint exists.
            cleanup = self._delete_quietly(api, namespace, name)
            raise ResourceError(
                f"creating endpoint {namespace}/{name} failed: {exc}; {cleanup}"
            ) from None
        except (ApiTimeoutError, ApiConnectionError, ServerError) as exc:
            # No usable answer, even after the client's retries: it may exist all the same.
            cleanup = self._remove_if_created(api, namespace, name, payload, started)
            raise ResourceError(
                f"creating endpoint {namespace}/{name} failed: {exc}; {cleanup}"
            ) from None
        except EndpointsApiError as exc:
            what = f"creating endpoint {namespace}/{name}"
            raise self._failure(what, exc, config, _hint(api, namespace, desired, exc)) from None
        try:
            info = self._settle(api, namespace, name, desired, answer, watch)
        except WaitCancelled as exc:
            outputs = self._outputs(desired, namespace, name, exc.last or answer, props)
            if marker is not None:
                outputs[OWNERSHIP] = marker
            raise Interrupted(
                f"creating endpoint {namespace}/{name} was cancelled while it was "
                f"'{(exc.last or answer).state}': it is recorded in the stack and keeps "
                "deploying; the next `pulumi up` waits for it",
                f"{namespace}/{name}",
                outputs,
            ) from None
        except Exception as exc:
            logs = self._last_logs(api, namespace, name, exc, desired)  # before the delete
            if adopted:
                raise ResourceError(
                    _without_secrets(
                        f"endpoint {namespace}/{name} (adopted, so left in place) did not become "
                        f"ready: {exc}{logs}",
                        desired,
                    )
                ) from None
            cleanup = self._delete_quietly(api, namespace, name)
            raise ResourceError(_without_secrets(f"{exc}; {cleanup}{logs}", desired)) from None
        outputs = self._outputs(desired, namespace, name, info, props)
        if marker is not None:
            outputs[ownership.OWNERSHIP_KEY] = marker
        return Created(f"{namespace}/{name}", self._priced(outputs, api, namespace, info))

    def _take_over(
        self,
        api: EndpointsApi,
        namespace: str,
        name: str,
        desired: spec.EndpointSpec,
        owner: Any,
        marker: str | None,
    ) -> tuple[Endpoint, bool]:
        """The name is taken. The endpoint holding it is this resource's own when it carries
        this resource's owner id (an interrupted `up` or `pulumi state delete` left it): it is
        taken over, and treated as created here. Another's is adopted only when the program
        asks (`adoptExisting`). Returns the answer and whether it was adopted from elsewhere."""
        found = api.get_endpoint(namespace, name)
        holder = ownership.owner_of(ownership.split(found.tags)[1])
        own = holder is not None and holder == owner
        if not own and not desired.adopt_existing:
            raise ResourceError(_conflict_message(namespace, name, holder))
        return self._adopt(api, namespace, name, desired, found, marker, own=own), not own

    def _adopt(
        self,
        api: EndpointsApi,
        namespace: str,
        name: str,
        desired: spec.EndpointSpec,
        found: Endpoint,
        marker: str | None,
        *,
        own: bool,
    ) -> Endpoint:
        """Make `found` match the program, or refuse when it cannot without a new endpoint."""
        from . import spec

        live = spec.spec_from_api(found, namespace, prior=desired)
        moved = [
            f"{prop}: the endpoint has {_shown(getattr(live, spec.FIELD_NAMES[prop]))}, this "
            f"resource wants {_shown(getattr(desired, spec.FIELD_NAMES[prop]))}"
            for prop in REPLACE_ON_CHANGES
            if prop not in ("name", "namespace")
            and getattr(live, spec.FIELD_NAMES[prop]) != getattr(desired, spec.FIELD_NAMES[prop])
        ]
        if moved:
            why = (
                "It is this resource's own endpoint, kept when this resource was replaced (the "
                "retain_on_delete option keeps the old endpoint, and an explicit name cannot be "
                "held by two): delete it, or give this resource another name. "
                if own
                else ""
            )
            raise ResourceError(
                f"endpoint {namespace}/{name} exists but cannot be taken over: "
                f"{'; '.join(moved)}. These can only change with a new endpoint. {why}"
                "Nothing was changed."
            )
        payload = spec.update_payload(live, desired)
        if marker is not None:
            payload["tags"] = ownership.with_marker(desired.tags, marker)
        return api.update_endpoint(namespace, name, payload) if payload else found

    def _remove_if_created(
        self,
        api: EndpointsApi,
        namespace: str,
        name: str,
        payload: Mapping[str, Any],
        started: float,
    ) -> str:
        """After a create with no answer: delete the endpoint if this create made it."""
        from .client.recovery import not_made_by

        try:
            found = api.get_endpoint(namespace, name)
        except NotFoundError:
            return "no endpoint was created"
        except EndpointsApiError as exc:
            return (
                f"whether it was created could not be checked ({exc}): look for {namespace}/"
                f"{name} in the Hugging Face console and delete it if it is there"
            )
        mismatch = not_made_by(payload, found.raw, started)
        if mismatch:
            return (
                f"an endpoint {namespace}/{name} that this create did not make exists "
                f"({mismatch}); left alone"
            )
        return self._delete_quietly(api, namespace, name)

    def _delete_quietly(self, api: EndpointsApi, namespace: str, name: str) -> str:
        """Roll back a failed create, so no endpoint is left billing outside the stack.
        Transient failures (5xx, 429, no answer) are tried again: a leftover costs money."""
        from .waiting import TRANSIENT_ERRORS, poll_interval

        for attempt in range(_ROLLBACK_ATTEMPTS):
            if attempt:
                time.sleep(poll_interval() * 2**attempt)
            try:
                api.delete_endpoint(namespace, name, missing_ok=True)
            except TRANSIENT_ERRORS as exc:
                error: EndpointsApiError = exc
            except EndpointsApiError as exc:
                error = exc
                break
            else:
                return (
                    f"the endpoint {namespace}/{name} was deleted so that it does not keep billing"
                )
        return (
            f"deleting it again ALSO FAILED ({error}): endpoint {namespace}/{name} may still "
            "exist and bill; delete it in the Hugging Face console or with "
            f"`hf endpoints delete {name} --namespace {namespace}`"
        )

    # --- update ---------------------------------------------------------------------------

    @_keeps_secrets_out
    def update_endpoint(
        self,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        watch: Watch = NO_WATCH,
    ) -> dict[str, Any]:
        """Send what changed (only that), bring the lifecycle to `paused`, and with `wait` wait
        until the endpoint serves again. Returns the outputs."""
        from . import spec

        namespace, name = _split_id(id_)
        old = _spec_of_state(olds)
        desired = self._desired(news)
        api, config = self._client()
        payload = spec.update_payload(old, desired)
        try:
            live = answer = api.get_endpoint(namespace, name)
            marker = self._hold(namespace, name, live, olds, news)
            if marker is not None and ("tags" in payload or marker != olds.get(OWNERSHIP)):
                payload["tags"] = ownership.with_marker(desired.tags, marker)
            if payload:
                answer = api.update_endpoint(namespace, name, payload)
            if live.state in spec.FAILED_STATES:
                # The service keeps the configuration of a failed deployment, so the same update
                # sent again changes nothing; pausing and resuming restarts the endpoint with its
                # configuration, as the console advises for an endpoint in error ("try
                # restarting it using the pause button").
                live = answer = api.pause_endpoint(namespace, name)
            if desired.paused and not live.paused:
                answer = api.pause_endpoint(namespace, name)
            elif not desired.paused and live.paused:
                answer = api.resume_endpoint(namespace, name)
            info = self._settle(api, namespace, name, desired, answer, watch)
        except WaitCancelled as exc:
            outputs = self._outputs(desired, namespace, name, exc.last or answer, news)
            if marker is not None:
                outputs[OWNERSHIP] = marker
            raise Interrupted(
                f"updating endpoint {namespace}/{name} was cancelled while it was "
                f"'{(exc.last or answer).state}': the service has the new configuration",
                id_,
                outputs,
            ) from None
        except NotFoundError:
            raise ResourceError(
                f"endpoint {namespace}/{name} no longer exists (it was deleted outside this "
                "stack): run `pulumi refresh` to drop it from the stack, then `pulumi up` to "
                "create it again"
            ) from None
        except DeploymentFailedError as exc:
            logs = self._last_logs(api, namespace, name, exc, old, desired)
            message = (
                f"updating endpoint {namespace}/{name} failed: {exc}. The service keeps the new "
                "configuration; fix the inputs if they caused this, then run `pulumi up` again: "
                f"it restarts the endpoint (pause, then resume) with its configuration{logs}"
            )
            raise ResourceError(_without_secrets(message, old, desired)) from None
        except WaitTimeoutError as exc:
            logs = self._last_logs(api, namespace, name, exc, old, desired)
            message = f"updating endpoint {namespace}/{name} failed: {exc}{logs}"
            raise ResourceError(_without_secrets(message, old, desired)) from None
        except EndpointsApiError as exc:
            what = f"updating endpoint {namespace}/{name}"
            raise self._failure(what, exc, config, _hint(api, namespace, desired, exc)) from None
        outputs = self._outputs(desired, namespace, name, info, news)
        if marker is not None:
            outputs[OWNERSHIP] = marker
        return self._priced(outputs, api, namespace, info)

    @staticmethod
    def _hold(
        namespace: str,
        name: str,
        live: Endpoint,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
    ) -> str | None:
        """The marker this resource holds the endpoint by, after checking it still does: the
        one recorded, or a new one when the endpoint has none yet or the resource's name
        changed. An endpoint another resource has taken over is not touched."""
        current = ownership.split(live.tags)[1]
        recorded = olds.get(OWNERSHIP)
        if current is not None and current != recorded:
            raise ResourceError(
                f"endpoint {namespace}/{name} is now held by another resource (it carries the "
                f"ownership tag {current!r}, not this resource's): it was adopted elsewhere or "
                "this resource was replaced. Run `pulumi refresh`, or remove this resource "
                "from the program"
            )
        owner = news.get(ownership.OWNER_KEY)
        if not isinstance(owner, str) or not owner:
            return current
        if current is not None and ownership.owner_of(current) == owner:
            return current
        # None yet (made before markers existed), or the resource was renamed with an alias:
        # the tag follows the resource's present name.
        return ownership.new_marker(owner)

    # --- read / delete --------------------------------------------------------------------

    @_keeps_secrets_out
    def read_endpoint(self, id_: str, props: Mapping[str, Any]) -> Refreshed:
        """Refresh (props = the outputs in state), or a lookup with nothing but the id
        (`InferenceEndpoint.get`, `pulumi import`): the inputs are then every live property,
        and the ownership marker found on the endpoint becomes this resource's."""
        from . import spec

        namespace, name = _split_id(id_)
        lookup = not _public(props)
        api, config = self._client()
        try:
            info = api.get_endpoint(namespace, name)
        except NotFoundError:
            if lookup:  # the engine would accept an empty answer and resolve every output None
                raise ResourceError(
                    f"InferenceEndpoint.get: there is no endpoint '{id_}' (id 'namespace/name')"
                    f" that {config.token_source or 'this token'} can see"
                ) from None
            return Refreshed("", {}, None)  # gone: the engine drops it from the state
        except EndpointsApiError as exc:
            raise self._failure(f"reading endpoint {id_}", exc, config) from None
        prior = None if lookup else _spec_of_state(props)
        live = spec.spec_from_api(info, namespace, prior=prior).to_properties()
        keys = sorted(live) if lookup else _input_keys(props)
        inputs = {key: live[key] for key in keys if key in live}
        for key in (DEFAULTS_KEY, LOGICAL_NAME_KEY, ownership.OWNER_KEY, URN_KEY):
            if props.get(key):
                inputs[key] = props[key]
        # The outputs hold every live value, so that a property set elsewhere which the program
        # leaves unset still differs from the program at the next Diff, and is cleared. The
        # ownership marker stays the one this resource wrote: a refresh never takes over.
        outputs = {**live, **inputs, **spec.status_outputs(info), INPUT_KEYS_KEY: keys}
        if props.get(OWNERSHIP):
            outputs[OWNERSHIP] = props[OWNERSHIP]
        elif lookup and ownership.split(info.tags)[1] is not None:
            outputs[OWNERSHIP] = ownership.split(info.tags)[1]
        return Refreshed(id_, self._priced(outputs, api, namespace, info), inputs)

    @_keeps_secrets_out
    def delete_endpoint(self, id_: str, props: Mapping[str, Any], watch: Watch = NO_WATCH) -> None:
        """Delete the endpoint unless another resource holds it now, and wait until its name is
        free (so that a replacement may reuse it)."""
        namespace, name = _split_id(id_)
        api, config = self._client()
        try:
            held_by = ownership.split(api.get_endpoint(namespace, name).tags)[1]
            if held_by is not None and held_by != props.get(OWNERSHIP):
                # Another resource holds it now (an adoption, a rename, a replacement that
                # reused the name): this resource's endpoint is gone, and that one stays.
                log.warning(
                    "not deleting %s/%s: it carries the ownership tag %r, not this resource's",
                    namespace,
                    name,
                    held_by,
                )
                return
            api.delete_endpoint(namespace, name, missing_ok=True)
        except NotFoundError:
            return
        except EndpointsApiError as exc:
            raise self._failure(f"deleting endpoint {namespace}/{name}", exc, config) from None
        # Wait until the name is free, so a replacement may reuse it.
        from .waiting import Waiter, poll_interval

        timeout = watch.timeout or props.get("waitTimeout")
        waiter = Waiter(api, namespace, name, interval=poll_interval(), cancel=watch.cancel)
        try:
            waiter.wait("gone", float(timeout) if timeout else _DELETE_TIMEOUT)
        except WaitCancelled:
            log.warning("%s/%s: the delete was sent; stopped waiting for it", namespace, name)
        except WaitTimeoutError as exc:
            raise ResourceError(f"deleting endpoint {namespace}/{name}: {exc}") from None

    # --- shared ---------------------------------------------------------------------------

    @staticmethod
    def _last_logs(
        api: EndpointsApi,
        namespace: str,
        name: str,
        exc: BaseException,
        *specs: spec.EndpointSpec,
    ) -> str:
        """For a deployment that failed or timed out: the endpoint's last log lines, as a block
        to append to the error (see forensics.py); "" for other errors."""
        if not isinstance(exc, DeploymentFailedError | WaitTimeoutError):
            return ""
        from .forensics import log_excerpt, secret_values

        return log_excerpt(api, namespace, name, secrets=secret_values(*specs))

    def _desired(self, props: Mapping[str, Any]) -> spec.EndpointSpec:
        from . import spec

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return spec.spec_from_properties(_public(props))
        except spec.SpecError as exc:
            raise ResourceError(f"invalid endpoint properties: {exc}") from None

    def _settle(
        self,
        api: EndpointsApi,
        namespace: str,
        name: str,
        desired: spec.EndpointSpec,
        info: Endpoint,
        watch: Watch = NO_WATCH,
    ) -> Endpoint:
        """Bring the endpoint to the desired lifecycle and, with `wait`, wait for it: up to the
        engine's timeout for the operation when it gave one, else `waitTimeout`."""
        from . import spec
        from .waiting import Target, Waiter, poll_interval

        if desired.paused and not info.paused and info.state != "failed":
            info = api.pause_endpoint(namespace, name)
        if not desired.wait:
            return info
        target: Target = "paused" if desired.paused else "running"
        report = watch.progress
        waiter = Waiter(
            api,
            namespace,
            name,
            interval=poll_interval(),
            cancel=watch.cancel,
            on_progress=(lambda endpoint: report(_progress_line(endpoint))) if report else None,
        )
        timeout = watch.timeout or desired.wait_timeout or spec.DEFAULT_WAIT_TIMEOUT
        result = waiter.wait(target, timeout, initial=info)
        assert result is not None
        return result

    @staticmethod
    def _priced(
        outputs: dict[str, Any], api: EndpointsApi, namespace: str, info: Endpoint
    ) -> dict[str, Any]:
        """`outputs` with `pricePerHour` when the namespace's hardware list has it (see
        pricing.py: cached per process, and a failed lookup only leaves it out)."""
        from .pricing import price_per_hour

        price = price_per_hour(api, namespace, info)
        if price is not None:
            outputs[PRICE_PER_HOUR] = price
        return outputs

    def _outputs(
        self,
        desired: spec.EndpointSpec,
        namespace: str,
        name: str,
        info: Endpoint,
        inputs: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Outputs: the inputs as applied, the computed status, and what refresh needs to give
        back exactly the inputs it was given: their keys, which were defaulted (an auto-name),
        and the logical name (Read sees only the outputs)."""
        from . import spec

        properties = desired.model_copy(update={"namespace": namespace, "name": name})
        outputs = {**properties.to_properties(), **spec.status_outputs(info)}
        outputs[INPUT_KEYS_KEY] = sorted(desired.to_properties())
        for key in (DEFAULTS_KEY, LOGICAL_NAME_KEY, ownership.OWNER_KEY, URN_KEY):
            if inputs.get(key):
                outputs[key] = inputs[key]
        return outputs
