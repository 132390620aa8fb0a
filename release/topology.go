package release

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// promoteFromKey is the stack setting (declared in Pulumi.yaml) that names a stack's source.
const promoteFromKey = "jobs:promoteFrom"

// stackFileRe matches a stack's config file in the project directory, Pulumi.<stack>.yaml.
var stackFileRe = regexp.MustCompile(`^Pulumi\.([a-z0-9][a-z0-9-]*)\.yaml$`)

// StackOf is the stack name in a stack reference: organization/jobs/test, jobs/test and test all
// name stack test.
func StackOf(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}

// CheckSource is the rule for the stack a stack promotes from (jobs:promoteFrom): another stack.
// A stack gated on itself would accept only versions it already runs, so every later release of
// it would be refused.
//
// A review stack is never a source: it runs an unmerged pull request, and its images carry a
// review version, so nothing may be promoted from it.
func CheckSource(stack, ref string) error {
	if IsReviewStack(ref) {
		return fmt.Errorf("it names review stack %s, which runs pull request %s before review and merge; "+
			"promote only from a stack that main deploys (e.g. organization/jobs/test)", StackOf(ref), reviewNumber(ref))
	}
	if StackOf(ref) == stack {
		return fmt.Errorf("it names this stack (%s) itself, and a stack gated on itself refuses every new version; "+
			"name the stack whose tested versions this one deploys, or leave it empty for the stack releases land on first", stack)
	}
	return nil
}

// Topology is how the project's stacks promote: every stack with a Pulumi.<stack>.yaml, and for
// each the stack it promotes from. A new environment (a staging between test and prod, or a
// short-lived review stack) joins by adding its stack file, nothing else.
type Topology struct {
	Dir    string
	Stacks []string             // sorted
	from   map[string]string    // stack -> the stack it promotes from, absent when none
	files  map[string]StackFile // stack -> its stack file
}

// ReadTopology reads the stack files of the project in dir.
func ReadTopology(dir string) (Topology, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Topology{}, fmt.Errorf("reading the stacks of the project in %s: %w", dir, err)
	}
	t := Topology{Dir: dir, from: map[string]string{}, files: map[string]StackFile{}}
	for _, e := range entries {
		m := stackFileRe.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		stack := m[1]
		t.Stacks = append(t.Stacks, stack)
		f, err := ReadStackFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return Topology{}, err
		}
		t.files[stack] = f
		ref, err := f.Setting(promoteFromKey)
		if err != nil {
			return Topology{}, fmt.Errorf("%w like organization/jobs/test", err)
		}
		if ref != "" {
			// A stack promoting from itself is reported as a circle below.
			if IsReviewStack(ref) {
				return Topology{}, fmt.Errorf("%s: %s = %q: %w", f.Path, promoteFromKey, ref, CheckSource(stack, ref))
			}
			t.from[stack] = StackOf(ref)
		}
	}
	if len(t.Stacks) == 0 {
		return Topology{}, fmt.Errorf("%s holds no stack file (Pulumi.<stack>.yaml): run from the project root or pass -dir", dir)
	}
	slices.Sort(t.Stacks)
	for _, stack := range t.Stacks {
		if err := t.checkChain(stack); err != nil {
			return Topology{}, err
		}
	}
	return t, nil
}

// checkChain follows a stack's sources: each must have a stack file, and none may lead back.
func (t Topology) checkChain(stack string) error {
	seen := []string{stack}
	for s := stack; t.from[s] != ""; s = t.from[s] {
		src := t.from[s]
		if !t.Has(src) {
			return fmt.Errorf("stack %s promotes from stack %s (%s), which has no Pulumi.%s.yaml in %s: fix %s or add that stack",
				s, src, promoteFromKey, src, t.Dir, promoteFromKey)
		}
		if slices.Contains(seen, src) {
			return fmt.Errorf("stacks promote in a circle (%s -> %s): one of them must promote from none", strings.Join(seen, " <- "), src)
		}
		seen = append(seen, src)
	}
	return nil
}

// Has reports whether stack has a stack file.
func (t Topology) Has(stack string) bool { return slices.Contains(t.Stacks, stack) }

// Source is the stack that stack promotes from, or "".
func (t Topology) Source(stack string) string { return t.from[stack] }

// Promoted are the stacks that promote from some other stack, sorted.
func (t Topology) Promoted() []string {
	var out []string
	for _, s := range t.Stacks {
		if t.from[s] != "" {
			out = append(out, s)
		}
	}
	return out
}

// Entry is the stack a release lands on first: the one stack that others promote from and that
// promotes from none. A project of one stack has that stack; review stacks that nothing promotes
// from are never the entry.
func (t Topology) Entry() (string, error) {
	var roots []string
	for _, s := range t.Stacks {
		if t.from[s] != "" {
			continue
		}
		for _, other := range t.Stacks {
			if t.from[other] == s {
				roots = append(roots, s)
				break
			}
		}
	}
	switch {
	case len(roots) == 1:
		return roots[0], nil
	case len(roots) == 0 && len(t.Stacks) == 1:
		return t.Stacks[0], nil
	case len(roots) == 0:
		return "", fmt.Errorf("no stack of %s promotes from another, so none is where releases land: pass -stack (one of %s)", t.Dir, strings.Join(t.Stacks, ", "))
	}
	return "", fmt.Errorf("stacks %s each start a promotion chain, so where releases land is ambiguous: pass -stack", strings.Join(roots, " and "))
}

// Order is every stack in an order to deploy them: each after the stack it promotes from, and
// otherwise by name.
func (t Topology) Order() []string {
	var order []string
	done := map[string]bool{}
	for len(order) < len(t.Stacks) {
		for _, s := range t.Stacks {
			if !done[s] && (t.from[s] == "" || done[t.from[s]]) {
				order = append(order, s)
				done[s] = true
			}
		}
	}
	return order
}
