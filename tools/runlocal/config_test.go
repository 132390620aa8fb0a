package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// busyPort holds a listening port on 127.0.0.1 for the test.
func busyPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func noSay(string, ...any) {}

func TestConfigRefusesBadValuesNamingKeyValueAndRule(t *testing.T) {
	busy := strconv.Itoa(busyPort(t))
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{"API_PORT": freePort(t), "WORKER_PORT": freePort(t), "REDIS_PORT": freePort(t)}
	for _, c := range []struct {
		key, value string
		says       []string
	}{
		{"API_PORT", "eighty", []string{"API_PORT=eighty", "is not a port number (1-65535)"}},
		{"WORKER_PORT", "0", []string{"WORKER_PORT=0", "is not a port number (1-65535)"}},
		{"REDIS_PORT", "65536", []string{"REDIS_PORT=65536", "is not a port number (1-65535)"}},
		{"API_PORT", busy, []string{"API_PORT=" + busy, "already in use on 127.0.0.1", "choose another"}},
		{"WORKER_PORT", ports["API_PORT"], []string{"API_PORT, WORKER_PORT and REDIS_PORT must differ"}},
		{"RUN_SMOKE", "yes", []string{"RUN_SMOKE=yes", "must be 1"}},
		{"RUN_LOG_DIR", filepath.Join(file, "logs"), []string{"RUN_LOG_DIR=" + filepath.Join(file, "logs"), "not a folder this user can write to"}},
	} {
		kv := map[string]string{}
		for k, v := range ports {
			kv[k] = v
		}
		kv[c.key] = c.value
		_, err := loadConfig(env(kv), noSay)
		if err == nil {
			t.Errorf("%s=%s accepted", c.key, c.value)
			continue
		}
		for _, want := range c.says {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s=%s: error %q lacks %q", c.key, c.value, err, want)
			}
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	logs := filepath.Join(t.TempDir(), "new", "logs")
	ports := map[string]string{"API_PORT": freePort(t), "WORKER_PORT": freePort(t), "REDIS_PORT": freePort(t), "RUN_LOG_DIR": logs}
	c, err := loadConfig(env(ports), noSay)
	if err != nil {
		t.Fatal(err)
	}
	if c.version != "0.0.0-local" || c.concurrency != "4" || c.smoke || c.logDir != logs {
		t.Errorf("defaults: %+v", c)
	}
	if got, want := fmt.Sprintf("%d %d %d", c.apiPort, c.workerPort, c.redisPort), ports["API_PORT"]+" "+ports["WORKER_PORT"]+" "+ports["REDIS_PORT"]; got != want {
		t.Errorf("ports %d %d %d, want %v", c.apiPort, c.workerPort, c.redisPort, ports)
	}
	if st, err := os.Stat(logs); err != nil || !st.IsDir() {
		t.Errorf("RUN_LOG_DIR %s was not created: %v", logs, err)
	}
}

// A taken default port moves up and says so; a set port never moves.
func TestPickPortMovesATakenDefault(t *testing.T) {
	def := busyPort(t)
	var said []string
	say := func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) }
	p, err := pickPort("API_PORT", "", def, []int{def + 1}, say)
	if err != nil {
		t.Fatal(err)
	}
	if p <= def+1 || p >= def+100 {
		t.Errorf("picked %d; want a free port above %d (taken) and %d (given to another server)", p, def, def+1)
	}
	if want := fmt.Sprintf("port %d is taken, using %d for API_PORT", def, p); len(said) != 1 || said[0] != want {
		t.Errorf("said %q, want %q", said, want)
	}
}
