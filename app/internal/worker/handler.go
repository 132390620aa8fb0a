// Package worker runs jobs from the asynq queue and keeps their records in
// step.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/store"
	"github.com/hibiken/asynq"
)

// Handler runs one task: claim the record, run the kind, record the outcome.
type Handler struct {
	Store   *store.Store
	Kinds   jobs.Registry
	Log     *slog.Logger
	Metrics *metrics.Metrics
}

// ProcessTask implements asynq.Handler. Returning an error makes asynq retry
// (with RetryDelay) until MaxRetry; the record mirrors that: back to queued
// with the error while retries remain, failed after the last one.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id := string(t.Payload())
	claim, err := h.Store.Start(ctx, id, time.Now())
	if err != nil {
		return fmt.Errorf("claim job %s: %w", id, err) // Redis trouble: let asynq retry
	}
	switch claim.Outcome {
	case "gone":
		h.Log.Info("job deleted before it ran; dropping task", "id", id)
		return nil
	case "done":
		h.Log.Info("job already finished; dropping redelivered task", "id", id)
		return nil
	}
	log := h.Log.With("id", id, "kind", claim.Kind, "attempt", claim.Attempts)
	log.Info("job running", "status", jobs.StatusRunning)

	kind, ok := h.Kinds[claim.Kind]
	if !ok {
		return h.fail(ctx, log, id, claim.Kind, fmt.Errorf("unknown kind %q (this worker knows %v)", claim.Kind, h.Kinds.Names()), true)
	}
	start := time.Now()
	res, runErr := kind.Run(ctx, claim.Input)
	h.Metrics.JobDuration.WithLabelValues(claim.Kind).Observe(time.Since(start).Seconds())

	if runErr == nil {
		out, err := json.Marshal(res)
		if err != nil {
			return h.fail(ctx, log, id, claim.Kind, fmt.Errorf("encode result: %w", err), true)
		}
		if err := h.record(ctx, id, jobs.StatusSucceeded, out, ""); err != nil {
			return fmt.Errorf("record result of job %s: %w", id, err)
		}
		h.Metrics.Outcomes.WithLabelValues(claim.Kind, "succeeded").Inc()
		log.Info("job finished", "status", jobs.StatusSucceeded, "duration_ms", time.Since(start).Milliseconds())
		return nil
	}
	if ctx.Err() != nil {
		// Shutdown or timeout: hand the job back; asynq requeues the task.
		if err := h.record(ctx, id, jobs.StatusQueued, nil, "interrupted: "+ctx.Err().Error()); err != nil {
			log.Error("could not hand job back", "err", err)
		}
		h.Metrics.Outcomes.WithLabelValues(claim.Kind, "requeued").Inc()
		log.Warn("job interrupted; handed back to the queue", "status", jobs.StatusQueued, "err", ctx.Err())
		return runErr
	}
	var ie *jobs.InputError
	return h.fail(ctx, log, id, claim.Kind, runErr, errors.As(runErr, &ie))
}

// record writes a job's outcome with a context of its own: the job's context may be cancelled
// (shutdown) or at its deadline, and an outcome already reached is worth keeping.
func (h *Handler) record(ctx context.Context, id string, to jobs.Status, result []byte, errText string) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := h.Store.Finish(wctx, id, to, time.Now(), result, errText)
	return err
}

// fail records a failed attempt: queued again while asynq will retry, failed
// when this was the last try or the error is permanent.
func (h *Handler) fail(ctx context.Context, log *slog.Logger, id, kind string, cause error, permanent bool) error {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := permanent || retried >= maxRetry
	to, outcome := jobs.StatusQueued, "retry"
	if final {
		to, outcome = jobs.StatusFailed, "failed"
	}
	if err := h.record(ctx, id, to, nil, cause.Error()); err != nil {
		return fmt.Errorf("record failure of job %s: %w (cause: %v)", id, err, cause)
	}
	h.Metrics.Outcomes.WithLabelValues(kind, outcome).Inc()
	log.Warn("job attempt failed", "status", to, "err", cause, "retried", retried, "max_retry", maxRetry)
	if permanent {
		return fmt.Errorf("%w: %w", cause, asynq.SkipRetry)
	}
	return cause
}
