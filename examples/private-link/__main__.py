"""A private endpoint, reachable only from one AWS VPC through AWS PrivateLink, and the VPC
endpoint that connects the VPC to it, in one stack.

The InferenceEndpoint is `type="private"` and names the AWS account that may connect
(`private_service`). Once it is deployed, the service reports its VPC endpoint service name
(`private_service_name`): an interface `aws.ec2.VpcEndpoint` in that account's VPC connects to
it, in the PrivateLink entry-point region (`private_service.region`). `pulumi up` creates the
endpoint, waits until the service reports it running (its URL answers nobody outside the VPC,
so it is not probed), then creates the VPC endpoint.

Config: `awsAccountId` (the 12 digits of the account owning the VPC), `vpcId` and `subnetIds`
(where to connect from), `securityGroupIds` (optional), `privateLinkRegion` (optional:
`us-east-1` or `eu-west-1`; by default the endpoint's own region), `createVpcEndpoint` (default
true; false against the local emulator, whose service names exist in no AWS account).
"""

import pulumi
import pulumi_aws as aws

from pulumi_hf_endpoints import InferenceEndpoint, PrivateServiceArgs

config = pulumi.Config()

endpoint = InferenceEndpoint(
    "private-llm",
    repository="HuggingFaceTB/SmolLM2-1.7B-Instruct",
    framework="pytorch",
    task="text-generation",
    accelerator="gpu",
    vendor="aws",
    region="us-east-1",
    instance_type="nvidia-l4",
    instance_size="x1",
    type="private",
    private_service=PrivateServiceArgs(
        account_id=config.require("awsAccountId"),
        region=config.get("privateLinkRegion"),
    ),
)

pulumi.export("endpoint", endpoint.id)  # "namespace/name"
pulumi.export("url", endpoint.url)  # answers only through the VPC endpoint
pulumi.export("privateServiceName", endpoint.private_service_name)

if config.get_bool("createVpcEndpoint") is not False:
    link = aws.ec2.VpcEndpoint(
        "private-llm-link",
        vpc_id=config.require("vpcId"),
        service_name=endpoint.private_service_name,
        vpc_endpoint_type="Interface",
        subnet_ids=config.require_object("subnetIds"),
        security_group_ids=config.get_object("securityGroupIds"),
        # The entry point the endpoint was given: the VPC endpoint must be in that region.
        region=endpoint.private_service.apply(lambda private: private and private.region),
    )
    pulumi.export("vpcEndpointId", link.id)
    pulumi.export("vpcEndpointDns", link.dns_entries)
