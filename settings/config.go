package settings

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Namespace is the config namespace of every key: the Pulumi project name.
const Namespace = "jobs"

// DefaultRedisImage is used when jobs:redisImage is unset; its tag becomes Redis's version label.
const DefaultRedisImage = "docker.io/library/redis:7.4.2"

// DefaultBuildNetwork is the network image builds use when jobs:buildNetwork is unset. The host
// network works on every Docker engine, including those with no bridge network (rootless,
// sandboxed CI runners, this project's private engine), and the builds run only this
// repository's own Dockerfile, which needs nothing but the Go module proxy.
const DefaultBuildNetwork = "host"

// Config is the validated configuration of one stack. Every field has passed its rule, so the
// component never re-checks a value.
type Config struct {
	// Stack is the stack name; it prefixes every Kubernetes object name.
	Stack string

	Version  string
	NodePort int
	NodeHost string

	APIReplicas       int
	WorkerReplicas    int
	WorkerConcurrency int

	RedisImage       string
	RedisVersion     string // the tag of RedisImage, used as Redis's version label
	RedisStorageSize string
	StorageClass     string // empty: the cluster's default storage class
	// RedisPassword is a secret; callers must wrap it with pulumi.ToSecret before use.
	RedisPassword string

	ImagePullPolicy string
	Registry        string // server plus repository prefix, e.g. localhost:5000/jobs
	RegistryServer  string // the host[:port] part of Registry, where credentials apply
	// RegistryUsername and RegistryPassword are both set or both empty; the password is a secret.
	RegistryUsername string
	RegistryPassword string
	Build            bool
	// BuildNetwork is the network the image builds' RUN steps use (docker build --network).
	BuildNetwork string

	// ProtectData marks the Namespace and the Redis volume protected, so neither a destroy nor a
	// replacement can delete the data without a deliberate unprotect first.
	ProtectData bool

	PromoteFrom          string
	AllowUntestedVersion bool
}

// HasRegistryCredentials reports whether images are pushed and pulled with credentials.
func (c Config) HasRegistryCredentials() bool { return c.RegistryUsername != "" }

// Value is one raw configuration value as the engine hands it over.
type Value struct {
	Text   string
	Secret bool
}

// Lookup returns the raw value of a full key such as "jobs:version" and whether it is set.
type Lookup func(key string) (Value, bool)

// Load reads every key of the stack once and checks all rules, so a bad stack reports every
// problem in one run instead of one per `pulumi preview`.
func Load(stack string, lookup Lookup) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{Stack: stack}
	if err := checkStackName(stack); err != nil {
		r.errs = append(r.errs, err)
	}

	c.Version = r.required("version", CheckVersion)
	c.NodePort = r.intInRange("nodePort", 30000, 32767, 0, "the Kubernetes NodePort range")
	c.NodeHost = r.required("nodeHost", checkHost)

	c.APIReplicas = r.intInRange("apiReplicas", 1, maxReplicas, 1, "")
	c.WorkerReplicas = r.intInRange("workerReplicas", 1, maxReplicas, 1, "")
	c.WorkerConcurrency = r.intInRange("workerConcurrency", 1, maxConcurrency, 10, "")
	r.intInRange("redisReplicas", 1, 1, 1,
		"Redis runs as exactly one pod on a ReadWriteOnce volume; it cannot be scaled")

	c.RedisImage = r.optional("redisImage", DefaultRedisImage, checkRedisImage)
	c.RedisVersion = imageTag(c.RedisImage)
	c.RedisStorageSize = r.required("redisStorageSize", checkQuantity)
	c.StorageClass = r.optional("storageClass", "", checkSubdomain)
	c.RedisPassword, _ = r.secret("redisPassword", true)

	c.ImagePullPolicy = r.optional("imagePullPolicy", "IfNotPresent", checkPullPolicy)
	c.Registry = r.required("registry", checkRegistry)
	c.RegistryServer, _, _ = strings.Cut(c.Registry, "/")
	c.RegistryUsername = r.optional("registryUsername", "", checkUsername)
	_, usernameSet := r.get("registryUsername")
	var passwordSet bool
	c.RegistryPassword, passwordSet = r.secret("registryPassword", false)
	// Presence, not validity, decides the pairing, so a rejected value is reported once.
	if usernameSet != passwordSet {
		r.errs = append(r.errs, errors.New("config jobs:registryUsername and jobs:registryPassword must be set together "+
			"(both for a registry that needs a login, neither for one that does not); "+
			"fix: pulumi config set jobs:registryUsername <user> && pulumi config set --secret jobs:registryPassword <password>"))
	}
	c.Build = r.boolean("build", true)
	c.BuildNetwork = r.optional("buildNetwork", DefaultBuildNetwork, checkBuildNetwork)
	c.ProtectData = r.boolean("protectData", false)

	c.PromoteFrom = r.optional("promoteFrom", "", checkStackRef)
	c.AllowUntestedVersion = r.boolean("allowUntestedVersion", false)

	if err := errors.Join(r.errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

const (
	maxReplicas    = 20
	maxConcurrency = 100
)

// reader collects every rule violation so Load can report them together.
type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) fail(key, value, rule string) {
	r.errs = append(r.errs, fmt.Errorf("config jobs:%s = %q is invalid: %s; fix: pulumi config set jobs:%s <value>",
		key, value, rule, key))
}

func (r *reader) get(key string) (Value, bool) {
	v, ok := r.lookup(Namespace + ":" + key)
	if ok && strings.TrimSpace(v.Text) == "" {
		return v, false
	}
	return v, ok
}

func (r *reader) required(key string, check func(string) error) string {
	v, ok := r.get(key)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("config jobs:%s is required but not set; fix: pulumi config set jobs:%s <value>", key, key))
		return ""
	}
	if err := check(v.Text); err != nil {
		r.fail(key, v.Text, err.Error())
		return ""
	}
	return v.Text
}

func (r *reader) optional(key, def string, check func(string) error) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	if check != nil {
		if err := check(v.Text); err != nil {
			r.fail(key, v.Text, err.Error())
			return ""
		}
	}
	return v.Text
}

// secret reads a key that must never sit in a stack file in plain text; its value is never
// echoed in an error. set reports whether the key is present at all, even when rejected.
func (r *reader) secret(key string, required bool) (value string, set bool) {
	v, ok := r.get(key)
	if !ok {
		if required {
			r.errs = append(r.errs, fmt.Errorf("config jobs:%s is required but not set; fix: pulumi config set --secret jobs:%s <value>", key, key))
		}
		return "", false
	}
	if !v.Secret {
		r.errs = append(r.errs, fmt.Errorf("config jobs:%s is stored in plain text: it must be a secret; fix: pulumi config set --secret jobs:%s <value>", key, key))
		return "", true
	}
	return v.Text, true
}

func (r *reader) intInRange(key string, lo, hi, def int, why string) int {
	v, ok := r.get(key)
	if !ok {
		if def == 0 {
			r.errs = append(r.errs, fmt.Errorf("config jobs:%s is required but not set; fix: pulumi config set jobs:%s <value>", key, key))
		}
		return def
	}
	rule := fmt.Sprintf("must be a whole number from %d to %d", lo, hi)
	if lo == hi {
		rule = fmt.Sprintf("must be %d", lo)
	}
	if why != "" {
		rule += " (" + why + ")"
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Text))
	if err != nil || n < lo || n > hi {
		r.fail(key, v.Text, rule)
		return 0
	}
	return n
}

func (r *reader) boolean(key string, def bool) bool {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	switch strings.TrimSpace(v.Text) {
	case "true":
		return true
	case "false":
		return false
	}
	r.fail(key, v.Text, "must be true or false")
	return def
}
