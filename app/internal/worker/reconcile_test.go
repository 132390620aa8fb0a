package worker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/redistest"
	"github.com/example/jobs/app/internal/store"
	"github.com/hibiken/asynq"
)

// TestReconcileFailsJobsAsynqArchived sets up what asynq's recoverer leaves
// after a worker dies on a job's last attempt (record running, task
// archived) and checks that Reconcile ends the record as failed, while a
// running job whose task is still live is left alone.
func TestReconcileFailsJobsAsynqArchived(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	st := store.New(rdb)
	q := queue.New(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	ctx := context.Background()

	mk := func() string {
		now := time.Now().UTC()
		r := &jobs.Record{ID: jobs.NewID(now), Kind: "sleep", CreatedAt: now, Input: json.RawMessage(`{"seconds":1}`)}
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Start(ctx, r.ID, now); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	lost, live := mk(), mk()
	if err := insp.ArchiveTask(queue.Name, lost); err != nil {
		t.Fatal(err)
	}
	n, err := Reconcile(ctx, st, insp, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil || n != 1 {
		t.Fatalf("Reconcile = %d, %v; want 1 fixed", n, err)
	}
	got, _ := st.Get(ctx, lost)
	if got.Status != jobs.StatusFailed || got.FinishedAt == nil || !strings.Contains(got.Error, "worker was lost") {
		t.Errorf("archived job after reconcile: %+v", got)
	}
	if got, _ := st.Get(ctx, live); got.Status != jobs.StatusRunning {
		t.Errorf("live job after reconcile: %+v, want still running", got)
	}
}
