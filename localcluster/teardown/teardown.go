// Package teardown stops what a long test started, once, whichever way the test ends: by its own
// cleanup, or by Ctrl-C or SIGTERM (a cancelled CI job, `kill -- -PGID` of `make acceptance`).
//
// Two races are closed here. First, a signal arriving while the test's cleanup is already
// stopping something started a second stop of the same thing beside it (two stops of one cluster
// unmount, delete rules and restore sysctls over each other); each stop registered here runs once,
// and a second caller waits for the first to finish. Second, SIGTERM to the process group ends
// `go test` at once, and the test binary's stdout and stderr are pipes to it: the handler's first
// line of output then killed the binary with SIGPIPE before it had stopped anything. The handler
// ignores SIGPIPE before it writes a word.
package teardown

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Stops holds the stops of what a test started, in start order.
type Stops struct {
	mu    sync.Mutex
	stops []func() error
}

// Add registers stop and returns it made safe to call from the test's cleanup and from the
// signal handler: it runs once; every caller gets its result, a caller arriving during the stop
// once it is done.
func (s *Stops) Add(stop func() error) func() error {
	var once sync.Once
	var err error
	do := func() error {
		once.Do(func() { err = stop() })
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops = append(s.stops, do)
	return do
}

// All runs every stop, the last started first, and writes their errors to w.
func (s *Stops) All(w io.Writer) {
	s.mu.Lock()
	stops := append([]func() error(nil), s.stops...)
	s.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		if err := stops[i](); err != nil {
			fmt.Fprintln(w, err)
		}
	}
}

// OnSignal stops everything and exits 1 at the first Ctrl-C or SIGTERM; later ones are dropped,
// so nothing interrupts the stop.
func (s *Stops) OnSignal(what string) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Ignore(syscall.SIGPIPE)
		fmt.Fprintf(os.Stderr, "%v: stopping what %s started\n", sig, what)
		s.All(os.Stderr)
		os.Exit(1)
	}()
}
