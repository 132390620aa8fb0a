package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With STRESSSTOP_HELPER=1 this test binary is a stand-in for the tool: it starts the load and
// its signal handling as stress does, prints the spinners' pids and waits to be stopped.
func TestMain(m *testing.M) {
	if os.Getenv("STRESSSTOP_HELPER") == "1" {
		c := &cleanup{}
		c.onSignal()
		c.mu.Lock()
		l, err := startLoad(2)
		c.load = l
		c.mu.Unlock()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		for _, p := range l.procs {
			fmt.Println(p.Process.Pid)
		}
		select {}
	}
	os.Exit(m.Run())
}

// stat is a process's state and process group, from /proc; ok is false once it is gone.
func stat(pid int) (state string, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	pgrp, _ = strconv.Atoi(f[2])
	return f[0], pgrp, true
}

// alive: the process runs (a zombie has exited).
func alive(pid int) bool {
	state, _, ok := stat(pid)
	return ok && state != "Z" && state != "X"
}

// waitGone waits for the processes to end; a minute is a generous bound for a SIGKILL.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left := 0
		for _, p := range pids {
			if alive(p) {
				left++
			}
		}
		if left == 0 {
			return
		}
	}
	for _, p := range pids {
		if alive(p) {
			t.Errorf("spinner pid %d still runs; killing it", p)
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

func TestLoadRunsInAGroupOfItsOwnAndStops(t *testing.T) {
	l, err := startLoad(2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.stop()
	var pids []int
	for _, p := range l.procs {
		pid := p.Process.Pid
		pids = append(pids, pid)
		_, pgrp, ok := stat(pid)
		if !ok || pgrp != l.pgid || pgrp == syscall.Getpgrp() {
			t.Errorf("spinner %d is in group %d (ok %v); want the load's own group %d, not this process's %d", pid, pgrp, ok, l.pgid, syscall.Getpgrp())
		}
	}
	if len(pids) != 2 {
		t.Fatalf("%d spinners, want 2", len(pids))
	}
	l.stop()
	l.stop() // a second stop is harmless
	waitGone(t, pids)
}

// TestNothingOutlivesTheTool stops a stand-in of the tool each way it can end while the load runs,
// outright kill included, and checks that no spinner is left.
func TestNothingOutlivesTheTool(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "STRESSSTOP_HELPER=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var pids []int
			sc := bufio.NewScanner(out)
			for len(pids) < 2 && sc.Scan() {
				pid, err := strconv.Atoi(sc.Text())
				if err != nil {
					t.Fatalf("the stand-in said %q", sc.Text())
				}
				pids = append(pids, pid)
			}
			if len(pids) != 2 {
				_ = cmd.Process.Kill()
				t.Fatalf("the stand-in named %d spinners, want 2", len(pids))
			}
			for _, p := range pids {
				if !alive(p) {
					t.Errorf("spinner %d is not running before the stop", p)
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			waitGone(t, pids)
		})
	}
}
