package binaries

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often a running build reports: a cold build runs for
// many minutes and must never look hung.
const progressEvery = 15 * time.Second

// importPath matches the lines `go build -v` prints for each package it
// compiles; anything else on stderr is an error message.
var importPath = regexp.MustCompile(`^[A-Za-z0-9_.~/-]+$`)

// progress counts the packages `go build -v` reports and which target
// binaries' main packages have been compiled (linking follows at once).
type progress struct {
	mu       sync.Mutex
	compiled int
	last     string
	mains    map[string]bool
	errTail  []string
}

func (p *progress) line(l string, mainPkgs map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !importPath.MatchString(l) {
		p.errTail = append(p.errTail, l)
		if len(p.errTail) > 200 {
			p.errTail = p.errTail[1:]
		}
		return
	}
	p.compiled++
	p.last = l
	if name, ok := mainPkgs[l]; ok {
		p.mains[name] = true
	}
}

func (p *progress) report(step string, g group, total int, elapsed time.Duration) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var done []string
	for _, out := range g.outputs() {
		if p.mains[out] {
			done = append(done, out)
		}
	}
	s := fmt.Sprintf("building %s: %s: %d packages compiled (of %d in the graph; cached ones are skipped)", step, g.label, p.compiled, total)
	if p.last != "" {
		s += ", now past " + p.last
	}
	if len(done) > 0 {
		s += "; linking " + strings.Join(done, ", ")
	}
	return s + fmt.Sprintf(" (elapsed %s)", elapsed.Round(time.Second))
}

// goBuildWithProgress runs `go build -v` and prints a progress line every
// progressEvery. The package total comes from `go list -deps`, which takes a
// second or two once the modules are downloaded.
func goBuildWithProgress(ctx context.Context, dir string, args []string, g group, step string, log io.Writer) error {
	total := 0
	mainPkgs := map[string]string{}
	if out, err := goOutput(ctx, dir, append([]string{"list", "-deps"}, g.targets...)...); err == nil {
		total = len(strings.Split(out, "\n"))
	}
	if out, err := goOutput(ctx, dir, append([]string{"list", "-f", "{{.ImportPath}}"}, g.targets...)...); err == nil {
		// Each output is named after the last element of its import path.
		for _, pkg := range strings.Split(out, "\n") {
			mainPkgs[pkg] = path.Base(pkg)
		}
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	p := &progress{mains: map[string]bool{}}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		s := bufio.NewScanner(stderr)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			p.line(s.Text(), mainPkgs)
		}
	}()
	start := time.Now()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	waited := make(chan error, 1)
	go func() {
		<-scanned
		waited <- cmd.Wait()
	}()
	for {
		select {
		case err := <-waited:
			if err != nil {
				p.mu.Lock()
				tail := strings.Join(p.errTail, "\n")
				p.mu.Unlock()
				return fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, tail)
			}
			return nil
		case <-tick.C:
			fmt.Fprintln(log, p.report(step, g, total, time.Since(start)))
		}
	}
}
