// Command jobs is the Pulumi program that deploys the jobs service (API, worker, Redis) to
// Kubernetes, one stack per environment. Its logic is package program.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/program"
)

// pulumiYAML declares every setting; the program checks each stack's config against it.
//
//go:embed Pulumi.yaml
var pulumiYAML []byte

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		return program.Run(ctx, program.Project{File: pulumiYAML, Dir: "."})
	})
}
