package makerun

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Stop is one way a newcomer or CI ends `make run`, and how make must then end.
type Stop struct {
	Name string
	send func(r *Run) error
	// make's end: killed by this signal (it re-raises a signal it got), or this exit code.
	signal syscall.Signal
	code   int
	says   []string
	crash  bool // a server was killed: it is not in the stop order
}

const stopped = "worker, API and Redis stopped, temporary folder removed"

// Stops are every kind of stop the issue names: Ctrl-C, SIGTERM to runlocal, SIGTERM and SIGHUP
// to the process group, and a crashed server.
var Stops = []Stop{
	{
		Name:   "Ctrl-C to the process group",
		send:   func(r *Run) error { return r.group(syscall.SIGINT) },
		signal: syscall.SIGINT,
		says:   []string{"run-local: stopped by Ctrl-C: " + stopped},
	},
	{
		Name: "SIGTERM to runlocal",
		send: func(r *Run) error {
			pid, err := r.runlocalPid()
			if err != nil {
				return err
			}
			return syscall.Kill(pid, syscall.SIGTERM)
		},
		code: 0,
		says: []string{"run-local: stopped by SIGTERM: " + stopped},
	},
	{
		// make passes a SIGTERM of its own to runlocal: the race of issue 14.
		Name:   "SIGTERM to the process group, as .ci/run sends",
		send:   func(r *Run) error { return r.group(syscall.SIGTERM) },
		signal: syscall.SIGTERM,
		says:   []string{"run-local: stopped by SIGTERM: " + stopped},
	},
	{
		Name:   "SIGHUP to the process group, as a closed terminal sends",
		send:   func(r *Run) error { return r.group(syscall.SIGHUP) },
		signal: syscall.SIGHUP,
		says:   []string{"run-local: stopped by SIGHUP: " + stopped},
	},
	{
		Name:  "kill -9 of the worker",
		send:  func(r *Run) error { return syscall.Kill(r.servers["worker"].pid, syscall.SIGKILL) },
		code:  2, // make's own status when a recipe fails
		crash: true,
		says: []string{
			"exited on its own, exit status 137, killed by SIGKILL; the end of its log:",
			`"msg":"worker started"`, // a line of the worker's log
			"run-local: worker crashed (exit status 137, killed by SIGKILL); API and Redis stopped, temporary folder removed",
			"run] Error 1", // runlocal's status 1, as make reports it
		},
	},
}

func (r *Run) group(sig syscall.Signal) error { return syscall.Kill(-r.cmd.Process.Pid, sig) }

// StopAndCheck stops the run the way s says and checks everything about the stop; it returns
// every problem found.
func (r *Run) StopAndCheck(s Stop) error {
	worker := r.servers["worker"]
	if err := s.send(r); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := r.wait(); err != nil {
		return err
	}
	out := r.Output()
	var errs []error
	var exit *exec.ExitError
	errors.As(r.waitErr, &exit)
	switch {
	case s.signal != 0:
		ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != s.signal {
			errs = append(errs, fmt.Errorf("make ended with %v; want it to re-raise %v once runlocal is done", r.waitErr, s.signal))
		}
	case s.code == 0 && r.waitErr != nil, s.code != 0 && (exit == nil || exit.ExitCode() != s.code):
		errs = append(errs, fmt.Errorf("make ended with %v; want exit status %d", r.waitErr, s.code))
	}
	for _, want := range s.says {
		if !strings.Contains(out, want) {
			errs = append(errs, fmt.Errorf("output lacks %q", want))
		}
	}
	if !s.crash {
		// A requested stop: no crash report, and make adds nothing ("make: *** ... Error").
		for _, noise := range []string{"make: ***", "Error", "exited on its own", "crashed", "Terminated", "Hangup"} {
			if strings.Contains(out, noise) {
				errs = append(errs, fmt.Errorf("a requested stop printed %q", noise))
			}
		}
		errs = append(errs, r.checkStopOrder("worker", "api")...)
	} else {
		if worker.running() {
			errs = append(errs, errors.New("the killed worker is still running"))
		}
		errs = append(errs, r.checkStopOrder("api")...)
	}
	errs = append(errs, r.checkNothingLeft()...)
	return errors.Join(errs...)
}

// checkNothingLeft: no server and no process of make's session runs, the temporary folder is
// gone.
func (r *Run) checkNothingLeft() []error {
	var errs []error
	for _, s := range r.servers {
		if s.running() {
			errs = append(errs, fmt.Errorf("%s (pid %d) still runs after make run ended", s.name, s.pid))
		}
	}
	sessions := map[int]bool{r.cmd.Process.Pid: true}
	for _, s := range r.servers {
		sessions[s.pid] = true
	}
	for pid, st := range pids() {
		if sessions[st.sess] && st.state != "Z" {
			errs = append(errs, fmt.Errorf("pid %d (%s) of make run's sessions is still running", pid, cmdline(pid)))
		}
	}
	if _, err := os.Stat(r.tmp); !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("the temporary folder %s is still there (stat: %v)", r.tmp, err))
	}
	if left, _ := os.ReadDir(r.tmpdir); len(left) > 0 {
		errs = append(errs, fmt.Errorf("make run left %d entries in TMPDIR, e.g. %s", len(left), left[0].Name()))
	}
	return errs
}

// lastLogTime is the time of a JSON log's last line, after checking that the log has no warning
// or error (a Redis gone too early shows up as go-redis or asynq warnings) and ends with want.
func lastLogTime(path, want string) (time.Time, []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, []error{err}
	}
	var errs []error
	var last struct {
		Time  time.Time
		Level string
		Msg   string
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			return time.Time{}, append(errs, fmt.Errorf("%s: line %q is not JSON: %v", path, line, err))
		}
		if last.Level == "WARN" || last.Level == "ERROR" {
			errs = append(errs, fmt.Errorf("%s: %s", filepath.Base(path), line))
		}
	}
	if last.Msg != want {
		errs = append(errs, fmt.Errorf("%s ends with %q, want %q (a clean stop)", filepath.Base(path), last.Msg, want))
	}
	return last.Time, errs
}

var redisShutdown = regexp.MustCompile(`:M (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) # User requested shutdown`)

// redisShutdownTime is when Redis began to shut down, from its log ("User requested shutdown").
func redisShutdownTime(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	m := redisShutdown.FindSubmatch(b)
	if m == nil {
		return time.Time{}, fmt.Errorf("redis.log has no 'User requested shutdown' line (was it stopped with SIGTERM?):\n%s", b)
	}
	return time.ParseInLocation("02 Jan 2006 15:04:05.000", string(m[1]), time.Local)
}

// checkStopOrder: the worker and the API (those of names that were stopped) logged their clean
// stop no later than Redis began to shut down. Redis logs milliseconds, so both times are cut to
// the millisecond; runlocal waits for both to exit before it signals Redis.
func (r *Run) checkStopOrder(names ...string) []error {
	redis, err := redisShutdownTime(filepath.Join(r.logdir, "redis.log"))
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, name := range names {
		last, lerrs := lastLogTime(filepath.Join(r.logdir, name+".log"), name+" stopped cleanly")
		errs = append(errs, lerrs...)
		if last.Truncate(time.Millisecond).After(redis) {
			errs = append(errs, fmt.Errorf("%s stopped at %s, after Redis began shutting down at %s", name, last.Format(time.StampMilli), redis.Format(time.StampMilli)))
		}
	}
	return errs
}
