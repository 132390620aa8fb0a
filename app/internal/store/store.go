// Package store keeps job records in Redis: one hash per job plus sorted-set
// indexes (all jobs, and one per status) that list newest first without a
// KEYS scan.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/redis/go-redis/v9"
)

// Key prefix: separate from asynq's "asynq:" keys in the same database.
const prefix = "jobs:"

// ErrNotFound means no job has that id.
var ErrNotFound = errors.New("job not found")

// StartedError is returned by Delete for a job that has already started.
type StartedError struct {
	Status   jobs.Status
	Attempts int
}

func (e *StartedError) Error() string {
	return fmt.Sprintf("job has already started (status %s, attempts %d); only a queued job that never ran can be deleted", e.Status, e.Attempts)
}

// Store reads and writes job records.
type Store struct {
	rdb redis.UniversalClient
}

// New wraps a Redis client.
func New(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

func jobKey(id string) string        { return prefix + "job:" + id }
func indexKey(st jobs.Status) string { return prefix + "index:" + string(st) }
func allKey() string                 { return prefix + "index:all" }
func formatTime(t time.Time) string  { return t.UTC().Format(time.RFC3339Nano) }
func scriptKeys(id string) []string {
	return []string{jobKey(id), indexKey(jobs.StatusQueued), indexKey(jobs.StatusRunning),
		indexKey(jobs.StatusSucceeded), indexKey(jobs.StatusFailed), allKey()}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Create writes a new queued record and its index entries in one MULTI, so
// a record is never listed without its hash or the other way round.
func (s *Store) Create(ctx context.Context, r *jobs.Record) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, jobKey(r.ID),
			"id", r.ID, "kind", r.Kind, "status", string(jobs.StatusQueued), "attempts", 0,
			"error", "", "created_at", formatTime(r.CreatedAt), "input", string(r.Input))
		p.ZAdd(ctx, allKey(), redis.Z{Member: r.ID})
		p.ZAdd(ctx, indexKey(jobs.StatusQueued), redis.Z{Member: r.ID})
		return nil
	})
	return err
}

// Get reads one record.
func (s *Store) Get(ctx context.Context, id string) (*jobs.Record, error) {
	m, err := s.rdb.HGetAll(ctx, jobKey(id)).Result()
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, ErrNotFound
	}
	return parseRecord(m)
}

// List returns up to limit records, newest first, after cursor (the last id
// of the previous page; "" for the first page), optionally only one status.
// next is "" on the last page.
func (s *Store) List(ctx context.Context, status jobs.Status, cursor string, limit int) (recs []*jobs.Record, next string, err error) {
	key := allKey()
	if status != "" {
		key = indexKey(status)
	}
	maxLex := "+"
	if cursor != "" {
		maxLex = "(" + cursor
	}
	ids, err := s.rdb.ZRevRangeByLex(ctx, key, &redis.ZRangeBy{Max: maxLex, Min: "-", Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, "", err
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, jobKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	recs = make([]*jobs.Record, 0, len(ids))
	for _, c := range cmds {
		m := c.Val()
		if len(m) == 0 {
			continue // deleted between the index read and the hash read
		}
		r, err := parseRecord(m)
		if err != nil {
			return nil, "", err
		}
		recs = append(recs, r)
	}
	if more {
		next = ids[len(ids)-1]
	}
	return recs, next, nil
}

// Delete removes a job that has never started.
func (s *Store) Delete(ctx context.Context, id string) error {
	res, err := deleteScript.Run(ctx, s.rdb, scriptKeys(id), id).StringSlice()
	if err != nil {
		return err
	}
	switch res[0] {
	case "missing":
		return ErrNotFound
	case "started":
		n, _ := strconv.Atoi(res[2])
		return &StartedError{Status: jobs.Status(res[1]), Attempts: n}
	}
	return nil
}

// Claim is what a worker learns when it starts a job.
type Claim struct {
	// Outcome: "ok" to run, "gone" if the job was deleted, "done" if it
	// already finished (a redelivery after the record was written).
	Outcome  string
	Kind     string
	Input    json.RawMessage
	Attempts int
}

// Start marks a job running and counts the attempt.
func (s *Store) Start(ctx context.Context, id string, now time.Time) (Claim, error) {
	res, err := startScript.Run(ctx, s.rdb, scriptKeys(id), id, formatTime(now)).StringSlice()
	if err != nil {
		return Claim{}, err
	}
	c := Claim{Outcome: res[0]}
	if c.Outcome == "ok" {
		c.Kind, c.Input = res[1], json.RawMessage(res[2])
		c.Attempts, _ = strconv.Atoi(res[3])
	}
	return c, nil
}

// Finish moves a running job to succeeded, failed, or back to queued (a
// retry is due). It reports false when the job was not running.
func (s *Store) Finish(ctx context.Context, id string, to jobs.Status, now time.Time, result json.RawMessage, errMsg string) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, scriptKeys(id), id, string(to), formatTime(now), string(result), errMsg).Int()
	return n == 1, err
}

// Count returns how many jobs have a status; used for queue depth.
func (s *Store) Count(ctx context.Context, st jobs.Status) (int64, error) {
	return s.rdb.ZCard(ctx, indexKey(st)).Result()
}

func parseRecord(m map[string]string) (*jobs.Record, error) {
	r := &jobs.Record{ID: m["id"], Kind: m["kind"], Status: jobs.Status(m["status"]), Error: m["error"]}
	var err error
	if r.Attempts, err = strconv.Atoi(m["attempts"]); err != nil {
		return nil, fmt.Errorf("job %s: bad attempts %q", r.ID, m["attempts"])
	}
	if r.CreatedAt, err = time.Parse(time.RFC3339Nano, m["created_at"]); err != nil {
		return nil, fmt.Errorf("job %s: bad created_at: %w", r.ID, err)
	}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"started_at", &r.StartedAt}, {"finished_at", &r.FinishedAt}} {
		if v := m[f.name]; v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("job %s: bad %s: %w", r.ID, f.name, err)
			}
			*f.dst = &t
		}
	}
	if v := m["input"]; v != "" {
		r.Input = json.RawMessage(v)
	}
	if v := m["result"]; v != "" {
		r.Result = json.RawMessage(v)
	}
	return r, nil
}

// IDs lists up to n ids with a status, newest first.
func (s *Store) IDs(ctx context.Context, st jobs.Status, n int) ([]string, error) {
	return s.rdb.ZRevRangeByLex(ctx, indexKey(st), &redis.ZRangeBy{Max: "+", Min: "-", Count: int64(n)}).Result()
}
