package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI answers like the jobs API, running each job at once with the result its kind gives;
// fault changes one answer, to show each check catches what it is for.
type fakeAPI struct {
	mu      sync.Mutex
	jobs    []jobRecord
	version string
	fault   string
}

var results = map[string]string{
	"primes": `{"start":1,"end":100,"count":25}`,
	"stats":  `{"count":4,"sum":10,"min":1,"max":4,"mean":2.5,"stddev":1.118033988749895}`,
	"sleep":  `{"slept_seconds":0.2}`,
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/healthz":
		w.Write([]byte(`{"status":"ok"}`))
	case r.URL.Path == "/readyz":
		if f.fault == "unready" {
			http.Error(w, `{"error":"redis does not answer"}`, 503)
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	case r.URL.Path == "/version":
		fmt.Fprintf(w, `{"version":%q}`, f.version)
	case r.Method == "POST" && r.URL.Path == "/jobs":
		if f.fault == "refuse" {
			http.Error(w, `{"error":"internal error"}`, 500)
			return
		}
		var sub struct{ Kind string }
		json.NewDecoder(r.Body).Decode(&sub)
		res := results[sub.Kind]
		if f.fault == "wrong-"+sub.Kind {
			res = strings.Replace(strings.Replace(res, "25", "24", 1), "2.5", "2.4", 1)
			res = strings.Replace(res, `"slept_seconds":0.2`, `"slept_seconds":0.1`, 1)
		}
		rec := jobRecord{ID: fmt.Sprintf("%024d", len(f.jobs)+1), Kind: sub.Kind, Status: "succeeded", Attempts: 1, Result: json.RawMessage(res)}
		if f.fault == "fail" {
			rec.Status, rec.Error, rec.Result = "failed", "worker lost", nil
		}
		f.jobs = append(f.jobs, rec)
		if f.fault == "not-created" {
			w.WriteHeader(200) // a record, but not the 201 Created the API promises
		} else {
			w.WriteHeader(201)
		}
		json.NewEncoder(w).Encode(jobRecord{ID: rec.ID, Kind: rec.Kind, Status: "queued"})
	case r.URL.Path == "/jobs":
		shown := f.jobs
		if f.fault == "unlisted" {
			shown = nil
		}
		json.NewEncoder(w).Encode(map[string]any{"jobs": shown})
	case strings.HasPrefix(r.URL.Path, "/jobs/"):
		id, result := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/jobs/"), "/result")
		for _, j := range f.jobs {
			if j.ID == id {
				if result {
					// As the real API answers (app/internal/api): the result inside its job's id and kind.
					json.NewEncoder(w).Encode(map[string]any{"id": j.ID, "kind": j.Kind, "result": j.Result})
				} else {
					json.NewEncoder(w).Encode(j)
				}
				return
			}
		}
		http.Error(w, `{"error":"no such job"}`, 404)
	default:
		http.NotFound(w, r)
	}
}

func TestCheckOutside(t *testing.T) {
	for _, c := range []struct {
		fault, version string
		failed         []string
		says           string
	}{
		{"", "0.2.0", nil, ""},
		{"refuse", "0.2.0", []string{"outside: a primes job submitted, run and fetched", "outside: a stats job submitted, run and fetched", "outside: a sleep job submitted, run and fetched", "outside: GET /jobs lists the jobs submitted"},
			`POST /jobs {"kind":"primes","input":{"start":1,"end":100}} answered 500 {"error":"internal error"}, want 201 with the job's record: the API refuses a valid submission`},
		{"unready", "0.2.0", []string{"outside: GET /readyz"}, `answered 503 {"error":"redis does not answer"}, want 200`},
		{"", "0.1.9", []string{"outside: GET /version is the deployed version 0.2.0"}, `answered 200 {"version":"0.1.9"}: the pods behind the NodePort do not run the version the stack deployed`},
		{"wrong-primes", "0.2.0", []string{"outside: a primes job submitted, run and fetched"}, `succeeded with the wrong result {"start":1,"end":100,"count":24}, want 25 primes from 1 to 100`},
		{"not-created", "0.2.0", []string{"outside: a primes job submitted, run and fetched", "outside: a stats job submitted, run and fetched", "outside: a sleep job submitted, run and fetched", "outside: GET /jobs lists the jobs submitted"},
			`answered 200 {"id":"000000000000000000000001"`},
		{"wrong-stats", "0.2.0", []string{"outside: a stats job submitted, run and fetched"}, "want count 4, sum 10, min 1, max 4, mean 2.5"},
		{"wrong-sleep", "0.2.0", []string{"outside: a sleep job submitted, run and fetched"}, "want slept_seconds 0.2"},
		{"fail", "0.2.0", []string{"outside: a primes job submitted, run and fetched", "outside: a stats job submitted, run and fetched", "outside: a sleep job submitted, run and fetched", "outside: GET /jobs lists the jobs submitted"},
			"ended failed after 1 attempts: worker lost"},
		{"unlisted", "0.2.0", []string{"outside: GET /jobs lists the jobs submitted"}, "the newest 100 jobs do not include"},
	} {
		t.Run(c.fault+c.version, func(t *testing.T) {
			srv := httptest.NewServer(&fakeAPI{version: c.version, fault: c.fault})
			defer srv.Close()
			var out bytes.Buffer
			r := &report{out: &out}
			checkOutside(t.Context(), r, deployed{stack: "test", version: "0.2.0", url: srv.URL, namespace: "test-jobs"}, time.Minute)
			if fmt.Sprint(r.failed) != fmt.Sprint(c.failed) || r.total != 7 {
				t.Errorf("failed %q of %d, want %q of 7:\n%s", r.failed, r.total, c.failed, out.String())
			}
			if !strings.Contains(out.String(), c.says) {
				t.Errorf("output does not say %q:\n%s", c.says, out.String())
			}
		})
	}
}

func TestDeployedOf(t *testing.T) {
	_, err := deployedOf("test", map[string]any{"version": "0.2.0", "url": "http://x", "apiImage": "a"})
	if err == nil || !strings.Contains(err.Error(), "stack test exports no") || !strings.Contains(err.Error(), "workerImage") || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("outputs without namespace and workerImage: %v", err)
	}
}

// A page of jobs is far longer than a line of a report: the listing check must read it whole
// (the acceptance test's test stack lists hundreds of jobs with their results).
func TestClientReadsALongAnswerWhole(t *testing.T) {
	page := `{"jobs":[` + strings.Repeat(`{"id":"x","kind":"primes","result":{"start":1,"end":100,"count":25}},`, 200) + `{"id":"last"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(page)) }))
	defer srv.Close()
	c := &client{base: srv.URL, http: srv.Client()}
	code, body, err := c.do(context.Background(), http.MethodGet, "/jobs?limit=100", "")
	if err != nil || code != 200 || body != page {
		t.Fatalf("got %d, %d of %d bytes, %v: want the whole page", code, len(body), len(page), err)
	}
	if b := brief(body); len(b) > 400 || !strings.Contains(b, "bytes)") {
		t.Errorf("brief gives %d bytes: %q", len(b), b)
	}
}

// A NodePort that starts answering a few seconds after the check begins (kube-proxy still writing
// its rules) is waited for, not reported as unreachable.
func TestCheckOutsideWaitsForANewNodePort(t *testing.T) {
	f := &fakeAPI{version: "0.2.0"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused until the server below takes the port
	srv := &http.Server{Addr: addr, Handler: f}
	go func() {
		time.Sleep(2 * time.Second)
		srv.ListenAndServe()
	}()
	t.Cleanup(func() { srv.Close() })
	r := &report{out: io.Discard}
	checkOutside(t.Context(), r, deployed{stack: "test", version: "0.2.0", url: "http://" + addr, namespace: "test-jobs"}, time.Minute)
	if len(r.failed) > 0 {
		t.Errorf("failed checks %v for a NodePort that answered after 2 s", r.failed)
	}
}
