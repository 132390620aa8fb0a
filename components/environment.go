// Package components holds the Environment component: one complete jobs deployment (images,
// namespace, Redis, API, worker, disruption budgets, network policies) for one stack.
package components

import (
	"net"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// EnvironmentType is the component's type token.
const EnvironmentType = "jobs:index:Environment"

// EnvironmentArgs configure one environment. Config has passed settings.Load, so no builder
// checks a value again; each takes only its group.
type EnvironmentArgs struct {
	Config settings.Config
	// RedisConfig is the contents of redis.conf.
	RedisConfig string
	// AppDir is the Docker build context holding the Dockerfile (default "app").
	AppDir string
	// Promoted, when set, are images the promotion source tested, run as they are: nothing is
	// built or pushed. Prod sets them when it deploys the version test runs, so it runs the
	// bytes checked there instead of rebuilding the same tag.
	Promoted release.Images
}

// Environment is one deployed environment; its fields are the component's outputs.
type Environment struct {
	pulumi.ResourceState

	Namespace    pulumi.StringOutput `pulumi:"namespace"`
	Version      pulumi.StringOutput `pulumi:"version"`
	APIImage     pulumi.StringOutput `pulumi:"apiImage"`
	WorkerImage  pulumi.StringOutput `pulumi:"workerImage"`
	NodePort     pulumi.IntOutput    `pulumi:"nodePort"`
	URL          pulumi.StringOutput `pulumi:"url"`
	RedisAddress pulumi.StringOutput `pulumi:"redisAddress"`
}

// NewEnvironment registers the component and all of its children. name is the environment's
// name: it names every child and prefixes every Kubernetes object.
func NewEnvironment(ctx *pulumi.Context, name string, args *EnvironmentArgs, opts ...pulumi.ResourceOption) (*Environment, error) {
	env := &Environment{}
	if err := ctx.RegisterComponentResource(EnvironmentType, name, env, opts...); err != nil {
		return nil, err
	}
	cfg := args.Config
	parent := pulumi.Parent(env)
	l := labeler{env: name, version: cfg.Version, redisVersion: cfg.Redis.Version}

	images, err := newImages(ctx, name, cfg.Version, cfg.Images, appDir(args.AppDir), args.Promoted, parent)
	if err != nil {
		return nil, err
	}
	ns, err := newNamespace(ctx, name, l, parent, pulumi.Protect(cfg.Redis.ProtectData))
	if err != nil {
		return nil, err
	}
	pullSecret, err := newPullSecret(ctx, name, cfg.Images, l, ns, parent)
	if err != nil {
		return nil, err
	}
	redis, err := newRedis(ctx, name, cfg.Redis, args.RedisConfig, cfg.Images.PullPolicy, l, ns, parent)
	if err != nil {
		return nil, err
	}
	appEnv, err := newAppEnv(ctx, name, []settings.Env{cfg.API.Env, cfg.Worker.Env}, l, ns, parent)
	if err != nil {
		return nil, err
	}
	app := appInputs{env: name, labels: l, ns: ns, redis: redis, pullSecret: pullSecret, pullPolicy: cfg.Images.PullPolicy, appEnv: appEnv}
	api, err := newAPI(ctx, cfg.API, app, images[componentAPI], parent)
	if err != nil {
		return nil, err
	}
	if _, err := newWorker(ctx, cfg.Worker, app, images[componentWorker], parent); err != nil {
		return nil, err
	}
	if err := newNetworkPolicies(ctx, name, l, ns, parent); err != nil {
		return nil, err
	}

	env.Namespace = ns.Metadata.Name().Elem()
	env.Version = pulumi.String(cfg.Version).ToStringOutput()
	env.APIImage = images[componentAPI]
	env.WorkerImage = images[componentWorker]
	env.NodePort = api.nodePort
	// JoinHostPort brackets an IPv6 nodeHost, which a plain host:port would make ambiguous.
	env.URL = api.nodePort.ApplyT(func(port int) string {
		return "http://" + net.JoinHostPort(cfg.API.NodeHost, strconv.Itoa(port))
	}).(pulumi.StringOutput)
	env.RedisAddress = redis.address
	if err := ctx.RegisterResourceOutputs(env, env.Outputs()); err != nil {
		return nil, err
	}
	return env, nil
}

// Outputs are the component's outputs by name; the stack exports them under the same names.
func (e *Environment) Outputs() pulumi.Map {
	return pulumi.Map{
		"namespace":                         e.Namespace,
		"version":                           e.Version,
		release.OutputName(componentAPI):    e.APIImage,
		release.OutputName(componentWorker): e.WorkerImage,
		"nodePort":                          e.NodePort,
		"url":                               e.URL,
		"redisAddress":                      e.RedisAddress,
	}
}

// objectName is the deterministic name of an environment's Kubernetes object: <env>-<suffix>.
func objectName(env, suffix string) string { return env + "-" + suffix }
