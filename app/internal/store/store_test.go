package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/redistest"
	"github.com/example/jobs/app/internal/store"
)

func newJob(t *testing.T, s *store.Store) *jobs.Record {
	t.Helper()
	now := time.Now().UTC()
	r := &jobs.Record{ID: jobs.NewID(now), Kind: "sleep", Status: jobs.StatusQueued, CreatedAt: now, Input: json.RawMessage(`{"seconds":0}`)}
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTransitions(t *testing.T) {
	rs := redistest.Start(t)
	s := store.New(rs.Client())
	ctx := context.Background()
	r := newJob(t, s)

	c, err := s.Start(ctx, r.ID, time.Now())
	if err != nil || c.Outcome != "ok" || c.Attempts != 1 || c.Kind != "sleep" || string(c.Input) != `{"seconds":0}` {
		t.Fatalf("Start = %+v, %v", c, err)
	}
	// A redelivery of a running job (the worker died) counts another attempt.
	if c, _ = s.Start(ctx, r.ID, time.Now()); c.Attempts != 2 {
		t.Fatalf("second Start attempts = %d, want 2", c.Attempts)
	}
	if ok, err := s.Finish(ctx, r.ID, jobs.StatusSucceeded, time.Now(), json.RawMessage(`{"x":1}`), ""); !ok || err != nil {
		t.Fatalf("Finish = %v, %v", ok, err)
	}
	// Once finished, nothing moves it: not a late worker, not a redelivery.
	if ok, _ := s.Finish(ctx, r.ID, jobs.StatusFailed, time.Now(), nil, "late"); ok {
		t.Fatal("Finish applied to a succeeded job")
	}
	if c, _ = s.Start(ctx, r.ID, time.Now()); c.Outcome != "done" {
		t.Fatalf("Start of a finished job = %+v, want done", c)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil || got.Status != jobs.StatusSucceeded || got.Attempts != 2 || string(got.Result) != `{"x":1}` || got.FinishedAt == nil {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	var se *store.StartedError
	if err := s.Delete(ctx, r.ID); !errors.As(err, &se) || se.Status != jobs.StatusSucceeded {
		t.Fatalf("Delete finished job = %v, want StartedError", err)
	}
	for st, want := range map[jobs.Status]int64{jobs.StatusQueued: 0, jobs.StatusRunning: 0, jobs.StatusSucceeded: 1} {
		if n, _ := s.Count(ctx, st); n != want {
			t.Errorf("Count(%s) = %d, want %d", st, n, want)
		}
	}
	if _, err := s.Get(ctx, jobs.NewID(time.Now())); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get unknown = %v, want ErrNotFound", err)
	}
}

// TestDeleteRacesStart runs Delete and a worker's Start on the same queued
// job at the same moment, many times: exactly one must win each time.
func TestDeleteRacesStart(t *testing.T) {
	rs := redistest.Start(t)
	s := store.New(rs.Client())
	ctx := context.Background()
	wins := map[string]int{}
	for range 300 {
		r := newJob(t, s)
		var claim store.Claim
		var startErr, delErr error
		var wg sync.WaitGroup
		wg.Go(func() { claim, startErr = s.Start(ctx, r.ID, time.Now()) })
		wg.Go(func() { delErr = s.Delete(ctx, r.ID) })
		wg.Wait()
		if startErr != nil {
			t.Fatal(startErr)
		}
		var se *store.StartedError
		switch {
		case delErr == nil && claim.Outcome == "gone":
			wins["delete"]++
			if _, err := s.Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deleted job still readable: %v", err)
			}
		case errors.As(delErr, &se) && claim.Outcome == "ok":
			wins["start"]++
			if got, _ := s.Get(ctx, r.ID); got.Status != jobs.StatusRunning {
				t.Fatalf("started job status %s", got.Status)
			}
		default:
			t.Fatalf("both or neither won: delete=%v start=%+v", delErr, claim)
		}
	}
	t.Logf("wins: %v", wins)
	if n, _ := s.Count(ctx, jobs.StatusQueued); n != 0 {
		t.Errorf("%d jobs left in the queued index", n)
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	rs := redistest.Start(t)
	s := store.New(rs.Client())
	ctx := context.Background()
	var ids []string
	for range 25 {
		ids = append(ids, newJob(t, s).ID)
	}
	// Start every third so the running filter has something in it.
	var running []string
	for i := 0; i < len(ids); i += 3 {
		if _, err := s.Start(ctx, ids[i], time.Now()); err != nil {
			t.Fatal(err)
		}
		running = append(running, ids[i])
	}
	collect := func(st jobs.Status, limit int) []string {
		var out []string
		cursor := ""
		for {
			recs, next, err := s.List(ctx, st, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > limit {
				t.Fatalf("page of %d > limit %d", len(recs), limit)
			}
			for _, r := range recs {
				out = append(out, r.ID)
			}
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	all := collect("", 7)
	if len(all) != len(ids) {
		t.Fatalf("listed %d, want %d", len(all), len(ids))
	}
	for i := range all {
		if all[i] != ids[len(ids)-1-i] {
			t.Fatalf("position %d: %s, want %s (newest first)", i, all[i], ids[len(ids)-1-i])
		}
	}
	gotRunning := collect(jobs.StatusRunning, 2)
	if len(gotRunning) != len(running) || gotRunning[0] != running[len(running)-1] {
		t.Fatalf("running filter listed %v, want %v newest first", gotRunning, running)
	}
}
