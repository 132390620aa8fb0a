package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// jobCheck is one job kind with an input whose result is known.
type jobCheck struct {
	kind  string
	input string
	// want checks the result; it says what differs.
	want func(result json.RawMessage) error
}

// jobChecks covers every kind the service runs (docs/api.md).
var jobChecks = []jobCheck{
	{"primes", `{"start":1,"end":100}`, func(res json.RawMessage) error {
		var r struct{ Start, End, Count int64 }
		if err := json.Unmarshal(res, &r); err != nil || r.Start != 1 || r.End != 100 || r.Count != 25 {
			return fmt.Errorf("result %s, want 25 primes from 1 to 100", res)
		}
		return nil
	}},
	{"stats", `{"values":[1,2,3,4]}`, func(res json.RawMessage) error {
		var r struct {
			Count                       int
			Sum, Min, Max, Mean, Stddev float64
		}
		err := json.Unmarshal(res, &r)
		if err != nil || r.Count != 4 || r.Sum != 10 || r.Min != 1 || r.Max != 4 || r.Mean != 2.5 || math.Abs(r.Stddev-math.Sqrt(1.25)) > 1e-9 {
			return fmt.Errorf("result %s, want count 4, sum 10, min 1, max 4, mean 2.5, stddev %.6f of [1,2,3,4]", res, math.Sqrt(1.25))
		}
		return nil
	}},
	{"sleep", `{"seconds":0.2}`, func(res json.RawMessage) error {
		var r struct {
			Slept float64 `json:"slept_seconds"`
		}
		if err := json.Unmarshal(res, &r); err != nil || r.Slept != 0.2 {
			return fmt.Errorf("result %s, want slept_seconds 0.2", res)
		}
		return nil
	}},
}

type jobRecord struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error"`
	Result   json.RawMessage `json:"result"`
}

// checkOutside checks the service through its NodePort, as a client outside the cluster sees it.
func checkOutside(ctx context.Context, r *report, d deployed, timeout time.Duration) {
	c := &client{base: d.url, http: &http.Client{Timeout: 15 * time.Second}}
	// A Service created moments ago answers on its NodePort only once kube-proxy has written its
	// rules (make up verifies right after test's first up): a refused connection is waited out,
	// within the timeout, before anything is judged. Any answer ends the wait.
	c.waitAnswer(ctx, "/healthz", timeout)
	for _, path := range []string{"/healthz", "/readyz"} {
		name := "outside: GET " + path
		if code, body, err := c.do(ctx, http.MethodGet, path, ""); err != nil {
			r.fail(name, fmt.Sprintf("no answer from %s%s: %v; is the NodePort reachable from here (the stack's url output, jobs:nodeHost)?", d.url, path, err))
		} else if code != http.StatusOK {
			r.fail(name, fmt.Sprintf("answered %d %s, want 200; see the API pods' logs (kubectl logs -n %s -l app.kubernetes.io/component=api)", code, body, d.namespace))
		} else {
			r.pass(name, "200")
		}
	}
	name := "outside: GET /version is the deployed version " + d.version
	if code, body, err := c.do(ctx, http.MethodGet, "/version", ""); err != nil {
		r.fail(name, err.Error())
	} else {
		var v struct{ Version string }
		if json.Unmarshal([]byte(body), &v); code != http.StatusOK || v.Version != d.version {
			r.fail(name, fmt.Sprintf("answered %d %s: the pods behind the NodePort do not run the version the stack deployed (a rollout not finished, or another build)", code, body))
		} else {
			r.pass(name, body)
		}
	}

	var done []string
	for _, j := range jobChecks {
		name := "outside: a " + j.kind + " job submitted, run and fetched"
		id, why := c.runJob(ctx, j, timeout)
		if why != "" {
			r.fail(name, why)
			continue
		}
		done = append(done, id)
		r.pass(name, "job "+id+" succeeded with the right result")
	}
	name = "outside: GET /jobs lists the jobs submitted"
	if len(done) == 0 {
		r.fail(name, "no job was accepted, so there is nothing to list")
		return
	}
	code, body, err := c.do(ctx, http.MethodGet, "/jobs?limit=100", "")
	var page struct {
		Jobs []jobRecord `json:"jobs"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
		r.fail(name, fmt.Sprintf("answered %d %s %v, want 200 with a page of jobs", code, brief(body), err))
		return
	}
	var missing []string
	for _, id := range done {
		if !slices.ContainsFunc(page.Jobs, func(j jobRecord) bool { return j.ID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		r.fail(name, fmt.Sprintf("the newest 100 jobs do not include %s, submitted moments ago", strings.Join(missing, ", ")))
		return
	}
	r.pass(name, fmt.Sprintf("%d of %d", len(done), len(done)))
}

// runJob submits a job, waits for it to end, checks its record and its result, and says what went
// wrong in words a reviewer can act on ("" when nothing did).
func (c *client) runJob(ctx context.Context, j jobCheck, timeout time.Duration) (id, why string) {
	body := fmt.Sprintf(`{"kind":%q,"input":%s}`, j.kind, j.input)
	code, answer, err := c.do(ctx, http.MethodPost, "/jobs", body)
	if err != nil {
		return "", "POST /jobs: " + err.Error()
	}
	var rec jobRecord
	if code != http.StatusCreated || json.Unmarshal([]byte(answer), &rec) != nil || rec.ID == "" {
		return "", fmt.Sprintf("POST /jobs %s answered %d %s, want 201 with the job's record: the API refuses a valid submission", body, code, answer)
	}
	deadline := time.Now().Add(timeout)
	for rec.Status != "succeeded" && rec.Status != "failed" {
		if time.Now().After(deadline) {
			return rec.ID, fmt.Sprintf("job %s still %s after %s (attempts %d, error %q): are the worker pods running and reaching Redis?", rec.ID, rec.Status, timeout, rec.Attempts, rec.Error)
		}
		select {
		case <-ctx.Done():
			return rec.ID, ctx.Err().Error()
		case <-time.After(200 * time.Millisecond):
		}
		code, answer, err = c.do(ctx, http.MethodGet, "/jobs/"+rec.ID, "")
		if err != nil || code != http.StatusOK || json.Unmarshal([]byte(answer), &rec) != nil {
			return rec.ID, fmt.Sprintf("GET /jobs/%s answered %d %s %v, want 200 with its record", rec.ID, code, answer, err)
		}
	}
	if rec.Status != "succeeded" {
		return rec.ID, fmt.Sprintf("job %s ended %s after %d attempts: %s", rec.ID, rec.Status, rec.Attempts, rec.Error)
	}
	if err := j.want(rec.Result); err != nil {
		return rec.ID, fmt.Sprintf("job %s succeeded with the wrong %s", rec.ID, err)
	}
	code, answer, err = c.do(ctx, http.MethodGet, "/jobs/"+rec.ID+"/result", "")
	if err != nil || code != http.StatusOK {
		return rec.ID, fmt.Sprintf("GET /jobs/%s/result answered %d %s %v, want 200 with the result", rec.ID, code, answer, err)
	}
	// The result endpoint answers {"id", "kind", "result"} (docs/api.md), not the bare result.
	var res struct {
		ID     string          `json:"id"`
		Kind   string          `json:"kind"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(answer), &res); err != nil || res.ID != rec.ID || res.Kind != j.kind {
		return rec.ID, fmt.Sprintf("GET /jobs/%s/result answered %s, want {\"id\":%q,\"kind\":%q,\"result\":...}", rec.ID, answer, rec.ID, j.kind)
	}
	if err := j.want(res.Result); err != nil {
		return rec.ID, fmt.Sprintf("GET /jobs/%s/result: %v", rec.ID, err)
	}
	return rec.ID, ""
}

// waitAnswer polls path until the API answers at all (any status) or timeout passes.
func (c *client) waitAnswer(ctx context.Context, path string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if _, _, err := c.do(ctx, http.MethodGet, path, ""); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// client talks to the API at base.
type client struct {
	base string
	http *http.Client
}

// do sends one request and returns the status and the body.
func (c *client) do(ctx context.Context, method, path, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	// Whole, up to a bound no answer of the API nears: a page of 100 jobs with their results is
	// tens of KiB, and a cut one would not decode.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

const maxBody = 4 << 20

// brief shortens an answer for a message a person reads.
func brief(body string) string {
	const n = 300
	if len(body) <= n {
		return body
	}
	return body[:n] + fmt.Sprintf("... (%d bytes)", len(body))
}
