"""Records the RPCs a dynamic-provider host receives, when `HF_ENDPOINTS_RPC_LOG` names a file.

On PYTHONPATH, Python imports this module at start-up in every process; it does nothing unless
the variable is set. Then the gRPC servers the process creates (the provider host's) append one
JSON line per call: the method and its request as the engine sent it. The real CLI's provider
host and the engine model's (`ProviderHost`) record the same way, so their calls compare.
"""

from __future__ import annotations

import os

_LOG = os.environ.get("HF_ENDPOINTS_RPC_LOG")

if _LOG:
    import json
    import threading
    import time
    from typing import Any

    import grpc
    from google.protobuf import json_format

    _lock = threading.Lock()
    _server = grpc.server

    def _record(method: str, request: Any) -> None:
        body = json_format.MessageToDict(request, preserving_proto_field_name=True)
        line = json.dumps(
            {"method": method, "at": time.time(), "pid": os.getpid(), "request": body}
        )
        with _lock, open(_LOG, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    class _Recorder(grpc.ServerInterceptor):  # type: ignore[misc]
        def intercept_service(self, continuation: Any, details: Any) -> Any:
            handler = continuation(details)
            if handler is None or handler.unary_unary is None:
                return handler
            method = details.method.rsplit("/", 1)[-1]
            inner = handler.unary_unary

            def behaviour(request: Any, context: Any) -> Any:
                _record(method, request)
                return inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )

    def _recording_server(*args: Any, **kwargs: Any) -> Any:
        kwargs["interceptors"] = [*(kwargs.get("interceptors") or ()), _Recorder()]
        return _server(*args, **kwargs)

    grpc.server = _recording_server
