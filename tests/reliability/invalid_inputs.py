"""Hypothesis strategies of invalid `InferenceEndpoint` inputs.

Each example starts from a valid property bag and applies one to three breakers, each of which
makes the bag invalid on its own: a wrong type, a value out of range, a value outside an enum,
a malformed name, a missing required property, an unknown key, or a broken cross-property rule.
`InvalidBag.unknown_keys` lists the unknown keys written, the only names a failure may carry
besides schema.json's input properties.
"""

from __future__ import annotations

import json
import math
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from pydantic.alias_generators import to_camel, to_snake

from pulumi_hf_endpoints import properties, spec

REPO_ROOT = Path(__file__).resolve().parents[2]
_SCHEMA = json.loads((REPO_ROOT / "schema.json").read_text())
_RESOURCE = next(iter(_SCHEMA["resources"].values()))
INPUT_PROPERTIES: frozenset[str] = frozenset(_RESOURCE["inputProperties"])
ALL_PROPERTIES: frozenset[str] = INPUT_PROPERTIES | frozenset(_RESOURCE["properties"])

VALID: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "authenticated",
    "instanceSize": "x2",
    "instanceType": "intel-spr",
}


PRIVATE_LINK_ACCOUNT = "123456789012"


@dataclass
class InvalidBag:
    props: dict[str, Any]
    breakers: list[str] = field(default_factory=list)
    unknown_keys: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- wrong values

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
junk_scalar = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**6), 10**6),
    finite,
)
junk_container = st.one_of(
    st.lists(junk_scalar, min_size=0, max_size=3),
    st.dictionaries(st.text(string.ascii_letters, max_size=5), junk_scalar, max_size=3),
)
non_string = st.one_of(st.integers(-(10**9), 10**9), finite, st.booleans(), junk_container)
non_number = st.one_of(
    st.text(max_size=8).filter(lambda s: not _numeric(s)),
    st.booleans().map(lambda b: [b]),
    junk_container,
)
non_bool = st.one_of(
    st.integers().filter(lambda n: n not in (0, 1)),
    st.floats(allow_nan=False).filter(lambda x: x not in (0.0, 1.0)),
    st.sampled_from(["maybe", "enabled", "2", "", "nope!", "TRUE-ish"]),
    junk_container,
)
non_list = st.one_of(
    st.text(max_size=10),
    st.integers(),
    finite,
    st.booleans(),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)
bad_list_items = st.lists(
    st.one_of(st.integers(), finite, st.booleans(), junk_container), min_size=1, max_size=3
)
non_map = st.one_of(
    st.text(max_size=10),
    st.integers(),
    finite,
    st.booleans(),
    st.lists(st.text(max_size=4), max_size=3),
)
bad_map_values = st.dictionaries(
    st.text(string.ascii_uppercase + "_", min_size=1, max_size=8),
    st.one_of(st.integers(), finite, st.booleans(), junk_container),
    min_size=1,
    max_size=3,
)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _enum_junk(allowed: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(max_size=12).filter(
            lambda s: s not in allowed and s not in properties.LEGACY_TYPES
        ),
        st.sampled_from([a.upper() for a in allowed] + [a + " " for a in allowed]),
        non_string,
    )


bad_names = st.one_of(
    st.text(string.ascii_lowercase + string.digits + "-", min_size=33, max_size=60),
    st.from_regex(r"\A[a-z0-9]*[A-Z_.!@ ][a-z0-9]*\Z"),
    st.from_regex(r"\A-[a-z0-9-]{0,10}\Z"),
    st.from_regex(r"\A[a-z0-9-]{0,10}-\Z"),
    st.just(""),
    non_string,
)
blank = st.sampled_from(["", " ", "   ", "\t", "\n "])
bad_sizes = st.one_of(
    st.sampled_from(["small", "medium", "large", "X1", "x", "1x", "x1 ", "xl"]),
    st.from_regex(r"\A[a-wyz][0-9]{1,3}\Z"),
    non_string,
)

# (property, strategy of invalid values); every value is invalid in every valid bag.
VALUE_BREAKERS: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("name", bad_names),
    ("framework", _enum_junk(spec.FRAMEWORKS)),
    ("accelerator", _enum_junk(spec.ACCELERATORS)),
    ("vendor", _enum_junk(spec.VENDORS)),
    ("type", _enum_junk(spec.ENDPOINT_TYPES)),
    ("scalingMetric", _enum_junk(spec.SCALING_METRICS)),
    ("repository", st.one_of(blank, non_string)),
    ("region", st.one_of(blank, non_string)),
    ("instanceType", st.one_of(blank, non_string)),
    ("task", st.one_of(blank, non_string)),
    ("namespace", st.one_of(blank, non_string)),
    ("revision", non_string),
    ("domain", non_string),
    ("path", st.one_of(st.text(max_size=10).filter(lambda s: not s.startswith("/")), non_string)),
    ("instanceSize", bad_sizes),
    (
        "minReplica",
        st.one_of(
            st.integers(max_value=-1),
            non_number,
            st.floats(allow_nan=False).filter(lambda x: not float(x).is_integer()),
        ),
    ),
    (
        "maxReplica",
        st.one_of(
            st.integers(max_value=0),
            non_number,
            st.floats(allow_nan=False).filter(lambda x: not float(x).is_integer()),
        ),
    ),
    (
        "scaleToZeroTimeout",
        st.one_of(st.integers(max_value=14), st.integers(min_value=2881), non_number),
    ),
    (
        "scalingThreshold",
        st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), non_number),
    ),
    (
        "waitTimeout",
        st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), non_number),
    ),
    ("paused", non_bool),
    ("wait", non_bool),
    ("adoptExisting", non_bool),
    ("cacheHttpResponses", non_bool),
    ("containerCommand", st.one_of(non_list, bad_list_items)),
    ("containerArgs", st.one_of(non_list, bad_list_items)),
    ("tags", st.one_of(non_list, bad_list_items)),
    ("env", st.one_of(non_map, bad_map_values)),
    ("secrets", st.one_of(non_map, bad_map_values)),
    (
        "customImage",
        st.one_of(
            st.text(max_size=10),
            st.integers(),
            st.lists(st.text(max_size=3), max_size=2),
            # missing url
            st.fixed_dictionaries({"healthRoute": st.just("/health")}),
            # port out of range / wrong type
            st.fixed_dictionaries(
                {
                    "url": st.just("ghcr.io/x/y:1"),
                    "port": st.one_of(
                        st.integers(max_value=0), st.integers(min_value=65536), non_number
                    ),
                }
            ),
            # health route without a leading slash
            st.fixed_dictionaries(
                {
                    "url": st.just("ghcr.io/x/y:1"),
                    "healthRoute": st.text(string.ascii_letters, min_size=1, max_size=8),
                }
            ),
            # unknown key
            st.fixed_dictionaries({"url": st.just("ghcr.io/x/y:1"), "fancyOption": junk_scalar}),
            # bad engine
            st.fixed_dictionaries(
                {"url": st.just("ghcr.io/x/y:1"), "engine": _enum_junk(spec.IMAGE_ENGINES)}
            ),
            # credentials on an engine that configures itself, or without a username
            st.fixed_dictionaries(
                {
                    "url": st.just("ghcr.io/x/y:1"),
                    "engine": st.just("tgi"),
                    "credentials": st.just({"username": "u", "password": "p"}),
                }
            ),
            st.fixed_dictionaries(
                {"url": st.just("ghcr.io/x/y:1"), "credentials": st.just({"password": "p"})}
            ),
            st.fixed_dictionaries(
                {"url": st.just("ghcr.io/x/y:1"), "tensorParallelSize": st.integers(max_value=0)}
            ),
            st.fixed_dictionaries({"url": st.just("ghcr.io/x/y:1"), "env": bad_map_values}),
        ),
    ),
    (
        "privateService",
        st.one_of(
            st.text(max_size=10),
            st.integers(),
            st.lists(junk_scalar, max_size=2),
            st.just({}),  # no account
            # an account id that is not 12 digits written as text
            st.fixed_dictionaries(
                {
                    "accountId": st.one_of(
                        st.text(string.digits, max_size=11),
                        st.text(string.digits, min_size=13, max_size=16),
                        st.from_regex(r"\A[0-9]{4}-[0-9]{4}-[0-9]{4}\Z"),
                        st.integers(0, 10**12),
                    )
                }
            ),
            st.fixed_dictionaries(
                {
                    "accountId": st.just(PRIVATE_LINK_ACCOUNT),
                    "region": _enum_junk(spec.PRIVATE_LINK_REGIONS),
                }
            ),
            st.fixed_dictionaries({"accountId": st.just(PRIVATE_LINK_ACCOUNT), "vpc": junk_scalar}),
            st.fixed_dictionaries({"accountId": st.just(PRIVATE_LINK_ACCOUNT), "shared": non_bool}),
        ),
    ),
]
BREAKABLE = [name for name, _ in VALUE_BREAKERS]

_FIELD_SPELLINGS = {p.lower() for p in spec.PROPERTY_NAMES} | {
    to_snake(p).lower() for p in spec.PROPERTY_NAMES
}
unknown_keys = st.text(
    string.ascii_letters + string.digits + "_-. ", min_size=1, max_size=20
).filter(
    lambda k: (
        not k.startswith("__")
        and k.lower() not in _FIELD_SPELLINGS
        and to_camel(k).lower() not in _FIELD_SPELLINGS
        and k not in spec.PROPERTY_NAMES
    )
)


@st.composite
def cross_rule_breaker(draw: st.DrawFn, props: dict[str, Any]) -> str:
    """Break a rule that involves two properties (each value valid alone)."""
    rule = draw(
        st.sampled_from(
            [
                "min>max",
                "stz-needs-min0",
                "threshold-needs-metric",
                "env-clash",
                "private-needs-service",
                "service-needs-private",
                "private-region-required",
                "missing-required",
            ]
        )
    )
    if rule == "min>max":
        low = draw(st.integers(1, 5))
        props["maxReplica"] = low
        props["minReplica"] = low + draw(st.integers(1, 5))
        props.pop("scaleToZeroTimeout", None)
        return "minReplica"
    if rule == "stz-needs-min0":
        props["minReplica"] = draw(st.integers(1, 3))
        props["maxReplica"] = 4
        props["scaleToZeroTimeout"] = draw(st.integers(15, 2880))
        return "scaleToZeroTimeout"
    if rule == "threshold-needs-metric":
        props.pop("scalingMetric", None)
        props["scalingThreshold"] = draw(st.floats(0.1, 100.0))
        return "scalingThreshold"
    if rule == "env-clash":
        props["env"] = {"MODEL_ID": "a"}
        props["customImage"] = {"url": "ghcr.io/x/y:1", "env": {"MODEL_ID": "b"}}
        return "env"
    if rule == "private-needs-service":
        props["type"] = "private"
        props.pop("privateService", None)
        return "privateService"
    if rule == "service-needs-private":
        props["type"] = draw(st.sampled_from(["public", "authenticated"]))
        props["privateService"] = {"accountId": PRIVATE_LINK_ACCOUNT}
        return "privateService"
    if rule == "private-region-required":  # no PrivateLink entry point in the endpoint's region
        props["type"] = "private"
        props["privateService"] = {"accountId": PRIVATE_LINK_ACCOUNT}
        props["region"] = draw(st.sampled_from(["us-east-2", "us-west-2", "eu-central-1"]))
        return "privateService"
    required = draw(st.sampled_from(spec.REQUIRED_INPUTS))
    props.pop(required, None)
    return required


@st.composite
def invalid_bags(draw: st.DrawFn, *, wire: bool = False) -> InvalidBag:
    """An invalid bag. `wire=True`: only values the Pulumi wire can carry (no NaN/inf, which
    protobuf's JSON form of the transcript cannot hold; numbers travel as floats anyway)."""
    props = dict(VALID)
    if draw(st.booleans()):
        props["maxReplica"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        props["tags"] = draw(st.lists(st.text(string.ascii_lowercase, max_size=5), max_size=3))
    bag = InvalidBag(props)
    count = draw(st.integers(1, 3))
    for _ in range(count):
        kind = draw(st.sampled_from(["value"] * 6 + ["unknown", "cross"]))
        if kind == "value":
            index = draw(st.integers(0, len(VALUE_BREAKERS) - 1))
            prop, values = VALUE_BREAKERS[index]
            value = draw(values)
            if wire and isinstance(value, float) and not math.isfinite(value):
                value = -1.0
            props[prop] = value
            if prop == "scaleToZeroTimeout":
                props["minReplica"] = 0
                props.pop("maxReplica", None)
            bag.breakers.append(prop)
        elif kind == "unknown":
            key = draw(unknown_keys)
            props[key] = draw(junk_scalar)
            bag.unknown_keys.add(key)
            bag.breakers.append(key)
        else:
            bag.breakers.append(draw(cross_rule_breaker(props)))
    return bag
