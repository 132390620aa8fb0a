package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/store"
	"github.com/hibiken/asynq"
)

// ReconcileInterval is how often a worker looks for records that asynq
// gave up on behind the handler's back.
const ReconcileInterval = 30 * time.Second

// reconcileBatch bounds one pass; running jobs number at most the sum of
// the workers' concurrency, so this is plenty.
const reconcileBatch = 1000

// Reconcile marks failed the running jobs whose task asynq has archived.
// That happens when a job's worker died (kill -9, OOM) on its last allowed
// attempt: asynq's recoverer archives the task without calling any handler,
// so nothing else would ever finish the record.
func Reconcile(ctx context.Context, st *store.Store, insp *asynq.Inspector, log *slog.Logger) (int, error) {
	ids, err := st.IDs(ctx, jobs.StatusRunning, reconcileBatch)
	if err != nil {
		return 0, err
	}
	fixed := 0
	for _, id := range ids {
		info, err := insp.GetTaskInfo(queue.Name, id)
		if errors.Is(err, asynq.ErrTaskNotFound) {
			continue
		}
		if err != nil {
			return fixed, err
		}
		if info.State != asynq.TaskStateArchived {
			continue
		}
		msg := "gave up after the worker was lost on the last attempt: " + info.LastErr
		ok, err := st.Finish(ctx, id, jobs.StatusFailed, time.Now(), nil, msg)
		if err != nil {
			return fixed, err
		}
		if ok {
			fixed++
			log.Warn("job failed: worker lost on its last attempt", "id", id, "status", jobs.StatusFailed, "err", info.LastErr)
		}
	}
	return fixed, nil
}

// ReconcileLoop runs Reconcile every ReconcileInterval until ctx is done.
func ReconcileLoop(ctx context.Context, st *store.Store, insp *asynq.Inspector, log *slog.Logger) {
	t := time.NewTicker(ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := Reconcile(ctx, st, insp, log); err != nil && ctx.Err() == nil {
				log.Warn("reconcile pass failed", "err", err)
			}
		}
	}
}
