package release

import (
	"path"
	"slices"
	"strings"
)

// Affected are the stacks, of stacks, that a change to the files changed (paths from the project
// root, as git diff --name-only prints them) can change when deployed: a stack file affects its
// own stack; documentation (*.md, docs/) and the workflows affect none; anything else (the
// program, the app, Pulumi.yaml, the scripts) may change every stack. Order is kept.
func Affected(stacks, changed []string) []string {
	hit := map[string]bool{}
	for _, p := range changed {
		p = strings.TrimPrefix(p, "./")
		switch {
		case path.Ext(p) == ".md", strings.HasPrefix(p, "docs/"), strings.HasPrefix(p, ".github/"):
			continue
		case !strings.Contains(p, "/") && stackFileRe.MatchString(p):
			hit[stackFileRe.FindStringSubmatch(p)[1]] = true
		default:
			return stacks
		}
	}
	out := []string{}
	for _, s := range stacks {
		if hit[s] {
			out = append(out, s)
		}
	}
	return slices.Clip(out)
}
