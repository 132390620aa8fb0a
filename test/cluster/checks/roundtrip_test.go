package checks

import (
	"strings"
	"testing"
)

func TestSubsetAcceptsServerDefaults(t *testing.T) {
	want := map[string]any{"httpGet": map[string]any{"path": "/readyz", "port": "http"}, "periodSeconds": float64(5)}
	got := map[string]any{
		"httpGet":          map[string]any{"path": "/readyz", "port": "http", "scheme": "HTTP"},
		"periodSeconds":    int64(5),
		"timeoutSeconds":   int64(1),
		"successThreshold": int64(1),
	}
	if err := Subset(want, got, "probe"); err != nil {
		t.Fatalf("defaults added by the API server must not count as a difference: %v", err)
	}
}

func TestSubsetReportsWhereTheLiveObjectDiffers(t *testing.T) {
	cases := []struct {
		name      string
		want, got any
		path      string
	}{
		{"dropped field", map[string]any{"runAsNonRoot": true}, map[string]any{}, "sc.runAsNonRoot"},
		{"changed value", map[string]any{"path": "/readyz"}, map[string]any{"path": "/healthz"}, "sc.path"},
		{"list length", []any{"ALL"}, []any{"ALL", "NET_RAW"}, "sc: live list has 2 items"},
		{"type", map[string]any{"a": map[string]any{}}, map[string]any{"a": "x"}, "sc.a: live value is string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Subset(c.want, c.got, "sc")
			if err == nil || !strings.Contains(err.Error(), c.path) {
				t.Fatalf("want an error mentioning %q, got %v", c.path, err)
			}
		})
	}
}
