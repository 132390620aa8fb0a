// Package probe checks, from inside a pod, that an environment's Services resolve by name and
// answer. It is the API binary's `probe` mode (`/api probe TARGET...`), so a short-lived pod of
// the stack's own API image can run it: no other image needs to be pulled into the cluster.
//
// A target is one of
//
//	dns://NAME            NAME resolves (the Service's cluster IP)
//	http://HOST:PORT/PATH GET answers 200; with a "#TEXT" suffix the body must contain TEXT
//
// Each target gets one line, "ok ..." or "FAIL ...", so whoever reads the pod's log (make
// verify) can say which check failed and why.
package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// perTarget bounds one check: a Service that answers at all answers in milliseconds.
const perTarget = 10 * time.Second

// Run checks every target, writes one line for each, and reports whether all passed.
func Run(ctx context.Context, targets []string, out io.Writer) bool {
	if len(targets) == 0 {
		fmt.Fprintln(out, "FAIL no targets: pass dns://NAME or http://HOST:PORT/PATH[#TEXT]")
		return false
	}
	ok := true
	for _, target := range targets {
		tctx, cancel := context.WithTimeout(ctx, perTarget)
		err := check(tctx, target)
		cancel()
		if err != nil {
			ok = false
			fmt.Fprintf(out, "FAIL %s: %v\n", target, err)
			continue
		}
		fmt.Fprintf(out, "ok %s\n", target)
	}
	return ok
}

func check(ctx context.Context, target string) error {
	switch {
	case strings.HasPrefix(target, "dns://"):
		name := strings.TrimPrefix(target, "dns://")
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		if err != nil {
			return fmt.Errorf("the name does not resolve: %w", err)
		}
		if len(addrs) == 0 {
			return fmt.Errorf("the name resolves to no address")
		}
		return nil
	case strings.HasPrefix(target, "http://"):
		url, want, _ := strings.Cut(target, "#")
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("no answer: %w", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		text := strings.TrimSpace(string(body))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("answered %s: %s", resp.Status, text)
		}
		if want != "" && !strings.Contains(text, want) {
			return fmt.Errorf("answered %s without %q", text, want)
		}
		return nil
	}
	return fmt.Errorf("unknown target: use dns://NAME or http://HOST:PORT/PATH[#TEXT]")
}
