// Command jobs is the Pulumi program that deploys the jobs service (API, worker, Redis) to
// Kubernetes, one stack per environment.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/components"
	"github.com/example/jobs/settings"
)

// redisConfigPath is read at run time, relative to the project directory where pulumi runs
// the program.
var redisConfigPath = filepath.Join("app", "redis", "redis.conf")

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	env, err := deploy(ctx)
	if err != nil {
		return err
	}
	for name, value := range env.Outputs() {
		ctx.Export(name, value)
	}
	return nil
}

// deploy validates the stack's configuration, applies the promotion guard and creates the
// environment.
func deploy(ctx *pulumi.Context) (*components.Environment, error) {
	// All configuration is read and checked here, before any resource is registered, so a bad
	// value stops `pulumi preview` with nothing half-planned.
	cfg, err := settings.Load(ctx.Stack(), func(key string) (settings.Value, bool) {
		v, ok := ctx.GetConfig(key)
		return settings.Value{Text: v, Secret: ctx.IsConfigSecret(key)}, ok
	})
	if err != nil {
		return nil, err
	}
	redisConf, err := os.ReadFile(redisConfigPath)
	if err != nil {
		return nil, fmt.Errorf("reading the Redis config (run pulumi from the repository root, where %s must exist): %w", redisConfigPath, err)
	}
	promoted, err := guardPromotion(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return components.NewEnvironment(ctx, ctx.Stack(), environmentArgs(cfg, string(redisConf), promoted))
}

// environmentArgs maps the checked config onto the component; promoted are the promotion
// source's images to run instead of building (nil: build or tag as jobs:build says).
func environmentArgs(cfg settings.Config, redisConf string, promoted *components.ImageRefs) *components.EnvironmentArgs {
	args := &components.EnvironmentArgs{
		Env:               cfg.Stack,
		Version:           cfg.Version,
		Registry:          cfg.Registry,
		RegistryServer:    cfg.RegistryServer,
		Build:             cfg.Build,
		BuildNetwork:      cfg.BuildNetwork,
		Images:            promoted,
		ImagePullPolicy:   cfg.ImagePullPolicy,
		NodePort:          cfg.NodePort,
		NodeHost:          cfg.NodeHost,
		APIReplicas:       cfg.APIReplicas,
		WorkerReplicas:    cfg.WorkerReplicas,
		WorkerConcurrency: cfg.WorkerConcurrency,
		RedisImage:        cfg.RedisImage,
		RedisVersion:      cfg.RedisVersion,
		RedisConfig:       redisConf,
		RedisPassword:     pulumi.ToSecret(pulumi.String(cfg.RedisPassword)).(pulumi.StringOutput),
		RedisStorageSize:  cfg.RedisStorageSize,
		StorageClass:      cfg.StorageClass,
		ProtectData:       cfg.ProtectData,
	}
	if cfg.HasRegistryCredentials() {
		args.RegistryUsername = pulumi.String(cfg.RegistryUsername)
		args.RegistryPassword = pulumi.ToSecret(pulumi.String(cfg.RegistryPassword)).(pulumi.StringOutput)
	}
	return args
}
