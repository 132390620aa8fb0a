package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// git runs git in one directory and returns stdout without its trailing newline (leading
// spaces are kept: they carry meaning in status --porcelain); the error carries git's own
// stderr, which usually says best what went wrong.
type git struct {
	dir string
}

func (g git) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("git is not installed or not on PATH: install git (apt-get install git)")
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// ok runs a git query whose exit status is the answer (for example rev-parse --verify).
func (g git) ok(ctx context.Context, args ...string) bool {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	return cmd.Run() == nil
}
