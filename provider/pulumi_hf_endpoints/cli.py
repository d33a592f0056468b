"""The `pulumi-hf-endpoints` console script.

Each sub-command lives in its own module, imported only when that command runs, so
`pulumi-hf-endpoints --help` stays fast and never loads the emulator's web stack.
A command module provides `configure(parser, command)` and `run(args) -> int` (`args.command`
says which command ran, so one module may serve several). To add a command, add one line to
COMMANDS below.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence

from ._version import __version__

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "version": ("pulumi_hf_endpoints.cli", "Print the package version."),
    "emulator": ("hf_endpoints_emulator.cli", "Run the local Inference Endpoints emulator."),
    "generate": ("pulumi_hf_endpoints.inference_cli", "Generate text from an endpoint URL."),
    "chat": (
        "pulumi_hf_endpoints.inference_cli",
        "Chat with an endpoint interactively, streaming tokens.",
    ),
    "logs": ("pulumi_hf_endpoints.logs_cli", "Print an endpoint's logs, or follow them."),
    "conformance": (
        "pulumi_hf_endpoints.conformance.command",
        "Check the service against the emulator on one small paused endpoint (billed).",
    ),
    "demo": (
        "pulumi_hf_endpoints.demo.command",
        "Deploy, call, change and destroy an endpoint against a local emulator.",
    ),
}


BROKEN_PIPE_STATUS = 128 + int(getattr(signal, "SIGPIPE", 13))
"""Exit status when the reader of stdout went away (`| head`), as a Unix tool killed by it."""
INTERRUPTED_STATUS = 130
"""Exit status on Ctrl-C, as a shell reports SIGINT."""


def guarded(
    body: Callable[[], int],
    service_errors: tuple[type[BaseException], ...],
    *,
    error_prefix: str = "",
) -> int:
    """Run a verb that prints as it goes, and end it the way Unix tools end: a service error is
    one line on stderr and status 1, a bad argument status 2, Ctrl-C 130, and a reader that went
    away 141, quietly."""
    try:
        return body()
    except service_errors as error:
        print(f"{error_prefix}error: {error}", file=sys.stderr)
        return 1
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return INTERRUPTED_STATUS
    except BrokenPipeError:
        # Python would flush stdout again at exit and report the broken pipe, so point stdout
        # at /dev/null first (the Python docs' "Note on SIGPIPE",
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE_STATUS


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    """Arguments of the `version` command (none)."""


def run(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-hf-endpoints",
        description=(
            "Hugging Face Inference Endpoints for Pulumi: a local emulator of the service, "
            "generation helpers and a demo."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.configure(command_parser, name)
        command_parser.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(args._module)
    code: int = module.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
