package binaries

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCacheKeyFollowsEveryInput(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range keyInputs {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, err := cacheKey(dir, "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := cacheKey(dir, "go1.26.8"); again != base {
		t.Fatalf("key is not stable: %s then %s", base, again)
	}
	if other, _ := cacheKey(dir, "go1.26.9"); other == base {
		t.Fatal("a new Go toolchain must select a new build")
	}
	for _, rel := range keyInputs {
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, []byte(rel+" changed"), 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := cacheKey(dir, "go1.26.8")
		if err != nil {
			t.Fatal(err)
		}
		if changed == base {
			t.Errorf("changing %s kept cache key %s", rel, base)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCacheKeyNeedsItsInputs(t *testing.T) {
	if _, err := cacheKey(t.TempDir(), "go1.26.8"); err == nil {
		t.Fatal("a directory without go.mod produced a cache key")
	}
}

func TestIncompleteBuildIsNotCached(t *testing.T) {
	s := setIn(t.TempDir())
	for _, f := range []string{s.Etcd, s.KubeAPIServer, s.KubeControllerManager, s.KubeScheduler, s.Kwok} {
		if err := os.WriteFile(f, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if s.complete() {
		t.Fatal("a set without stage files and completion marker counted as complete")
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "stages"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range s.KwokStages {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if s.complete() {
		t.Fatal("a set without the completion marker counted as complete")
	}
	if err := os.WriteFile(filepath.Join(s.Dir, doneMarker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !s.complete() {
		t.Fatal("a finished set did not count as complete")
	}
}
