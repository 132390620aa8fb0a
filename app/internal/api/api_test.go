package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/buildinfo"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/store"
	"github.com/example/jobs/app/internal/web"
)

// fakeStore keeps records in memory; down makes every call fail as if
// Redis were unreachable.
type fakeStore struct {
	mu   sync.Mutex
	recs map[string]*jobs.Record
	down bool
}

var errDown = errors.New("dial tcp: connection refused")

func (f *fakeStore) Create(_ context.Context, r *jobs.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	c := *r
	f.recs[r.ID] = &c
	return nil
}

func (f *fakeStore) Get(_ context.Context, id string) (*jobs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	r, ok := f.recs[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *r
	return &c, nil
}

func (f *fakeStore) List(_ context.Context, st jobs.Status, cursor string, limit int) ([]*jobs.Record, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, "", errDown
	}
	var ids []string
	for id, r := range f.recs {
		if (st == "" || r.Status == st) && (cursor == "" || id < cursor) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	next := ""
	if len(ids) > limit {
		ids, next = ids[:limit], ids[limit-1]
	}
	out := []*jobs.Record{}
	for _, id := range ids {
		out = append(out, f.recs[id])
	}
	return out, next, nil
}

func (f *fakeStore) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	r, ok := f.recs[id]
	if !ok {
		return store.ErrNotFound
	}
	if r.Status != jobs.StatusQueued || r.Attempts > 0 {
		return &store.StartedError{Status: r.Status, Attempts: r.Attempts}
	}
	delete(f.recs, id)
	return nil
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}

type fakeQueue struct {
	mu        sync.Mutex
	fail      bool
	enqueued  []string
	withdrawn []string
}

func (q *fakeQueue) Enqueue(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("queue write failed")
	}
	q.enqueued = append(q.enqueued, id)
	return nil
}

func (q *fakeQueue) Withdraw(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.withdrawn = append(q.withdrawn, id)
	return nil
}

type fixture struct {
	store *fakeStore
	queue *fakeQueue
	h     http.Handler
}

func newFixture() *fixture {
	f := &fixture{store: &fakeStore{recs: map[string]*jobs.Record{}}, queue: &fakeQueue{}}
	a := &API{Store: f.store, Queue: f.queue, Kinds: jobs.DefaultRegistry(),
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: metrics.New(),
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)) }}
	f.h = a.Handler()
	return f
}

func (f *fixture) do(method, path, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

// put stores a record directly, as a worker would have left it.
func (f *fixture) put(status jobs.Status, attempts int, result string) string {
	id := jobs.NewID(time.Now())
	r := &jobs.Record{ID: id, Kind: "primes", Status: status, Attempts: attempts, CreatedAt: time.Now().UTC(), Input: json.RawMessage(`{"start":1,"end":10}`)}
	if result != "" {
		r.Result = json.RawMessage(result)
	}
	f.store.recs[id] = r
	return id
}

func TestSubmit(t *testing.T) {
	const good = `{"kind":"primes","input":{"start":1,"end":10}}`
	cases := []struct {
		name, ctype, body string
		queueFails, down  bool
		code              int
		field, says       string
	}{
		{name: "created", ctype: "application/json", body: good, code: 201},
		{name: "charset param ok", ctype: "application/json; charset=utf-8", body: good, code: 201},
		{name: "no content type", body: good, code: 415, says: "Content-Type"},
		{name: "form content type", ctype: "application/x-www-form-urlencoded", body: good, code: 415, says: "application/json"},
		{name: "body too large", ctype: "application/json", body: `{"kind":"stats","input":{"values":[` + strings.Repeat("1.000000,", 200_000) + `1]}}`, code: 413, says: "larger than"},
		{name: "unknown kind", ctype: "application/json", body: `{"kind":"x","input":{}}`, code: 400, field: "kind", says: "primes, sleep, stats"},
		{name: "bad field", ctype: "application/json", body: `{"kind":"sleep","input":{"seconds":99}}`, code: 400, field: "input.seconds", says: "between 0 and 30"},
		{name: "too many values", ctype: "application/json", body: `{"kind":"stats","input":{"values":[` + strings.Repeat("1,", 10_000) + `1]}}`, code: 413, field: "input.values"},
		{name: "redis down", ctype: "application/json", body: good, down: true, code: 503, says: "redis is unavailable"},
		{name: "enqueue fails", ctype: "application/json", body: good, queueFails: true, code: 503, says: "redis is unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture()
			f.store.down, f.queue.fail = c.down, c.queueFails
			w := f.do("POST", "/jobs", c.ctype, c.body)
			if w.Code != c.code || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d (%s), want %d JSON: %s", w.Code, w.Header().Get("Content-Type"), c.code, w.Body)
			}
			if c.code != 201 {
				var e web.ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Field != c.field || !strings.Contains(e.Error, c.says) {
					t.Fatalf("error body %s: want field %q and text containing %q", w.Body, c.field, c.says)
				}
				if len(f.store.recs) != 0 {
					t.Fatalf("a refused submission left %d records", len(f.store.recs))
				}
				if c.code == http.StatusServiceUnavailable && (w.Header().Get("Retry-After") != "1" || w.Header().Get("Connection") != "close") {
					t.Errorf("503 headers %v: want Retry-After: 1 and Connection: close, so the retry may reach another pod", w.Header())
				}
				return
			}
			var rec jobs.Record
			if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if w.Header().Get("Location") != "/jobs/"+rec.ID || !jobs.ValidID(rec.ID) {
				t.Errorf("Location %q for id %q", w.Header().Get("Location"), rec.ID)
			}
			if rec.Status != jobs.StatusQueued || rec.Kind != "primes" || rec.Attempts != 0 || rec.StartedAt != nil ||
				!rec.CreatedAt.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) || !strings.Contains(w.Body.String(), `"created_at":"2026-01-02T02:04:05Z"`) {
				t.Errorf("record %s", w.Body)
			}
			if len(f.queue.enqueued) != 1 || f.queue.enqueued[0] != rec.ID {
				t.Errorf("enqueued %v, want [%s]", f.queue.enqueued, rec.ID)
			}
		})
	}
}

func TestReadAndDelete(t *testing.T) {
	f := newFixture()
	queued := f.put(jobs.StatusQueued, 0, "")
	retrying := f.put(jobs.StatusQueued, 1, "")
	running := f.put(jobs.StatusRunning, 1, "")
	done := f.put(jobs.StatusSucceeded, 1, `{"count":4}`)
	failed := f.put(jobs.StatusFailed, 4, "")
	missing := jobs.NewID(time.Now())

	cases := []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/jobs/" + done, 200, `"status":"succeeded"`},
		{"GET", "/jobs/" + missing, 404, "no job"},
		{"GET", "/jobs/not-an-id", 404, "24 lowercase hex"},
		{"GET", "/jobs/" + done + "/result", 200, `"result":{"count":4}`},
		{"GET", "/jobs/" + running + "/result", 409, `"status":"running"`},
		{"GET", "/jobs/" + failed + "/result", 409, "failed after 4 attempts"},
		{"DELETE", "/jobs/" + running, 409, "already started"},
		{"DELETE", "/jobs/" + retrying, 409, "already started"},
		{"DELETE", "/jobs/" + done, 409, "already started"},
		{"DELETE", "/jobs/" + missing, 404, "no job"},
		{"DELETE", "/jobs/" + queued, 204, ""},
		{"GET", "/jobs/" + queued, 404, "no job"},
		{"GET", "/jobs?limit=0", 400, `"field":"limit"`},
		{"GET", "/jobs?limit=101", 400, `"field":"limit"`},
		{"GET", "/jobs?status=done", 400, `"field":"status"`},
		{"GET", "/jobs?cursor=zz", 400, `"field":"cursor"`},
		{"GET", "/jobs?status=running", 200, running},
		{"PUT", "/jobs", 405, "not allowed"},
		{"GET", "/nowhere", 404, "no route"},
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/readyz", 200, "ready"},
		{"GET", "/version", 200, `"version":"` + buildinfo.Version + `"`},
	}
	for _, c := range cases {
		w := f.do(c.method, c.path, "", "")
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("%s %s = %d %s; want %d containing %q", c.method, c.path, w.Code, w.Body, c.code, c.says)
		}
		if c.code != 204 && w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want application/json", c.method, c.path, w.Header().Get("Content-Type"))
		}
	}
	if len(f.queue.withdrawn) != 1 || f.queue.withdrawn[0] != queued {
		t.Errorf("withdrawn %v, want only the deleted job", f.queue.withdrawn)
	}
	if w := f.do("PUT", "/jobs", "", ""); !strings.Contains(w.Header().Get("Allow"), "POST") {
		t.Errorf("405 Allow header = %q", w.Header().Get("Allow"))
	}

	f.store.down = true
	for _, p := range []string{"/readyz", "/jobs", "/jobs/" + done} {
		if w := f.do("GET", p, "", ""); w.Code != 503 {
			t.Errorf("Redis down: GET %s = %d, want 503", p, w.Code)
		}
	}
	if w := f.do("GET", "/healthz", "", ""); w.Code != 200 {
		t.Errorf("Redis down: healthz = %d, want 200 (liveness must not depend on Redis)", w.Code)
	}
}

func TestMetricsCountRequestsAndSubmissions(t *testing.T) {
	f := newFixture()
	f.do("POST", "/jobs", "application/json", `{"kind":"sleep","input":{"seconds":1}}`)
	f.do("GET", "/jobs/"+jobs.NewID(time.Now()), "", "")
	w := f.do("GET", "/metrics", "", "")
	body := w.Body.String()
	for _, want := range []string{
		`jobs_submitted_total{kind="sleep"} 1`,
		`jobs_http_requests_total{code="201",method="POST",route="POST /jobs"} 1`,
		`jobs_http_requests_total{code="404",method="GET",route="GET /jobs/{id}"} 1`,
		`jobs_http_request_duration_seconds_bucket{method="POST",route="POST /jobs",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
