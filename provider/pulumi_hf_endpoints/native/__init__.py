"""The native Pulumi provider of Hugging Face Inference Endpoints: `pulumi-resource-hf-endpoints`.

A plugin the Pulumi engine starts for any language (TypeScript, Go, YAML, Python...), speaking
Pulumi's ResourceProvider gRPC service for the type `hf-endpoints:index:InferenceEndpoint` and
the functions of schema.json. It runs on the same core as the dynamic provider (`core.py`);
docs/native.md says how to install it and use it.

- `server`: the gRPC servicer;
- `wire`: property bags between protobuf and plain values;
- `config`: the provider's settings, default or explicit;
- `invoke`: the functions;
- `urns`: what a URN says.
"""

from __future__ import annotations

import logging
import signal
import sys
from concurrent import futures
from types import FrameType

MAX_WORKERS = 64
"""Operations served at once: creates and updates wait minutes for their endpoints, and the
engine runs up to `--parallel` of them (4 × the CPU count by default)."""
MAX_MESSAGE = 400 * 1024 * 1024  # what Pulumi's own plugins allow


def main(argv: list[str] | None = None) -> None:
    """Serve on a free local port and print it, as the engine expects of a plugin; serve until
    the engine stops the process (SIGINT or SIGTERM end the waits first, as Cancel does)."""
    import grpc
    from pulumi.runtime.proto import provider_pb2_grpc

    from ..engine_log import engine_address
    from .server import NativeProvider

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    args = sys.argv[1:] if argv is None else argv
    provider = NativeProvider(engine_address(args))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    def stop(signum: int, frame: FrameType | None) -> None:
        provider.cancelled.set()
        server.stop(grace=5)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.wait_for_termination()
