package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// config is what the environment asks of a local run. Every key is read and checked here, before
// anything is built or started.
type config struct {
	version     string // VERSION: stamped into the binaries as the image build does
	smoke       bool   // RUN_SMOKE=1: start, run one job, stop
	logDir      string // RUN_LOG_DIR: where the logs go and stay; empty: the temporary folder
	concurrency string // CONCURRENCY: the worker's, passed on as given (the worker checks it)
	redisPort   int    // REDIS_PORT
	apiPort     int    // API_PORT
	workerPort  int    // WORKER_PORT
}

// portDefaults are the ports taken when none is set; a taken default moves up to a free one.
var portDefaults = []struct {
	key  string
	port int
}{{"REDIS_PORT", 6379}, {"API_PORT", 8080}, {"WORKER_PORT", 8081}}

// loadConfig reads the run's settings from getenv; say reports a default port that moved.
func loadConfig(getenv func(string) string, say func(string, ...any)) (config, error) {
	c := config{version: getenv("VERSION"), concurrency: getenv("CONCURRENCY")}
	if c.version == "" {
		c.version = "0.0.0-local"
	}
	if c.concurrency == "" {
		c.concurrency = "4"
	}
	switch v := getenv("RUN_SMOKE"); v {
	case "", "0":
	case "1":
		c.smoke = true
	default:
		return c, fmt.Errorf("RUN_SMOKE=%s: must be 1 (start, run one job, stop) or 0/unset (run until stopped)", v)
	}
	if d := getenv("RUN_LOG_DIR"); d != "" {
		abs, err := filepath.Abs(d)
		if err == nil {
			err = os.MkdirAll(abs, 0o755)
		}
		if err == nil {
			err = writable(abs)
		}
		if err != nil {
			return c, fmt.Errorf("RUN_LOG_DIR=%s is not a folder this user can write to (%v): create it or choose another", d, err)
		}
		c.logDir = abs
	}
	var taken []int
	for _, d := range portDefaults {
		p, err := pickPort(d.key, getenv(d.key), d.port, taken, say)
		if err != nil {
			return c, err
		}
		taken = append(taken, p)
	}
	c.redisPort, c.apiPort, c.workerPort = taken[0], taken[1], taken[2]
	if c.apiPort == c.workerPort || c.apiPort == c.redisPort || c.workerPort == c.redisPort {
		return c, fmt.Errorf("API_PORT, WORKER_PORT and REDIS_PORT must differ (got %d, %d, %d)", c.apiPort, c.workerPort, c.redisPort)
	}
	return c, nil
}

// pickPort: a port set in key must be a free port number; the default may move up by up to 99.
func pickPort(key, value string, def int, taken []int, say func(string, ...any)) (int, error) {
	if value != "" {
		p, err := strconv.Atoi(value)
		if err != nil || p < 1 || p > 65535 {
			return 0, fmt.Errorf("%s=%s is not a port number (1-65535)", key, value)
		}
		if portBusy(p) {
			return 0, fmt.Errorf("%s=%d is already in use on 127.0.0.1: choose another, e.g. %s=%d", key, p, key, p+100)
		}
		return p, nil
	}
	for p := def; p < def+100; p++ {
		if !portBusy(p) && !contains(taken, p) {
			if p != def {
				say("port %d is taken, using %d for %s", def, p, key)
			}
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port in %d-%d for %s: set %s to a free port", def, def+99, key, key)
}

// portBusy: something accepts connections on 127.0.0.1:p, or p cannot be bound there.
func portBusy(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return true
	}
	ln.Close()
	return false
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".run-local-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
