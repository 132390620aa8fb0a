package manifests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// SourceEnv names a directory of already rendered <stack>.json files to use
// instead of running the render (for example the hand-made fixtures in
// e2e/testdata/fixtures while the Pulumi program is unavailable).
const SourceEnv = "JOBS_E2E_MANIFESTS"

// Variants are the files the render writes per stack, by contract.
func Variants(stack string) (base, bump string) { return stack + ".json", stack + "-bump.json" }

// Render runs the root module's render test, which writes
// DIR/<stack>.json and DIR/<stack>-bump.json for every stack.
func Render(ctx context.Context, repoRoot, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^TestRenderManifests$", "-count=1", ".")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "JOBS_RENDER_DIR="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("render manifests (JOBS_RENDER_DIR=%s go test -run '^TestRenderManifests$' -count=1 . in %s): %w\n%s", dir, repoRoot, err, out.String())
	}
	for _, stack := range []string{"test", "prod"} {
		base, bump := Variants(stack)
		for _, f := range []string{base, bump} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				return fmt.Errorf("the render passed but wrote no %s: TestRenderManifests must honour JOBS_RENDER_DIR (docs/contracts.md)\n%s", f, out.String())
			}
		}
	}
	return nil
}

// Source returns the directory holding rendered manifests: SourceEnv if set,
// otherwise a fresh render into tmp.
func Source(ctx context.Context, repoRoot, tmp string) (dir string, rendered bool, err error) {
	if dir := os.Getenv(SourceEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", false, err
		}
		return abs, false, nil
	}
	if err := Render(ctx, repoRoot, tmp); err != nil {
		return "", false, err
	}
	return tmp, true, nil
}
