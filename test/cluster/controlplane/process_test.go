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
