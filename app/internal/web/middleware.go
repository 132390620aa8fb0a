package web

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/example/jobs/app/internal/metrics"
)

type recorder struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Observe logs one line per request and records its count and latency. The
// route label is the mux pattern, not the path, so job ids do not explode
// the label set. Probe and scrape requests are logged at debug level.
func Observe(next http.Handler, log *slog.Logger, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		d := time.Since(start)
		route := r.Pattern // set by ServeMux on this same request
		if route == "" {
			route = "unmatched"
		}
		m.Requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		m.RequestDuration.WithLabelValues(route, r.Method).Observe(d.Seconds())
		level := slog.LevelInfo
		if isProbe(route) {
			level = slog.LevelDebug
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", rec.code), slog.Int("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
	})
}
