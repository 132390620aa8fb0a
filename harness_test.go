package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// Secrets the tests supply, since the stack files hold none.
const (
	testRedisPassword    = "redis-secret-from-test"
	testRegistryUser     = "ci"
	testRegistryPassword = "registry-secret-from-test"
)

// stackFileConfig reads the config of a real stack file as the engine would pass it: every
// value a string. Encrypted values (secure:) are left out; the tests supply their own secrets.
func stackFileConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Pulumi." + stack + ".yaml")
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

// runOptions change one run of the program away from the plain stack file.
type runOptions struct {
	set         map[string]string // jobs:key -> value, overriding the stack file
	unset       []string          // jobs:keys removed from the stack file
	secrets     map[string]string // secret jobs:keys; redisPassword is added unless set here
	plainText   []string          // keys supplied as plain (non-secret) values
	tested      *string           // version output of the promoteFrom stack; nil: equal to this stack's
	noTestStack bool              // the promoteFrom stack exports no version
	testOutputs map[string]any    // more outputs of the promoteFrom stack (apiImage, workerImage)
	trace       bool              // the mock marks output names, to tell links from repeated strings
	stackName   string            // run as this stack name, with the stack file's config
}

// run is one program run under mocks.
type run struct {
	mocks *mocks
	// deployErr is the program's own error, before the SDK wraps it.
	deployErr error
	config    map[string]string
	exports   map[string]any
	err       error
	// logs are the program's log lines, "<severity>: <message>", in order.
	logs []string
}

func runStack(t *testing.T, stack string, o runOptions) *run {
	t.Helper()
	cfg := stackFileConfig(t, stack)
	for k, v := range o.set {
		cfg[k] = v
	}
	for _, k := range o.unset {
		delete(cfg, k)
	}
	secretKeys := []string{}
	secrets := map[string]string{"jobs:redisPassword": testRedisPassword}
	for k, v := range o.secrets {
		secrets[k] = v
	}
	for k, v := range secrets {
		if v == "" {
			continue
		}
		cfg[k] = v
		secretKeys = append(secretKeys, k)
	}
	for _, k := range o.plainText {
		secretKeys = removeString(secretKeys, k)
	}

	m := newMocks(o.trace)
	if ref := cfg["jobs:promoteFrom"]; ref != "" && !o.noTestStack {
		version := cfg["jobs:version"]
		if o.tested != nil {
			version = *o.tested
		}
		m.stacks[ref] = map[string]any{"version": version, "namespace": "test-jobs"}
		for k, v := range o.testOutputs {
			m.stacks[ref][k] = v
		}
	}

	name := stack
	if o.stackName != "" {
		name = o.stackName
	}
	r := &run{mocks: m, config: cfg, exports: map[string]any{}}
	var mu sync.Mutex
	var pending sync.WaitGroup
	r.err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		// The mock engine drops log lines, so the run keeps them for the tests to read.
		ctx.Log = &recordingLog{Log: ctx.Log, lines: &r.logs, mu: &mu}
		env, err := deploy(ctx)
		if err != nil {
			r.deployErr = err
			return err
		}
		for name, value := range env.Outputs() {
			// An output built from a constant is not tracked by the run, so wait for each.
			pending.Add(1)
			pulumi.ToOutput(value).ApplyT(func(v any) any {
				defer pending.Done()
				mu.Lock()
				defer mu.Unlock()
				r.exports[name] = v
				return v
			})
		}
		return nil
	}, pulumi.WithMocks("jobs", name, m), func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
	})
	if r.err == nil {
		done := make(chan struct{})
		go func() { pending.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("stack outputs did not resolve within 30s")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return r
}

// recordingLog keeps every line the program logs, then passes it on.
type recordingLog struct {
	pulumi.Log
	mu    *sync.Mutex
	lines *[]string
}

func (l *recordingLog) record(severity, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.lines = append(*l.lines, severity+": "+msg)
}

func (l *recordingLog) Debug(msg string, args *pulumi.LogArgs) error {
	l.record("debug", msg)
	return l.Log.Debug(msg, args)
}

func (l *recordingLog) Info(msg string, args *pulumi.LogArgs) error {
	l.record("info", msg)
	return l.Log.Info(msg, args)
}

func (l *recordingLog) Warn(msg string, args *pulumi.LogArgs) error {
	l.record("warning", msg)
	return l.Log.Warn(msg, args)
}

func (l *recordingLog) Error(msg string, args *pulumi.LogArgs) error {
	l.record("error", msg)
	return l.Log.Error(msg, args)
}

// testedDigests are the outputs a test stack that built and pushed version would export: digest
// references in registry, different for every version.
func testedDigests(registry, version string) map[string]any {
	out := map[string]any{}
	for _, target := range []string{"api", "worker"} {
		sum := sha256.Sum256([]byte("tested " + target + " " + version))
		out[target+"Image"] = registry + "/jobs-" + target + "@sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// bumpPatch is the version one patch release later.
func bumpPatch(t *testing.T, v string) string {
	t.Helper()
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		t.Fatalf("stack version %q: %v", v, err)
	}
	return sv.IncPatch().String()
}

// registered is one resource the program registered, as the mock saw it.
type registered struct {
	Type    string
	Name    string
	URN     string
	Custom  bool
	Inputs  resource.PropertyMap
	Outputs resource.PropertyMap
	// Deps maps each input property to the URNs whose outputs flowed into it.
	Deps   map[string][]string
	Parent string
	// Protect is the resource's protect option.
	Protect bool
}

// mocks plays the engine and the providers: outputs are the inputs plus what a provider adds.
type mocks struct {
	mu        sync.Mutex
	resources []*registered
	stacks    map[string]map[string]any // StackReference name -> outputs
	reads     []string                  // StackReference names read
	trace     bool
}

func newMocks(trace bool) *mocks {
	return &mocks{stacks: map[string]map[string]any{}, trace: trace}
}

// traceName marks a name as having come out of a resource's outputs.
func traceName(name string) string { return "out-" + name }

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		m.mu.Lock()
		m.reads = append(m.reads, args.ID)
		outputs, ok := m.stacks[args.ID]
		m.mu.Unlock()
		if !ok {
			outputs = map[string]any{}
		}
		return args.ID, resource.NewPropertyMapFromMap(map[string]any{
			"name":              args.ID,
			"outputs":           outputs,
			"secretOutputNames": []any{},
		}), nil
	}

	outputs := args.Inputs.Copy()
	switch {
	case args.TypeToken == "docker:index/image:Image":
		imageName := args.Inputs["imageName"].StringValue()
		repo := imageName
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		inputs, err := plain(args.Inputs)
		if err != nil {
			return "", nil, err
		}
		b, err := json.Marshal(inputs)
		if err != nil {
			return "", nil, err
		}
		sum := sha256.Sum256(b)
		outputs["repoDigest"] = resource.NewProperty(repo + "@sha256:" + hex.EncodeToString(sum[:]))
		outputs["baseImageName"] = resource.NewProperty(imageName)
	case strings.HasPrefix(args.TypeToken, "kubernetes:") && m.trace:
		if md, ok := outputs["metadata"]; ok && md.IsObject() {
			meta := md.ObjectValue().Copy()
			meta["name"] = resource.NewProperty(traceName(meta["name"].StringValue()))
			outputs["metadata"] = resource.NewProperty(meta)
		}
	}

	r := &registered{
		Type: args.TypeToken, Name: args.Name, Custom: args.Custom,
		Inputs: args.Inputs, Outputs: outputs, Deps: map[string][]string{},
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		for prop, deps := range rpc.GetPropertyDependencies() {
			r.Deps[prop] = deps.GetUrns()
		}
	}
	id := ""
	if args.Custom {
		id = args.Name + "-id"
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, outputs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s: the program calls no provider functions", args.Token)
}

// byTypeName returns the only resource of that type and name, failing the test otherwise.
func (m *mocks) one(t *testing.T, typ, name string) *registered {
	t.Helper()
	var found []*registered
	for _, r := range m.resources {
		if r.Type == typ && r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s named %s, got %d (registered: %s)", typ, name, len(found), m.names())
	}
	return found[0]
}

func (m *mocks) names() string {
	var s []string
	for _, r := range m.resources {
		s = append(s, r.Type+" "+r.Name)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// dependsOn reports whether an output of target flowed into r's input property prop, as the
// SDK declared it to the engine (the property dependencies of the register call).
func (r *registered) dependsOn(prop string, target *registered) bool {
	for _, urn := range r.Deps[prop] {
		if strings.HasSuffix(urn, target.Type+"::"+target.Name) {
			return true
		}
	}
	return false
}

// plain converts a property value to plain JSON-able Go values: secrets unwrapped, numbers
// that are whole as integers. Unknown values are an error: a manifest cannot hold one.
func plain(v any) (any, error) {
	switch p := v.(type) {
	case resource.PropertyMap:
		out := map[string]any{}
		for k, e := range p {
			pv, err := plain(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if pv != nil {
				out[string(k)] = pv
			}
		}
		return out, nil
	case resource.PropertyValue:
		switch {
		case p.IsNull():
			return nil, nil
		case p.IsComputed():
			return nil, fmt.Errorf("unknown value")
		case p.IsOutput():
			o := p.OutputValue()
			if !o.Known {
				return nil, fmt.Errorf("unknown output value")
			}
			return plain(o.Element)
		case p.IsSecret():
			return plain(p.SecretValue().Element)
		case p.IsString():
			return p.StringValue(), nil
		case p.IsBool():
			return p.BoolValue(), nil
		case p.IsNumber():
			n := p.NumberValue()
			if n == float64(int64(n)) {
				return int64(n), nil
			}
			return n, nil
		case p.IsArray():
			out := []any{}
			for i, e := range p.ArrayValue() {
				pv, err := plain(e)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				out = append(out, pv)
			}
			return out, nil
		case p.IsObject():
			return plain(p.ObjectValue())
		case p.IsResourceReference():
			return nil, fmt.Errorf("resource reference %s cannot be a manifest value", p.ResourceReferenceValue().URN)
		}
		return nil, fmt.Errorf("unsupported property value %v", p)
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// itoa keeps the tests' config maps readable.
func itoa(n int) string { return strconv.Itoa(n) }
