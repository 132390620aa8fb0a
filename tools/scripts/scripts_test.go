// Package scripts tests the shell scripts behind `make preview/up/destroy`: the pulumi wrapper's
// checks and no-account defaults (with a stand-in pulumi CLI that records its calls, since the
// real one cannot be installed here) and the loopback registry.
package scripts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var root = func() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}()

// run runs a script with exactly the given environment and returns its exit code and output.
func run(t *testing.T, env []string, stdin string, script string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("/bin/bash", append([]string{filepath.Join(root, script)}, args...)...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running %s: %v", script, err)
	return 0, ""
}

// binDir makes a PATH directory holding only the system tools the scripts use, so the host's
// own pulumi (if any) can never be found.
func binDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"cat", "dirname", "env", "head", "mkdir", "od", "tr"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed by this test: %v", tool, err)
		}
		if err := os.Symlink(path, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakePulumi is a stand-in CLI: it logs each call with the backend and passphrase it saw, fails
// `config get redisPassword` (unset), answers `config get registry`, and logs secret stdin.
const fakePulumi = `#!/bin/bash
log="$FAKE_PULUMI_LOG"
echo "call: $* | backend=$PULUMI_BACKEND_URL | passphrase-set=${PULUMI_CONFIG_PASSPHRASE+yes} | kubeconfig=$KUBECONFIG" >>"$log"
case "$*" in
"config get redisPassword"*) exit 1 ;;
"config get registry"*) echo "registry.example.com/jobs" ;;
"config set --secret redisPassword"*) echo "stdin: $(cat)" >>"$log" ;;
esac
exit 0
`

func TestPulumiWrapperSaysHowToInstallTheCLI(t *testing.T) {
	path := binDir(t)
	code, out := run(t, []string{"PATH=" + path}, "", "scripts/pulumi.sh", "preview", "test")
	if code != 127 || !strings.Contains(out, "The pulumi CLI is not installed") || !strings.Contains(out, "get.pulumi.com") {
		t.Fatalf("without pulumi: exit %d, output:\n%s\nwant exit 127 and how to install it", code, out)
	}
}

func TestPulumiWrapperRejectsUnknownStacksAndVerbs(t *testing.T) {
	path := binDir(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"preview", "staging"}, "STACK='staging' is not a stack of this project (no Pulumi.staging.yaml): use one of: prod test"},
		{[]string{"preview", "../x"}, "STACK='../x' is not a stack of this project"},
		{[]string{"apply", "test"}, "usage: scripts/pulumi.sh preview|up|refresh|destroy|output|drift STACK"},
	} {
		code, out := run(t, []string{"PATH=" + path}, "", "scripts/pulumi.sh", c.args...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit 2 and %q", c.args, code, out, c.want)
		}
	}
}

// localState is where the no-account defaults keep the state of the local cluster's stacks.
var localState = filepath.Join(root, "localcluster/.run/pulumi-state")

// noLocalCluster fails the test when a local cluster runs (its kubeconfig exists), and removes on
// cleanup the local state folder the wrapper's defaults create, unless it was there before.
func noLocalCluster(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "localcluster/.run/kubeconfig")); err == nil {
		t.Fatal("a local cluster is running (localcluster/.run/kubeconfig exists): stop it with make down, then rerun")
	}
	if _, err := os.Stat(localState); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove(localState) })
	}
}

// TestPulumiWrapperStartsTheLocalClusterWhenKubeconfigIsUnset: with no KUBECONFIG and no local
// cluster, up starts one (here a stand-in go command records the call and fails, so no cluster
// really starts); destroy has nothing to destroy and says so.
func TestPulumiWrapperStartsTheLocalClusterWhenKubeconfigIsUnset(t *testing.T) {
	noLocalCluster(t)
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	goLog := filepath.Join(t.TempDir(), "go.log")
	fakeGo := "#!/bin/bash\necho \"${CGO_ENABLED:+CGO_ENABLED=$CGO_ENABLED }go $* in $PWD\" >>" + goLog + "\necho 'stand-in go: no cluster today' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(path, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	// sed reads the program's build target from Pulumi.yaml.
	sed, err := exec.LookPath("sed")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sed, filepath.Join(path, "sed")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + filepath.Join(t.TempDir(), "log")}
	code, out := run(t, env, "", "scripts/pulumi.sh", "up", "test")
	b, _ := os.ReadFile(goLog)
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(calls)
	// Beside the cluster's start, the program is compiled where the language host will look for
	// it, with the language host's own flags, so its first build finds it current. The cluster
	// tool builds without cgo, as the cluster's programs do, so the packages they share compile once.
	want := []string{
		"CGO_ENABLED=0 go run ./cmd/cluster up in " + filepath.Join(root, "localcluster"),
		"go build -buildvcs=false -o " + buildTarget(t) + " -trimpath -ldflags -w -s in " + root,
	}
	if code == 0 || !strings.Contains(out, "KUBECONFIG is unset: starting the local cluster") || !slices.Equal(calls, want) {
		t.Fatalf("up: exit %d, output:\n%s\ngo calls:\n%s\nwant %q: the wrapper starts the local cluster with go run ./cmd/cluster up and compiles the program beside it, and stops when the start fails", code, out, b, want)
	}
	code, out = run(t, env, "", "scripts/pulumi.sh", "destroy", "test")
	if code != 2 || !strings.Contains(out, "no local cluster runs, so stack test has nothing deployed on it") {
		t.Fatalf("destroy: exit %d, output:\n%s\nwant exit 2 saying there is nothing to destroy", code, out)
	}
}

// buildTarget is where Pulumi.yaml tells the Go language host to build the program.
func buildTarget(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Runtime struct {
			Options struct {
				BuildTarget string `yaml:"buildTarget"`
			} `yaml:"options"`
		} `yaml:"runtime"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		t.Fatal(err)
	}
	if project.Runtime.Options.BuildTarget == "" {
		t.Fatal("Pulumi.yaml names no runtime.options.buildTarget")
	}
	return project.Runtime.Options.BuildTarget
}

func TestPulumiWrapperAppliesTheNoAccountDefaults(t *testing.T) {
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "log")
	// A cluster and a Docker engine of the caller's: no local ones are started; off the local
	// cluster a passphrase is the caller's to give (TestPulumiWrapperRefusesAnEmptyPassphraseOffTheLocalCluster).
	env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "KUBECONFIG=/some/kubeconfig", "DOCKER_HOST=unix:///some/docker.sock", "PULUMI_CONFIG_PASSPHRASE=team"}
	code, out := run(t, env, "", "scripts/pulumi.sh", "preview", "prod", "--diff")
	if code != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	defaults := " | backend=file://" + root + "/.pulumi-state | passphrase-set=yes | kubeconfig=/some/kubeconfig"
	want := []string{
		"call: stack select --create prod --non-interactive" + defaults,
		"call: config get redisPassword -s prod" + defaults,
		"call: config set --secret redisPassword -s prod" + defaults,
		"stdin: ", // checked below: a generated password
		"call: config get registry -s prod" + defaults,
		"call: config get redisImage -s prod" + defaults,
		"call: preview -s prod --diff" + defaults,
	}
	if len(calls) != len(want) {
		t.Fatalf("pulumi calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if i == 3 {
			if !regexp.MustCompile(`^stdin: [0-9a-f]{48}$`).MatchString(calls[i]) {
				t.Errorf("the generated Redis password should be 24 random bytes in hex, got %q", calls[i])
			}
			continue
		}
		if calls[i] != want[i] {
			t.Errorf("call %d:\n got %s\nwant %s", i, calls[i], want[i])
		}
	}

	// What the caller set wins over every default.
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	env = append(env, "PULUMI_BACKEND_URL=s3://bucket", "PULUMI_CONFIG_PASSPHRASE=p")
	if code, out := run(t, env, "", "scripts/pulumi.sh", "destroy", "test", "--yes"); code != 0 {
		t.Fatalf("destroy: exit %d, output:\n%s", code, out)
	}
	b, _ = os.ReadFile(log)
	if got := strings.TrimSpace(string(b)); !strings.HasSuffix(got, "call: destroy -s test --yes | backend=s3://bucket | passphrase-set=yes | kubeconfig=/some/kubeconfig") ||
		strings.Contains(got, "redisPassword") {
		t.Errorf("destroy calls:\n%s\nwant the caller's backend, and no password generated for a destroy", got)
	}
}

// A stack the file backend already holds needs no `pulumi stack select` (a second of every
// preview); a stack it lacks is still created.
func TestPulumiWrapperSelectsOnlyANewStack(t *testing.T) {
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if err := os.MkdirAll(filepath.Join(state, ".pulumi/stacks/jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, ".pulumi/stacks/jobs/prod.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stack      string
		wantSelect bool
	}{{"prod", false}, {"test", true}} {
		log := filepath.Join(t.TempDir(), "log")
		env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "KUBECONFIG=/some/kubeconfig",
			"DOCKER_HOST=unix:///some/docker.sock", "PULUMI_CONFIG_PASSPHRASE=team", "PULUMI_BACKEND_URL=file://" + state}
		if code, out := run(t, env, "", "scripts/pulumi.sh", "destroy", c.stack, "--yes"); code != 0 {
			t.Fatalf("destroy %s: exit %d, output:\n%s", c.stack, code, out)
		}
		b, _ := os.ReadFile(log)
		if got := strings.Contains(string(b), "call: stack select --create "+c.stack); got != c.wantSelect {
			t.Errorf("stack %s (state file there: %v): pulumi calls\n%s\nwant stack select called: %v", c.stack, !c.wantSelect, b, c.wantSelect)
		}
	}
}

func TestPulumiWrapperReadsOutputsWithoutACluster(t *testing.T) {
	noLocalCluster(t)
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "log")
	code, out := run(t, []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log}, "", "scripts/pulumi.sh", "output", "test", "url")
	if code != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	b, _ := os.ReadFile(log)
	want := "call: stack output -s test url | backend=file://" + localState + " | passphrase-set=yes | kubeconfig=" + root + "/localcluster/.run/kubeconfig"
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("pulumi calls:\n%s\nwant only:\n%s", got, want)
	}
}

// `make promote` reads the source stack's outputs through pulumi-env.sh: it must see the very
// backend that `make up` (scripts/pulumi.sh) writes, the local cluster's or .pulumi-state/, and the
// caller's settings must win there too.
func TestPromoteSeesTheWrappersBackend(t *testing.T) {
	noLocalCluster(t)
	path := binDir(t)
	for _, c := range []struct {
		env    []string
		want   []string
		absent string // a variable the command must not see
	}{
		{nil, []string{"PULUMI_BACKEND_URL=file://" + localState + "\n", "PULUMI_CONFIG_PASSPHRASE=\n", "KUBECONFIG=" + root + "/localcluster/.run/kubeconfig\n"}, ""},
		// Off the local cluster no empty passphrase is given: pulumi itself then refuses to
		// encrypt or decrypt, even when called through pulumi-env.sh without the wrapper's check.
		{[]string{"KUBECONFIG=/k"}, []string{"PULUMI_BACKEND_URL=file://" + root + "/.pulumi-state\n", "KUBECONFIG=/k\n"}, "PULUMI_CONFIG_PASSPHRASE="},
		{[]string{"PULUMI_BACKEND_URL=s3://bucket", "PULUMI_CONFIG_PASSPHRASE=p"}, []string{"PULUMI_BACKEND_URL=s3://bucket\n", "PULUMI_CONFIG_PASSPHRASE=p\n"}, ""},
	} {
		code, out := run(t, append([]string{"PATH=" + path}, c.env...), "", "scripts/pulumi-env.sh", "env")
		if code != 0 {
			t.Fatalf("%v: exit %d, output:\n%s", c.env, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("with %v:\n%s\nwant a line %q", c.env, out, w)
			}
		}
		if c.absent != "" && strings.Contains("\n"+out, "\n"+c.absent) {
			t.Errorf("with %v:\n%s\nwant no %s", c.env, out, c.absent)
		}
	}
}

func TestLocalRegistryStartsAndStops(t *testing.T) {
	if _, err := exec.LookPath("docker-registry"); err != nil {
		t.Fatal("docker-registry is missing: apt-get install docker-registry (make deps installs it)")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5000", time.Second); err == nil {
		c.Close()
		t.Fatal("127.0.0.1:5000 is already in use: this test starts the loopback registry there; free the port and rerun")
	}
	env := os.Environ()
	if code, out := run(t, env, "", "scripts/local-registry.sh", "start"); code != 0 {
		t.Fatalf("start: exit %d, output:\n%s", code, out)
	}
	t.Cleanup(func() { run(t, env, "", "scripts/local-registry.sh", "stop") })
	resp, err := http.Get("http://127.0.0.1:5000/v2/")
	if err != nil {
		t.Fatalf("the registry does not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/: %s, API version %q; want 200 from a registry/2.0", resp.Status, resp.Header.Get("Docker-Distribution-Api-Version"))
	}
	if code, out := run(t, env, "", "scripts/local-registry.sh", "stop"); code != 0 {
		t.Fatalf("stop: exit %d, output:\n%s", code, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:5000", time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the registry still answers 5 s after stop")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPulumiWrapperGivesEveryVerbTheDockerEngine: destroy and refresh configure the docker
// provider of the stack's images as preview and up do, so in a shell with no DOCKER_HOST (a new
// shell after make up) each of them must get the private engine's, or the provider's Configure
// fails with "failed to connect to any docker daemon". Here the engine is one dockerd.sh finds
// running (a pidfile of a live process, a stand-in docker that answers), so the script's own
// lookup runs and nothing is started.
func TestPulumiWrapperGivesEveryVerbTheDockerEngine(t *testing.T) {
	path := binDir(t)
	for _, tool := range []string{"bash", "sha256sum", "cut", "grep", "sed"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed by this test: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(path, tool)); err != nil {
			t.Fatal(err)
		}
	}
	// Records the engine each command would configure the docker provider with.
	fake := "#!/bin/bash\necho \"$1 $2 docker-host=${DOCKER_HOST-unset}\" >>\"$FAKE_PULUMI_LOG\"\nexit 0\n"
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "docker"), []byte("#!/bin/bash\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	sum := sha256.Sum256([]byte(state))
	runDir := "/tmp/jobs-dockerd-" + hex.EncodeToString(sum[:])[:12]
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	// dockerd.sh knows its engine by the pidfile's process and that process's --pidfile argument:
	// a stand-in process started here with that argument, stopped (and reaped) at the end.
	pidfile := filepath.Join(runDir, "dockerd.pid")
	engine := exec.Command("/bin/bash", "-c", "sleep 300; :", "dockerd", "--pidfile", pidfile)
	engine.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its sleep goes with it
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-engine.Process.Pid, syscall.SIGKILL); engine.Wait() })
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(engine.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	for verb, want := range map[string]string{
		"refresh": "refresh -s docker-host=unix://" + runDir + "/docker.sock",
		"destroy": "destroy -s docker-host=unix://" + runDir + "/docker.sock",
		// Reading outputs configures no provider, so no engine is looked for.
		"output": "stack output docker-host=unset",
	} {
		log := filepath.Join(t.TempDir(), "log")
		env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "JOBS_DOCKER_STATE=" + state,
			"KUBECONFIG=/some/kubeconfig", "PULUMI_CONFIG_PASSPHRASE=team"}
		code, out := run(t, env, "", "scripts/pulumi.sh", verb, "test")
		if code != 0 {
			t.Fatalf("%s: exit %d, output:\n%s", verb, code, out)
		}
		b, _ := os.ReadFile(log)
		calls := strings.Split(strings.TrimSpace(string(b)), "\n")
		if got := calls[len(calls)-1]; got != want {
			t.Errorf("scripts/pulumi.sh %s test: pulumi calls:\n%s\nwant the last one to be %q", verb, b, want)
		}
	}
}

// TestPulumiWrapperDriftChangesNothing: the drift check's refresh-preview must not create a
// stack, generate a password or start a local cluster: it only reads what is deployed.
func TestPulumiWrapperDriftChangesNothing(t *testing.T) {
	noLocalCluster(t)
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	goLog := filepath.Join(t.TempDir(), "go.log")
	if err := os.WriteFile(filepath.Join(path, "go"), []byte("#!/bin/bash\necho \"go $*\" >>"+goLog+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "log")
	env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "KUBECONFIG=/some/kubeconfig", "DOCKER_HOST=unix:///some/docker.sock", "PULUMI_CONFIG_PASSPHRASE=team"}
	if code, out := run(t, env, "", "scripts/pulumi.sh", "drift", "prod"); code != 0 {
		t.Fatalf("drift: exit %d, output:\n%s", code, out)
	}
	b, _ := os.ReadFile(log)
	var verbs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		verbs = append(verbs, strings.TrimPrefix(strings.SplitN(l, " | ", 2)[0], "call: "))
	}
	want := []string{"stack select prod --non-interactive", "config get registry -s prod", "config get redisImage -s prod", "preview -s prod --refresh --json"}
	if strings.Join(verbs, "\n") != strings.Join(want, "\n") {
		t.Errorf("pulumi calls:\n%s\nwant:\n%s", strings.Join(verbs, "\n"), strings.Join(want, "\n"))
	}
	// In a plain shell with no local cluster there is nothing deployed to compare, and none is started.
	code, out := run(t, []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log}, "", "scripts/pulumi.sh", "drift", "test")
	if g, _ := os.ReadFile(goLog); code != 2 || !strings.Contains(out, "no local cluster runs") || len(g) > 0 {
		t.Errorf("drift without a local cluster: exit %d, output:\n%s\ngo calls: %s\nwant exit 2 and no cluster started", code, out, g)
	}
}

// make up must fail, not report every stack deployed, when it cannot even list the stacks (here:
// no go command on PATH).
func TestUpAllFailsWhenItCannotListTheStacks(t *testing.T) {
	path := binDir(t)
	date, err := exec.LookPath("date")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(date, filepath.Join(path, "date")); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, []string{"PATH=" + path}, "", "scripts/up-all.sh")
	if code == 0 || strings.Contains(out, "every stack deployed") {
		t.Fatalf("exit %d, output:\n%s\nwant a failure before anything is deployed", code, out)
	}
}
