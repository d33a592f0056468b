"""The emulator's configuration: one frozen object read by the control plane and the serving layer.

Plain dataclasses (no web stack imported) so the CLI, tests and the serving layer can build and
read it cheaply. The serving layer reads `backend`, `models`, `max_concurrent_requests`,
`max_concurrent_generations`, `weights` and `n_threads`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_USER = "emulator-user"
DEFAULT_ORG = "emulator-org"
TOKEN_PREFIX = "hf_emu_"


def generate_token() -> str:
    """A fresh token that looks like a Hugging Face token and says where it comes from."""
    return TOKEN_PREFIX + secrets.token_hex(16)


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_DATA_HOME/pulumi-hf-endpoints/emulator.sqlite3` (XDG default `~/.local/share`)."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "pulumi-hf-endpoints" / "emulator.sqlite3"


DISTRIBUTION = "pulumi-hf-endpoints"

KEEP_ALIVE_SECONDS = 60
"""How long an idle connection stays open. Load balancers in front of services commonly keep 60
seconds; HTTP clients' own default is shorter (httpx: 5 s), so it is the client that closes an
idle connection, never the server just as the client reuses it (a reset that looks like an
outage to a client that does not retry)."""


def emulator_version() -> str:
    """The version of the distribution that ships the emulator (and the provider it tests)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True)
class User:
    """A Hub account the emulator knows: its token and the organisations it may act for."""

    name: str
    token: str
    orgs: tuple[str, ...] = ()

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.name, *self.orgs)


@dataclass(frozen=True)
class Timings:
    """How long the emulated lifecycle phases last, in real seconds.

    The real service takes minutes; tests want fractions of a second. `time_scale` converts the
    service's scale-to-zero timeout (minutes) into real time: a timeout of `m` minutes lasts
    `m * 60 * time_scale` seconds (1.0 is faithful, 1/60 makes minutes seconds).
    """

    pending_seconds: float = 1.0
    initializing_seconds: float = 3.0
    updating_seconds: float = 2.0
    resume_seconds: float = 2.0
    wake_seconds: float = 2.0
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"timing {name} must be a number >= 0, got {value!r}")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything one emulator process needs; see the CLI options for the meaning of each."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: SQLite file, or ":memory:" for a throw-away state. None: `default_state_path()`.
    state: str | None = None
    #: The default user (the admin of `/emulator/*`); `token` None: generated once per state.
    user: str = DEFAULT_USER
    token: str | None = None
    orgs: tuple[str, ...] = (DEFAULT_ORG,)
    #: More accounts, e.g. to test that one user cannot touch another's endpoints.
    extra_users: tuple[User, ...] = ()
    timings: Timings = field(default_factory=Timings)
    #: Serving layer: "llama" (the real small model) or "synthetic" (benchmark token source).
    backend: str = "llama"
    #: repository -> local GGUF file served for it.
    models: Mapping[str, str] = field(default_factory=dict)
    #: In-flight data-plane requests per endpoint before the serving layer answers 429.
    max_concurrent_requests: int = 128
    #: Generations decoded together per model (TGI's batch size); each reserves its KV cache
    #: up front (about 45 MiB with the default model). See `serving/options.py`.
    max_concurrent_generations: int = 32
    #: Weights served for Q4_1 model files: "q4_0" (converted once, cached) or "original"
    #: (as given). See the serving layer's `backends/weights.py`.
    weights: str = "q4_0"
    #: llama.cpp threads per batching lane (None: the serving layer's default).
    n_threads: int | None = None
    #: List page size when the request sends no `limit` (the service documents 20).
    default_page_size: int = 20
    #: The Hub endpoints may name: repository -> its revisions (branches, tags, commits). None,
    #: the default, is an open Hub where every repository exists at every revision (see hub.py).
    hub: Mapping[str, tuple[str, ...]] | None = None

    @property
    def state_path(self) -> str:
        return str(default_state_path()) if self.state is None else self.state

    @property
    def public_host(self) -> str:
        """The host to put in URLs: a wildcard bind address is reached through loopback."""
        return "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host

    @property
    def base_url(self) -> str:
        host = f"[{self.public_host}]" if ":" in self.public_host else self.public_host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for `HF_ENDPOINTS_API_URL` (and huggingface_hub's endpoints constant)."""
        return self.base_url + "/v2"

    def default_user(self) -> User:
        if self.token is None:
            raise ValueError("the default user's token is not resolved yet")
        return User(self.user, self.token, tuple(self.orgs))

    def users(self) -> tuple[User, ...]:
        return (self.default_user(), *self.extra_users)
