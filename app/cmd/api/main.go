// Command api serves the jobs HTTP API.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/example/jobs/app/internal/api"
	"github.com/example/jobs/app/internal/buildinfo"
	"github.com/example/jobs/app/internal/config"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/probe"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/store"
	"github.com/example/jobs/app/internal/web"
)

// shutdownGrace is how long in-flight requests get after SIGTERM; every
// request is a few Redis calls, so this is generous.
const shutdownGrace = 20 * time.Second

func main() {
	// `api probe TARGET...` checks, from inside a pod of this image, that the environment's
	// Services resolve and answer (make verify runs it); it needs no Redis and no config.
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		if !probe.Run(context.Background(), os.Args[2:], os.Stdout) {
			os.Exit(1)
		}
		return
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "api: "+err.Error())
		os.Exit(2)
	}
	log := cfg.Logger("api")
	config.LogRedisTo(log)
	if err := run(cfg, log); err != nil {
		log.Error("api stopped", "err", err)
		os.Exit(1)
	}
}

func run(cfg config.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	rdb := cfg.RedisClient(64)
	defer rdb.Close()
	st := store.New(rdb)
	m := metrics.New()
	m.RegisterQueueDepth(st)
	a := &api.API{Store: st, Queue: queue.New(rdb), Kinds: jobs.DefaultRegistry(), Log: log, Metrics: m}

	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen on HOST=%q PORT=%d: %w", cfg.Host, cfg.Port, err)
	}
	log.Info("api listening", "addr", ln.Addr().String(), "version", buildinfo.Version, "redis", cfg.RedisAddr, "log_level", cfg.LogLevel.String())
	if err := web.Serve(ctx, ln, a.Handler(), shutdownGrace, log); err != nil {
		return err
	}
	// The last line of a clean stop, as the worker writes one: whoever stops
	// the process (make run, a pod) can tell it from a crash.
	log.Info("api stopped cleanly")
	return nil
}
