// Package settings turns a stack's configuration into one validated, typed Config, grouped by
// what each part of the program deploys. Pulumi.yaml declares every key (description, default,
// secret); this package holds every rule, checks all keys at once before any resource is
// registered, and reports each problem with the key, the bad value, the rule and a fix.
package settings

import (
	"errors"
	"strings"

	"github.com/example/jobs/release"
)

// Config is the validated configuration of one stack. Every field has passed its rule, so no
// consumer checks a value again.
type Config struct {
	// Stack is the stack name; it names the environment and prefixes every Kubernetes object.
	Stack string
	// Version is the release: the git tag, the image tag and the version label.
	Version   string
	Images    Images
	API       API
	Worker    Worker
	Redis     Redis
	Promotion Promotion
}

// Images is where the API and worker images come from and how every container pulls.
type Images struct {
	Registry string // server plus repository prefix, e.g. localhost:5000/jobs
	Server   string // the host[:port] part of Registry, where a login applies
	Login    *Login // nil: push and pull anonymously
	Build    bool   // build and push from app/; false deploys existing tags
	Network  string // the network of the builds' RUN steps
	// Platform is the OS/architecture the images are built for, the cluster nodes' (linux/amd64).
	Platform string
	// PullPolicy is every container's imagePullPolicy.
	PullPolicy string
}

// Login is a registry login, used to push and, as an image pull secret, to pull.
type Login struct {
	Username string
	Password Secret
}

// API is the HTTP API's Deployment and its NodePort Service.
type API struct {
	Replicas int
	// NodePort is the API Service's fixed NodePort, or AutoNodePort (0): one the cluster assigns,
	// so short-lived stacks on one cluster never collide (the url output reports it).
	NodePort int
	NodeHost string // where NodePorts are reached, for the url output
	// DrainSeconds is how long a terminating pod keeps serving before SIGTERM.
	DrainSeconds int
	// Env is what the API reads from jobs:env and jobs:secretEnv.
	Env Env
}

// Worker is the worker Deployment.
type Worker struct {
	Replicas    int
	Concurrency int // jobs one pod runs at once
	// Env is what the worker reads from jobs:env and jobs:secretEnv.
	Env Env
}

// Redis is the Redis Deployment, its volume and its password.
type Redis struct {
	Image        string
	Version      string // Image's tag, Redis's version label
	StorageSize  string
	StorageClass string // empty: the cluster's default class
	Password     Secret
	// ProtectData protects the namespace and the volume against deletion and replacement.
	ProtectData bool
}

// Promotion is where this stack's releases come from.
type Promotion struct {
	From          string // stack reference of the source stack; empty: none
	AllowUntested bool
	// Verification is the record make verify wrote (jobs:verification); nil: none.
	Verification *release.Verification
}

// Value is one raw configuration value as the engine hands it over.
type Value struct {
	Text   string
	Secret bool
}

const (
	maxReplicas    = 20
	maxConcurrency = 100
)

// Load checks the stack name and every key of values against the project's declarations and
// rules, and returns the typed Config; the error lists every problem, one per line. values holds
// every key the stack sets (full keys such as "jobs:version"), other namespaces included.
func Load(stack string, p Project, values map[string]Value) (Config, error) {
	return LoadInProject(stack, p, values, release.Topology{})
}

// LoadInProject is Load that also checks the stack against the project's stack files, as top
// reads them: no other stack fixes its NodePort at its node host, and its own stack file holds
// the secrets of structured settings encrypted.
func LoadInProject(stack string, p Project, values map[string]Value, top release.Topology) (Config, error) {
	r := &reader{project: p, values: values}
	c := Config{Stack: stack}
	nameErr := checkStackName(stack)
	if nameErr != nil {
		r.errs = append(r.errs, nameErr)
	}
	r.unknownKeys()

	c.Version = r.text("version", release.CheckVersion)

	c.Images.Registry = r.text("registry", checkRegistry)
	c.Images.Server, _, _ = strings.Cut(c.Images.Registry, "/")
	username := r.text("registryUsername", checkUsername)
	password := r.secret("registryPassword")
	// Presence, not validity, decides the pairing, so a rejected value is reported once.
	if r.isSet("registryUsername") != r.isSet("registryPassword") {
		r.errs = append(r.errs, errors.New("config "+p.Full("registryUsername")+" and "+p.Full("registryPassword")+" must be set together "+
			"(both for a registry that needs a login, neither for one that does not); "+
			"fix: pulumi config set "+p.Full("registryUsername")+" <user> && pulumi config set --secret "+p.Full("registryPassword")+" <password>"))
	} else if username != "" {
		c.Images.Login = &Login{Username: username, Password: password}
	}
	c.Images.Build = r.boolean("build")
	c.Images.Network = r.text("buildNetwork", checkBuildNetwork)
	c.Images.PullPolicy = r.text("imagePullPolicy", checkPullPolicy)
	c.Images.Platform = r.text("platform", checkPlatform)

	c.API.Replicas = r.integer("apiReplicas", 1, maxReplicas, "")
	c.API.NodePort = r.nodePort()
	c.API.NodeHost = r.text("nodeHost", checkHost)
	c.API.DrainSeconds = r.integer("apiDrainSeconds", 0, 60, "")
	// A stack is told from the others by its name, so an invalid one is reported alone.
	if c.API.NodePort != 0 && c.API.NodeHost != "" && nameErr == nil {
		r.nodePortFree(stack, c.API.NodeHost, c.API.NodePort, top)
	}

	c.Worker.Replicas = r.integer("workerReplicas", 1, maxReplicas, "")
	c.Worker.Concurrency = r.integer("workerConcurrency", 1, maxConcurrency, "")

	// Declared so that scaling Redis fails with a reason instead of being silently ignored.
	r.integer("redisReplicas", 1, 1, "Redis runs as exactly one pod on a ReadWriteOnce volume; it cannot be scaled")
	c.Redis.Image = r.text("redisImage", checkRedisImage)
	c.Redis.Version = imageTag(c.Redis.Image)
	c.Redis.StorageSize = r.text("redisStorageSize", checkQuantity)
	c.Redis.StorageClass = r.text("storageClass", checkStorageClass)
	c.Redis.Password = r.secret("redisPassword")
	c.Redis.ProtectData = r.boolean("protectData")

	c.Promotion.From = r.text("promoteFrom", func(v string) error {
		if err := checkStackRef(v); err != nil {
			return err
		}
		return release.CheckSource(stack, v)
	})

	var own *release.StackFile
	if f, ok := top.File(stack); ok {
		own = &f
	}
	env := r.appEnv(own)
	c.API.Env, c.Worker.Env = env[release.API], env[release.Worker]
	c.Promotion.AllowUntested = r.boolean("allowUntestedVersion")
	if text := r.text("verification", func(v string) error { _, err := release.ParseVerification(v); return err }); text != "" {
		v, _ := release.ParseVerification(text)
		c.Promotion.Verification = &v
	}

	if err := errors.Join(r.errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReleaseTarget is this stack as the promotion rules see it.
func (c Config) ReleaseTarget() release.Target {
	return release.Target{
		Stack: c.Stack, Version: c.Version, Registry: c.Images.Registry,
		From: c.Promotion.From, AllowUntested: c.Promotion.AllowUntested,
	}
}
