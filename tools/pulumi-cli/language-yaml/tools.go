//go:build tools

// Package tools pins Pulumi's YAML language host, pulumi-yaml's cmd/pulumi-language-yaml, at the
// version go.mod requires. It is a module of its own because pulumi-yaml v1.25.0 builds against
// the Pulumi SDK it requires (v3.206.0), not the newer one the CLI is built from (../go.mod).
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
