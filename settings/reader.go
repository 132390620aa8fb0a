package settings

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/example/jobs/release"
)

// reader reads declared keys and collects every rule violation, so Load reports them together.
type reader struct {
	project Project
	values  map[string]Value
	errs    []error
}

// lookup returns a key's value: the stack's own when it sets one (blank counts as unset), else
// the declared default. set says whether the stack set it; ok is false for a required key the
// stack leaves unset, which lookup reports.
func (r *reader) lookup(key string) (v Value, set, ok bool) {
	decl, declared := r.project.Keys[key]
	if !declared {
		// A program bug, not a user error: every key Load reads is declared in Pulumi.yaml.
		panic("settings: Load reads " + key + ", which Pulumi.yaml does not declare")
	}
	full := r.project.Full(key)
	if v, found := r.values[full]; found && strings.TrimSpace(v.Text) != "" {
		return v, true, true
	}
	if decl.Default != nil {
		return Value{Text: *decl.Default}, false, true
	}
	fix := "pulumi config set " + full + " <value>"
	if decl.Secret {
		fix = "pulumi config set --secret " + full + " <value>"
	}
	r.errs = append(r.errs, fmt.Errorf("config %s is required but not set; fix: %s", full, fix))
	return Value{}, false, false
}

func (r *reader) isSet(key string) bool {
	_, set, _ := r.lookup(key)
	return set
}

func (r *reader) fail(key, value, rule string) {
	full := r.project.Full(key)
	r.errs = append(r.errs, fmt.Errorf("config %s = %q is invalid: %s; fix: pulumi config set %s <value>", full, value, rule, full))
}

// text reads a plain key and checks it. An empty default means "unset" and is not checked.
func (r *reader) text(key string, check func(string) error) string {
	v, set, ok := r.lookup(key)
	if !ok || (!set && v.Text == "") {
		return ""
	}
	if err := check(v.Text); err != nil {
		r.fail(key, v.Text, err.Error())
		return ""
	}
	return v.Text
}

// secret reads a key that must never sit in a stack file in plain text; its value is never
// echoed in an error.
func (r *reader) secret(key string) Secret {
	v, set, ok := r.lookup(key)
	if !ok || !set {
		return Secret{}
	}
	if !v.Secret {
		full := r.project.Full(key)
		r.errs = append(r.errs, fmt.Errorf("config %s is stored in plain text: it must be a secret; fix: pulumi config set --secret %s <value>", full, full))
		return Secret{}
	}
	return NewSecret(v.Text)
}

func (r *reader) integer(key string, lo, hi int, why string) int {
	v, _, ok := r.lookup(key)
	if !ok {
		return 0
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

// AutoNodePort is API.NodePort when jobs:nodePort is "auto".
const AutoNodePort = 0

// nodePort reads jobs:nodePort: a port of the NodePort range, or auto for one the cluster assigns.
func (r *reader) nodePort() int {
	if v, _, ok := r.lookup("nodePort"); ok && strings.TrimSpace(v.Text) == "auto" {
		return AutoNodePort
	}
	return r.integer("nodePort", 30000, 32767, "the Kubernetes NodePort range, or auto for one the cluster assigns")
}

func (r *reader) boolean(key string) bool {
	v, _, ok := r.lookup(key)
	if !ok {
		return false
	}
	switch strings.TrimSpace(v.Text) {
	case "true":
		return true
	case "false":
		return false
	}
	r.fail(key, v.Text, "must be true or false")
	return false
}

// unknownKeys rejects keys of the project's namespace that Pulumi.yaml does not declare, which is
// what a typo such as jobs:apiReplica would otherwise be: silently ignored. Keys of other
// namespaces (kubernetes:, docker:) configure providers and are theirs to check.
func (r *reader) unknownKeys() {
	prefix := r.project.Name + ":"
	var unknown []string
	for full := range r.values {
		key, ok := strings.CutPrefix(full, prefix)
		if _, declared := r.project.Keys[key]; ok && !declared {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	for _, key := range unknown {
		near := r.project.Full(nearest(key, r.project.Keys))
		full := r.project.Full(key)
		r.errs = append(r.errs, fmt.Errorf("config %s is not a setting of this project (did you mean %s?); "+
			"fix: pulumi config rm %s, then set the key you meant (Pulumi.yaml declares them all)", full, near, full))
	}
}

// nearest is the declared key closest to key by edit distance, ignoring case; ties go to the
// alphabetically first, so the answer is stable.
func nearest(key string, keys map[string]Key) string {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	best, bestDist := "", -1
	for _, k := range names {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nodePortFree reports the stacks of the project that fix the same NodePort at the same node
// host: one cluster has each NodePort once, so the API server would refuse the second one.
func (r *reader) nodePortFree(stack, host string, port int, top release.Topology) {
	others := top.NodePortHolders(stack, host, port)
	if len(others) == 0 {
		return
	}
	var files []string
	for _, o := range others {
		files = append(files, fmt.Sprintf("stack %s (Pulumi.%s.yaml)", o, o))
	}
	r.fail("nodePort", strconv.Itoa(port), fmt.Sprintf("stack %s and %s both fix NodePort %d at %s %s, and one cluster has each NodePort once "+
		"(a stack on another cluster sets that cluster's %s)", stack, strings.Join(files, " and "), port, r.project.Full("nodeHost"), host, r.project.Full("nodeHost")))
}
