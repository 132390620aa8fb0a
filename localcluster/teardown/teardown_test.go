package teardown

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestAStopRunsOnceAndALateCallerWaitsForIt(t *testing.T) {
	var s Stops
	var runs int
	release := make(chan struct{})
	stop := s.Add(func() error {
		runs++
		<-release
		return errors.New("boom")
	})
	results := make(chan error, 2)
	var started sync.WaitGroup
	for range 2 {
		started.Add(1)
		go func() { started.Done(); results <- stop() }()
	}
	started.Wait()
	select {
	case err := <-results:
		t.Fatalf("a caller returned (%v) before the stop was done", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if err := <-results; err == nil || err.Error() != "boom" {
			t.Errorf("a caller got %v, want the stop's error", err)
		}
	}
	if err := stop(); err == nil || runs != 1 {
		t.Errorf("stop ran %d times (last result %v); want once, its error kept", runs, err)
	}
}

func TestAllStopsTheLastStartedFirst(t *testing.T) {
	var s Stops
	var order []string
	for _, name := range []string{"cluster", "engine", "registry"} {
		s.Add(func() error { order = append(order, name); return nil })
	}
	s.All(io.Discard)
	if got := filepath.Join(order...); got != "registry/engine/cluster" {
		t.Errorf("stopped in order %s, want registry/engine/cluster", got)
	}
}

// With TEARDOWN_HELPER=FILE this test binary is a test that registered one stop, which writes
// FILE, and waits for a signal.
func TestMain(m *testing.M) {
	if mark := os.Getenv("TEARDOWN_HELPER"); mark != "" {
		var s Stops
		s.Add(func() error { return os.WriteFile(mark, []byte("stopped\n"), 0o644) })
		s.OnSignal("the helper")
		os.Stdout.WriteString("ready\n")
		select {}
	}
	os.Exit(m.Run())
}

// TestASignalStopsEvenWithGoTestGone is SIGTERM to `make acceptance`'s group: go test dies at once,
// so the test binary's output pipe has no reader when the handler says what it does.
func TestASignalStopsEvenWithGoTestGone(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "stopped")
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "TEARDOWN_HELPER="+mark)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout.(*os.File) // both into the one pipe, as go test has them
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
				_ = cmd.Process.Kill()
				t.Fatalf("the helper said %q (%v)", line, err)
			}
			out.Close() // go test gone: no reader any more
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("the helper ended with %v; want exit status 1 after its stops (SIGPIPE kills it otherwise)", err)
			}
			if b, err := os.ReadFile(mark); err != nil || string(b) != "stopped\n" {
				t.Errorf("the registered stop did not run: %v", err)
			}
		})
	}
}
