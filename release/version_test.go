package release

import (
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"0.1.0", "1.2.0-rc.1", "10.20.30"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("%s rejected: %v", v, err)
		}
	}
	for v, want := range map[string]string{
		"latest": `"latest" is not a version: use a semantic version like 0.1.0, never latest`,
		"LATEST": `"LATEST" is not a version: use a semantic version like 0.1.0, never latest`,
		"v0.1.0": `"v0.1.0" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)`,
		"0.1":    `"0.1" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)`,
		"":       `"" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)`,
		// Semver, but a Docker tag cannot hold '+': the build would fail inside the docker provider.
		"1.2.3+build.5":    `"1.2.3+build.5" carries build metadata (+build.5): the version is also the image tag, and a Docker tag cannot hold '+'; drop it, or make it part of a pre-release such as 1.2.3-build.5`,
		"1.2.3-rc.1+sha.7": `"1.2.3-rc.1+sha.7" carries build metadata (+sha.7): the version is also the image tag, and a Docker tag cannot hold '+'; drop it, or make it part of a pre-release such as 1.2.3-rc.1.sha.7`,
	} {
		if err := CheckVersion(v); err == nil || err.Error() != want {
			t.Errorf("CheckVersion(%q) = %v, want %s", v, err, want)
		}
	}
}

func TestCompareOrdersByPrecedence(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"0.2.0", "0.1.9", 1}, {"0.1.9", "0.2.0", -1}, {"1.0.0", "1.0.0", 0},
		{"0.2.0-rc.1", "0.2.0", -1}, {"0.10.0", "0.9.0", 1}, {"1.0.0+a", "1.0.0+b", 0},
	} {
		got, err := Compare(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := Compare("0.1.0", "latest"); err == nil || !strings.Contains(err.Error(), "never latest") {
		t.Errorf("a non-version compared: %v", err)
	}
}

func TestCheckForward(t *testing.T) {
	if err := CheckForward("test", "0.2.0", "0.1.0", false); err == nil ||
		err.Error() != "refusing to move test back from 0.2.0 to 0.1.0: if this is a rollback, run again with -force (make: FORCE=1)" {
		t.Errorf("a downgrade passed or was explained badly: %v", err)
	}
	for _, c := range []struct {
		current, next string
		force         bool
	}{{"0.2.0", "0.1.0", true}, {"0.1.0", "0.2.0", false}, {"0.1.0", "0.1.0", false}, {"garbage", "0.1.0", false}} {
		if err := CheckForward("test", c.current, c.next, c.force); err != nil {
			t.Errorf("%s -> %s (force %v): %v", c.current, c.next, c.force, err)
		}
	}
}

func TestNextPatch(t *testing.T) {
	if v, err := NextPatch("0.1.9"); err != nil || v != "0.1.10" {
		t.Errorf("NextPatch(0.1.9) = %s, %v", v, err)
	}
	if _, err := NextPatch("x"); err == nil {
		t.Error("NextPatch of a non-version succeeded")
	}
}

func TestImageNames(t *testing.T) {
	if got := Tagged("localhost:5000/jobs", "api", "0.1.0"); got != "localhost:5000/jobs/jobs-api:0.1.0" {
		t.Errorf("Tagged = %s", got)
	}
	if got := Repository("ghcr.io/org", "worker"); got != "ghcr.io/org/jobs-worker" {
		t.Errorf("Repository = %s", got)
	}
	if got := OutputName("worker"); got != "workerImage" {
		t.Errorf("OutputName = %s", got)
	}
}
