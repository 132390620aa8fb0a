package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/example/jobs/app/internal/metrics"
)

// TestObserveLogsProbesAtDebug: at info a log holds the requests clients made and none of the
// probes' or the scraper's; at debug it holds those too.
func TestObserveLogsProbesAtDebug(t *testing.T) {
	for level, want := range map[slog.Level]string{
		slog.LevelInfo:  "INFO GET /jobs",
		slog.LevelDebug: "DEBUG GET /healthz,DEBUG GET /readyz,DEBUG GET /metrics,INFO GET /jobs",
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
		m := metrics.New()
		mux := http.NewServeMux()
		RegisterProbes(mux, func(context.Context) error { return nil }, m)
		mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) { JSON(w, http.StatusOK, []string{}) })
		h := Observe(mux, log, m)
		for _, path := range []string{"/healthz", "/readyz", "/metrics", "/jobs"} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec struct{ Level, Msg, Route string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			got = append(got, rec.Level+" "+rec.Route)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("at %v the log holds %v, want %s", level, got, want)
		}
	}
}
