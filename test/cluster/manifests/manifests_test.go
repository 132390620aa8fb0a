package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeepsIntegersAndOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "test.json")
	body := `[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"test-jobs"}},
	 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"test-api","namespace":"test-jobs"},"spec":{"replicas":2}}]`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load("test", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Objects) != 2 || s.Objects[0].GetKind() != "Namespace" {
		t.Fatalf("objects out of order or missing: %v", s.Objects)
	}
	d, err := s.Find("Deployment", "test-api")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := d.Object["spec"].(map[string]any)["replicas"].(int64); !ok || r != 2 {
		t.Fatalf("replicas = %#v, want int64 2", d.Object["spec"].(map[string]any)["replicas"])
	}
	if _, err := s.Find("Service", "test-api"); err == nil || !strings.Contains(err.Error(), "Deployment/test-api") {
		t.Fatalf("a missing object must be reported with what the stack has, got %v", err)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		"not json":    `{`,
		"empty":       `[]`,
		"no kind":     `[{"apiVersion":"v1","metadata":{"name":"x"}}]`,
		"not objects": `[1]`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.json")
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load("test", p); err == nil {
				t.Fatalf("Load accepted %s", body)
			}
		})
	}
}

func TestConfiguredNodePort(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config:\n  jobs:nodePort: \"30042\"\n  jobs:version: 0.1.0\n")
	if p, err := ConfiguredNodePort(dir, "test"); err != nil || p != 30042 {
		t.Fatalf("got %d, %v; want 30042", p, err)
	}
	write("config:\n  jobs:version: 0.1.0\n")
	if _, err := ConfiguredNodePort(dir, "test"); err == nil || !strings.Contains(err.Error(), "sets no jobs:nodePort") {
		t.Fatalf("missing key: got %v", err)
	}
	write("config:\n  jobs:nodePort: high\n")
	if _, err := ConfiguredNodePort(dir, "test"); err == nil || !strings.Contains(err.Error(), "not a port number") {
		t.Fatalf("bad value: got %v", err)
	}
	if _, err := ConfiguredNodePort(dir, "prod"); err == nil {
		t.Fatal("a missing stack file was accepted")
	}
}
