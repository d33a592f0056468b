"""`privateService` (AWS PrivateLink) in the spec: check-time rules, the create body, a
replacement on change, and the service's answer read back without drift."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pulumi_hf_endpoints import properties, spec
from pulumi_hf_endpoints.client.models import Endpoint
from tests.seed_examples import GPT2

ACCOUNT = "012345678901"  # leading zero: kept, as text
PRIVATE: dict[str, Any] = {**GPT2, "type": "private", "privateService": {"accountId": ACCOUNT}}


def check(props: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    normalized, failures = spec.validate_inputs(props)
    return normalized, [(f.property, f.reason) for f in failures]


def test_a_private_endpoint_gets_its_own_region_as_entry_point_and_shared_false() -> None:
    normalized, failures = check(PRIVATE)
    assert failures == []
    assert normalized["privateService"] == {
        "accountId": ACCOUNT,
        "region": "us-east-1",  # GPT2 runs on aws us-east-1: an intra-region link
        "shared": False,
    }


def test_snake_case_keys_and_an_explicit_region_are_taken() -> None:
    props = {
        **PRIVATE,
        "vendor": "gcp",
        "region": "us-east4",
        "instanceType": "intel-spr",
        "privateService": {"account_id": ACCOUNT, "region": "eu-west-1", "shared": True},
    }
    normalized, failures = check(props)
    assert failures == []
    assert normalized["privateService"] == {
        "accountId": ACCOUNT,
        "region": "eu-west-1",
        "shared": True,
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"privateService": None},
            "privateService is required for a private endpoint: the AWS account that may "
            "connect through PrivateLink, such as "
            "private_service=PrivateServiceArgs(account_id='123456789012')",
        ),
        (
            {"type": "authenticated"},
            "privateService is only for endpoints of type 'private', reached through AWS "
            "PrivateLink (type is 'authenticated'): set type='private' or remove it",
        ),
        (
            {"type": None},  # the default type, authenticated
            "privateService is only for endpoints of type 'private', reached through AWS "
            "PrivateLink (type is 'authenticated'): set type='private' or remove it",
        ),
        (
            {"privateService": {"accountId": "1234-5678-9012"}},
            "privateService.accountId must be a 12-digit AWS account id, written as a string "
            "(got '1234-5678-9012')",
        ),
        (
            {"privateService": {"accountId": 123456789012.0}},  # a number, as the wire sends it
            "privateService.accountId must be a 12-digit AWS account id, written as a string "
            "(got 123456789012)",
        ),
        (
            {"privateService": {"accountId": ACCOUNT, "region": "us-west-2"}},
            "privateService.region must be an AWS region with a PrivateLink entry point: "
            "us-east-1 or eu-west-1 (got 'us-west-2')",
        ),
        (
            {"region": "us-east-2"},
            "privateService.region is required: the AWS region of the PrivateLink entry point, "
            "one of: us-east-1, eu-west-1 (it defaults to the endpoint's region only for aws in "
            "one of them; this endpoint runs in aws us-east-2)",
        ),
        (
            {"privateService": {"accountId": ACCOUNT, "vpc": "vpc-1"}},
            "unknown key 'vpc' in privateService; allowed keys are: accountId, region, shared",
        ),
    ],
)
def test_check_refuses_with_the_property_and_what_is_allowed(
    changes: dict[str, Any], reason: str
) -> None:
    props = {k: v for k, v in {**PRIVATE, **changes}.items() if v is not None}
    _, failures = check(props)
    assert failures == [("privateService", reason)]


def test_unknown_values_at_preview_are_not_judged() -> None:
    unknown = object()

    def is_unknown(value: Any) -> bool:
        return value is unknown

    for props in (
        {**PRIVATE, "type": unknown, "privateService": None},
        {**PRIVATE, "privateService": unknown},
        {**PRIVATE, "region": unknown},
        {**GPT2, "type": unknown, "privateService": {"accountId": ACCOUNT}},
    ):
        known = {k: v for k, v in props.items() if v is not None}
        assert spec.validate_inputs(known, is_unknown=is_unknown)[1] == []


def test_create_body_sends_account_and_region_and_shared_only_when_set() -> None:
    body = spec.create_payload(spec.spec_from_properties(PRIVATE), "hidden")
    assert body["type"] == "private"
    assert body["privateService"] == {"accountId": ACCOUNT, "region": "us-east-1"}
    shared = {**PRIVATE, "privateService": {"accountId": ACCOUNT, "shared": True}}
    body = spec.create_payload(spec.spec_from_properties(shared), "hidden")
    assert body["privateService"] == {"accountId": ACCOUNT, "region": "us-east-1", "shared": True}
    assert "privateService" not in spec.create_payload(spec.spec_from_properties(GPT2), "x")


@pytest.mark.parametrize(
    "private_service",
    [
        {"accountId": "999999999999"},
        {"accountId": ACCOUNT, "region": "eu-west-1"},
        {"accountId": ACCOUNT, "shared": True},
    ],
)
def test_a_change_of_private_service_is_a_replacement(private_service: dict[str, Any]) -> None:
    old = spec.spec_from_properties(PRIVATE)
    new = spec.spec_from_properties({**PRIVATE, "privateService": private_service})
    assert spec.changed_properties(old, new) == ["privateService"]
    assert "privateService" in properties.REPLACE_ON_CHANGES
    assert spec.update_payload(old, new) == {}  # never sent in an update


def test_restating_the_defaulted_region_is_no_change() -> None:
    old = spec.spec_from_properties(PRIVATE)
    explicit = {**PRIVATE, "privateService": {"accountId": ACCOUNT, "region": "us-east-1"}}
    assert spec.changed_properties(old, spec.spec_from_properties(explicit)) == []


ANSWER: dict[str, Any] = {
    "name": "hidden",
    "type": "private",
    "provider": {"vendor": "aws", "region": "us-east-1"},
    "healthRoute": "/health",
    "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"},
    "model": {"repository": "gpt2", "framework": "pytorch", "task": "text-generation"},
    "privateService": {"accountId": ACCOUNT, "region": "us-east-1", "shared": False},
    "status": {
        "state": "running",
        "url": "https://abc.us-east-1.aws.endpoints.huggingface.cloud",
        "private": {"serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"},
    },
}


def answer(**changes: Any) -> Endpoint:
    raw = copy.deepcopy(ANSWER)
    raw.update(changes)
    return Endpoint.from_raw(raw)


@pytest.mark.parametrize(
    "reported",
    [
        ANSWER["privateService"],
        {"accountId": ACCOUNT, "shared": False},  # the older form: no region
        {"accountId": ACCOUNT},  # no shared: the service's default, false
        None,  # not echoed at all
    ],
)
def test_the_answer_reads_back_as_the_checked_inputs(reported: dict[str, Any] | None) -> None:
    prior = spec.spec_from_properties(PRIVATE)
    live = spec.spec_from_api(answer(privateService=reported), "me", prior=prior)
    assert live.private_service == prior.private_service
    assert "privateService" not in spec.changed_properties(prior, live)


def test_a_live_private_service_is_what_the_service_says() -> None:
    live = spec.spec_from_api(answer(), "me")  # no prior: InferenceEndpoint.get
    assert live.to_properties()["privateService"] == {
        "accountId": ACCOUNT,
        "region": "us-east-1",
        "shared": False,
    }
    other = answer(privateService={"accountId": "999999999999", "region": "us-east-1"})
    changed = spec.spec_from_api(other, "me", prior=spec.spec_from_properties(PRIVATE))
    assert changed.private_service is not None
    assert changed.private_service.account_id == "999999999999"  # drift, shown on refresh


def test_outputs_carry_the_vpc_endpoint_service_name() -> None:
    outputs = spec.status_outputs(answer())
    assert (
        outputs["privateServiceName"] == "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
    )
    not_yet = spec.status_outputs(answer(status={**ANSWER["status"], "private": None}))
    assert "privateServiceName" not in not_yet
    public = spec.spec_from_api(answer(type="public", privateService=None), "me")
    assert public.private_service is None
