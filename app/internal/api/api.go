// Package api is the jobs HTTP API. Every reply is JSON; errors are
// {"error": ..., "field": ..., "status": ...} with the field at fault.
//
//	POST   /jobs              {"kind", "input"} -> 201 record + Location; 400/413 bad input,
//	                          415 not application/json, 503 Redis down
//	GET    /jobs              newest first; ?status=queued|running|succeeded|failed,
//	                          ?limit=1..100 (20), ?cursor=<next_cursor> -> {"jobs", "next_cursor"}
//	GET    /jobs/{id}         the record; 404 unknown
//	GET    /jobs/{id}/result  200 {"id", "kind", "result"} once succeeded; 409 otherwise
//	DELETE /jobs/{id}         204 if it never started; 409 (with its status) otherwise
//	GET    /healthz /readyz /version /metrics
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/web"
)

// MaxBody bounds a POST /jobs body; the largest valid input (10,000 stats
// values) fits well inside it.
const MaxBody = 1 << 20

// Page sizes for GET /jobs.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Store is the job records the API needs (store.Store in production).
type Store interface {
	Create(ctx context.Context, r *jobs.Record) error
	Get(ctx context.Context, id string) (*jobs.Record, error)
	List(ctx context.Context, status jobs.Status, cursor string, limit int) ([]*jobs.Record, string, error)
	Delete(ctx context.Context, id string) error
	Ping(ctx context.Context) error
}

// Queue is where accepted jobs go (queue.Queue in production).
type Queue interface {
	Enqueue(ctx context.Context, id string) error
	Withdraw(ctx context.Context, id string) error
}

// API holds the handlers' dependencies.
type API struct {
	Store   Store
	Queue   Queue
	Kinds   jobs.Registry
	Log     *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
}

// Handler routes the API and the probes, with request logging and metrics.
func (a *API) Handler() http.Handler {
	if a.Now == nil {
		a.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", a.submit)
	mux.HandleFunc("GET /jobs", a.list)
	mux.HandleFunc("GET /jobs/{id}", a.get)
	mux.HandleFunc("GET /jobs/{id}/result", a.result)
	mux.HandleFunc("DELETE /jobs/{id}", a.delete)
	mux.HandleFunc("GET /version", web.Version)
	web.RegisterProbes(mux, a.Store.Ping, a.Metrics)
	return web.Observe(web.JSONFallbacks(mux), a.Log, a.Metrics)
}
