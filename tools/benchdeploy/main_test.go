package main

import (
	"strings"
	"testing"
	"time"
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
