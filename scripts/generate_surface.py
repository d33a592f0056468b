"""Write the property surface of `InferenceEndpoint` from schema.json, its one source.

    python scripts/generate_surface.py            # rewrite every generated file and block
    python scripts/generate_surface.py --check    # exit 1 (and show the diff) when one is stale

What it writes:

- `provider/pulumi_hf_endpoints/resource_types.py`: the argument classes
  (`InferenceEndpointArgs`, `CustomImageArgs`, ...) and the output types (`CustomImage`, ...);
- the block of `pulumi.property` outputs inside `InferenceEndpoint` in `resource.py`
  (between its `BEGIN generated outputs` and `END generated outputs` comments);
- `provider/pulumi_hf_endpoints/spec/properties.py`: the property names and their roles
  (required, output-only, replace-on-change, secret, defaults);
- `provider/pulumi_hf_endpoints/schema.json`: a copy, which the wheel carries for the native
  provider's GetSchema;
- the reference tables of docs/resource.md and docs/functions.md (`property_table.py`).

What stays hand-written (the rules of `spec/model.py`, the payload paths of `spec/payloads.py`)
is checked against the schema by tests/spec/test_surface.py. Adding a property is one schema
edit, a run of this script, and its rule and payload path.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import property_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path("provider") / "pulumi_hf_endpoints"
TYPES_MODULE = PACKAGE / "resource_types.py"
RESOURCE_MODULE = PACKAGE / "resource.py"
PROPERTIES_MODULE = PACKAGE / "spec" / "properties.py"
PACKAGED_SCHEMA = PACKAGE / "schema.json"
RESOURCE_DOC = Path("docs") / "resource.md"
FUNCTIONS_DOC = Path("docs") / "functions.md"
GENERATED = (
    TYPES_MODULE,
    PROPERTIES_MODULE,
    RESOURCE_MODULE,
    PACKAGED_SCHEMA,
    RESOURCE_DOC,
    FUNCTIONS_DOC,
)
"""Every file this script writes, relative to the repository's root."""
RESOURCE = "hf-endpoints:index:InferenceEndpoint"
PREFIX = "hf-endpoints:index:"
OUTPUTS_BEGIN = "    # BEGIN generated outputs: scripts/generate_surface.py from schema.json\n"
OUTPUTS_END = "    # END generated outputs\n"
HEADER = (
    "# Generated from schema.json by scripts/generate_surface.py: edit the schema and regenerate\n"
    "# (`python scripts/generate_surface.py`). `make lint` fails when this file is stale.\n"
)
#: Object types whose argument class and output type are generated, in dependency order.
OBJECT_TYPES = ("RegistryCredentials", "CustomImage", "PrivateService")

SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class Stale(Exception):
    """A generated file or block differs from what the schema gives."""


# --------------------------------------------------------------------------- names and text


def snake(name: str) -> str:
    return property_table.snake(name)


def wrap(text: str, indent: str, width: int = 100) -> list[str]:
    """`text` as lines of at most `width`, each starting with `indent`."""
    body = " ".join(text.split())
    return textwrap.wrap(
        body,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def docstring(text: str, indent: str) -> list[str]:
    """A docstring of `text`: one line when it fits, else wrapped between its quotes."""
    body = " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''")
    if len(indent) + len(body) + 6 <= 100:
        return [f'{indent}"""{body}"""']
    lines = wrap(body, indent, 97)
    lines[0] = indent + '"""' + lines[0][len(indent) :]
    return [*lines, f'{indent}"""']


def type_name(ref: str) -> str:
    return ref.rsplit(":", 1)[-1]


# --------------------------------------------------------------------------- type annotations


def _is_enum(schema: dict[str, Any], ref: str) -> bool:
    return "enum" in schema["types"][ref.removeprefix("#/types/")]


def input_type(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    """The annotation of an argument: Inputs everywhere, an argument class or a dict for objects."""
    ref = prop.get("$ref")
    if ref == "pulumi.json#/Any":
        return "Any"
    if ref is not None and not _is_enum(schema, ref):
        return f"{type_name(ref)}Args | pulumi.Input[Mapping[str, Any]]"
    if ref is not None:
        return "pulumi.Input[str]"
    kind = prop["type"]
    if kind == "array":
        return f"pulumi.Input[Sequence[{_input_item(schema, prop['items'])}]]"
    if kind == "object":
        return f"pulumi.Input[Mapping[str, {_input_item(schema, prop['additionalProperties'])}]]"
    return f"pulumi.Input[{SCALARS[kind]}]"


def _input_item(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    if prop.get("$ref") == "pulumi.json#/Any":
        return "Any"
    return input_type(schema, prop)


def output_type(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    """The annotation of an output value: plain Python types, output types for objects."""
    ref = prop.get("$ref")
    if ref == "pulumi.json#/Any":
        return "Any"
    if ref is not None:
        return "str" if _is_enum(schema, ref) else type_name(ref)
    kind = prop["type"]
    if kind == "array":
        return f"Sequence[{output_type(schema, prop['items'])}]"
    if kind == "object":
        return f"Mapping[str, {output_type(schema, prop['additionalProperties'])}]"
    return SCALARS[kind]


# --------------------------------------------------------------------------- resource_types.py


def _args_class(schema: dict[str, Any], name: str, spec: dict[str, Any], doc: str) -> list[str]:
    if "inputProperties" in spec:  # a resource: its inputs, not its outputs
        required, props = set(spec.get("requiredInputs", [])), spec["inputProperties"]
    else:
        required, props = set(spec.get("required", [])), spec["properties"]
    lines = ["", "", "@suggest_keywords", "@dataclass(kw_only=True)", f"class {name}:"]
    lines += docstring(doc, "    ")
    ordered = [n for n in props if n in required] + [n for n in props if n not in required]
    for prop_name in ordered:
        prop = props[prop_name]
        annotation = input_type(schema, prop)
        field = snake(prop_name)
        if prop_name in required:
            lines.append(f"    {field}: {annotation}")
        else:
            lines.append(f"    {field}: {annotation} | None = None")
        description = prop.get("description", "")
        ref = prop.get("$ref", "")
        if ref.startswith("#/types/") and _is_enum(schema, ref):
            values = schema["types"][ref.removeprefix("#/types/")]["enum"]
            description += " One of: " + ", ".join(f"`{v['value']}`" for v in values) + "."
        if "default" in prop:
            description += f" Default: `{json.dumps(prop['default'])}`."
        if prop.get("secret"):
            description += " Secret."
        lines += docstring(description, "    ")
    return lines


def _output_class(schema: dict[str, Any], name: str, spec: dict[str, Any]) -> list[str]:
    props: dict[str, Any] = spec["properties"]
    doc = (
        f"`{name}` as the stack records it, read the way `{name}Args` writes it: attributes "
        f"or snake_case keys. {spec.get('description', '')}"
    )
    lines = ["", "", "@pulumi.output_type", f"class {name}(dict[str, Any]):"]
    lines += docstring(doc, "    ")
    params = [f"{snake(p)}: {output_type(schema, v)} | None = None" for p, v in props.items()]
    lines += ["", "    def __init__(", "        self,", "        *,"]
    lines += [f"        {param}," for param in params]
    lines += ["    ) -> None:"]
    lines += ["        values = {"]
    lines += [f'            "{snake(p)}": {snake(p)},' for p in props]
    lines += ["        }"]
    lines += ["        for key, value in values.items():"]
    lines += ["            if value is not None:"]
    lines += ["                pulumi.set(self, key, value)"]
    for prop_name, prop in props.items():
        field = snake(prop_name)
        getter = "@pulumi.getter" if field == prop_name else f'@pulumi.getter(name="{prop_name}")'
        annotation = f"{output_type(schema, prop)} | None"
        lines += [
            "",
            "    @property",
            f"    {getter}",
            f"    def {field}(self) -> {annotation}:",
            *docstring(prop.get("description", ""), "        "),
            f'        return cast("{annotation}", pulumi.get(self, "{field}"))',
        ]
    return lines


def render_types(schema: dict[str, Any]) -> str:
    types = schema["types"]
    resource = schema["resources"][RESOURCE]
    lines = [
        HEADER.rstrip("\n"),
        '"""The argument classes and output types of `InferenceEndpoint`, from schema.json.',
        "",
        "Attribute names are the snake_case twins of the schema's camelCase properties",
        "(`instance_type` <-> `instanceType`); state, stack outputs and `pulumi preview` keep the",
        "camelCase names. `resource.py` turns these arguments into the properties it registers.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping, Sequence",
        "from dataclasses import dataclass",
        "from typing import Any, cast",
        "",
        "import pulumi",
        "",
        "from .names import suggest_keywords",
        "",
        "__all__ = [",
    ]
    names = sorted([*OBJECT_TYPES, *(f"{t}Args" for t in OBJECT_TYPES), "InferenceEndpointArgs"])
    lines += [f'    "{name}",' for name in names]
    lines += ["]"]
    for name in OBJECT_TYPES:
        spec = types[PREFIX + name]
        lines += _args_class(schema, f"{name}Args", spec, spec.get("description", ""))
    doc = (
        "The arguments of an `InferenceEndpoint`; the docs' property table "
        "(docs/resource.md) says what each one does and what changing it does."
    )
    lines += _args_class(schema, "InferenceEndpointArgs", resource, doc)
    for name in OBJECT_TYPES:
        lines += _output_class(schema, name, types[PREFIX + name])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- resource.py block


def render_outputs(schema: dict[str, Any]) -> str:
    """The `pulumi.property` declarations of `InferenceEndpoint`: one per output, typed."""
    resource = schema["resources"][RESOURCE]
    required = set(resource.get("required", []))
    props: dict[str, Any] = resource["properties"]
    ordered = [n for n in props if n != "type"] + ["type"]  # `type` last: it shadows the builtin
    lines = [
        "    # The SDK types what the engine returns by these annotations (whole numbers as",
        "    # int, the image as `CustomImage`); `pulumi.property` gives each output's name in",
        "    # state.",
    ]
    for name in ordered:
        annotation = output_type(schema, props[name])
        if name not in required:
            annotation += " | None"
        lines.append(f'    {snake(name)}: pulumi.Output[{annotation}] = pulumi.property("{name}")')
    return OUTPUTS_BEGIN + "\n".join(lines) + "\n" + OUTPUTS_END


def replace_block(text: str, block: str, path: Path) -> str:
    start, end = text.find(OUTPUTS_BEGIN), text.find(OUTPUTS_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no generated-outputs markers")
    return text[:start] + block + text[end + len(OUTPUTS_END) :]


# --------------------------------------------------------------------------- spec/properties.py


def _tuple(name: str, values: Iterable[str], doc: str) -> list[str]:
    items = list(values)
    lines = [f"{name}: tuple[str, ...] = ("]
    lines += [f'    "{value}",' for value in items]
    lines += [")"]
    return lines + docstring(doc, "")


def render_properties(schema: dict[str, Any]) -> str:
    resource = schema["resources"][RESOURCE]
    inputs: dict[str, Any] = resource["inputProperties"]
    outputs: dict[str, Any] = resource["properties"]
    defaults = {name: prop["default"] for name, prop in inputs.items() if "default" in prop}
    nested_secrets = [
        (f"{PREFIX}{owner}", key)
        for owner in OBJECT_TYPES
        for key, prop in schema["types"][PREFIX + owner]["properties"].items()
        if prop.get("secret")
    ]
    lines = [
        HEADER.rstrip("\n"),
        '"""The property names of `InferenceEndpoint` and their roles, as schema.json has them.',
        "",
        "Free of pydantic on purpose: a Pulumi program that declares endpoints, and a provider",
        "process until its first check, load only this (both start on every `pulumi` command).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f'RESOURCE_TOKEN = "{RESOURCE}"',
        "",
    ]
    lines += _tuple("INPUTS", inputs, "Every input property, in the schema's order.")
    required = resource.get("requiredInputs", [])
    lines += _tuple("REQUIRED_INPUTS", required, "Inputs a program must set.")
    lines += _tuple(
        "OUTPUT_ONLY",
        (name for name in outputs if name not in inputs),
        "Properties that exist only in outputs: the service (or the provider) computes them.",
    )
    lines += _tuple(
        "REPLACE_ON_CHANGES",
        (name for name, prop in inputs.items() if prop.get("replaceOnChanges")),
        "Inputs whose change replaces the endpoint: the service cannot change them in place.",
    )
    lines += _tuple(
        "SECRET_PROPERTIES",
        (name for name, prop in inputs.items() if prop.get("secret")),
        "Inputs kept secret in state and never echoed in messages.",
    )
    lines += [f"NESTED_SECRETS: tuple[tuple[str, str], ...] = {tuple(nested_secrets)!r}"]
    lines += docstring("Secret keys of object types: (type token, key).", "")
    lines += [f"INPUT_DEFAULTS: dict[str, object] = {defaults!r}"]
    lines += docstring("The defaults the schema documents, which check fills in.", "")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the command


def _ruff(code: str, filename: Path) -> str:
    for args in (["check", "--fix-only", "--select", "I"], ["format"]):
        out = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(filename)],
            input=code,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if out.returncode != 0:
            raise SystemExit(f"ruff {' '.join(args)} failed on {filename}:\n{out.stderr}")
        code = out.stdout
    return code


def targets(schema: dict[str, Any]) -> dict[Path, Callable[[str], str]]:
    """Each generated file (relative to the root), and how to make its text from its current
    text (the docs and resource.py keep what lies outside their generated blocks)."""
    types_code = _ruff(render_types(schema), TYPES_MODULE)
    properties_code = _ruff(render_properties(schema), PROPERTIES_MODULE)
    outputs = render_outputs(schema)
    table = property_table.render(schema)
    functions = property_table.render_functions(schema)
    return {
        TYPES_MODULE: lambda _: types_code,
        PROPERTIES_MODULE: lambda _: properties_code,
        RESOURCE_MODULE: lambda text: replace_block(text, outputs, RESOURCE_MODULE),
        PACKAGED_SCHEMA: lambda _: json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
        RESOURCE_DOC: lambda text: property_table.updated(
            text, table, property_table.BEGIN, property_table.END, RESOURCE_DOC
        ),
        FUNCTIONS_DOC: lambda text: property_table.updated(
            text,
            functions,
            property_table.FUNCTIONS_BEGIN,
            property_table.FUNCTIONS_END,
            FUNCTIONS_DOC,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    parser.add_argument("--schema", type=Path, default=ROOT / "schema.json")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the tree holding the generated files"
    )
    args = parser.parse_args(argv)
    schema = json.loads(args.schema.read_text())
    stale = 0
    for name, fresh_of in targets(schema).items():
        path = args.root / name
        current = path.read_text() if path.exists() else ""
        fresh = fresh_of(current)
        if fresh == current:
            continue
        if args.check:
            diff = difflib.unified_diff(
                current.splitlines(), fresh.splitlines(), str(name), "generated", lineterm=""
            )
            print("\n".join(diff))
            print(f"{name} is stale: run `python scripts/generate_surface.py`", file=sys.stderr)
            stale = 1
            continue
        path.write_text(fresh)
        print(f"updated {name}")
    return stale


if __name__ == "__main__":
    sys.exit(main())
