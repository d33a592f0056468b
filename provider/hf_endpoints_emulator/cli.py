"""`pulumi-hf-endpoints emulator`: run the emulator in the foreground until Ctrl-C or SIGTERM.

Imports only the config at import time: `pulumi-hf-endpoints --help` must not load the web stack.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
import sys
from dataclasses import fields, replace
from types import FrameType

from .config import (
    DEFAULT_HOST,
    DEFAULT_ORG,
    DEFAULT_PORT,
    DEFAULT_USER,
    KEEP_ALIVE_SECONDS,
    EmulatorConfig,
    Timings,
    User,
)

_TIMING_HELP = {
    "pending_seconds": "seconds an endpoint stays 'pending' after create/resume",
    "initializing_seconds": "seconds it stays 'initializing' after create",
    "updating_seconds": "seconds it stays 'updating' after an update",
    "resume_seconds": "seconds it stays 'initializing' after resume",
    "wake_seconds": "seconds of cold start after scale-to-zero",
    "time_scale": "scale of scale-to-zero timeouts (1/60 turns minutes into seconds)",
}


def _pair(value: str) -> tuple[str, str]:
    repository, sep, path = value.partition("=")
    if not sep or not repository or not path:
        raise argparse.ArgumentTypeError(f"expected REPOSITORY=PATH.gguf, got {value!r}")
    return repository, path


def _extra_user(value: str) -> User:
    name, _, rest = value.partition(":")
    token, _, orgs = rest.partition(":")
    if not name or not token:
        raise argparse.ArgumentTypeError(f"expected NAME:TOKEN[:ORG,ORG], got {value!r}")
    return User(name, token, tuple(org for org in orgs.split(",") if org))


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="SQLite state file, or :memory: (default: $XDG_DATA_HOME/pulumi-hf-endpoints/...)",
    )
    parser.add_argument(
        "--token", help="the default user's token (default: generated once per state file)"
    )
    parser.add_argument(
        "--user", default=DEFAULT_USER, help="the default user's name (default: %(default)s)"
    )
    parser.add_argument(
        "--org",
        action="append",
        dest="orgs",
        metavar="ORG",
        help=f"an organisation of the default user, repeatable (default: {DEFAULT_ORG})",
    )
    parser.add_argument(
        "--extra-user",
        action="append",
        type=_extra_user,
        default=[],
        metavar="NAME:TOKEN[:ORG,...]",
        help="another account, repeatable",
    )
    defaults = Timings()
    for name, help_text in _TIMING_HELP.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(defaults, name),
            metavar="FACTOR" if name == "time_scale" else "SECONDS",
            help=f"{help_text} (default: %(default)s)",
        )
    parser.add_argument(
        "--backend",
        choices=("llama", "synthetic"),
        default="llama",
        help="serving backend: the real small model, or the synthetic token source for"
        " benchmarks (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        action="append",
        type=_pair,
        default=[],
        metavar="REPOSITORY=PATH.gguf",
        help="serve a local GGUF file for a repository, repeatable",
    )
    parser.add_argument(
        "--weights",
        choices=("q4_0", "original"),
        default=EmulatorConfig.weights,
        help="weights llama.cpp serves for a Q4_1 model file such as the default one: converted"
        " once (cached) to a type with fast batched CPU kernels, or 'original' to serve every"
        " file as given (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        metavar="N",
        type=int,
        default=None,
        help="llama.cpp threads per batching lane; the model gets one lane per N cores"
        " (default: half the cores; see docs/emulator.md, Serving under load)",
    )
    parser.add_argument(
        "--max-batch-size",
        metavar="N",
        type=int,
        default=EmulatorConfig.max_concurrent_generations,
        help="generations decoded together per model; more queue for a free slot. Each slot"
        " reserves its KV cache up front, about 45 MiB with the default model"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--max-concurrent-requests",
        metavar="N",
        type=int,
        default=EmulatorConfig.max_concurrent_requests,
        help="in-flight requests per endpoint before 429 (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="server log level (default: %(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    if args.max_batch_size < 1:
        raise ValueError(f"--max-batch-size must be at least 1, not {args.max_batch_size}")
    timings = Timings(**{f.name: getattr(args, f.name) for f in fields(Timings)})
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        state=args.state,
        user=args.user,
        token=args.token,
        orgs=tuple(args.orgs) if args.orgs else (DEFAULT_ORG,),
        extra_users=tuple(args.extra_user),
        timings=timings,
        backend=args.backend,
        models=dict(args.model),
        max_concurrent_requests=args.max_concurrent_requests,
        max_concurrent_generations=args.max_batch_size,
        weights=args.weights,
        n_threads=args.threads,
    )


def bind(host: str, port: int) -> socket.socket:
    """A bound socket, so that port 0 resolves to a real port before URLs are built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio disables Nagle's algorithm only on sockets whose proto
    # says TCP, and without that every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


INSTALL_HINT = "pip install 'pulumi-hf-endpoints[emulator]'"


def missing_requirements(backend: str) -> str | None:
    """Why the emulator cannot run here (the `[emulator]` extra is not installed), or None."""
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if backend == "llama" and importlib.util.find_spec("llama_cpp") is None:
        missing.append("llama_cpp")
    if not missing:
        return None
    alternative = " (or run with --backend synthetic)" if missing == ["llama_cpp"] else ""
    return f"emulator: it needs {', '.join(missing)}: {INSTALL_HINT}{alternative}"


def run(args: argparse.Namespace) -> int:
    missing = missing_requirements(getattr(args, "backend", None) or "synthetic")
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    import uvicorn

    from .app import create_app

    try:
        config = config_from_args(args)
    except ValueError as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 2
    try:
        sock = bind(config.host, config.port)
    except OSError as error:
        print(f"emulator: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1
    config = replace(config, port=sock.getsockname()[1])
    app = create_app(config)
    config = app.state.emulator.config
    user = config.default_user()
    print(f"Inference Endpoints emulator running on {config.base_url}")
    print(f"  HF_ENDPOINTS_API_URL={config.api_url}")
    print(f"  token: {user.token}  (user {user.name}; orgs: {', '.join(user.orgs) or 'none'})")
    print(f"  state: {config.state_path}")
    print(f"  serving backend: {config.backend}")
    print("Press Ctrl-C to stop.", flush=True)

    class Server(uvicorn.Server):
        """Shuts down on SIGINT/SIGTERM and returns, instead of re-raising the signal after."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    server = Server(
        uvicorn.Config(
            app,
            log_level=args.log_level,
            access_log=args.log_level == "debug",
            timeout_graceful_shutdown=5,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    )
    server.run(sockets=[sock])
    print("Emulator stopped.", flush=True)
    return 0
