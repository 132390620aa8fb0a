// Command worker runs queued jobs and serves /healthz, /readyz and /metrics.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/example/jobs/app/internal/buildinfo"
	"github.com/example/jobs/app/internal/config"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/store"
	"github.com/example/jobs/app/internal/web"
	"github.com/example/jobs/app/internal/worker"
	"github.com/hibiken/asynq"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: "+err.Error())
		os.Exit(2)
	}
	log := cfg.Logger("worker")
	config.LogRedisTo(log)
	if err := run(cfg, log); err != nil {
		log.Error("worker stopped", "err", err)
		os.Exit(1)
	}
}

func run(cfg config.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Room for every concurrent job plus asynq's own background loops.
	rdb := cfg.RedisClient(cfg.Concurrency + 10)
	defer rdb.Close()
	st := store.New(rdb)
	m := metrics.New()
	m.RegisterQueueDepth(st)

	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen on HOST=%q PORT=%d: %w", cfg.Host, cfg.Port, err)
	}
	mux := http.NewServeMux()
	web.RegisterProbes(mux, st.Ping, m)
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	httpDone := make(chan error, 1)
	go func() {
		httpDone <- web.Serve(httpCtx, ln, web.Observe(web.JSONFallbacks(mux), log, m), 5*time.Second, log)
	}()

	srv := worker.NewServer(rdb, cfg.Concurrency, log)
	h := &worker.Handler{Store: st, Kinds: jobs.DefaultRegistry(), Log: log, Metrics: m}
	if err := srv.Start(h); err != nil {
		return fmt.Errorf("start processing: %w", err)
	}
	go worker.ReconcileLoop(ctx, st, asynq.NewInspectorFromRedisClient(rdb), log)
	log.Info("worker started", "addr", ln.Addr().String(), "version", buildinfo.Version, "redis", cfg.RedisAddr, "concurrency", cfg.Concurrency, "log_level", cfg.LogLevel.String())

	select {
	case <-ctx.Done():
	case err := <-httpDone:
		srv.Shutdown()
		return fmt.Errorf("http server: %w", err)
	}
	// Probes stay up while jobs drain, so the pod reports truthfully until
	// it is gone.
	log.Info("stopping: waiting for running jobs", "timeout_s", worker.ShutdownTimeout.Seconds())
	srv.Shutdown()
	stopHTTP()
	<-httpDone
	log.Info("worker stopped cleanly")
	return nil
}
