package systemtest

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestWorkerRefusesBadConfig runs the real binary with bad environments: it
// must stop at once with exit code 2 and one line naming the variable.
func TestWorkerRefusesBadConfig(t *testing.T) {
	t.Parallel()
	bin := buildWorker(t)
	cases := []struct {
		env  []string
		says string
	}{
		{nil, "REDIS_ADDR is not set"},
		{[]string{"REDIS_ADDR=redis"}, "REDIS_ADDR=\"redis\" is not host:port"},
		{[]string{"REDIS_ADDR=redis:6379", "CONCURRENCY=lots"}, "CONCURRENCY=\"lots\" is invalid"},
		{[]string{"REDIS_ADDR=redis:6379", "PORT=0"}, "PORT=\"0\" is invalid"},
		{[]string{"REDIS_ADDR=redis:6379", "HOST=127.0.0.1:8080"}, "HOST=\"127.0.0.1:8080\" is invalid: it must be an IP address or host name to listen on, without a port"},
		{[]string{"REDIS_ADDR=redis:6379", "LOG_LEVEL=verbose"}, "LOG_LEVEL=\"verbose\" is invalid: it must be debug, info, warn or error"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin)
		cmd.Env = c.env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("env %v: exit %v, want code 2", c.env, err)
		}
		out := strings.TrimSuffix(stderr.String(), "\n")
		if !strings.Contains(out, c.says) || strings.Contains(out, "\n") {
			t.Errorf("env %v: stderr %q, want one line containing %q", c.env, out, c.says)
		}
	}
}
