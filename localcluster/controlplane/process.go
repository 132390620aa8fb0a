package controlplane

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidsFile lists, one per line, "name pid executable" for every process a
// run started, in start order; Stop walks it backwards.
const pidsFile = "pids"

type process struct {
	Name string
	Pid  int
	Exe  string
}

// startProcess launches exe in its own process group with output in
// logs/<name>.log and records it in the run's pids file before returning,
// so even a crash of the caller leaves enough behind for `down`.
func startProcess(runDir, name, exe string, args []string, env []string) (process, error) {
	logDir := filepath.Join(runDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return process{}, err
	}
	logFile, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return process{}, err
	}
	defer logFile.Close()
	// The kernel names a process's executable with every symlink resolved (/proc/<pid>/exe), and
	// alive compares against it: a checkout reached through a symlink would otherwise record a path
	// that never matches, and Stop would take every process for gone and leave it running.
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = runDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	// Own process group: a Ctrl-C aimed at `go test` must not kill etcd
	// before the API server, which would leave the API server hanging.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return process{}, fmt.Errorf("start %s (%s): %w", name, exe, err)
	}
	p := process{Name: name, Pid: cmd.Process.Pid, Exe: exe}
	// Reap the child when it exits so its pid does not linger as a zombie
	// that still looks alive to Stop.
	go func() { _ = cmd.Wait() }()
	f, err := os.OpenFile(filepath.Join(runDir, pidsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
		return process{}, err
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %d %s\n", p.Name, p.Pid, p.Exe); err != nil {
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
		return process{}, err
	}
	return p, nil
}

func readPids(runDir string) ([]process, error) {
	f, err := os.Open(filepath.Join(runDir, pidsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []process
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.SplitN(strings.TrimSpace(s.Text()), " ", 3)
		if len(fields) != 3 {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil || pid <= 1 {
			return nil, fmt.Errorf("%s: bad pid line %q", f.Name(), s.Text())
		}
		ps = append(ps, process{Name: fields[0], Pid: pid, Exe: fields[2]})
	}
	return ps, s.Err()
}

// alive reports whether pid still runs the recorded executable. Checking the
// executable guards against signalling an unrelated process that reused the pid.
func (p process) alive() bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe != p.Exe {
		// A record written before startProcess resolved symlinks.
		if resolved, err := filepath.EvalSymlinks(p.Exe); err != nil || resolved != exe {
			return false
		}
	}
	// A zombie has exited; only its parent's wait is missing.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// stop sends SIGTERM, waits up to grace for the process to exit, then
// SIGKILLs it. It signals only the process itself, never a group or a name,
// and only through a pidfd taken while alive has just recognised it: should
// the process exit and its pid go to another process meanwhile (a busy
// machine starts thousands), a later signal reaches nobody instead of that
// stranger.
func (p process) stop(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	proc, err := os.FindProcess(p.Pid) // a pidfd on Linux: it names this very process
	if err != nil {
		return nil // gone between alive and here
	}
	defer proc.Release()
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.Pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !p.alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.Pid, err)
	}
	for range 100 {
		if !p.alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s (pid %d) survived SIGKILL", p.Name, p.Pid)
}
