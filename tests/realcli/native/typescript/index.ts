import * as pulumi from "@pulumi/pulumi";
import * as hf_endpoints from "@pulumi-hf-endpoints/hf-endpoints";

const config = new pulumi.Config();

const chat = new hf_endpoints.InferenceEndpoint("chat", {
    repository: "gpt2",
    framework: hf_endpoints.Framework.Pytorch,
    task: "text-generation",
    accelerator: hf_endpoints.Accelerator.Cpu,
    vendor: hf_endpoints.Vendor.Aws,
    region: "us-east-1",
    instanceType: "intel-spr",
    instanceSize: config.get("instanceSize") ?? "x1",
    tags: ["native", "typescript"],
});

const hardware = hf_endpoints.getHardwareOutput({
    vendor: "aws",
    region: "us-east-1",
    instanceType: "intel-spr",
});

export const url = chat.url;
export const name = chat.name;
export const status = chat.status;
export const pricePerHour = chat.pricePerHour;
export const hardwareRows = hardware.hardware.apply((rows) => rows.length);
