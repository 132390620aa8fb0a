// Package components holds the Environment component: one complete jobs deployment (images,
// namespace, Redis, API, worker, network policy) for one stack.
package components

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EnvironmentType is the component's type token.
const EnvironmentType = "jobs:index:Environment"

// EnvironmentArgs are the already validated settings of one environment (see package settings).
// Secrets arrive as pulumi inputs so they stay secret in state and in every resource they reach.
type EnvironmentArgs struct {
	// Env is the environment (stack) name; it prefixes every Kubernetes object name.
	Env     string
	Version string

	// Registry is the server plus repository prefix the images are pushed to and pulled from.
	Registry string
	// RegistryServer is Registry's host[:port], the key the credentials are stored under.
	RegistryServer string
	// RegistryUsername and RegistryPassword are both set or both nil; the password is secret.
	RegistryUsername pulumi.StringInput
	RegistryPassword pulumi.StringInput
	// Build builds and pushes the images from AppDir; false deploys existing tagged images.
	// Images, when set, takes precedence.
	Build bool
	// BuildNetwork is the network of the builds' RUN steps (docker build --network).
	BuildNetwork string
	// Images, when set, are prebuilt references the API and worker run as they are: no image is
	// built or pushed. Prod sets them to the digests test runs, so it deploys the bytes checked
	// there instead of rebuilding the same tag.
	Images *ImageRefs
	// AppDir is the Docker build context holding the Dockerfile (default "app").
	AppDir          string
	ImagePullPolicy string

	NodePort          int
	NodeHost          string
	APIReplicas       int
	WorkerReplicas    int
	WorkerConcurrency int

	RedisImage string
	// RedisVersion is RedisImage's tag, the version label of every Redis object.
	RedisVersion     string
	RedisConfig      string // the contents of redis.conf
	RedisPassword    pulumi.StringInput
	RedisStorageSize string
	StorageClass     string // empty: the cluster's default class
	// ProtectData protects the Namespace and the Redis volume against deletion and replacement.
	ProtectData bool
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

// NewEnvironment registers the component and all of its children.
func NewEnvironment(ctx *pulumi.Context, name string, args *EnvironmentArgs, opts ...pulumi.ResourceOption) (*Environment, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	env := &Environment{}
	if err := ctx.RegisterComponentResource(EnvironmentType, name, env, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(env)
	l := newLabeler(args)

	images, err := newImages(ctx, args, parent)
	if err != nil {
		return nil, err
	}
	ns, err := newNamespace(ctx, args, l, parent, pulumi.Protect(args.ProtectData))
	if err != nil {
		return nil, err
	}
	pullSecret, err := newRegistrySecret(ctx, args, l, ns, parent)
	if err != nil {
		return nil, err
	}
	redis, err := newRedis(ctx, args, l, ns, parent)
	if err != nil {
		return nil, err
	}
	app := appInputs{ns: ns, redis: redis, pullSecret: pullSecret}
	api, err := newAPI(ctx, args, l, app, images.api, parent)
	if err != nil {
		return nil, err
	}
	if _, err := newWorker(ctx, args, l, app, images.worker, parent); err != nil {
		return nil, err
	}
	if _, err := newRedisPolicy(ctx, args, l, ns, parent); err != nil {
		return nil, err
	}

	env.Namespace = ns.Metadata.Name().Elem()
	env.Version = pulumi.String(args.Version).ToStringOutput()
	env.APIImage = images.api
	env.WorkerImage = images.worker
	env.NodePort = api.nodePort
	// JoinHostPort brackets an IPv6 nodeHost, which a plain host:port would make ambiguous.
	env.URL = api.nodePort.ApplyT(func(port int) string {
		return "http://" + net.JoinHostPort(args.NodeHost, strconv.Itoa(port))
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
		"namespace":    e.Namespace,
		"version":      e.Version,
		"apiImage":     e.APIImage,
		"workerImage":  e.WorkerImage,
		"nodePort":     e.NodePort,
		"url":          e.URL,
		"redisAddress": e.RedisAddress,
	}
}

// check guards against a caller that bypassed package settings; the rules themselves live there.
func (a *EnvironmentArgs) check() error {
	if a == nil {
		return errors.New("components.NewEnvironment: args are required")
	}
	var missing []string
	for _, f := range []struct {
		name  string
		empty bool
	}{
		{"Env", a.Env == ""}, {"Version", a.Version == ""}, {"Registry", a.Registry == ""},
		{"ImagePullPolicy", a.ImagePullPolicy == ""}, {"NodeHost", a.NodeHost == ""},
		{"RedisConfig", a.RedisConfig == ""}, {"RedisImage", a.RedisImage == ""},
		{"RedisPassword", a.RedisPassword == nil}, {"RedisStorageSize", a.RedisStorageSize == ""},
		{"RedisVersion", a.RedisVersion == ""},
	} {
		if f.empty {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("components.NewEnvironment: EnvironmentArgs fields %v are required (build them with settings.Load)", missing)
	}
	if a.Images != nil && (a.Images.API == "" || a.Images.Worker == "") {
		return errors.New("components.NewEnvironment: Images must name both the API and the worker image, or be nil to build or tag them")
	}
	if (a.RegistryUsername == nil) != (a.RegistryPassword == nil) {
		return errors.New("components.NewEnvironment: RegistryUsername and RegistryPassword must be set together")
	}
	if a.NodePort == 0 || a.APIReplicas < 1 || a.WorkerReplicas < 1 || a.WorkerConcurrency < 1 {
		return errors.New("components.NewEnvironment: NodePort, APIReplicas, WorkerReplicas and WorkerConcurrency must be set (build them with settings.Load)")
	}
	return nil
}

func (a *EnvironmentArgs) hasRegistryCredentials() bool { return a.RegistryUsername != nil }

// objectName is the deterministic, environment-prefixed name of a Kubernetes object.
func (a *EnvironmentArgs) objectName(suffix string) string { return a.Env + "-" + suffix }
