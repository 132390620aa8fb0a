package mockengine

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Stack is what the engine hands a program for one run: the project and stack names and the
// stack's config by full key ("jobs:version"), Secret listing the keys that are secrets.
type Stack struct {
	Project, Name string
	Config        map[string]string
	Secret        []string
}

// Result is one run of a program.
type Result struct {
	// Err is the run's error as the engine would report it.
	Err error
	// ProgramErr is the error the program itself returned, before the SDK wraps it.
	ProgramErr error
	// Outputs are the resolved values of the map the program returned.
	Outputs map[string]any
	// Logs are the program's log lines, "<severity>: <message>", in order (the mock engine of
	// the SDK drops them).
	Logs []string
}

// envMu serializes runs: the config travels in process environment variables.
var envMu sync.Mutex

// Run runs program against e. The config reaches it the way the real language host passes it,
// through PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS, so a program that lists the stack's keys
// from there sees what it would under the engine. program returns the outputs to resolve.
func (e *Engine) Run(s Stack, program func(ctx *pulumi.Context) (pulumi.Map, error)) Result {
	envMu.Lock()
	defer envMu.Unlock()
	restore, err := setConfigEnv(s)
	if err != nil {
		return Result{Err: err}
	}
	defer restore()

	var (
		res     = Result{Outputs: map[string]any{}}
		mu      sync.Mutex
		pending sync.WaitGroup
	)
	res.Err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		ctx.Log = &recordingLog{Log: ctx.Log, mu: &mu, lines: &res.Logs}
		outputs, err := program(ctx)
		if err != nil {
			res.ProgramErr = err
			return err
		}
		for name, value := range outputs {
			// An output built from a constant is not tracked by the run, so wait for each.
			pending.Add(1)
			pulumi.ToOutput(value).ApplyT(func(v any) any {
				defer pending.Done()
				mu.Lock()
				defer mu.Unlock()
				res.Outputs[name] = v
				return v
			})
		}
		return nil
	}, pulumi.WithMocks(s.Project, s.Name, e))
	if res.Err == nil {
		done := make(chan struct{})
		go func() { pending.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			res.Err = errors.New("mockengine: the program's outputs did not resolve within 30s")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return res
}

func setConfigEnv(s Stack) (restore func(), err error) {
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return nil, err
	}
	secret := s.Secret
	if secret == nil {
		secret = []string{}
	}
	keys, err := json.Marshal(secret)
	if err != nil {
		return nil, err
	}
	var undo []func()
	for name, value := range map[string]string{pulumi.EnvConfig: string(cfg), pulumi.EnvConfigSecretKeys: string(keys)} {
		old, had := os.LookupEnv(name)
		if err := os.Setenv(name, value); err != nil {
			return nil, err
		}
		undo = append(undo, func() {
			if had {
				os.Setenv(name, old)
			} else {
				os.Unsetenv(name)
			}
		})
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}, nil
}

// recordingLog keeps every line the program logs, then passes it on.
type recordingLog struct {
	pulumi.Log
	mu    *sync.Mutex
	lines *[]string
}

func (l *recordingLog) record(severity, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.lines = append(*l.lines, severity+": "+msg)
}

func (l *recordingLog) Debug(msg string, args *pulumi.LogArgs) error {
	l.record("debug", msg)
	return l.Log.Debug(msg, args)
}

func (l *recordingLog) Info(msg string, args *pulumi.LogArgs) error {
	l.record("info", msg)
	return l.Log.Info(msg, args)
}

func (l *recordingLog) Warn(msg string, args *pulumi.LogArgs) error {
	l.record("warning", msg)
	return l.Log.Warn(msg, args)
}

func (l *recordingLog) Error(msg string, args *pulumi.LogArgs) error {
	l.record("error", msg)
	return l.Log.Error(msg, args)
}
