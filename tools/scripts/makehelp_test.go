package scripts

import (
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestMakeHelpShowsSectionsAboveTheirTargets: every `##@ name` heading of the Makefile shows as
// "name:" in `make help`, followed by exactly the documented targets that follow it there.
func TestMakeHelpShowsSectionsAboveTheirTargets(t *testing.T) {
	makefile, err := os.ReadFile(root + "/Makefile")
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`^([a-z][a-z-]*):.*## `)
	type section struct {
		name    string
		targets []string
	}
	var want []section
	want = append(want, section{}) // targets above the first heading
	for _, line := range strings.Split(string(makefile), "\n") {
		if name, ok := strings.CutPrefix(line, "##@ "); ok {
			want = append(want, section{name: name})
		} else if m := target.FindStringSubmatch(line); m != nil {
			want[len(want)-1].targets = append(want[len(want)-1].targets, m[1])
		}
	}
	if len(want) < 4 {
		t.Fatalf("the Makefile has %d ##@ sections; expected develop, deploy and release", len(want)-1)
	}

	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	got := []section{{}}
	heading := regexp.MustCompile(`^(\S.*):$`)
	listed := regexp.MustCompile(`^  ([a-z][a-z-]*) +\S`)
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case heading.MatchString(line):
			got = append(got, section{name: heading.FindStringSubmatch(line)[1]})
		case listed.MatchString(line):
			got[len(got)-1].targets = append(got[len(got)-1].targets, listed.FindStringSubmatch(line)[1])
		case strings.TrimSpace(line) != "":
			t.Errorf("make help printed an unexpected line %q", line)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("make help lists\n%+v\nwant the Makefile's sections and targets\n%+v\noutput:\n%s", got, want, out)
	}
}
