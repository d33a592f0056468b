"""A model of the Pulumi engine that drives Pulumi's Python dynamic-provider host
(`python -m pulumi.dynamic`) over gRPC, without the Pulumi CLI. Private: the `demo` command
deploys its stack with it when the `pulumi` CLI is not installed, and the test-suite drives the
provider with it (tests/harness); the provider process never imports it.

- `wire`: property bags in the engine's wire format, made with the SDK's own serialisation.
- `host`: `ProviderHost`, the host process and engine-shaped RPC methods.
- `engine`: `Engine`, a stack state and the engine's steps (create/update/replace/delete...).
- `monitor`: `EngineMonitor` and `run_program`, a Pulumi program run under `set_mocks` whose
  dynamic resources go to an `Engine` as they register.

Import the submodules; this package imports nothing heavy by itself.
"""
