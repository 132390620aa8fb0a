package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/example/jobs/release"
)

// A cold make up's output is cut at its landmarks into phases that add up to the total, in the
// order they came; a landmark that never appears (a cached build) leaves no row.
func TestSplitPhasesCutsAtLandmarks(t *testing.T) {
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	lines := []line{
		{s(0), "scripts/install-deps.sh pulumi curl"},
		{s(90), "scripts/up-all.sh"},
		{s(91), "up-all: deploying stack test"},
		{s(95), "building 1/2: etcd, ..."},
		{s(100), "building 1/2: etcd, ...: 30 packages compiled"},
		{s(600), "built everything in 505s"},
		{s(640), "cluster up in 45s: node ..."},
		{s(760), "Updating (test)"},
		{s(900), "up-all: deploying stack prod"},
		{s(930), "up-all: every stack deployed in 840 s"},
	}
	got := splitPhases(lines, s(940))
	want := []struct {
		name string
		secs int
	}{
		{"Debian packages", 90}, {"up to its build", 5}, {"build", 505}, {"start, node Ready", 40},
		{"Docker engine", 120}, {"stack test", 140}, {"stack prod", 30}, {"NodePort", 10},
	}
	if len(got) != len(want) {
		t.Fatalf("%d phases, want %d: %+v", len(got), len(want), got)
	}
	var total time.Duration
	for i, w := range want {
		if !strings.Contains(got[i].name, w.name) || got[i].took != s(w.secs) {
			t.Errorf("phase %d is %q %s, want one naming %q of %ds", i, got[i].name, got[i].took, w.name, w.secs)
		}
		total += got[i].took
	}
	if total != s(940) {
		t.Errorf("phases add up to %s, want the whole run", total)
	}
	// A warm cluster: no build lines, so no build row and the start counts from up-all.
	warm := splitPhases([]line{{s(1), "scripts/up-all.sh"}, {s(20), "cluster up in 19s"}}, s(30))
	for _, p := range warm {
		if strings.Contains(p.name, "build (") {
			t.Errorf("a run without a build has a build row: %+v", warm)
		}
	}
}

// The bumps start from the version the project's own test stack file runs.
func TestBumpVersionsStartAboveTestsVersion(t *testing.T) {
	file := filepath.Join("..", "..", "Pulumi.test.yaml")
	f, err := release.ReadStackFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.Setting(release.VersionKey)
	if err != nil || want == "" {
		t.Fatalf("%s has no %s (%v)", file, release.VersionKey, err)
	}
	was, next, err := bumpVersions(file, 3)
	if err != nil {
		t.Fatal(err)
	}
	if was != want || len(next) != 3 {
		t.Fatalf("bumpVersions = %q, %v; want %q and three versions", was, next, want)
	}
	prev := semver.MustParse(was)
	for _, n := range next {
		v := semver.MustParse(n)
		if !v.Equal(semver.MustParse(prev.IncPatch().String())) {
			t.Errorf("%s does not follow %s by one patch", n, prev)
		}
		prev = v
	}
}

func TestBumpVersionsNamesAFileWithoutAVersion(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.x.yaml")
	if err := os.WriteFile(file, []byte("config:\n  jobs:nodePort: \"30042\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := bumpVersions(file, 1)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), release.VersionKey) {
		t.Fatalf("bumpVersions of a file without a version: %v; want an error naming the file and %s", err, release.VersionKey)
	}
}
