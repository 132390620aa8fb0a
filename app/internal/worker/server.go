package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/example/jobs/app/internal/queue"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// ShutdownTimeout is how long a stopping worker waits for in-flight jobs
// before asynq hands them back to the queue (docs/contracts.md: 40 s, above
// the 30 s longest job and below the pod's 60 s grace).
const ShutdownTimeout = 40 * time.Second

// RetryDelay is exponential backoff: 1 s, 2 s, 4 s, ... capped at 1 min.
// Short first steps keep a job that hit a passing fault moving.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	return time.Duration(math.Min(60, math.Pow(2, float64(n)))) * time.Second
}

// NewServer builds the asynq server. On Shutdown it waits ShutdownTimeout
// for running jobs, then asynq puts the unfinished ones back on the queue;
// their records still say running until the next worker claims them (and
// counts another attempt).
//
// Lease recovery (a worker killed with kill -9): asynq's lease is 30 s and is
// extended every 5 s; its recoverer, which runs at server start and then
// every minute, retries tasks whose lease expired at least 30 s earlier. A
// killed worker's job therefore runs again 60-120 s after the kill. asynq
// does not make these numbers configurable; they are documented here and in
// docs/performance.md rather than patched.
func NewServer(rdb redis.UniversalClient, concurrency int, log *slog.Logger) *asynq.Server {
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{queue.Name: 1},
		RetryDelayFunc:  RetryDelay,
		ShutdownTimeout: ShutdownTimeout,
		// Check for due retries every second rather than every 5 so the
		// backoff above is what a client actually sees.
		DelayedTaskCheckInterval: time.Second,
		Logger:                   asynqLogger{log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			log.Debug("task attempt failed", "id", string(t.Payload()), "err", err)
		}),
	})
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
