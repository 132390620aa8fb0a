package probe

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/version":
			w.Write([]byte(`{"version":"0.2.0"}`))
		default:
			http.Error(w, `{"error":"not ready"}`, http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, c := range []struct {
		target string
		ok     bool
		line   string
	}{
		{"dns://localhost", true, "ok dns://localhost\n"},
		{"dns://no-such-service.invalid", false, "FAIL dns://no-such-service.invalid: the name does not resolve: "},
		{srv.URL + "/version#\"version\":\"0.2.0\"", true, "ok " + srv.URL + "/version#\"version\":\"0.2.0\"\n"},
		{srv.URL + "/version#0.3.0", false, "FAIL " + srv.URL + "/version#0.3.0: answered {\"version\":\"0.2.0\"} without \"0.3.0\""},
		{srv.URL + "/readyz", false, "FAIL " + srv.URL + "/readyz: answered 503 Service Unavailable: {\"error\":\"not ready\"}"},
		{"tcp://x:1", false, "FAIL tcp://x:1: unknown target"},
	} {
		var out bytes.Buffer
		if ok := Run(t.Context(), []string{c.target}, &out); ok != c.ok || !strings.HasPrefix(out.String(), c.line) {
			t.Errorf("%s: ok %v, %q; want ok %v, %q...", c.target, ok, out.String(), c.ok, c.line)
		}
	}
	// One failure fails the run, and every target is still checked and reported.
	var out bytes.Buffer
	if Run(t.Context(), []string{srv.URL + "/readyz", "dns://localhost"}, &out) || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("a run with one failure: %q", out.String())
	}
	if Run(t.Context(), nil, &out) {
		t.Error("a run without targets passed")
	}
}
