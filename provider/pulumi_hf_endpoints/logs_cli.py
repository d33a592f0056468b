"""`pulumi-hf-endpoints logs NAMESPACE/NAME [--follow] [--tail N] [--replica ID]`: an endpoint's
log.

    pulumi-hf-endpoints logs my-org/chat --tail 50
    pulumi-hf-endpoints logs "$(pulumi stack output endpoint)" --follow
    pulumi-hf-endpoints logs my-org/chat --replica 6pajyw3k-z7ghx

Prints the log lines of the endpoint's replicas, oldest first (redacted like every message of
the client: no token). `--follow` keeps printing new lines as they are written, until the
endpoint is deleted (exit 0) or Ctrl-C (exit 130). Errors print one line on stderr and exit
with 1 (2 for bad arguments); a closed pipe (`| head`) stops quietly with 141, the status of a
tool that SIGPIPE ended. The token and API URL are found as by the library: `--token`, else
`HF_TOKEN` or the saved login; `--api-url`, else `HF_ENDPOINTS_API_URL`, else the service.
"""

from __future__ import annotations

import argparse
import sys

from .cli import guarded

#: Exit status after the reader of stdout went away: 128 + SIGPIPE, as for a Unix tool.


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "endpoint",
        metavar="NAMESPACE/NAME",
        help="the endpoint, as the resource's id (`namespace/name`); a name alone means the "
        "token's own namespace",
    )
    parser.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="keep printing new lines as they are written, until the endpoint is deleted "
        "(or Ctrl-C)",
    )
    parser.add_argument(
        "-n",
        "--tail",
        type=int,
        default=None,
        metavar="N",
        help="only the last N lines (default: every line the service keeps)",
    )
    parser.add_argument(
        "-r",
        "--replica",
        default=None,
        metavar="ID",
        help="only this replica's lines: its deployment-replica id, as each line shows it "
        "(e.g. 6pajyw3k-z7ghx)",
    )
    parser.add_argument(
        "--token", default=None, help="Hugging Face token (default: HF_TOKEN or the saved login)"
    )
    parser.add_argument(
        "--api-url",
        default=None,
        metavar="URL",
        help="the Inference Endpoints API (default: HF_ENDPOINTS_API_URL, else the service); "
        "the URL the emulator prints works",
    )


def _split(endpoint: str) -> tuple[str | None, str]:
    namespace, _, name = endpoint.strip().rpartition("/")
    if not name or (_ and not namespace):
        raise ValueError(f"expected NAMESPACE/NAME (or NAME), got {endpoint!r}")
    return namespace or None, name


def run(args: argparse.Namespace) -> int:
    from .client.errors import EndpointsApiError

    return guarded(lambda: _print_logs(args), (EndpointsApiError,))


def _print_logs(args: argparse.Namespace) -> int:
    from .client.api import EndpointsApi

    namespace, name = _split(args.endpoint)
    if args.tail is not None and args.tail < 0:
        raise ValueError(f"--tail must be 0 or more, got {args.tail}")
    with EndpointsApi(args.token, api_url=args.api_url) as api:
        namespace = api.resolve_namespace(namespace)
        if args.follow:
            with api.follow_logs(namespace, name, tail=args.tail, replica=args.replica) as lines:
                for line in lines:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
        else:
            for line in api.get_logs(namespace, name, tail=args.tail, replica=args.replica):
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
    return 0
