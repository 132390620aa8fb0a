package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seeds is step 9, for docs/performance.md: the seeds' way on the same cluster, six hand-kept YAML
// files (testdata/seeds) applied with kubectl, first at the first version, then with the image
// tags edited to the next one, each timed to every Deployment rolled out.
func (w *workflow) seeds(t *testing.T) {
	// kubectl as the seeds' user runs it, pointed at the cluster (the commands run with a plain
	// user's environment, which names none).
	kubectl := w.e.cluster.Kubectl
	kc := "--kubeconfig=" + w.e.cluster.Kubeconfig
	dir := filepath.Join(filepath.Dir(w.p.dir), "seeds")
	files, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.yml"))
	if err != nil || len(files) != 6 {
		t.Fatalf("testdata/seeds holds %d files (%v), want the seeds' six", len(files), err)
	}
	edit := func(version string) {
		// What a person does at a release: set the image tags by hand.
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, filepath.Base(f)), []byte(strings.ReplaceAll(string(b), "${VERSION}", version)), 0o644)
		}
	}
	w.p.must(t, kubectl, kc, "create", "namespace", "seeds")
	t.Cleanup(func() {
		w.p.run(t, w.p.dir, kubectl, kc, "delete", "namespace", "seeds", "--wait=true", "--timeout=3m")
	})
	for _, v := range []struct{ version, what string }{
		{w.v0, "seeds' way: kubectl apply -f of six files, first deploy"},
		{w.v1, "seeds' way: tags edited by hand, kubectl apply -f again"},
	} {
		edit(v.version)
		start := time.Now()
		w.p.must(t, kubectl, kc, "apply", "-n", "seeds", "-f", dir)
		w.k.waitRolledOut(t, "seeds", rollout)
		figure(v.what, time.Since(start))
	}
	api := newJobsAPI("http://localhost:30242")
	// The seeds' API has no preStop drain: the replaced pod is killed as soon as it leaves the
	// Service, and a kept-alive connection to it goes nowhere until the client's timeout. Waiting
	// for the new version first, retrying on fresh connections, is what a client of the seeds does.
	api.waitVersion(t, w.v1, time.Minute)
	api.waitReady(t, time.Minute)
	api.checkPrimes(t)
}
