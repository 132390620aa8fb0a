//go:build imagetest

package imagetest

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	version = "0.0.0-imagetest"
	// maxImageBytes is the 20 MB ceiling on each final image, in decimal megabytes.
	maxImageBytes = 20_000_000
	nonRoot       = "65532:65532"
)

func TestImages(t *testing.T) {
	if err := MissingTools(exec.LookPath); err != nil {
		t.Fatal(err)
	}
	repo := repoRoot(t)

	phase := time.Now()
	e := startEngine(t, repo)
	e.baseImage(t)
	t.Logf("engine and base image ready in %s", time.Since(phase).Round(time.Millisecond))

	phase = time.Now()
	images := map[string]string{}
	for _, target := range []string{"api", "worker"} {
		images[target] = e.build(t, target)
	}
	t.Logf("built both images in %s", time.Since(phase).Round(time.Millisecond))

	for target, image := range images {
		checkImage(t, e, target, image)
	}

	redisAddr := startRedis(t)
	apiPort, workerPort := freePort(t), freePort(t)
	api := e.run(t, images["api"], redisAddr, apiPort)
	worker := e.run(t, images["worker"], redisAddr, workerPort)
	apiURL := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	workerURL := "http://127.0.0.1:" + strconv.Itoa(workerPort)
	waitReady(t, e, api, apiURL)
	waitReady(t, e, worker, workerURL)

	for _, c := range []container{api, worker} {
		checkProcessUser(t, e, c)
	}

	var v struct {
		Version string `json:"version"`
	}
	getJSON(t, apiURL+"/version", &v)
	if v.Version != version {
		t.Errorf("GET /version = %q, want the build arg %q", v.Version, version)
	}

	phase = time.Now()
	rec := runPrimesJob(t, e, worker, apiURL)
	t.Logf("primes job %s succeeded in %s", rec.ID, time.Since(phase).Round(time.Millisecond))
	var res struct {
		Start, End, Count int64
	}
	if err := json.Unmarshal(rec.Result, &res); err != nil {
		t.Fatalf("job result %s is not a primes result: %v", rec.Result, err)
	}
	if res.Start != 1 || res.End != 100 || res.Count != 25 {
		t.Errorf("primes 1..100 result = %s, want start 1, end 100, count 25", rec.Result)
	}

	// A cluster of the other common architecture gets its images from this machine, with no
	// emulator: the build stage cross-compiles (jobs:platform, README).
	phase = time.Now()
	other, machine := "linux/arm64", elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		other, machine = "linux/amd64", elf.EM_X86_64
	}
	cross := e.buildFor(t, "worker", other)
	checkPlatform(t, e, cross, other, "/worker", machine)
	t.Logf("built and checked %s for %s in %s", cross, other, time.Since(phase).Round(time.Millisecond))
}

// checkPlatform asserts that an image's config names the platform and that its binary is built
// for that machine.
func checkPlatform(t *testing.T, e *engine, image, platform, binary string, machine elf.Machine) {
	t.Helper()
	got := e.mustDocker(t, time.Minute, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image)
	if got != platform {
		t.Errorf("%s: the image config says %s, want %s", image, got, platform)
	}
	id := e.mustDocker(t, time.Minute, "create", image)
	defer e.mustDocker(t, time.Minute, "rm", id)
	path := filepath.Join(t.TempDir(), filepath.Base(binary))
	e.mustDocker(t, time.Minute, "cp", id+":"+binary, path)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s of %s is no ELF binary: %v", binary, image, err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s of %s is built for %v, want %v", binary, image, f.Machine, machine)
	}
}

// build builds one target of the real app/Dockerfile for this machine and returns its tag.
func (e *engine) build(t *testing.T, target string) string { return e.buildFor(t, target, "") }

// buildFor builds one target for a platform ("" for this machine's) and returns its tag.
func (e *engine) buildFor(t *testing.T, target, platform string) string {
	t.Helper()
	tag := "jobs-imagetest/" + target + ":" + version
	var platformArgs []string
	if platform != "" {
		tag += "-" + strings.ReplaceAll(platform, "/", "-")
		platformArgs = []string{"--platform", platform}
	}
	proxy, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatalf("go env GOPROXY: %v", err)
	}
	start := time.Now()
	e.mustDocker(t, 15*time.Minute, append(append([]string{"build", "--network=host", "--quiet"}, platformArgs...),
		"--target", target,
		"--build-arg", "VERSION="+version,
		"--build-arg", "GOPROXY="+strings.TrimSpace(string(proxy)),
		"--tag", tag,
		filepath.Join(e.repo, "app"))...)
	t.Logf("built %s in %s", tag, time.Since(start).Round(time.Millisecond))
	return tag
}

// checkImage asserts what the Deployments rely on: the non-root user, the entrypoint, the
// version label and the size ceiling.
func checkImage(t *testing.T, e *engine, target, image string) {
	t.Helper()
	var info []struct {
		Size   int64
		Config struct {
			User       string
			Entrypoint []string
			Labels     map[string]string
		}
	}
	out := e.mustDocker(t, time.Minute, "image", "inspect", image)
	if err := json.Unmarshal([]byte(out), &info); err != nil || len(info) != 1 {
		t.Fatalf("docker image inspect %s: cannot read %q: %v", image, out, err)
	}
	img := info[0]
	if img.Config.User != nonRoot {
		t.Errorf("%s: Config.User = %q, want %q", image, img.Config.User, nonRoot)
	}
	if want := "/" + target; len(img.Config.Entrypoint) != 1 || img.Config.Entrypoint[0] != want {
		t.Errorf("%s: Entrypoint = %q, want [%q]", image, img.Config.Entrypoint, want)
	}
	if got := img.Config.Labels["org.opencontainers.image.version"]; got != version {
		t.Errorf("%s: version label = %q, want %q", image, got, version)
	}
	if img.Size > maxImageBytes {
		t.Errorf("%s: %d bytes, over the %d byte ceiling", image, img.Size, maxImageBytes)
	}
	t.Logf("%s: %d bytes, user %s", image, img.Size, img.Config.User)
}

type container struct{ id, name string }

// run starts an image on the host network against Redis and removes the container when the
// test ends, logging its output first if the test failed.
func (e *engine) run(t *testing.T, image, redisAddr string, port int) container {
	t.Helper()
	name := fmt.Sprintf("jobs-imagetest-%s-%d", strings.TrimPrefix(strings.Split(image, ":")[0], "jobs-imagetest/"), os.Getpid())
	id := e.mustDocker(t, 2*time.Minute, "run", "--detach", "--network=host", "--name", name,
		"--env", "REDIS_ADDR="+redisAddr, "--env", "PORT="+strconv.Itoa(port), image)
	c := container{id: id, name: name}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := e.docker(context.Background(), "logs", id)
			t.Logf("logs of %s:\n%s", name, logs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := e.docker(ctx, "rm", "--force", id); err != nil {
			t.Errorf("remove container %s: %v", name, err)
		}
	})
	return c
}

// waitReady polls /readyz until the process reports Redis reachable, failing early if the
// container exits.
func waitReady(t *testing.T, e *engine, c container, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if state := e.mustDocker(t, time.Minute, "inspect", "--format", "{{.State.Status}}", c.id); state != "running" {
			t.Fatalf("%s is %s, not running, before it became ready", c.name, state)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET %s/readyz not 200 within 60s (last error %v)", c.name, base, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkProcessUser reads the running process's real, effective, saved and filesystem ids from
// /proc: the image's USER line proves nothing if the runtime ignored it.
func checkProcessUser(t *testing.T, e *engine, c container) {
	t.Helper()
	pid := e.mustDocker(t, time.Minute, "inspect", "--format", "{{.State.Pid}}", c.id)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("%s: read status of its process %s: %v", c.name, pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		key, ids, ok := strings.Cut(line, ":")
		if !ok || (key != "Uid" && key != "Gid") {
			continue
		}
		for _, id := range strings.Fields(ids) {
			if id != "65532" {
				t.Errorf("%s: process %s has %s %s, want 65532 for all four", c.name, pid, key, strings.TrimSpace(ids))
				break
			}
		}
	}
}

type jobRecord struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Result json.RawMessage `json:"result"`
}

// runPrimesJob submits the primes job over HTTP and polls it until it succeeds.
func runPrimesJob(t *testing.T, e *engine, worker container, apiURL string) jobRecord {
	t.Helper()
	body := `{"kind":"primes","input":{"start":1,"end":100}}`
	resp, err := http.Post(apiURL+"/jobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /jobs: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /jobs %s: status %d, body %s", body, resp.StatusCode, raw)
	}
	var rec jobRecord
	if err := json.Unmarshal(raw, &rec); err != nil || rec.ID == "" {
		t.Fatalf("POST /jobs answered %s: want a job record with an id (%v)", raw, err)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		getJSON(t, apiURL+"/jobs/"+rec.ID, &rec)
		switch rec.Status {
		case "succeeded":
			return rec
		case "failed":
			t.Fatalf("job %s failed: %s", rec.ID, rec.Error)
		}
		if time.Now().After(deadline) {
			state, _ := e.docker(context.Background(), "inspect", "--format", "{{.State.Status}}", worker.id)
			t.Fatalf("job %s still %q after 60s (worker container %s)", rec.ID, rec.Status, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", url, resp.StatusCode, raw)
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(v); err != nil {
		t.Fatalf("GET %s: body %s is not the expected JSON: %v", url, raw, err)
	}
}
