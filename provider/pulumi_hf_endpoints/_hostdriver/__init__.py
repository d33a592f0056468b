"""Drive Pulumi's Python dynamic-provider host (`python -m pulumi.dynamic`) over gRPC, without
the Pulumi CLI. Private: used by `pulumi-hf-endpoints demo` and by the test harness
(tests/harness); the provider process never imports it.

- `wire`: property bags in the engine's wire format, made with the SDK's own serialisation.
- `host`: `ProviderHost`, the host process and engine-shaped RPC methods.
- `engine`: `Engine`, a stack state and the engine's steps (create/update/replace/delete...).
- `program`: running a Pulumi program under `set_mocks`, capturing or deploying what it declares.

Import the submodules; this package imports nothing heavy by itself.
"""
