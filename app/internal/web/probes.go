package web

import (
	"context"
	"net/http"
	"time"

	"github.com/example/jobs/app/internal/buildinfo"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger checks a dependency.
type Pinger func(ctx context.Context) error

// The routes the kubelet and a metrics scraper call every few seconds.
const (
	healthzRoute = "GET /healthz"
	readyzRoute  = "GET /readyz"
	metricsRoute = "GET /metrics"
)

// isProbe reports whether a mux pattern is a probe's or the scraper's: Observe logs those at
// debug level, so at the default info level a pod's log holds what clients did, not the
// kubelet's checks every few seconds.
func isProbe(route string) bool {
	return route == healthzRoute || route == readyzRoute || route == metricsRoute
}

// RegisterProbes adds /healthz, /readyz and /metrics to mux: everything the
// worker serves (docs/contracts.md), and what the API serves besides jobs.
// Liveness never touches Redis: a Redis outage should take the pod out of
// the Service, not get it restarted.
func RegisterProbes(mux *http.ServeMux, ping Pinger, m *metrics.Metrics) {
	mux.HandleFunc(healthzRoute, func(w http.ResponseWriter, r *http.Request) {
		JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc(readyzRoute, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			JSON(w, http.StatusServiceUnavailable, ErrorBody{Error: "redis is not reachable: " + err.Error()})
			return
		}
		JSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle(metricsRoute, promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
}

// Version replies with the build's semantic version (buildinfo.Version).
func Version(w http.ResponseWriter, _ *http.Request) {
	JSON(w, http.StatusOK, map[string]string{"version": buildinfo.Version})
}
