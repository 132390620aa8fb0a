package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func TestWords(t *testing.T) {
	for want, names := range map[string][]string{
		"":                      nil,
		"Redis":                 {"Redis"},
		"API and Redis":         {"API", "Redis"},
		"worker, API and Redis": {"worker", "API", "Redis"},
		"a, b, c and d":         {"a", "b", "c", "d"},
	} {
		if got := words(names); got != want {
			t.Errorf("words(%q) = %q, want %q", names, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		script, want string
	}{
		{"exit 0", "exit status 0"},
		{"exit 3", "exit status 3"},
		{"kill -KILL $$", "exit status 137, killed by SIGKILL"},
		{"kill -TERM $$", "exit status 143, killed by SIGTERM"},
	} {
		cmd := exec.Command("/bin/sh", "-c", c.script)
		_ = cmd.Run()
		if got := describe(cmd.ProcessState); got != c.want {
			t.Errorf("%s: describe = %q, want %q", c.script, got, c.want)
		}
	}
}

func TestStopReason(t *testing.T) {
	for sig, want := range map[os.Signal]string{os.Interrupt: "Ctrl-C", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"} {
		if got := stopReason(sig); got != want {
			t.Errorf("stopReason(%v) = %q, want %q", sig, got, want)
		}
	}
}
