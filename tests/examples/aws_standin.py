"""A stand-in for `pulumi_aws`, for the private-link example's test when pulumi-aws is not
installed (it is not a dependency of this project).

Under mocks a program only registers resources, so what matters of a resource class is what it
sends the engine: its type token, and its arguments under their camelCase property names with
the outputs it declares set to None. This class sends the same as pulumi-aws 7.x's
`ec2.VpcEndpoint`, for the arguments listed in `VPC_ENDPOINT_ARGS`;
`test_the_aws_standin_matches_pulumi_aws` compares them with the real class when it is
installed.
"""

from __future__ import annotations

import types
from typing import Any

import pulumi

from pulumi_hf_endpoints.properties import to_camel

VPC_ENDPOINT_TYPE = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_ARGS = (
    "vpc_id",
    "service_name",
    "vpc_endpoint_type",
    "subnet_ids",
    "security_group_ids",
    "private_dns_enabled",
    "region",
    "service_region",
    "tags",
)
VPC_ENDPOINT_OUTPUTS = (
    "arn",
    "cidr_blocks",
    "dns_entries",
    "network_interface_ids",
    "owner_id",
    "prefix_list_id",
    "requester_managed",
    "state",
    "tags_all",
)


class VpcEndpoint(pulumi.CustomResource):
    """`pulumi_aws.ec2.VpcEndpoint`, as far as the example uses it."""

    dns_entries: pulumi.Output[Any]

    def __init__(
        self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **kwargs: Any
    ) -> None:
        unexpected = set(kwargs) - set(VPC_ENDPOINT_ARGS)
        if unexpected:
            raise TypeError(f"VpcEndpoint() got unexpected keyword arguments {sorted(unexpected)}")
        if kwargs.get("vpc_id") is None:
            raise TypeError("Missing required property 'vpc_id'")
        props: dict[str, Any] = {to_camel(name): kwargs.get(name) for name in VPC_ENDPOINT_ARGS}
        props.update({to_camel(name): None for name in VPC_ENDPOINT_OUTPUTS})
        super().__init__(VPC_ENDPOINT_TYPE, resource_name, props, opts)
        # Attributes under their Python names, as a generated SDK declares them.
        for name in VPC_ENDPOINT_OUTPUTS:
            self.__dict__[name] = self.__dict__.pop(to_camel(name))


def module() -> types.ModuleType:
    """`pulumi_aws`, with `ec2.VpcEndpoint`."""
    root = types.ModuleType("pulumi_aws", __doc__)
    ec2 = types.ModuleType("pulumi_aws.ec2")
    ec2.VpcEndpoint = VpcEndpoint  # type: ignore[attr-defined]
    root.ec2 = ec2  # type: ignore[attr-defined]
    return root
