package acceptance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// platformWarning is what the docker provider prints when a build does not name its platform.
const platformWarning = "consider explicitly setting the `platform` field"

// appSettings is the step of issue 16: a plain setting for both processes and a secret for the
// worker alone, set on the source stack only. The preview touches exactly the app's ConfigMap
// and Secret and the two Deployments; the running processes' environments hold the values, the
// service logs at the level set; the promoted stack is untouched; the secret's value is in no
// preview, log, state file, stack output or object but its Secret; removing both rolls them away.
func (w *workflow) appSettings(t *testing.T) {
	p, s, ns := w.p, w.source, namespace(w.source)
	secretValue := "appsecret-" + randomHex(t, 12)
	valueFile := filepath.Join(filepath.Dir(p.dir), "api-key")
	// Given through a file, so no command line (which the logs record) holds it.
	writeFile(t, valueFile, []byte(secretValue), 0o600)
	targetBefore := w.k.versions(t, namespace(w.target))
	before := w.k.versions(t, ns)

	p.pulumi(t, "config", "set", "--path", "env.LOG_LEVEL", "debug", "-s", s)
	p.must(t, "sh", "-c", "scripts/pulumi-env.sh pulumi config set --secret --path secretEnv.worker.API_KEY -s "+s+" <"+valueFile)
	want := []string{
		"create kubernetes:core/v1:ConfigMap::" + s + "-app-config",
		"create kubernetes:core/v1:Secret::" + s + "-app-secrets",
		"update kubernetes:apps/v1:Deployment::" + s + "-api",
		"update kubernetes:apps/v1:Deployment::" + s + "-worker",
	}
	if got := changes(p.preview(t, s)); !slices.Equal(got, want) {
		t.Fatalf("the settings' preview plans\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	diff := p.must(t, "scripts/pulumi.sh", "preview", s, "--diff")
	if strings.Contains(diff.combined, platformWarning) {
		t.Errorf("the preview still warns that the build names no platform:\n%s", grepLines(diff.combined, platformWarning))
	}
	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, ns, rollout)
	wantTouched := []string{"ConfigMap/" + s + "-app-config", "Deployment/" + s + "-api", "Deployment/" + s + "-worker", "Secret/" + s + "-app-secrets"}
	if got := touched(before, w.k.versions(t, ns)); !slices.Equal(got, wantTouched) {
		t.Errorf("up of the settings touched %v, want %v", got, wantTouched)
	}

	// The kernel's view: what the running processes were started with.
	w.checkProcessEnv(t, s, map[string]map[string]string{
		"api":    {"LOG_LEVEL": "debug", "API_KEY": ""},
		"worker": {"LOG_LEVEL": "debug", "API_KEY": secretValue},
	})
	// The service behaves accordingly: at debug both processes log the kubelet's probes.
	for _, c := range []string{"api", "worker"} {
		w.waitLogLine(t, ns, c, func(l logLine) bool { return l.Level == "DEBUG" && l.Msg == "request" && l.Route == "GET /readyz" },
			"a DEBUG line for a probe")
	}
	newJobsAPI(p.output(t, s, "url")).checkPrimes(t)
	if got := touched(targetBefore, w.k.versions(t, namespace(w.target))); len(got) > 0 {
		t.Errorf("settings of %s changed %s's objects %v", s, w.target, got)
	}
	p.must(t, "scripts/pulumi.sh", "preview", w.target, "--expect-no-changes")
	w.secretNowhere(t, secretValue, s)

	// Removing the keys rolls them away.
	before = w.k.versions(t, ns)
	p.pulumi(t, "config", "rm", "--path", "secretEnv.worker.API_KEY", "-s", s)
	p.pulumi(t, "config", "rm", "--path", "env.LOG_LEVEL", "-s", s)
	want = []string{
		"delete kubernetes:core/v1:ConfigMap::" + s + "-app-config",
		"delete kubernetes:core/v1:Secret::" + s + "-app-secrets",
		"update kubernetes:apps/v1:Deployment::" + s + "-api",
		"update kubernetes:apps/v1:Deployment::" + s + "-worker",
	}
	if got := changes(p.preview(t, s)); !slices.Equal(got, want) {
		t.Fatalf("the removal's preview plans\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, ns, rollout)
	wantTouched = []string{"ConfigMap/" + s + "-app-config (gone)", "Deployment/" + s + "-api", "Deployment/" + s + "-worker", "Secret/" + s + "-app-secrets (gone)"}
	if got := touched(before, w.k.versions(t, ns)); !slices.Equal(got, wantTouched) {
		t.Errorf("up of the removal touched %v, want %v", got, wantTouched)
	}
	w.checkProcessEnv(t, s, map[string]map[string]string{
		"api":    {"LOG_LEVEL": "", "API_KEY": ""},
		"worker": {"LOG_LEVEL": "", "API_KEY": ""},
	})
	// Back at info: the new pods log their start, and no probe, however many have run.
	for _, c := range []string{"api", "worker"} {
		w.waitLogLine(t, ns, c, func(l logLine) bool { return l.Level == "INFO" && l.LogLevel == "INFO" }, "the start line at level INFO")
	}
	time.Sleep(12 * time.Second) // two readiness probes at least (every 5 s)
	for _, c := range []string{"api", "worker"} {
		for _, pod := range w.k.pods(t, ns, c) {
			for _, l := range w.k.logLines(t, ns, pod.Name) {
				if l.Level == "DEBUG" {
					t.Errorf("pod %s logs at DEBUG after LOG_LEVEL was removed: %+v", pod.Name, l)
				}
			}
		}
	}
	// The stack file as it was: the emptied maps go too, and nothing is left to deploy.
	p.pulumi(t, "config", "rm", "env", "-s", s)
	p.pulumi(t, "config", "rm", "secretEnv", "-s", s)
	p.must(t, "scripts/pulumi.sh", "preview", s, "--expect-no-changes")
}

// checkProcessEnv reads the environment each container process of a component was started with
// from /proc and compares the given variables ("" = absent).
func (w *workflow) checkProcessEnv(t *testing.T, s string, want map[string]map[string]string) {
	t.Helper()
	ns := namespace(s)
	for component, vars := range want {
		pods := w.k.pods(t, ns, component)
		if len(pods) == 0 {
			t.Fatalf("no %s pod running", component)
		}
		for _, pod := range pods {
			procs := containerProcesses(t, pod, component)
			if len(procs) == 0 {
				t.Fatalf("pod %s: no %s process found on the node", pod.Name, component)
			}
			for _, pr := range procs {
				env := processEnv(t, pr.pid)
				for name, value := range vars {
					got, set := env[name]
					if value == "" && set {
						t.Errorf("pod %s: %s (pid %d) has %s set, want it absent", pod.Name, component, pr.pid, name)
					}
					if value != "" && got != value {
						t.Errorf("pod %s: %s (pid %d) has %s=%q, want %q", pod.Name, component, pr.pid, name, redact(got), redact(value))
					}
				}
			}
		}
	}
}

// redact keeps a secret out of the test log while still telling values apart.
func redact(v string) string {
	if strings.HasPrefix(v, "appsecret-") {
		return "appsecret-…(" + strconv.Itoa(len(v)) + " chars)"
	}
	return v
}

// processEnv is the environment a process was started with, from the kernel.
func processEnv(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("reading the environment of pid %d: %v", pid, err)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// logLine is one JSON line the app logs.
type logLine struct {
	Level    string `json:"level"`
	Msg      string `json:"msg"`
	Route    string `json:"route"`
	LogLevel string `json:"log_level"`
}

// logLines are a pod's log lines that are JSON.
func (k *kube) logLines(t *testing.T, ns, pod string) []logLine {
	t.Helper()
	raw, err := k.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("logs of pod %s/%s: %v", ns, pod, err)
	}
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// waitLogLine waits until every running pod of a component has logged a line that matches.
func (w *workflow) waitLogLine(t *testing.T, ns, component string, match func(logLine) bool, what string) {
	t.Helper()
	eventually(t, time.Minute, component+" pods log "+what, func() (bool, string) {
		pods := w.k.pods(t, ns, component)
		if len(pods) == 0 {
			return false, "no pod"
		}
		for _, pod := range pods {
			if !slices.ContainsFunc(w.k.logLines(t, ns, pod.Name), match) {
				return false, "pod " + pod.Name + " has not yet"
			}
		}
		return true, ""
	})
}

// secretNowhere looks for a secret value in everything the run wrote or can read back: every
// command's output (previews, ups, the logs of this run), the state backend's files, the stack
// file, the stack's outputs, and every Kubernetes object of the stack but its Secret.
func (w *workflow) secretNowhere(t *testing.T, value, s string) {
	t.Helper()
	p := w.p
	var places []string
	walk := func(root string) {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(value)) {
				places = append(places, path)
			}
			return nil
		})
	}
	walk(p.logs)
	walk(filepath.Join(filepath.Dir(p.dir), "state"))
	walk(filepath.Join(p.dir, "Pulumi."+s+".yaml"))
	out := p.must(t, "scripts/pulumi.sh", "output", s, "--json", "--show-secrets")
	if strings.Contains(out.combined, value) {
		places = append(places, "the stack outputs")
	}
	export := p.pulumi(t, "stack", "export", "-s", s)
	if strings.Contains(export.combined, value) {
		places = append(places, "pulumi stack export")
	}
	ctx := context.Background()
	ns := namespace(s)
	for kind, list := range w.k.listers(ctx, ns, metav1.ListOptions{}) {
		obj, err := list()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "Secret" {
			var secrets corev1.SecretList
			if err := json.Unmarshal(b, &secrets); err != nil {
				t.Fatal(err)
			}
			for _, sec := range secrets.Items {
				enc, _ := json.Marshal(sec)
				if sec.Name != s+"-app-secrets" && bytes.Contains(enc, []byte(value)) {
					places = append(places, "Secret/"+sec.Name)
				}
				if sec.Name == s+"-app-secrets" && string(sec.Data["worker.API_KEY"]) != value {
					t.Errorf("Secret %s holds %d bytes under worker.API_KEY, not the value set", sec.Name, len(sec.Data["worker.API_KEY"]))
				}
			}
			continue
		}
		if bytes.Contains(b, []byte(value)) {
			places = append(places, kind+" objects of "+ns)
		}
	}
	if len(places) > 0 {
		t.Errorf("the secret value is in plain text in: %s", strings.Join(places, ", "))
	}
}

// loginRegistry is the step that proves jobs:registryUsername/jobs:registryPassword for real: a
// stack of its own on a loopback registry asking for a login (port of its own, so the shared
// registry on 5000 stays anonymous) pushes, its pods pull through the pull secret, a wrong
// password fails up before anything changes, and without the pull secret no pod can pull. The
// images' config in both registries names the configured platform.
func (w *workflow) loginRegistry(t *testing.T) {
	p := w.p
	w.checkPlatforms(t, w.source, "", "")

	port := freeLoopbackPort(t)
	user, password := "ci", "pw-"+randomHex(t, 8)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(filepath.Dir(p.dir), "htpasswd")
	writeFile(t, htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600)
	p.must(t, "scripts/local-registry.sh", "start", port, htpasswd)
	t.Cleanup(func() { p.run(t, p.dir, "scripts/local-registry.sh", "stop", port) })
	server := "localhost:" + port

	// A stack of its own: the source's settings on the login registry, another NodePort, and
	// images pulled every time, so a pod start always asks the registry.
	const stack = "private"
	src, err := os.ReadFile(filepath.Join(p.dir, "Pulumi."+w.source+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.p.settings(t, w.source)
	file := strings.NewReplacer(
		"jobs:registry: "+cfg["registry"], "jobs:registry: "+server+"/jobs",
		`jobs:nodePort: "`+cfg["nodePort"]+`"`, `jobs:nodePort: "30342"`,
	).Replace(string(withoutGeneratedSecrets(src)))
	if !strings.Contains(file, server+"/jobs") || !strings.Contains(file, `"30342"`) {
		t.Fatalf("could not point a copy of Pulumi.%s.yaml at %s:\n%s", w.source, server, file)
	}
	stackFile := filepath.Join(p.dir, "Pulumi."+stack+".yaml")
	writeFile(t, stackFile, []byte(file), 0o644)
	passFile := filepath.Join(filepath.Dir(p.dir), "registry-password")
	setPassword := func(pw string) {
		writeFile(t, passFile, []byte(pw), 0o600)
		p.must(t, "sh", "-c", "scripts/pulumi-env.sh pulumi config set --secret registryPassword -s "+stack+" <"+passFile)
	}
	p.pulumi(t, "stack", "init", stack, "--non-interactive")
	t.Cleanup(func() {
		p.run(t, p.dir, "make", "destroy", "STACK="+stack)
		p.run(t, p.dir, "scripts/pulumi-env.sh", "pulumi", "stack", "rm", stack, "--yes", "--force")
		os.Remove(stackFile)
	})
	p.pulumi(t, "config", "set", "registryUsername", user, "-s", stack)
	p.pulumi(t, "config", "set", "imagePullPolicy", "Always", "-s", stack)

	// A wrong password fails before anything exists.
	setPassword("wrong-" + password)
	r := p.run(t, p.dir, "make", "up", "STACK="+stack)
	refused := "registry " + server + " (the server of jobs:registry) refused the login of jobs:registryUsername \"ci\" with jobs:registryPassword"
	if r.err == nil || !strings.Contains(r.combined, refused) || !strings.Contains(r.combined, "fix: pulumi config set --secret jobs:registryPassword") {
		t.Fatalf("up with a wrong registry password: %v\n%s\nwant it stopped with %q", r.err, tail(r.combined, 30), refused)
	}
	for _, res := range p.state(t, stack) {
		if res.Type != "pulumi:pulumi:Stack" {
			t.Errorf("the refused up left %s in the state", res.URN)
		}
	}

	setPassword(password)
	p.must(t, "make", "up", "STACK="+stack)
	ns := namespace(stack)
	w.k.waitRolledOut(t, ns, rollout)
	out := p.outputs(t, stack)
	for _, c := range []string{"api", "worker"} {
		ref, _ := out[c+"Image"].(string)
		repo, digest, ok := strings.Cut(strings.TrimPrefix(ref, server+"/"), "@")
		if !strings.HasPrefix(ref, server+"/") || !ok {
			t.Fatalf("%s image %q is not a digest reference in %s", c, ref, server)
		}
		if code := registryGet(t, "http://127.0.0.1:"+port, repo, "manifests/"+digest, "", "", nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous GET of %s: %d, want 401: the registry must ask for the login", ref, code)
		}
		if code := registryGet(t, "http://127.0.0.1:"+port, repo, "manifests/"+digest, user, password, nil); code != http.StatusOK {
			t.Errorf("GET of %s with the login: %d, want 200: the push did not land", ref, code)
		}
		for _, pod := range w.k.pods(t, ns, c) {
			if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != stack+"-registry" || pod.Spec.Containers[0].Image != ref {
				t.Errorf("pod %s runs %s with pull secrets %v, want %s through %s-registry", pod.Name, pod.Spec.Containers[0].Image, pod.Spec.ImagePullSecrets, ref, stack)
			}
		}
	}
	w.checkPlatforms(t, stack, user, password)
	newJobsAPI(p.output(t, stack, "url")).checkPrimes(t)

	// A wrong password on the running stack: up fails before any object changes.
	before, state := w.k.versions(t, ns), p.state(t, stack)
	setPassword("wrong-" + password)
	r = p.run(t, p.dir, "make", "up", "STACK="+stack)
	if r.err == nil || !strings.Contains(r.combined, refused) {
		t.Fatalf("up of the running stack with a wrong password: %v\n%s", r.err, tail(r.combined, 30))
	}
	if got := touched(before, w.k.versions(t, ns)); len(got) > 0 {
		t.Errorf("the refused up changed %v", got)
	}
	if after := p.state(t, stack); fmt.Sprint(after) != fmt.Sprint(state) {
		t.Error("the refused up changed the state")
	}
	setPassword(password)

	// Without the pull secret a new pod cannot pull: the secret is what lets them.
	err = w.k.cs.CoreV1().Secrets(ns).Delete(context.Background(), stack+"-registry", metav1.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := w.k.pods(t, ns, "api")
	for _, pod := range old {
		w.k.deletePod(t, ns, pod.Name, 0)
	}
	eventually(t, 2*time.Minute, "a new API pod refused by the registry without the pull secret", func() (bool, string) {
		events, err := w.k.cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "reason=Failed"})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range events.Items {
			if e.InvolvedObject.Kind != "Pod" || slices.ContainsFunc(old, func(p corev1.Pod) bool { return p.Name == e.InvolvedObject.Name }) {
				continue
			}
			msg := strings.ToLower(e.Message)
			if strings.Contains(msg, "pull") && (strings.Contains(msg, "401") || strings.Contains(msg, "unauthorized")) {
				t.Logf("pod %s without the pull secret: %s", e.InvolvedObject.Name, e.Message)
				return true, ""
			}
			seen = append(seen, e.Message)
		}
		return false, fmt.Sprintf("failures so far: %q", seen)
	})
	if ready := w.k.deployment(t, ns, stack+"-api").Status.ReadyReplicas; ready != 0 {
		t.Errorf("%d API pods ready without the pull secret", ready)
	}
	// make destroy (cleanup) deletes the rest; the Secret is already gone.
}

// checkPlatforms reads each image a stack runs from its registry: its config names the stack's
// jobs:platform (Pulumi.yaml's default when the stack file does not set it).
func (w *workflow) checkPlatforms(t *testing.T, stack, user, password string) {
	t.Helper()
	want := w.p.settings(t, stack)["platform"]
	if want == "" {
		t.Fatal("no jobs:platform in Pulumi.yaml's defaults or the stack file")
	}
	for _, c := range []string{"api", "worker"} {
		ref := w.p.output(t, stack, c+"Image")
		name, digest, ok := strings.Cut(ref, "@")
		host, repo, _ := strings.Cut(name, "/")
		if !ok {
			t.Fatalf("%s is no digest reference", ref)
		}
		base := "http://" + strings.Replace(host, "localhost", "127.0.0.1", 1)
		var manifest struct {
			Config struct {
				Digest string `json:"digest"`
			} `json:"config"`
		}
		if code := registryGet(t, base, repo, "manifests/"+digest, user, password, &manifest); code != http.StatusOK {
			t.Fatalf("manifest of %s: HTTP %d", ref, code)
		}
		var config struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		}
		if code := registryGet(t, base, repo, "blobs/"+manifest.Config.Digest, user, password, &config); code != http.StatusOK {
			t.Fatalf("config of %s: HTTP %d", ref, code)
		}
		got := config.OS + "/" + config.Architecture
		if config.Variant != "" {
			got += "/" + config.Variant
		}
		if got != want {
			t.Errorf("%s: the image config in the registry says %s, the stack's jobs:platform is %s", ref, got, want)
		}
	}
}

// registryGet GETs a path of a repository from a registry (basic auth when user is set),
// decodes a 200's JSON into into (when not nil) and returns the status.
func registryGet(t *testing.T, base, repo, path, user, password string, into any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v2/"+repo+"/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range []string{"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"} {
		req.Header.Add("Accept", mt)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", req.URL, err)
		}
	}
	return resp.StatusCode
}

func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// grepLines are the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
