// Command stressstop is `make stress-stop`: it starts and stops a real `make run` every way a
// newcomer or CI stops it (tools/makerun's Stops: Ctrl-C, SIGTERM to runlocal, SIGTERM and SIGHUP
// to the process group, a crashed server), each -n times, round after round, while -load
// spinners keep the cores busy, and checks every stop as the test does. It prints one line per
// stop, the failures in full, and a table of runs and failures per kind; it exits 1 if any stop
// failed. Issue 14 asked for it: the SIGTERM stop used to fail 1 run in 8 with both cores busy.
//
// Nothing it starts outlives it: the spinners run in a process group of their own, killed on every
// way out (the end, an error, Ctrl-C, SIGTERM or SIGHUP to it) and, should it be killed outright,
// by Pdeathsig; so is the make run in progress.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/example/jobs/tools/makerun"
)

func init() {
	// The spinners and make run are started from the main goroutine; Pdeathsig fires when the
	// thread that started them ends, so that thread must be the process's whole life.
	runtime.LockOSThread()
}

func main() {
	n := flag.Int("n", 30, "stops of each kind")
	spinners := flag.Int("load", 2, "busy-loop processes to run meanwhile (the machine has 2 cores)")
	only := flag.String("only", "", "run only the kinds of stop whose name contains this")
	flag.Parse()
	var stops []makerun.Stop
	for _, s := range makerun.Stops {
		if strings.Contains(s.Name, *only) {
			stops = append(stops, s)
		}
	}
	if len(stops) == 0 {
		fmt.Fprintf(os.Stderr, "stressstop: -only=%q names no kind of stop; the kinds are %q\n", *only, stopNames(makerun.Stops))
		os.Exit(2)
	}
	if *n < 1 || *spinners < 0 {
		fmt.Fprintf(os.Stderr, "stressstop: -n=%d and -load=%d: -n must be at least 1 and -load at least 0\n", *n, *spinners)
		os.Exit(2)
	}
	root, err := os.Getwd()
	if err == nil {
		_, err = os.Stat("Makefile")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stressstop: run it from the repository's root (make stress-stop does):", err)
		os.Exit(2)
	}
	os.Exit(stress(root, stops, *n, *spinners))
}

// cleanup holds what must be ended on any way out; the signal handler and the main loop share it.
type cleanup struct {
	mu      sync.Mutex
	load    *load
	current *makerun.Run
}

func (c *cleanup) setRun(r *makerun.Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = r
}

func (c *cleanup) all() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil {
		c.current.Close()
	}
	c.load.stop()
}

// onSignal ends everything and the process at the first Ctrl-C, SIGTERM or SIGHUP.
func (c *cleanup) onSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "\nstressstop: %v: stopping the load and the make run in progress\n", sig)
		c.all()
		os.Exit(130)
	}()
}

func stress(root string, stops []makerun.Stop, n, spinners int) int {
	c := &cleanup{}
	c.onSignal()
	defer c.all()
	c.mu.Lock()
	l, err := startLoad(spinners)
	c.load = l
	c.mu.Unlock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stressstop:", err)
		return 1
	}
	fmt.Printf("stressstop: %d spinners (process group %d); %d stops of each of %d kinds\n", spinners, l.pgid, n, len(stops))
	busy0, total0, _ := cpuTimes()
	start := time.Now()

	failed := map[string]int{}
	k := 0
	for round := 1; round <= n; round++ {
		for _, s := range stops {
			k++
			t0 := time.Now()
			err := once(c, root, s)
			status := "ok"
			if err != nil {
				failed[s.Name]++
				status = "FAILED"
			}
			fmt.Printf("[%d/%d] %s: %s (%.1f s)\n", k, n*len(stops), s.Name, status, time.Since(t0).Seconds())
			if err != nil {
				fmt.Printf("%v\n\n", err)
			}
		}
	}

	busy1, total1, _ := cpuTimes()
	fmt.Printf("\nstressstop: %d stops in %s, CPU busy %.0f%% of both cores meanwhile\n", k, time.Since(start).Round(time.Second),
		100*float64(busy1-busy0)/float64(max(total1-total0, 1)))
	fmt.Printf("%-55s %5s %8s\n", "stop", "runs", "failures")
	total := 0
	for _, s := range stops {
		fmt.Printf("%-55s %5d %8d\n", s.Name, n, failed[s.Name])
		total += failed[s.Name]
	}
	if total > 0 {
		fmt.Printf("stressstop: %d of %d stops FAILED\n", total, k)
		return 1
	}
	fmt.Printf("stressstop: all %d stops passed\n", k)
	return 0
}

func stopNames(stops []makerun.Stop) []string {
	var names []string
	for _, s := range stops {
		names = append(names, s.Name)
	}
	return names
}

// once starts make run, stops it the way s says and checks it; the run is closed whatever happens.
func once(c *cleanup, root string, s makerun.Stop) error {
	// The signal handler must be able to close the run while Start still waits for it.
	r, err := makerun.Start(root, 5*time.Minute, c.setRun)
	if r != nil {
		defer func() { r.Close(); c.setRun(nil) }()
	}
	if err == nil {
		err = r.StopAndCheck(s)
	}
	if err != nil && r != nil {
		return fmt.Errorf("%w\nmake run output:\n%s\n%s", err, r.Output(), r.Logs())
	}
	return err
}
