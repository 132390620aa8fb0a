package acceptance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// jobsAPI talks to one environment's API through its NodePort, as a user outside the cluster.
type jobsAPI struct {
	url    string
	client *http.Client
}

func newJobsAPI(url string) *jobsAPI {
	return &jobsAPI{url: url, client: &http.Client{Timeout: 10 * time.Second}}
}

// record is a job as the API returns it.
type record struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error"`
	Result   json.RawMessage `json:"result"`
}

// reply is the API's answer to one POST /jobs.
type reply struct {
	code   int
	rec    record // when code is 201
	body   []byte
	closed bool // the API asked to close the connection (Connection: close)
}

// submit posts a job and returns the API's reply.
func (a *jobsAPI) submit(kind string, input any) (reply, error) {
	body, err := json.Marshal(map[string]any{"kind": kind, "input": input})
	if err != nil {
		return reply{}, err
	}
	resp, err := a.client.Post(a.url+"/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, body: b, closed: resp.Close}
	if r.code == http.StatusCreated {
		if err := json.Unmarshal(b, &r.rec); err != nil {
			return r, fmt.Errorf("POST /jobs answered %s", b)
		}
	}
	return r, nil
}

func (a *jobsAPI) mustSubmit(t *testing.T, kind string, input any) record {
	t.Helper()
	r, err := a.submit(kind, input)
	if err != nil || r.code != http.StatusCreated {
		t.Fatalf("POST %s/jobs %s: status %d, %v", a.url, kind, r.code, err)
	}
	return r.rec
}

func (a *jobsAPI) getJSON(path string, into any) (int, error) {
	resp, err := a.client.Get(a.url + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, json.Unmarshal(b, into)
}

func (a *jobsAPI) job(t *testing.T, id string) record {
	t.Helper()
	var rec record
	if _, err := a.getJSON("/jobs/"+id, &rec); err != nil {
		t.Fatalf("%s: %v", a.url, err)
	}
	return rec
}

// waitDone waits until a job has ended and returns it.
func (a *jobsAPI) waitDone(t *testing.T, id string, timeout time.Duration) record {
	t.Helper()
	var rec record
	eventually(t, timeout, "job "+id+" done", func() (bool, string) {
		if _, err := a.getJSON("/jobs/"+id, &rec); err != nil {
			return false, err.Error()
		}
		return rec.Status == "succeeded" || rec.Status == "failed", "status " + rec.Status
	})
	return rec
}

// currentVersion is what /version says.
func (a *jobsAPI) currentVersion() (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	_, err := a.getJSON("/version", &v)
	return v.Version, err
}

func (a *jobsAPI) version(t *testing.T) string {
	t.Helper()
	v, err := a.currentVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitVersion waits until /version reports want: right after a rollout, a kept-alive connection
// may still reach an old pod while it drains (the API's preStop sleep).
func (a *jobsAPI) waitVersion(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, a.url+"/version says "+want, func() (bool, string) {
		v, err := a.currentVersion()
		if err != nil {
			return false, err.Error()
		}
		return v == want, "it says " + v
	})
}

// list returns the newest jobs.
func (a *jobsAPI) list(t *testing.T, limit int) []record {
	t.Helper()
	var page struct {
		Jobs []record `json:"jobs"`
	}
	if _, err := a.getJSON(fmt.Sprintf("/jobs?limit=%d", limit), &page); err != nil {
		t.Fatal(err)
	}
	return page.Jobs
}

// waitReady waits until the API answers /readyz (Redis reachable).
func (a *jobsAPI) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, a.url+"/readyz", func() (bool, string) {
		resp, err := a.client.Get(a.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// submitRetrying submits like a client that follows the API's 503 contract (docs/api.md): wait
// Retry-After, then retry on a new connection, which the 503's Connection: close asks for. It
// returns the accepted record and how many 503s came first; a 503 without Connection: close, or
// any other refusal, fails the test.
func (a *jobsAPI) submitRetrying(t *testing.T, kind string, input any, timeout time.Duration) (record, int) {
	t.Helper()
	unavailable := 0
	for deadline := time.Now().Add(timeout); ; {
		r, err := a.submit(kind, input)
		switch {
		case err != nil:
			t.Fatalf("POST %s/jobs %s: %v", a.url, kind, err)
		case r.code == http.StatusCreated:
			return r.rec, unavailable
		case r.code != http.StatusServiceUnavailable:
			t.Fatalf("POST %s/jobs %s: status %d %s", a.url, kind, r.code, r.body)
		case !r.closed:
			t.Fatalf("POST %s/jobs answered 503 without Connection: close, so a retry comes back to the same pod: %s", a.url, r.body)
		case time.Now().After(deadline):
			t.Fatalf("POST %s/jobs still answers 503 after %s (%d times): %s", a.url, timeout, unavailable+1, r.body)
		}
		unavailable++
		time.Sleep(time.Second) // Retry-After: 1
	}
}

// checkPrimes submits primes 1..100 and checks the answer: 25 primes.
func (a *jobsAPI) checkPrimes(t *testing.T) record {
	t.Helper()
	// A NodePort the up just opened answers once kube-proxy has written its rules, which it does
	// on its own schedule after the Service exists (a review stack's first request was refused on
	// a busy machine); a client waits for /readyz, as make up's own check does.
	a.waitReady(t, time.Minute)
	return a.checkPrimesOf(t, a.mustSubmit(t, "primes", primes100))
}

// primes100 is checkPrimes's input: 25 primes.
var primes100 = map[string]int{"start": 1, "end": 100}

// checkPrimesOf waits for a submitted primes100 job and checks its answer.
func (a *jobsAPI) checkPrimesOf(t *testing.T, rec record) record {
	t.Helper()
	done := a.waitDone(t, rec.ID, time.Minute)
	var res struct {
		Count int `json:"count"`
	}
	if done.Status != "succeeded" || json.Unmarshal(done.Result, &res) != nil || res.Count != 25 {
		t.Fatalf("primes 1..100 through %s: %+v (result %s), want succeeded with count 25", a.url, done, done.Result)
	}
	return done
}

// load keeps submitting small jobs until stopped, and remembers every job the API accepted and
// how many submissions it refused or that failed on the way.
type load struct {
	api      *jobsAPI
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	accepted []string
	refused  map[string]int // reason -> count
}

func startLoad(api *jobsAPI, clients int) *load {
	l := &load{api: api, stop: make(chan struct{}), refused: map[string]int{}}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				r, err := api.submit("stats", map[string]any{"values": []float64{1, 2, 3, 4}})
				l.mu.Lock()
				switch {
				case err != nil:
					l.refused["error: "+err.Error()]++
				case r.code == http.StatusCreated:
					l.accepted = append(l.accepted, r.rec.ID)
				default:
					l.refused[fmt.Sprintf("HTTP %d", r.code)]++
				}
				l.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) finish() (accepted []string, refused map[string]int) {
	close(l.stop)
	l.wg.Wait()
	return l.accepted, l.refused
}
