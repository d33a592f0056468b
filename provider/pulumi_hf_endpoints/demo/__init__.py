"""`pulumi-hf-endpoints demo`: deploy, call, change and destroy an endpoint against a local
emulator, from an installed package.

- `command`: the CLI verb (`configure`, `run`); imports nothing heavy, since `--help` loads it.
- `story`: the demo itself: the emulator process, the steps, the progress lines.
- `stack`: what both ways of running the stack share: the project it deploys (`project/`, the
  quickstart example shipped as package data) and `StackError`.
- `pulumi_cli`: the stack through the `pulumi` CLI, on a throw-away local backend.
- `local_stack`: the stack without the CLI, through Pulumi's own provider host and `_engine`, a
  model of the Pulumi engine.
"""
