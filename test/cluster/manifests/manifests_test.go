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
