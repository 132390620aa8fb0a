package systemtest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/api"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/redistest"
	dto "github.com/prometheus/client_model/go"
)

func TestSubmitRunResult(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())
	_, m := startWorkerMetrics(t, rs.Addr, jobs.DefaultRegistry(), 4)

	cases := []struct {
		kind  string
		input any
		want  string
	}{
		{"primes", map[string]any{"start": 1, "end": 100}, `{"start":1,"end":100,"count":25}`},
		{"primes", map[string]any{"start": 1000000, "end": 2000000}, `{"start":1000000,"end":2000000,"count":70435}`},
		{"stats", map[string]any{"values": []float64{2, 4, 4, 4, 5, 5, 7, 9}}, `{"count":8,"sum":40,"min":2,"max":9,"mean":5,"stddev":2}`},
		{"sleep", map[string]any{"seconds": 0.2}, `{"slept_seconds":0.2}`},
	}
	for _, c := range cases {
		rec := submit(t, base, c.kind, c.input)
		if rec.Status != jobs.StatusQueued || rec.Attempts != 0 || rec.CreatedAt.Location() != time.UTC {
			t.Errorf("new %s job: %+v", c.kind, rec)
		}
		done := waitFor(t, base, rec.ID, 20*time.Second, finished)
		if done.Status != jobs.StatusSucceeded || done.Attempts != 1 || done.StartedAt == nil || done.FinishedAt == nil {
			t.Fatalf("%s job did not succeed once: %+v", c.kind, done)
		}
		if done.FinishedAt.Before(*done.StartedAt) || done.StartedAt.Before(done.CreatedAt) {
			t.Errorf("%s job times out of order: %+v", c.kind, done)
		}
		r := do(t, "GET", base+"/jobs/"+rec.ID+"/result", nil)
		res := decode[api.ResultBody](t, r)
		got := res.Result
		if r.Code != http.StatusOK || string(got) != c.want {
			t.Errorf("%s result = %d %s, want %s", c.kind, r.Code, got, c.want)
		}
		if r := do(t, "DELETE", base+"/jobs/"+rec.ID, nil); r.Code != http.StatusConflict {
			t.Errorf("DELETE finished job = %d %s, want 409", r.Code, r.Body)
		}
	}
	var c dto.Metric
	if err := m.Outcomes.WithLabelValues("primes", "succeeded").Write(&c); err != nil || c.GetCounter().GetValue() != 2 {
		n := c.GetCounter().GetValue()
		t.Errorf("worker counted %v succeeded primes jobs, want 2", n)
	}
}

func TestListNewestFirstWithFilterAndCursor(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())

	var ids []string
	for i := range 7 {
		ids = append(ids, submit(t, base, "stats", map[string]any{"values": []int{i}}).ID)
	}
	// No worker runs, so all are queued; run none and delete one to check
	// the indexes follow deletes.
	if r := do(t, "DELETE", base+"/jobs/"+ids[3], nil); r.Code != http.StatusNoContent {
		t.Fatalf("DELETE queued job = %d %s", r.Code, r.Body)
	}
	if r := do(t, "GET", base+"/jobs/"+ids[3], nil); r.Code != http.StatusNotFound {
		t.Fatalf("GET deleted job = %d", r.Code)
	}
	want := []string{ids[6], ids[5], ids[4], ids[2], ids[1], ids[0]}

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		url := base + "/jobs?status=queued&limit=4"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		r := do(t, "GET", url, nil)
		page := decode[api.ListPage](t, r)
		for _, j := range page.Jobs {
			got = append(got, j.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("listed %v, want newest first %v", got, want)
		}
	}
	if page := decode[api.ListPage](t, do(t, "GET", base+"/jobs?status=succeeded", nil)); len(page.Jobs) != 0 {
		t.Errorf("succeeded filter listed %d jobs, want 0", len(page.Jobs))
	}
	if r := do(t, "GET", base+"/metrics", nil); !strings.Contains(string(r.Body), `jobs_queue_depth{status="queued"} 6`) {
		t.Errorf("metrics do not show 6 queued jobs:\n%s", r.Body)
	}
}
