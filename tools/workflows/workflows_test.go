// Package workflows checks the structure of .github/workflows: that the YAML only wires events,
// secrets and permissions while every deciding step runs a script or make target tested here,
// that pull requests from forks get no secrets and are told so, that every run changing or
// checking a stack shares that stack's one concurrency group, that stack lists come from the
// stack files, and that drift is checked on a schedule. actionlint (make lint) checks the rest.
package workflows

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/example/jobs/release"
)

var dir = filepath.Join("..", "..", ".github", "workflows")

type workflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Concurrency *concurrency      `yaml:"concurrency"`
	Jobs        map[string]job    `yaml:"jobs"`
	Permissions map[string]string `yaml:"permissions"`
}

type concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress bool   `yaml:"cancel-in-progress"`
}

type job struct {
	If          string         `yaml:"if"`
	Needs       any            `yaml:"needs"`
	Uses        string         `yaml:"uses"`
	With        map[string]any `yaml:"with"`
	Secrets     any            `yaml:"secrets"`
	Strategy    *strategy      `yaml:"strategy"`
	Concurrency *concurrency   `yaml:"concurrency"`
	Outputs     map[string]any `yaml:"outputs"`
	Steps       []step         `yaml:"steps"`
	Env         map[string]any `yaml:"env"`
}

type strategy struct {
	Matrix map[string]any `yaml:"matrix"`
}

type step struct {
	ID   string         `yaml:"id"`
	Name string         `yaml:"name"`
	Uses string         `yaml:"uses"`
	Run  string         `yaml:"run"`
	If   string         `yaml:"if"`
	Env  map[string]any `yaml:"env"`
}

func load(t *testing.T) map[string]workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows in %s: %v", dir, err)
	}
	out := map[string]workflow{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var w workflow
		if err := yaml.Unmarshal(b, &w); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = w
	}
	return out
}

func get(t *testing.T, all map[string]workflow, name string) workflow {
	t.Helper()
	w, ok := all[name]
	if !ok {
		t.Fatalf("no workflow %s", name)
	}
	return w
}

// allowedRun are the commands a run: step may hold, line by line: the project's scripts, make
// targets and tools (each tested here), and reporting (echo, a summary, a failure with its
// reason). Anything else is logic in YAML that nothing here runs.
var allowedRun = regexp.MustCompile(`^(scripts/[a-z-]+\.sh( |$)|make [a-z-]+( |$)|go run \./tools/[a-z]+ |echo |exit 1$|sudo apt-get |sudo -E env .* make test$)`)

func TestEveryDecidingStepIsAScriptTestedHere(t *testing.T) {
	for name, w := range load(t) {
		for jobName, j := range w.Jobs {
			for _, s := range j.Steps {
				for _, line := range strings.Split(s.Run, "\n") {
					line = strings.TrimSpace(line)
					if line == "" || strings.HasPrefix(line, "#") {
						continue
					}
					if !allowedRun.MatchString(line) {
						t.Errorf("%s, job %s, step %q runs %q: put the logic in a script or make target the tests run", name, jobName, s.Name, line)
					}
					if m := regexp.MustCompile(`^(scripts/[a-z-]+\.sh)`).FindString(line); m != "" {
						if _, err := os.Stat(filepath.Join("..", "..", m)); err != nil {
							t.Errorf("%s, job %s: %s does not exist", name, jobName, m)
						}
					}
				}
			}
		}
	}
}

// sameRepo is the condition that a pull request comes from this repository, not a fork.
const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository"

func TestPullRequestsGetTestsPreviewsAndAReviewStackAndForksNoSecrets(t *testing.T) {
	all := load(t)
	pr := get(t, all, "pull-request.yml")
	types := func(w workflow) []string {
		ev, _ := w.On["pull_request"].(map[string]any)
		var out []string
		for _, v := range asList(ev["types"]) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	if got := types(pr); !slices.Equal(got, []string{"opened", "reopened", "synchronize"}) {
		t.Errorf("pull-request.yml runs on pull_request types %v, want opened, synchronize, reopened", got)
	}
	down := get(t, all, "review-down.yml")
	if got := types(down); !slices.Equal(got, []string{"closed"}) {
		t.Errorf("review-down.yml runs on %v, want closed (merged or not)", got)
	}
	if pr.Jobs["test"].Uses != "./.github/workflows/test.yml" || pr.Jobs["test"].If != "" {
		t.Errorf("pull requests, forks included, must run every test: job test is %+v", pr.Jobs["test"])
	}
	wantCalls := map[string]string{"preview": "./.github/workflows/preview.yml", "review": "./.github/workflows/review.yml"}
	for jobName, uses := range wantCalls {
		if pr.Jobs[jobName].Uses != uses {
			t.Errorf("pull-request.yml job %s calls %q, want %s", jobName, pr.Jobs[jobName].Uses, uses)
		}
	}
	if a := down.Jobs["down"].With["action"]; down.Jobs["down"].Uses != "./.github/workflows/review.yml" || a != "down" {
		t.Errorf("review-down.yml: %+v, want review.yml with action down", down.Jobs["down"])
	}
	if a := pr.Jobs["review"].With["action"]; a != "up" {
		t.Errorf("pull-request.yml review action %v, want up", a)
	}
	// Fork guard: every job of a pull_request workflow that gets secrets, or feeds one that does,
	// runs only for this repository's branches; a fork's run says what it skipped.
	for _, name := range []string{"pull-request.yml", "review-down.yml"} {
		w := get(t, all, name)
		for jobName, j := range w.Jobs {
			if j.Secrets == nil && !usesSecrets(j) && jobName != "plan" {
				continue
			}
			if !strings.Contains(j.If, sameRepo) {
				t.Errorf("%s job %s gets secrets but its if: %q lets forks in; want %q", name, jobName, j.If, sameRepo)
			}
		}
	}
	fork, ok := pr.Jobs["fork"]
	if !ok || fork.If != strings.Replace(sameRepo, "==", "!=", 1) || len(fork.Steps) == 0 ||
		!strings.Contains(fork.Steps[0].Run, "::notice::") || !strings.Contains(fork.Steps[0].Run, "GITHUB_STEP_SUMMARY") ||
		!strings.Contains(fork.Steps[0].Run, "no secrets") {
		t.Errorf("pull-request.yml needs a job for forks that says, in a notice and the summary, what was skipped for want of secrets: %+v", fork)
	}
	if usesSecrets(fork) {
		t.Error("the fork job reads secrets")
	}
}

func usesSecrets(j job) bool {
	b, _ := yaml.Marshal(j)
	return strings.Contains(string(b), "secrets.")
}

// render substitutes the values of a run's context into a concurrency group expression.
func render(expr string, values map[string]string) string {
	re := regexp.MustCompile(`\$\{\{\s*([a-z_.]+)\s*\}\}`)
	return re.ReplaceAllStringFunc(expr, func(m string) string {
		v, ok := values[re.FindStringSubmatch(m)[1]]
		if !ok {
			return m
		}
		return v
	})
}

// TestOneConcurrencyGroupPerStack: a deploy, a review and a drift check of one stack land in one
// group, never cancelled in progress, so two runs never change or read a stack at once.
func TestOneConcurrencyGroupPerStack(t *testing.T) {
	all := load(t)
	groups := map[string]string{}
	for _, c := range []struct {
		file, job string
		values    map[string]string
		stack     string
	}{
		{"deploy.yml", "up", map[string]string{"inputs.stack": "test"}, "test"},
		{"deploy.yml", "up", map[string]string{"inputs.stack": "prod"}, "prod"},
		{"drift.yml", "drift", map[string]string{"matrix.stack": "test"}, "test"},
		{"drift.yml", "drift", map[string]string{"matrix.stack": "prod"}, "prod"},
		{"review.yml", "review", map[string]string{"inputs.pr": "7"}, "pr-7"},
	} {
		j, ok := get(t, all, c.file).Jobs[c.job]
		if !ok || j.Concurrency == nil {
			t.Errorf("%s job %s has no concurrency group", c.file, c.job)
			continue
		}
		if j.Concurrency.CancelInProgress {
			t.Errorf("%s job %s cancels a run in progress, which leaves pending operations in the state", c.file, c.job)
		}
		g := render(j.Concurrency.Group, c.values)
		if strings.Contains(g, "${{") {
			t.Errorf("%s job %s: group %q depends on more than the stack", c.file, c.job, j.Concurrency.Group)
		}
		if other, ok := groups[c.stack]; ok && other != g {
			t.Errorf("stack %s is in group %q in one workflow and %q in %s", c.stack, other, g, c.file)
		}
		groups[c.stack] = g
	}
	// Distinct stacks, distinct groups; a review stack's group is named for its stack.
	seen := map[string]string{}
	for stack, g := range groups {
		if s, dup := seen[g]; dup {
			t.Errorf("stacks %s and %s share group %s", s, stack, g)
		}
		seen[g] = stack
	}
	if pr7, _ := release.ReviewStack("7"); groups["pr-7"] != strings.Replace(groups["test"], "test", pr7, 1) {
		t.Errorf("review group %q is not the stack group of %s (%q for test)", groups["pr-7"], pr7, groups["test"])
	}
	// Workflow-level groups must not cancel a run that changes a stack.
	for name, w := range all {
		if w.Concurrency != nil && w.Concurrency.CancelInProgress {
			for jobName, j := range w.Jobs {
				if j.Uses == "./.github/workflows/review.yml" || j.Uses == "./.github/workflows/deploy.yml" {
					t.Errorf("%s cancels runs in progress, and its job %s changes a stack", name, jobName)
				}
			}
		}
	}
}

// TestStackListsComeFromTheStackFiles: no matrix names stacks; each comes from a job that runs
// scripts/ci-stacks.sh (package release reads the stack files).
func TestStackListsComeFromTheStackFiles(t *testing.T) {
	fromJob := regexp.MustCompile(`^\$\{\{ fromJSON\(needs\.([a-z-]+)\.outputs\.stacks\) \}\}$`)
	matrices := 0
	for name, w := range load(t) {
		for jobName, j := range w.Jobs {
			if j.Strategy == nil {
				continue
			}
			for key, v := range j.Strategy.Matrix {
				if key != "stack" {
					continue
				}
				matrices++
				expr, _ := v.(string)
				m := fromJob.FindStringSubmatch(expr)
				if m == nil {
					t.Errorf("%s job %s: matrix stack is %v; want ${{ fromJSON(needs.<job>.outputs.stacks) }}", name, jobName, v)
					continue
				}
				src := w.Jobs[m[1]]
				runs := false
				for _, s := range src.Steps {
					runs = runs || strings.HasPrefix(strings.TrimSpace(s.Run), "scripts/ci-stacks.sh")
				}
				if !runs || !strings.Contains(needsOf(j), m[1]) {
					t.Errorf("%s job %s: its stacks come from job %s, which does not run scripts/ci-stacks.sh or is not needed", name, jobName, m[1])
				}
			}
		}
	}
	if matrices < 2 {
		t.Errorf("%d stack matrices; want the pull request's previews and the drift check", matrices)
	}
}

func needsOf(j job) string {
	b, _ := yaml.Marshal(j.Needs)
	return string(b)
}

func TestDriftIsCheckedOnASchedule(t *testing.T) {
	w := get(t, load(t), "drift.yml")
	if _, ok := w.On["schedule"]; !ok {
		t.Error("drift.yml has no schedule")
	}
	if _, ok := w.On["workflow_dispatch"]; !ok {
		t.Error("drift.yml cannot be started by hand")
	}
	j := w.Jobs["drift"]
	var runs []string
	for _, s := range j.Steps {
		runs = append(runs, s.Run)
	}
	b, _ := yaml.Marshal(j)
	if !slices.ContainsFunc(runs, func(r string) bool { return strings.HasPrefix(r, "scripts/drift.sh -stack") }) ||
		strings.Contains(string(b), "continue-on-error") {
		t.Errorf("the drift job must run scripts/drift.sh and fail visibly with it; steps %q", runs)
	}
}

// TestReusableWorkflowCalls: every call of a local reusable workflow passes only inputs it
// declares and every required one.
func TestReusableWorkflowCalls(t *testing.T) {
	all := load(t)
	for name, w := range all {
		for jobName, j := range w.Jobs {
			if !strings.HasPrefix(j.Uses, "./.github/workflows/") {
				continue
			}
			callee := get(t, all, strings.TrimPrefix(j.Uses, "./.github/workflows/"))
			rawCall, isCallable := callee.On["workflow_call"]
			call, _ := rawCall.(map[string]any)
			if !isCallable {
				t.Errorf("%s job %s calls %s, which has no workflow_call trigger", name, jobName, j.Uses)
				continue
			}
			inputs, _ := call["inputs"].(map[string]any)
			for k := range j.With {
				if _, ok := inputs[k]; !ok {
					t.Errorf("%s job %s passes input %s, which %s does not declare", name, jobName, k, j.Uses)
				}
			}
			for k, v := range inputs {
				decl, _ := v.(map[string]any)
				if req, _ := decl["required"].(bool); req {
					if _, ok := j.With[k]; !ok {
						t.Errorf("%s job %s does not pass required input %s of %s", name, jobName, k, j.Uses)
					}
				}
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
