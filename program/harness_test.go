package program

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/example/jobs/mockengine"
	"github.com/example/jobs/release"
)

// root is the project directory: Pulumi.yaml, the stack files and app/.
const root = ".."

// Secrets the tests supply, since the stack files hold none.
const (
	testRedisPassword    = "redis-secret-from-test"
	testRegistryUser     = "ci"
	testRegistryPassword = "registry-secret-from-test"
)

// Type tokens of the resources the program registers.
const (
	typeEnvironment = "jobs:index:Environment"
	typeImage       = "docker:index/image:Image"
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typePVC         = "kubernetes:core/v1:PersistentVolumeClaim"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeService     = "kubernetes:core/v1:Service"
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typePolicy      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typePDB         = "kubernetes:policy/v1:PodDisruptionBudget"
)

// stackFileConfig reads a stack file in dir as the engine would pass it: every value a string.
// Encrypted values (secure:) are left out; the tests supply their own secrets.
func stackFileConfig(t *testing.T, dir, stack string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatalf("reading the stack file: %v", err)
	}
	var file struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
	}
	cfg := map[string]string{}
	for key, node := range file.Config {
		if node.Kind != yaml.ScalarNode {
			continue // {secure: ...}
		}
		cfg[key] = node.Value
	}
	return cfg
}

// sourceRegistry is where the promoteFrom stack's images are unless a test says otherwise.
const sourceRegistry = "source.example.com/jobs"

// runOptions change one run of the program away from the plain stack file.
type runOptions struct {
	dir         string            // where the stack files are (default: the project's own)
	set         map[string]string // jobs:key -> value, overriding the stack file
	unset       []string          // jobs:keys removed from the stack file
	secrets     map[string]string // secret jobs:keys; redisPassword is added unless set here
	plainText   []string          // keys supplied as plain (non-secret) values
	tested      *string           // version output of the promoteFrom stack; nil: equal to this stack's
	noTestStack bool              // the promoteFrom stack exports no version
	testOutputs map[string]any    // more outputs of the promoteFrom stack (apiImage, workerImage)
	// verification is the promoteFrom stack's verification output; nil: a record of exactly the
	// version and images it reports, as make verify writes it.
	verification map[string]any
	unverified   bool       // the promoteFrom stack exports no verification
	trace        bool       // the engine marks output names, to tell links from repeated strings
	stackName    string     // run as this stack name, with the stack file's config
	login        LoginCheck // the registry's answer to a login (default: accepted)
}

// run is one program run under the mock engine.
type run struct {
	eng     *mockengine.Engine
	config  map[string]string
	exports map[string]any
	err     error // the run's error as the engine reports it
	// deployErr is the program's own error, before the SDK wraps it.
	deployErr error
	logs      []string
}

func runStack(t *testing.T, stack string, o runOptions) *run {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = root
	}
	cfg := stackFileConfig(t, dir, stack)
	for k, v := range o.set {
		cfg[k] = v
	}
	for _, k := range o.unset {
		delete(cfg, k)
	}
	secrets := map[string]string{"jobs:redisPassword": testRedisPassword}
	for k, v := range o.secrets {
		secrets[k] = v
	}
	var secretKeys []string
	for k, v := range secrets {
		if v == "" {
			continue
		}
		cfg[k] = v
		if !contains(o.plainText, k) {
			secretKeys = append(secretKeys, k)
		}
	}

	eng := mockengine.New()
	eng.Trace = o.trace
	if ref := cfg["jobs:promoteFrom"]; ref != "" && !o.noTestStack {
		version := cfg["jobs:version"]
		if o.tested != nil {
			version = *o.tested
		}
		eng.Stacks[ref] = map[string]any{"version": version, "namespace": release.StackOf(ref) + "-jobs"}
		// Its images, in a registry of its own: a promoted stack reuses them only when a test
		// hands it images in its registry (testOutputs), and otherwise builds as configured.
		for k, v := range testedDigests(sourceRegistry, version) {
			eng.Stacks[ref][k] = v
		}
		for k, v := range o.testOutputs {
			eng.Stacks[ref][k] = v
		}
		switch {
		case o.verification != nil:
			eng.Stacks[ref]["verification"] = o.verification
		case !o.unverified:
			eng.Stacks[ref]["verification"] = verifiedRecord(release.StackOf(ref), version, eng.Stacks[ref])
		}
	}
	name := stack
	if o.stackName != "" {
		name = o.stackName
	}
	login := o.login
	if login == nil {
		login = func(context.Context, string, string, string) error { return nil }
	}
	file, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Run(mockengine.Stack{Project: "jobs", Name: name, Config: cfg, Secret: secretKeys},
		func(ctx *pulumi.Context) (pulumi.Map, error) {
			return Deploy(ctx, Project{File: file, Dir: root, StackDir: dir, CheckLogin: login})
		})
	return &run{eng: eng, config: cfg, exports: res.Outputs, err: res.Err, deployErr: res.ProgramErr, logs: res.Logs}
}

func mustRun(t *testing.T, stack string, o runOptions) *run {
	t.Helper()
	r := runStack(t, stack, o)
	if r.err != nil {
		t.Fatalf("stack %s: program failed: %v", stack, r.err)
	}
	return r
}

// one is the only registration of that type and name.
func (r *run) one(t *testing.T, typ, name string) *mockengine.Resource {
	t.Helper()
	res, err := r.eng.One(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// in is a resource's inputs as plain values.
func in(t *testing.T, res *mockengine.Resource) map[string]any {
	t.Helper()
	v, err := res.In()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// out is a resource's outputs as plain values.
func out(t *testing.T, res *mockengine.Resource) map[string]any {
	t.Helper()
	v, err := res.Out()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// registeredNames lists every registration as "<type> <name>", one per line, sorted.
func (r *run) registeredNames() string { return strings.Join(r.eng.Names(), "\n") }

// hasLog reports whether the run logged exactly line.
func (r *run) hasLog(line string) bool { return contains(r.logs, line) }

var at = mockengine.At

// want fails the test when the value at path differs from expected.
func want(t *testing.T, what string, v any, expected any, path ...any) {
	t.Helper()
	got := at(v, path...)
	if !reflect.DeepEqual(got, expected) {
		t.Errorf("%s %v: got %#v, want %#v", what, path, got, expected)
	}
}

// envVar finds a container's env entry by name.
func envVar(container any, name string) any {
	for _, e := range asList(at(container, "env")) {
		if at(e, "name") == name {
			return e
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// testedDigests are the outputs a source stack that built and pushed version would export:
// digest references in registry, different for every version.
func testedDigests(registry, version string) map[string]any {
	out := map[string]any{}
	for _, c := range release.Components {
		sum := sha256.Sum256([]byte("tested " + c + " " + version))
		out[release.OutputName(c)] = release.Repository(registry, c) + "@sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// nextPatch is the version one patch release after v.
func nextPatch(t *testing.T, v string) string {
	t.Helper()
	n, err := release.NextPatch(v)
	if err != nil {
		t.Fatalf("stack version %q: %v", v, err)
	}
	return n
}

func ptr(s string) *string { return &s }

// verifiedRecord is the verification output of a stack that passed make verify at version with
// the image outputs outputs holds (a missing one is "", a non-string one as the program shows it).
func verifiedRecord(stack, version string, outputs map[string]any) map[string]any {
	rec := map[string]any{"stack": stack, "version": version}
	for _, c := range release.Components {
		name := release.OutputName(c)
		switch v := outputs[name].(type) {
		case nil:
			rec[name] = ""
		case string:
			rec[name] = v
		default:
			rec[name] = fmt.Sprintf("%#v", v)
		}
	}
	return rec
}
