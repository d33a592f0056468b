"""`pulumi-hf-endpoints conformance --namespace NS`: does the service do what the provider and
the emulator believe? For people with an account; it costs a few cents at most.

    pulumi-hf-endpoints conformance --namespace my-org
    pulumi-hf-endpoints conformance --namespace my-user --yes --api-url http://127.0.0.1:8765

It shows the hourly price of one small CPU endpoint and asks before it starts. It then creates
that endpoint (named `hfe-conformance-<random>`, tagged `pulumi-hf-endpoints-conformance`),
pauses it as soon as the service answers the create (billing is per minute while initializing
or running, so it bills at most the minutes before the pause), runs every row of `checks` on
it, deletes it whatever happens (Ctrl-C included), and prints one row per check: what the
service did, what the emulator does, and whether they agree.

Exit status: 0 when every row agrees, 1 when one does not (or on a service error), 2 for bad
arguments, 130 on Ctrl-C. The token and API URL are found as by the library: `--token`, else
`HF_TOKEN` or the saved login; `--api-url`, else `HF_ENDPOINTS_API_URL`, else the service.
"""

from __future__ import annotations

import argparse
import json
import secrets as _random
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..cli import guarded

if TYPE_CHECKING:
    from ..client.api import EndpointsApi
    from .checks import Hardware, Row


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--namespace",
        required=True,
        metavar="NS",
        help="the user or organisation to create the endpoint in (it is billed there)",
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="start without asking for confirmation"
    )
    parser.add_argument("--vendor", default="aws", help="cloud vendor (default: aws)")
    parser.add_argument("--region", default="us-east-1", help="region (default: us-east-1)")
    parser.add_argument(
        "--instance-type", default="intel-spr", help="a CPU instance type (default: intel-spr)"
    )
    parser.add_argument("--instance-size", default="x1", help="its size (default: x1)")
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


def run(args: argparse.Namespace) -> int:
    from ..client.errors import EndpointsApiError

    return guarded(lambda: conformance(args), (EndpointsApiError,))


def _price(api: EndpointsApi, namespace: str, hardware: Hardware) -> float | None:
    """The hourly price of the instance; raises ValueError when the namespace cannot order it."""
    for row in api.list_hardware(namespace).hardware():
        if (row.vendor, row.region, row.instance_type, row.instance_size) == (
            hardware.vendor,
            hardware.region,
            hardware.instance_type,
            hardware.instance_size,
        ):
            if row.accelerator != "cpu":
                raise ValueError(f"{row.instance_type} is a {row.accelerator} instance, not a CPU")
            if not row.orderable:
                raise ValueError(
                    f"{row.id} cannot be ordered in {namespace} (status {row.status}, quota "
                    f"{row.max_accelerators}); pick another with --instance-type/--instance-size"
                )
            return row.price_per_hour
    raise ValueError(
        f"{hardware.vendor} {hardware.region} offers no {hardware.instance_type} "
        f"{hardware.instance_size} to {namespace}: see `get_hardware` for what it offers"
    )


def _confirm(stream: TextIO) -> bool:
    if not stream.isatty():
        raise ValueError("no terminal to confirm on: pass --yes to start without asking")
    print("Proceed? [y/N] ", end="", flush=True)
    return stream.readline().strip().lower() in ("y", "yes")


def conformance(args: argparse.Namespace, *, stdin: TextIO | None = None) -> int:
    from .. import spec
    from ..client.api import EndpointsApi
    from .checks import Hardware, Session, endpoint_properties, run_checks

    hardware = Hardware(
        vendor=args.vendor,
        region=args.region,
        instance_type=args.instance_type,
        instance_size=args.instance_size,
    )
    name = "hfe-conformance-" + _random.token_hex(3)
    with EndpointsApi(args.token, api_url=args.api_url) as api:
        namespace = args.namespace
        price = _price(api, namespace, hardware)
        shown = "an unknown price" if price is None else f"${price:g} per hour"
        notice = (
            f"This creates endpoint {namespace}/{name} on {hardware.vendor} {hardware.region} "
            f"{hardware.instance_type} {hardware.instance_size} ({shown}, billed per minute while "
            "initializing or running), pauses it as soon as the service answers, runs "
            "the checks on the paused endpoint and deletes it at the end."
        )
        print(notice)
        if not args.yes and not _confirm(stdin or sys.stdin):
            print("Nothing was created.")
            return 1
        session = Session(api, namespace, name, endpoint_properties(name, namespace, hardware))
        base = session.desired()
        rows: list[Row] = []
        try:
            session.created = api.create_endpoint(namespace, spec.create_payload(base, name)).raw
            api.pause_endpoint(namespace, name)
            print(f"Created and paused {namespace}/{name}; running the checks.")
            session.current = base
            rows = run_checks(session, on_row=lambda row: print(_progress(row), flush=True))
        finally:
            api.delete_endpoint(namespace, name, missing_ok=True)
            print(f"Deleted {namespace}/{name}.")
    print()
    print(table(rows))
    disagreeing = [row.id for row in rows if not row.agrees]
    if disagreeing:
        print(f"\n{len(disagreeing)} of {len(rows)} rows disagree: " + ", ".join(disagreeing))
        return 1
    print(f"\nAll {len(rows)} rows agree.")
    return 0


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _progress(row: Row) -> str:
    return f"  {'agree' if row.agrees else 'DIFFER'}  {row.id}"


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table: check, what it does, service, emulator, agree."""
    header = ("check", "what", "service", "emulator", "agree")
    cells = [
        (r.id, r.what, _value(r.service), _value(r.emulator), "yes" if r.agrees else "NO")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *cells)) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
        for line in (header, *cells)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
