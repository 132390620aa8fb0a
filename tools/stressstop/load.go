package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// load is the busy processes that keep the cores busy during a stress run: shells spinning in a
// process group of their own, so that one kill reaches them all and nothing else.
type load struct {
	pgid  int
	procs []*exec.Cmd
}

// spin is the busy loop: a shell builtin loop, no process started per turn.
const spin = "while :; do :; done"

// startLoad starts n spinners in a new process group. Each dies with this process (Pdeathsig)
// should it be killed outright; otherwise stop ends them. The caller keeps the thread that starts
// them (runtime.LockOSThread in main): Pdeathsig follows the thread, not the process.
func startLoad(n int) (*load, error) {
	l := &load{}
	for i := 0; i < n; i++ {
		cmd := exec.Command("/bin/sh", "-c", spin)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: l.pgid, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			l.stop()
			return nil, fmt.Errorf("start spinner %d: %w", i+1, err)
		}
		if l.pgid == 0 {
			l.pgid = cmd.Process.Pid
		}
		l.procs = append(l.procs, cmd)
	}
	return l, nil
}

// stop kills the whole group and reaps every spinner. It may be called more than once.
func (l *load) stop() {
	if l == nil || l.pgid == 0 {
		return
	}
	_ = syscall.Kill(-l.pgid, syscall.SIGKILL)
	for _, c := range l.procs {
		_ = c.Wait()
	}
	l.pgid, l.procs = 0, nil
}

// cpuTimes are the machine's busy and total CPU time so far, in clock ticks, from /proc/stat.
func cpuTimes() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat starts with %q, not the cpu line", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %q: %w", line, err)
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}
