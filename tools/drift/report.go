package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The JSON `pulumi preview --json` prints: the engine's preview digest, of which the drift check
// reads the steps (what would change, with the state before and the program's inputs after) and
// the diagnostics (why a preview failed).
type digest struct {
	Steps       []previewStep `json:"steps"`
	Diagnostics []diagnostic  `json:"diagnostics"`
}

type previewStep struct {
	Op           string                  `json:"op"`
	URN          string                  `json:"urn"`
	OldState     *resourceState          `json:"oldState"`
	NewState     *resourceState          `json:"newState"`
	DiffReasons  []string                `json:"diffReasons"`
	DetailedDiff map[string]propertyDiff `json:"detailedDiff"`
}

type resourceState struct {
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]any `json:"outputs"`
}

// propertyDiff is one differing property. The engine's display spells the kind "kind"; its
// event stream "diffKind": either is read.
type propertyDiff struct {
	Kind      string `json:"kind"`
	DiffKind  string `json:"diffKind"`
	InputDiff bool   `json:"inputDiff"`
}

type diagnostic struct {
	URN      string `json:"urn"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

// Change is one resource whose live object differs from what the program declares.
type Change struct {
	Resource string // <type>::<name>, e.g. kubernetes:apps/v1:Deployment::test-api
	Op       string // what make up would do about it: update, replace, create, delete
	Fields   []Field
}

// Field is one differing field: its value in the cluster (as the refresh read it) and the value
// the program declares.
type Field struct {
	Path     string
	Live     string
	Declared string
}

// unchanged are the steps that change nothing: a resource as declared, a stack reference read,
// a refresh that only read the live object.
var unchanged = []string{"same", "read", "refresh", "discard"}

// parseDigest turns the output of `pulumi preview --refresh --json` into the changes it plans,
// each field with its live and declared value. An output that is no digest is an error.
func parseDigest(out []byte) ([]Change, []diagnostic, error) {
	var d digest
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, nil, fmt.Errorf("the preview printed no JSON digest (%v): %s", err, excerpt(out))
	}
	var changes []Change
	for _, s := range d.Steps {
		if slices.Contains(unchanged, s.Op) {
			continue
		}
		c := Change{Resource: resourceName(s.URN), Op: s.Op}
		for path, pd := range s.DetailedDiff {
			c.Fields = append(c.Fields, field(s, path, pd))
		}
		// Without a detailed diff the engine still names the top-level properties.
		if len(s.DetailedDiff) == 0 {
			for _, key := range s.DiffReasons {
				c.Fields = append(c.Fields, field(s, key, propertyDiff{}))
			}
		}
		slices.SortFunc(c.Fields, func(a, b Field) int { return strings.Compare(a.Path, b.Path) })
		changes = append(changes, c)
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Resource, b.Resource) })
	return changes, d.Diagnostics, nil
}

// field reads one differing property's two values. The live value is the refreshed state's
// output (the object as the cluster has it), or its input when the engine compared inputs; the
// declared value is the program's new input.
func field(s previewStep, path string, pd propertyDiff) Field {
	f := Field{Path: path, Live: absent, Declared: absent}
	if s.OldState != nil {
		first, second := s.OldState.Outputs, s.OldState.Inputs
		if pd.InputDiff {
			first, second = second, first
		}
		if v, ok := lookup(first, path); ok {
			f.Live = show(v)
		} else if v, ok := lookup(second, path); ok {
			f.Live = show(v)
		}
	}
	if s.NewState != nil {
		if v, ok := lookup(s.NewState.Inputs, path); ok {
			f.Declared = show(v)
		}
	}
	return f
}

// absent is how a value that one side does not have is shown.
const absent = "(none)"

// secretSig is the key the engine marks a secret value with in JSON.
const secretSig = "4dabf18193072939515e22adb298388d"

// show renders a value compactly, never a secret's plain text.
func show(v any) string {
	if m, ok := v.(map[string]any); ok {
		if _, secret := m[secretSig]; secret {
			return "[secret]"
		}
	}
	if s, ok := v.(string); ok && s == "[secret]" {
		return s
	}
	b, err := json.Marshal(hideSecrets(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// hideSecrets replaces every secret inside v by "[secret]".
func hideSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if _, secret := x[secretSig]; secret {
			return "[secret]"
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = hideSecrets(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = hideSecrets(e)
		}
		return out
	}
	return v
}

// resourceName is <type>::<name> from a URN (urn:pulumi:stack::project::parent$type::name).
func resourceName(urn string) string {
	i := strings.LastIndex(urn, "::")
	if i < 0 {
		return urn
	}
	typ := urn[:i]
	if j := strings.LastIndex(typ, "$"); j >= 0 {
		typ = typ[j+1:]
	} else if j := strings.LastIndex(typ, "::"); j >= 0 {
		typ = typ[j+2:]
	}
	return typ + "::" + urn[i+2:]
}

// excerpt is the start of out, for an error message.
func excerpt(out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return "(nothing)"
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
