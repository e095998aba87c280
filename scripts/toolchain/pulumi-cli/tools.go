//go:build tools

// Package tools pins the Pulumi CLI module so `go build` can compile its
// main package from the Go module proxy at exactly the version in go.mod.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
