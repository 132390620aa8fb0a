// Package mockengine plays the Pulumi engine and the providers for a program run under
// pulumi.WithMocks, and records everything the program registers, so tests of any package can
// check the program's logic fast and without a cluster. Only the real engine proves what a
// cluster does with it; this proves what the program asks for.
package mockengine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Engine answers the program's registrations: a resource's outputs are its inputs plus what its
// provider would add (a docker.Image's repoDigest), a StackReference reads Stacks.
type Engine struct {
	// Stacks are the outputs of the stacks the program may reference, by stack reference name.
	Stacks map[string]map[string]any
	// Trace renames every Kubernetes object's metadata.name in its outputs (TraceName), so a
	// value equal to a traced name came from that output, never from a repeated string.
	Trace bool

	mu        sync.Mutex
	resources []*Resource
	reads     []string
}

// New returns an engine with no other stacks.
func New() *Engine { return &Engine{Stacks: map[string]map[string]any{}} }

// TraceName is how a traced Kubernetes output name reads.
func TraceName(name string) string { return "out-" + name }

// Resource is one registration as the engine saw it.
type Resource struct {
	Type, Name, Parent string
	Custom, Protect    bool
	Inputs, Outputs    resource.PropertyMap
	// Deps maps each input property to the URNs whose outputs flowed into it.
	Deps map[string][]string
}

// NewResource implements pulumi.MockResourceMonitor.
func (e *Engine) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		e.mu.Lock()
		e.reads = append(e.reads, args.ID)
		outputs, ok := e.Stacks[args.ID]
		e.mu.Unlock()
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
		digest, err := imageDigest(args.Inputs)
		if err != nil {
			return "", nil, err
		}
		outputs["repoDigest"] = resource.NewProperty(digest)
		outputs["baseImageName"] = args.Inputs["imageName"]
	case strings.HasPrefix(args.TypeToken, "kubernetes:") && e.Trace:
		if md, ok := outputs["metadata"]; ok && md.IsObject() {
			meta := md.ObjectValue().Copy()
			meta["name"] = resource.NewProperty(TraceName(meta["name"].StringValue()))
			outputs["metadata"] = resource.NewProperty(meta)
		}
	}

	r := &Resource{
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
	e.mu.Lock()
	e.resources = append(e.resources, r)
	e.mu.Unlock()
	return id, outputs, nil
}

// imageDigest is <repository>@sha256:<hash of the image's inputs>: every input change, a version
// bump included, gives another digest, as a real build would.
func imageDigest(inputs resource.PropertyMap) (string, error) {
	repo := inputs["imageName"].StringValue()
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	in, err := Plain(inputs)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return repo + "@sha256:" + hex.EncodeToString(sum[:]), nil
}

// Call implements pulumi.MockResourceMonitor; the programs tested here call no functions.
func (e *Engine) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s: the program calls no provider functions", args.Token)
}

// Resources are the registrations so far, in the order they arrived.
func (e *Engine) Resources() []*Resource {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.resources)
}

// Reads are the stack references the program read.
func (e *Engine) Reads() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.reads)
}

// Names lists every registration as "<type> <name>", sorted.
func (e *Engine) Names() []string {
	var out []string
	for _, r := range e.Resources() {
		out = append(out, r.Type+" "+r.Name)
	}
	slices.Sort(out)
	return out
}

// One is the only registration of that type and name.
func (e *Engine) One(typ, name string) (*Resource, error) {
	var found []*Resource
	for _, r := range e.Resources() {
		if r.Type == typ && r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("want exactly one %s named %s, got %d (registered: %s)", typ, name, len(found), strings.Join(e.Names(), ", "))
	}
	return found[0], nil
}

// In is a resource's inputs as plain values.
func (r *Resource) In() (map[string]any, error) { return plainMap(r.Inputs, r) }

// Out is a resource's outputs as plain values.
func (r *Resource) Out() (map[string]any, error) { return plainMap(r.Outputs, r) }

func plainMap(m resource.PropertyMap, r *Resource) (map[string]any, error) {
	v, err := Plain(m)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Type, r.Name, err)
	}
	return v.(map[string]any), nil
}

// DependsOn reports whether an output of target flowed into r's input property prop, as the SDK
// declared it to the engine (the property dependencies of the register call).
func (r *Resource) DependsOn(prop string, target *Resource) bool {
	for _, urn := range r.Deps[prop] {
		if strings.HasSuffix(urn, target.Type+"::"+target.Name) {
			return true
		}
	}
	return false
}
