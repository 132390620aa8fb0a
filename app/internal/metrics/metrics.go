// Package metrics holds the Prometheus collectors both processes export.
package metrics

import (
	"context"
	"time"

	"github.com/example/jobs/app/internal/jobs"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is one process's collectors, on its own registry so tests can make
// as many as they like without clashing on the global one.
type Metrics struct {
	Registry        *prometheus.Registry
	Requests        *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	Submitted       *prometheus.CounterVec
	Outcomes        *prometheus.CounterVec
	JobDuration     *prometheus.HistogramVec
}

// New registers the collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jobs_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		Submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_submitted_total", Help: "Jobs accepted by the API, by kind.",
		}, []string{"kind"}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_outcomes_total", Help: "Job attempts finished by the worker, by kind and outcome (succeeded, failed, retry, requeued).",
		}, []string{"kind", "outcome"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jobs_run_duration_seconds", Help: "Time a worker spent running one attempt, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12),
		}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.Requests, m.RequestDuration, m.Submitted, m.Outcomes, m.JobDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// StatusCounter reads how many jobs have a status (store.Store does).
type StatusCounter interface {
	Count(ctx context.Context, st jobs.Status) (int64, error)
}

// depth reads the per-status counts from Redis at scrape time, so the gauge
// is the store's truth rather than what this one process has seen.
type depth struct {
	desc     *prometheus.Desc
	count    StatusCounter
	statuses []jobs.Status
}

// RegisterQueueDepth adds jobs_queue_depth{status} for queued and running
// jobs.
func (m *Metrics) RegisterQueueDepth(count StatusCounter) {
	m.Registry.MustRegister(&depth{
		desc:     prometheus.NewDesc("jobs_queue_depth", "Jobs currently queued or running, as recorded in Redis.", []string{"status"}, nil),
		count:    count,
		statuses: []jobs.Status{jobs.StatusQueued, jobs.StatusRunning},
	})
}

func (d *depth) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *depth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, st := range d.statuses {
		n, err := d.count.Count(ctx, st)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(d.desc, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(n), string(st))
	}
}
