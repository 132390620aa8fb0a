package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/manifests"
	"github.com/example/jobs/test/cluster/workspace"
)

// TestAPIBinaryAnswersManifestProbes is the contract between manifest and
// binary: the real API program, started with the environment the rendered
// Deployment gives it, must answer 200 on the paths its probes name.
func TestAPIBinaryAnswersManifestProbes(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed: apt-get install -y redis-server")
	}
	api := buildAPI(t)
	for _, name := range []string{"test", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := needStack(t, name)
			dep := mustFind(t, s, "Deployment", s.ObjectName("api"))
			ctr := apiContainer(t, dep)
			env := resolveEnv(t, s, ctr)
			port := containerPort(t, ctr, env)

			redisPort := freePort(t)
			redisArgs := []string{"--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
			if pw := env["REDIS_PASSWORD"]; pw != "" {
				redisArgs = append(redisArgs, "--requirepass", pw)
			}
			startTracked(t, "redis-server", redisServer, redisArgs, nil)
			waitTCP(t, redisPort)
			env["REDIS_ADDR"] = net.JoinHostPort("127.0.0.1", strconv.Itoa(redisPort))

			if !portFree(port) {
				// Another process holds the manifest's port on this machine;
				// the manifest port, the env PORT and the probe port were
				// already checked to agree, so any free port proves the rest.
				free := freePort(t)
				t.Logf("port %d is busy here; running the API on %d instead", port, free)
				port = free
			}
			env["PORT"] = strconv.Itoa(port)
			var envList []string
			for k, v := range env {
				envList = append(envList, k+"="+v)
			}
			logs := startTracked(t, "api", api, nil, envList)

			probes := 0
			for _, kind := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				path, found, _ := unstructured.NestedString(ctr, kind, "httpGet", "path")
				if !found {
					continue
				}
				probes++
				url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
				if err := wantOK(url, 20*time.Second); err != nil {
					t.Errorf("%s %s: %v\napi output:\n%s", kind, url, err, logs())
				} else {
					t.Logf("%s GET %s -> 200", kind, path)
				}
			}
			if probes < 2 {
				t.Errorf("the API container has %d HTTP probes; want readiness and liveness httpGet probes", probes)
			}
		})
	}
}

// buildAPI compiles app/cmd/api into a temp dir.
func buildAPI(t *testing.T) string {
	t.Helper()
	root, err := workspace.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	appDir := filepath.Join(root, "app")
	if _, err := os.Stat(filepath.Join(appDir, "cmd", "api")); err != nil {
		t.Fatalf("the API program is missing: %v (module github.com/example/jobs/app, package ./cmd/api)", err)
	}
	out := filepath.Join(t.TempDir(), "api")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/api")
	cmd.Dir = appDir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build app/cmd/api: %v\n%s", err, b)
	}
	return out
}

func apiContainer(t *testing.T, dep *unstructured.Unstructured) map[string]any {
	t.Helper()
	ctrs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(ctrs) != 1 {
		t.Fatalf("%s has %d containers, want 1", manifests.Key(dep), len(ctrs))
	}
	return ctrs[0].(map[string]any)
}

// resolveEnv turns the container's env into plain values, reading secret and
// config map references from the rendered objects the way the kubelet would.
func resolveEnv(t *testing.T, s *manifests.Stack, ctr map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	list, _, _ := unstructured.NestedSlice(ctr, "env")
	for _, item := range list {
		e := item.(map[string]any)
		name, _ := e["name"].(string)
		if v, ok := e["value"].(string); ok {
			env[name] = v
			continue
		}
		from, _ := e["valueFrom"].(map[string]any)
		switch {
		case from["secretKeyRef"] != nil:
			ref := from["secretKeyRef"].(map[string]any)
			sec := mustFind(t, s, "Secret", ref["name"].(string))
			key := ref["key"].(string)
			if v, ok, _ := unstructured.NestedString(sec.Object, "stringData", key); ok {
				env[name] = v
			} else if v, ok, _ := unstructured.NestedString(sec.Object, "data", key); ok {
				raw, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					t.Fatalf("Secret %s key %s is not base64: %v", sec.GetName(), key, err)
				}
				env[name] = string(raw)
			} else {
				t.Fatalf("env %s refers to key %q that Secret %s does not have", name, key, sec.GetName())
			}
		case from["configMapKeyRef"] != nil:
			ref := from["configMapKeyRef"].(map[string]any)
			cm := mustFind(t, s, "ConfigMap", ref["name"].(string))
			v, ok, _ := unstructured.NestedString(cm.Object, "data", ref["key"].(string))
			if !ok {
				t.Fatalf("env %s refers to key %q that ConfigMap %s does not have", name, ref["key"], cm.GetName())
			}
			env[name] = v
		default:
			t.Fatalf("env %s uses a valueFrom this test cannot resolve: %v", name, from)
		}
	}
	if env["REDIS_ADDR"] == "" {
		t.Fatal("the API Deployment sets no REDIS_ADDR; the app requires it (docs/contracts.md)")
	}
	return env
}

// containerPort returns the port the probes target and checks it agrees with
// the env PORT the binary listens on.
func containerPort(t *testing.T, ctr map[string]any, env map[string]string) int {
	t.Helper()
	target, found, _ := unstructured.NestedFieldNoCopy(ctr, "readinessProbe", "httpGet", "port")
	if !found {
		t.Fatal("the API container has no readinessProbe.httpGet.port")
	}
	port := 0
	switch p := target.(type) {
	case int64:
		port = int(p)
	case string:
		ports, _, _ := unstructured.NestedSlice(ctr, "ports")
		for _, cp := range ports {
			m := cp.(map[string]any)
			if m["name"] == p {
				n, _ := m["containerPort"].(int64)
				port = int(n)
			}
		}
		if port == 0 {
			t.Fatalf("readiness probe targets port %q, which the container does not declare", p)
		}
	default:
		t.Fatalf("readiness probe port has type %T", target)
	}
	want := "8080" // the app's default when PORT is unset
	if v, ok := env["PORT"]; ok {
		want = v
	}
	if want != strconv.Itoa(port) {
		t.Fatalf("the probes target port %d but the binary will listen on PORT=%s", port, want)
	}
	return port
}

// startTracked starts a process, and stops exactly that pid when the test
// ends. It returns a function reading the process's output so far.
func startTracked(t *testing.T, name, exe string, args, env []string) func() string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if env != nil {
		// Only the manifest's environment, so nothing from the developer's
		// shell can make up for a missing variable.
		cmd.Env = append(env, "HOME="+t.TempDir())
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	return func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
}

func wantOK(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no 200 within %s; last: %s", timeout, last)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func waitTCP(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis-server did not listen on 127.0.0.1:%d within 10s", port)
}
