package controlplane

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStopStopsExactlyTheRecordedProcesses(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal("sleep (coreutils) is not installed")
	}
	sleep, err = filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	runDir := t.TempDir()
	recorded, err := startProcess(runDir, "etcd", sleep, []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A process of the same program that the run did not start must survive.
	bystander := exec.Command(sleep, "60")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

	if !recorded.alive() {
		t.Fatalf("recorded process %d is not alive after start", recorded.Pid)
	}
	ps, err := readPids(runDir)
	if err != nil || len(ps) != 1 || ps[0] != recorded {
		t.Fatalf("pids file = %v, %v; want exactly %v", ps, err, recorded)
	}
	if err := Stop(runDir); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for recorded.alive() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if recorded.alive() {
		t.Fatalf("recorded pid %d still runs after Stop", recorded.Pid)
	}
	if !(process{Name: "other", Pid: bystander.Process.Pid, Exe: sleep}).alive() {
		t.Fatal("Stop killed a process it did not start")
	}
	if _, err := os.Stat(filepath.Join(runDir, pidsFile)); !os.IsNotExist(err) {
		t.Fatalf("pids file should be gone after a clean stop, stat: %v", err)
	}
}

// A checkout reached through a symlink (or a .bin that is a link) starts its binaries by a path the
// kernel reports resolved; Stop must still recognise and stop them, even once the link has moved.
func TestStopThroughASymlinkedPath(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal("sleep (coreutils) is not installed")
	}
	if sleep, err = filepath.EvalSymlinks(sleep); err != nil {
		t.Fatal(err)
	}
	linkDir := filepath.Join(t.TempDir(), "bin")
	if err := os.Symlink(filepath.Dir(sleep), linkDir); err != nil {
		t.Fatal(err)
	}
	runDir := t.TempDir()
	recorded, err := startProcess(runDir, "etcd", filepath.Join(linkDir, filepath.Base(sleep)), []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	running := process{Name: "etcd", Pid: recorded.Pid, Exe: sleep}
	t.Cleanup(func() { _ = running.stop(time.Second) })
	if err := os.Remove(linkDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), linkDir); err != nil {
		t.Fatal(err)
	}
	if err := Stop(runDir); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.alive() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if running.alive() {
		t.Fatalf("pid %d, started as %s, still runs after Stop", recorded.Pid, filepath.Join(linkDir, filepath.Base(sleep)))
	}
}

// A record from before startProcess resolved symlinks still matches its process.
func TestAliveMatchesARecordThroughASymlink(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "self")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	if !(process{Name: "test", Pid: os.Getpid(), Exe: link}).alive() {
		t.Fatalf("a record naming %s (a link to %s) does not match this process", link, self)
	}
}

func TestAliveIgnoresAReusedPid(t *testing.T) {
	// Our own pid runs the test binary, not /bin/sleep: a stale record
	// pointing at it must not be treated as the recorded program.
	p := process{Name: "etcd", Pid: os.Getpid(), Exe: "/bin/sleep"}
	if p.alive() {
		t.Fatal("a pid running another executable counted as alive")
	}
	if err := p.stop(time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestReadPidsRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, pidsFile), []byte("etcd notapid /bin/etcd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPids(dir); err == nil || !strings.Contains(err.Error(), "bad pid line") {
		t.Fatalf("want a bad pid line error, got %v", err)
	}
}
