// Package program is the Pulumi program: it loads and checks the stack's settings, applies the
// promotion guard, and creates the stack's Environment, in that order, so nothing is registered
// for a stack that is going to fail. main.go only hands it the project.
package program

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/components"
	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// Project is the Pulumi project the program runs in.
type Project struct {
	// File is the contents of Pulumi.yaml, which declares every setting.
	File []byte
	// Dir is the project directory, where app/ lives; pulumi runs programs there, so ".".
	Dir string
	// StackDir holds the stack files, Pulumi.<stack>.yaml (default Dir): the rules that span
	// stacks read them.
	StackDir string
	// CheckLogin asks a registry whether it accepts a login (default CheckRegistryLogin).
	CheckLogin LoginCheck
}

// LoginCheck asks the registry server whether it accepts username and password.
type LoginCheck func(ctx context.Context, server, username, password string) error

// redisConfig is redis.conf, relative to the project directory.
var redisConfig = filepath.Join("app", "redis", "redis.conf")

// Run deploys the stack and exports the environment's outputs under their own names.
func Run(ctx *pulumi.Context, p Project) error {
	outputs, err := Deploy(ctx, p)
	if err != nil {
		return err
	}
	for name, value := range outputs {
		ctx.Export(name, value)
	}
	return nil
}

// Deploy checks the stack's settings, applies the promotion guard and registers the stack's
// Environment, returning its outputs.
func Deploy(ctx *pulumi.Context, p Project) (pulumi.Map, error) {
	project, err := settings.ParseProject(p.File)
	if err != nil {
		return nil, err
	}
	values, err := stackConfig(ctx)
	if err != nil {
		return nil, err
	}
	top, topErr := stackFiles(p)
	cfg, err := settings.LoadInProject(ctx.Stack(), project, values, top)
	if err != nil {
		return nil, err
	}
	if topErr != nil {
		return nil, topErr
	}
	if err := verifyLogin(ctx, p.CheckLogin, cfg); err != nil {
		return nil, err
	}
	conf, err := os.ReadFile(filepath.Join(p.Dir, redisConfig))
	if err != nil {
		return nil, fmt.Errorf("reading the Redis config (run pulumi from the project directory, where %s must exist): %w", redisConfig, err)
	}
	promoted, err := guardPromotion(ctx, cfg)
	if err != nil {
		return nil, err
	}
	env, err := components.NewEnvironment(ctx, ctx.Stack(), &components.EnvironmentArgs{
		Config:      cfg,
		RedisConfig: string(conf),
		AppDir:      filepath.Join(p.Dir, "app"),
		Promoted:    promoted,
	})
	if err != nil {
		return nil, err
	}
	outputs := env.Outputs()
	if v := cfg.Promotion.Verification; v != nil {
		outputs[release.VerificationOutput] = verificationOutput(ctx, cfg, *v, env)
	}
	return outputs, nil
}

// verificationOutput exports the record of make verify (jobs:verification) only while the stack
// runs exactly what it verified: the version and, once they are known, the very image references.
// A later deploy of other images (a tag bump, a rebuild) voids it, so a stack that promotes from
// this one never takes a verification of something else; the log says why it is void.
func verificationOutput(ctx *pulumi.Context, cfg settings.Config, v release.Verification, env *components.Environment) pulumi.AnyOutput {
	return pulumi.All(env.APIImage, env.WorkerImage).ApplyT(func(refs []any) (any, error) {
		images := release.Images{release.API: refs[0].(string), release.Worker: refs[1].(string)}
		if ok, why := v.Covers(ctx.Stack(), cfg.Version, images); !ok {
			return nil, ctx.Log.Warn(fmt.Sprintf("config %s no longer covers what stack %s runs (%s), so the stack exports no %s output: run %s after this update",
				release.VerificationKey, ctx.Stack(), why, release.VerificationOutput, release.VerifyCommand(ctx.Stack())), nil)
		}
		return v.Map(), nil
	}).(pulumi.AnyOutput)
}

// stackConfig is every key the stack sets, as the engine hands it over. The SDK looks keys up
// one at a time; the list of them comes from the same place the SDK fills its config from, the
// language host's PULUMI_CONFIG, so a key nobody declared (a typo) is seen too.
func stackConfig(ctx *pulumi.Context) (map[string]settings.Value, error) {
	var all map[string]string
	if raw := os.Getenv(pulumi.EnvConfig); raw != "" {
		if err := json.Unmarshal([]byte(raw), &all); err != nil {
			return nil, fmt.Errorf("reading the stack's config from %s: %w", pulumi.EnvConfig, err)
		}
	}
	values := map[string]settings.Value{}
	for key := range all {
		v, _ := ctx.GetConfig(key)
		values[key] = settings.Value{Text: v, Secret: ctx.IsConfigSecret(key)}
	}
	return values, nil
}

// stackFiles reads the project's stack files for the rules that span stacks (a NodePort one
// cluster has once) and for the stack's own file. A project whose config lives elsewhere (no
// stack file here) has none to read.
func stackFiles(p Project) (release.Topology, error) {
	dir := p.StackDir
	if dir == "" {
		dir = p.Dir
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml")); len(files) == 0 {
		return release.Topology{}, nil
	}
	top, err := release.ReadTopology(dir)
	if err != nil {
		return release.Topology{}, fmt.Errorf("reading the project's stack files: %w", err)
	}
	return top, nil
}
