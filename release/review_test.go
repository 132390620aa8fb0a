package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReviewStackNames(t *testing.T) {
	longest := strings.Repeat("9", MaxReviewDigits)
	for pr, want := range map[string]string{"7": "pr-7", "1": "pr-1", "4711": "pr-4711", longest: "pr-" + longest} {
		got, err := ReviewStack(pr)
		if err != nil || got != want {
			t.Errorf("ReviewStack(%q) = %q, %v; want %q", pr, got, err, want)
		}
		if !IsReviewStack(got) || !IsReviewStack("organization/jobs/"+got) {
			t.Errorf("IsReviewStack(%q) is false", got)
		}
	}
	for _, pr := range []string{"", "0", "07", "-7", "7a", "#7", "pr-7", "7 ", " 7", "7.0", "1e3", "٧", longest + "9", "PR7", "7/8"} {
		got, err := ReviewStack(pr)
		if err == nil {
			t.Errorf("ReviewStack(%q) = %q, want an error", pr, got)
			continue
		}
		if !strings.Contains(err.Error(), "PR=\""+pr+"\" is not a pull request number") || !strings.Contains(err.Error(), "1 to "+longest) {
			t.Errorf("ReviewStack(%q): %v; want the value and the rule", pr, err)
		}
	}
	for _, s := range []string{"test", "prod", "pr-", "pr-07", "pr-7a", "pre-7", "pr-" + longest + "9", "staging-pr-7"} {
		if IsReviewStack(s) {
			t.Errorf("IsReviewStack(%q) is true", s)
		}
	}
}

// The stack settings accept (settings.checkStackName) must include the longest review stack:
// checked here on the name's shape, and in package program on every object name it prefixes.
func TestLongestReviewStackIsADNSLabel(t *testing.T) {
	s, err := ReviewStack(strings.Repeat("9", MaxReviewDigits))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		t.Errorf("%s: a stack name must start with a letter and fit settings' 40 characters", s)
	}
}

func TestReviewVersions(t *testing.T) {
	for _, c := range []struct{ version, stack, want string }{
		{"0.1.0", "pr-7", "0.1.0-pr.7"},
		{"1.2.3-rc.1", "pr-42", "1.2.3-rc.1.pr.42"},
		{"2.0.0", "organization/jobs/pr-99999999", ""},
	} {
		got, err := ReviewVersion(c.version, StackOf(c.stack))
		if c.want == "" {
			c.want = "2.0.0-pr.99999999"
		}
		if err != nil || got != c.want {
			t.Errorf("ReviewVersion(%s, %s) = %q, %v; want %s", c.version, c.stack, got, err, c.want)
			continue
		}
		if !IsReviewVersion(got) || CheckVersion(got) != nil {
			t.Errorf("%s is not a valid review version", got)
		}
		// A tag of its own, and a pre-release: below the release of its core version.
		core := strings.SplitN(c.version, "-", 2)[0]
		if cmp, _ := Compare(got, core); got == c.version || cmp >= 0 {
			t.Errorf("%s is the version it reviews or does not rank below release %s", got, core)
		}
	}
	for _, c := range []struct{ version, stack, want string }{
		{"0.1.0", "test", "not a review stack"},
		{"latest", "pr-7", "never latest"},
		{"0.1.0-pr.3", "pr-7", "already a review version"},
	} {
		if _, err := ReviewVersion(c.version, c.stack); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReviewVersion(%s, %s): %v, want %q", c.version, c.stack, err, c.want)
		}
	}
	for _, v := range []string{"0.1.0", "0.1.0-rc.1", "0.1.0-pr", "0.1.0-pr.0", "0.1.0-xpr.7", "0.1.0-pr.7.1"} {
		if IsReviewVersion(v) {
			t.Errorf("IsReviewVersion(%s) is true", v)
		}
	}
}

func TestAReviewStackIsNeverASource(t *testing.T) {
	err := CheckSource("prod", "organization/jobs/pr-7")
	if err == nil || !strings.Contains(err.Error(), "review stack pr-7") {
		t.Errorf("CheckSource(prod, pr-7): %v, want it refused as a review stack", err)
	}
	// The promotion guard refuses it even with the override set, and refuses a review version.
	for _, c := range []struct {
		target Target
		tested Tested
		want   string
	}{
		{Target{Stack: "prod", Version: "0.1.0", AllowUntested: true}, Tested{Stack: "organization/jobs/pr-7", Version: "0.1.0"}, "would promote from review stack pr-7"},
		{Target{Stack: "prod", Version: "0.1.0-pr.7", AllowUntested: true}, Tested{Stack: "test", Version: "0.1.0"}, "is a review stack's version"},
	} {
		if _, err := CheckPromotion(c.target, c.tested); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckPromotion(%+v, %+v): %v, want %q", c.target, c.tested, err, c.want)
		}
	}
	// And a stack file that promotes from one stops the topology every tool reads.
	dir := t.TempDir()
	for name, body := range map[string]string{
		"Pulumi.test.yaml": "config:\n  jobs:version: 0.1.0\n",
		"Pulumi.pr-7.yaml": "config:\n  jobs:version: 0.1.0-pr.7\n",
		"Pulumi.prod.yaml": "config:\n  jobs:promoteFrom: organization/jobs/pr-7\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadTopology(dir); err == nil || !strings.Contains(err.Error(), "Pulumi.prod.yaml: jobs:promoteFrom = \"organization/jobs/pr-7\": it names review stack pr-7") {
		t.Errorf("ReadTopology with prod promoting from pr-7: %v", err)
	}
}
