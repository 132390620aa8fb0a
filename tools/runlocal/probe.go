package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// redisPing: Redis at addr answers PING with PONG.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

// httpOK: a GET of url answers 200.
func httpOK(url string) bool {
	resp, err := probeClient.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// smoke submits one primes job through the API and waits until the worker has run it.
func (r *localRun) smoke(ctx context.Context, api string) error {
	const job = `{"kind":"primes","input":{"start":1,"end":100}}`
	resp, err := probeClient.Post(api+"/jobs", "application/json", strings.NewReader(job))
	if err != nil {
		return fmt.Errorf("POST %s/jobs failed: %w", api, err)
	}
	var created struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.ID == "" {
		return fmt.Errorf("POST %s/jobs answered %s without an id (%v)", api, resp.Status, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		record, status, err := getJob(api + "/jobs/" + created.ID)
		if err != nil {
			return err
		}
		switch status {
		case "succeeded":
			fmt.Fprintln(r.out, record)
			r.say("smoke test passed: job %s succeeded", created.ID)
			return nil
		case "failed":
			fmt.Fprint(r.errs, r.servers[2].tail(20))
			return fmt.Errorf("job %s failed: %s", created.ID, record)
		}
		if time.Now().After(deadline) {
			fmt.Fprint(r.errs, r.servers[2].tail(20))
			return fmt.Errorf("job %s not done within 60s: %s", created.ID, record)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// getJob fetches a job record and its status.
func getJob(url string) (string, string, error) {
	resp, err := probeClient.Get(url)
	if err != nil {
		return "", "", fmt.Errorf("GET %s failed: %w", url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	var rec struct{ Status string }
	if err := json.NewDecoder(io.TeeReader(resp.Body, &b)).Decode(&rec); err != nil || resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET %s answered %s: %s", url, resp.Status, b.String())
	}
	return strings.TrimSpace(b.String()), rec.Status, nil
}
