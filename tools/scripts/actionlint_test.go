package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionlintFailsOnAMisspelledActionInput: make lint's workflow check knows the inputs of
// the actions the workflows use, so a misspelled one fails it instead of being ignored by
// GitHub at run time; and it checks run: steps with shellcheck. The project's own workflows pass.
func TestActionlintFailsOnAMisspelledActionInput(t *testing.T) {
	env := os.Environ()
	if code, out := run(t, env, "", "scripts/actionlint.sh"); code != 0 {
		t.Fatalf("the project's workflows: exit %d\n%s", code, out)
	}
	good := `name: lint fixture
on: push
permissions:
  contents: read
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          persist-credentials: false
      - run: scripts/ci-stacks.sh
`
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if code, out := run(t, env, "", "scripts/actionlint.sh", write("good.yml", good)); code != 0 {
		t.Fatalf("the fixture as written: exit %d\n%s", code, out)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"misspelled.yml": {"persist-credentials:", "persist-credential:", `input "persist-credential" is not defined in action "actions/checkout@`},
		"shell.yml":      {"run: scripts/ci-stacks.sh", "run: echo $1 > $GITHUB_OUTPUT", "shellcheck reported issue"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		code, out := run(t, env, "", "scripts/actionlint.sh", write(name, bad))
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d\n%s\nwant a failure saying %q", name, code, out, c.want)
		}
	}
}
