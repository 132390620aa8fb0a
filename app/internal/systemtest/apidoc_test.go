package systemtest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math/big"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/api"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/redistest"
	"github.com/example/jobs/app/internal/worker"
)

// apiDoc is docs/api.md, from this package's folder (app/internal/systemtest).
var apiDoc = filepath.Join("..", "..", "..", "docs", "api.md")

// docExample is one ```sh block of the doc and the answer block right after it, if any.
type docExample struct {
	line      int    // of the ```sh fence, for messages
	directive string // from a "<!-- doc-test: ... -->" line just above the block
	script    string
	lang      string // of the answer block: "http" or "text"; "" when there is none
	answer    string
}

// fence is one fenced code block of a markdown file.
type fence struct {
	line, end int // first and last line (the fences), 1-based
	info      string
	body      string
}

func fences(t *testing.T, md string) []fence {
	t.Helper()
	var out []fence
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		f := fence{line: i + 1, info: strings.TrimSpace(info)}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("docs/api.md:%d: code block never closed", f.line)
		}
		f.end, f.body = i+1, strings.Join(body, "\n")
		out = append(out, f)
	}
	return out
}

// docExamples reads the sh blocks. An answer is the fenced block that follows a sh block with
// nothing but blank lines between; a sh block without one must print nothing.
func docExamples(t *testing.T, md string) []docExample {
	t.Helper()
	lines := strings.Split(md, "\n")
	fs := fences(t, md)
	var out []docExample
	for i, f := range fs {
		if f.info != "sh" {
			continue
		}
		ex := docExample{line: f.line, script: f.body}
		if above := strings.TrimSpace(lines[f.line-2]); strings.HasPrefix(above, "<!-- doc-test:") {
			ex.directive = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(above, "<!-- doc-test:"), "-->"))
		}
		if i+1 < len(fs) && strings.TrimSpace(strings.Join(lines[f.end:fs[i+1].line-1], "")) == "" {
			next := fs[i+1]
			if next.info != "http" && next.info != "text" {
				t.Fatalf("docs/api.md:%d: the answer to the sh block above is a %q block; use http (status line, headers, body) or text", next.line, next.info)
			}
			ex.lang, ex.answer = next.info, next.body
		}
		out = append(out, ex)
	}
	return out
}

// shell is one bash session, like a reader's terminal: variables set by one block are there
// for the next.
type shell struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	dir   string
	token string
	n     int
}

func newShell(t *testing.T) *shell {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := &shell{t: t, dir: t.TempDir(), token: "doc-test-end-" + hex.EncodeToString(b)}
	s.cmd = exec.Command("bash", "--noprofile", "--norc")
	s.cmd.Dir = s.dir
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "LANG=C.UTF-8"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so cleanup reaches a stuck curl too
	var err error
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.out = bufio.NewReader(stdout)
	s.cmd.Stderr = os.Stderr // bash's own complaints; each block's stderr goes to a file
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.in.Close()
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Wait()
	})
	return s
}

// run sources script with BASE and WORKER set and returns its stdout, stderr and exit status.
func (s *shell) run(script, base, workerURL string, limit time.Duration) (stdout, stderr string, code int) {
	s.t.Helper()
	s.n++
	file := filepath.Join(s.dir, fmt.Sprintf("block%d.sh", s.n))
	errFile := file + ".err"
	if err := os.WriteFile(file, []byte(script+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(s.in, "BASE='%s'; WORKER='%s'; . '%s' 2>'%s'; printf '\\n%s %%d\\n' $?\n", base, workerURL, file, errFile, s.token)
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var b strings.Builder
		for {
			line, err := s.out.ReadString('\n')
			if err != nil {
				done <- result{b.String() + line, err}
				return
			}
			if strings.HasPrefix(line, s.token+" ") {
				done <- result{b.String() + line, nil}
				return
			}
			b.WriteString(line)
		}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(limit):
		s.t.Fatalf("the block did not finish within %s:\n%s", limit, script)
	}
	if r.err != nil {
		s.t.Fatalf("the shell ended: %v; output so far:\n%s", r.err, r.text)
	}
	i := strings.LastIndex(r.text, s.token+" ")
	code, _ = strconv.Atoi(strings.TrimSpace(r.text[i+len(s.token)+1:]))
	stdout = strings.TrimSuffix(r.text[:i], "\n") // the newline printf put before the token
	errText, _ := os.ReadFile(errFile)
	return stdout, string(errText), code
}

// placeholders in an answer, and what they stand for.
var placeholders = map[string]string{
	"<id>":   fmt.Sprintf("[0-9a-f]{%d}", jobs.IDLen),
	"<time>": `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`,
	"<...>":  `.*`,
}

// matchText reports whether got is want with its placeholders filled in.
func matchText(want, got string) bool {
	pattern := regexp.QuoteMeta(want)
	for ph, re := range placeholders {
		pattern = strings.ReplaceAll(pattern, regexp.QuoteMeta(ph), re)
	}
	return regexp.MustCompile(`^(?s:` + pattern + `)$`).MatchString(got)
}

// matchJSON compares decoded JSON: the same keys in every object, the same length of every
// array, equal numbers, and strings equal up to placeholders. It returns where they differ.
func matchJSON(want, got any, at string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %v", at, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s: the answer has %q, the doc does not show it", at, k)
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: the doc shows %q, the answer has no such key", at, k)
			}
			if d := matchJSON(wv, gv, at+"."+k); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %d elements, got %v", at, len(w), got)
		}
		for i := range w {
			if d := matchJSON(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
	case json.Number:
		g, ok := got.(json.Number)
		wf, _ := new(big.Float).SetString(string(w))
		gf, _ := new(big.Float).SetString(string(g))
		if !ok || wf == nil || gf == nil || wf.Cmp(gf) != 0 {
			return fmt.Sprintf("%s: want %s, got %v", at, w, got)
		}
	case string:
		g, ok := got.(string)
		if !ok || !matchText(w, g) {
			return fmt.Sprintf("%s: want %q, got %v", at, w, got)
		}
	default: // true, false, null
		if want != got {
			return fmt.Sprintf("%s: want %v, got %v", at, want, got)
		}
	}
	return ""
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// checkHTTP compares curl -i output with an http answer block: the status line, each header
// shown (others may be there too), and the body (JSON compared as data; text line by line: each
// line shown must be a line of the answer). curl has already undone any chunked encoding, so the
// output is read as it is rather than by an HTTP client.
func checkHTTP(answer, out string) (code int, problem string) {
	wantHead, wantBody, _ := strings.Cut(strings.TrimSpace(answer), "\n\n")
	wantLines := strings.Split(wantHead, "\n")
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	if !ok {
		return 0, "the output is not an HTTP answer with headers; did the block use curl -i?"
	}
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(head + "\r\n\r\n")))
	statusLine, err := tp.ReadLine()
	if err != nil {
		return 0, err.Error()
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, fmt.Sprintf("the answer's headers do not parse: %v", err)
	}
	if f := strings.Fields(statusLine); len(f) >= 2 {
		code, _ = strconv.Atoi(f[1])
	}
	if statusLine != wantLines[0] {
		return code, fmt.Sprintf("status line %q, the doc says %q", statusLine, wantLines[0])
	}
	for _, h := range wantLines[1:] {
		name, value, ok := strings.Cut(h, ": ")
		if !ok {
			return code, fmt.Sprintf("the doc's header line %q is not 'Name: value'", h)
		}
		if got := header.Get(name); !matchText(value, got) {
			return code, fmt.Sprintf("header %s: %q, the doc says %q", name, got, value)
		}
	}
	wantBody = strings.TrimSpace(wantBody)
	switch {
	case wantBody == "":
		if strings.TrimSpace(body) != "" {
			return code, fmt.Sprintf("the doc shows no body, the answer has %q", body)
		}
	case strings.HasPrefix(wantBody, "{") || strings.HasPrefix(wantBody, "["):
		w, err := decodeJSON(wantBody)
		if err != nil {
			return code, fmt.Sprintf("the doc's body is not JSON: %v", err)
		}
		g, err := decodeJSON(body)
		if err != nil {
			return code, fmt.Sprintf("the answer's body is not JSON (%v): %s", err, body)
		}
		if d := matchJSON(w, g, "body"); d != "" {
			return code, d
		}
	default:
		gotLines := strings.Split(body, "\n")
		for _, l := range strings.Split(wantBody, "\n") {
			if !slices.Contains(gotLines, l) {
				return code, fmt.Sprintf("the answer has no line %q", l)
			}
		}
	}
	return code, ""
}

// routePatterns reads the patterns the API and the probes register (mux.HandleFunc("GET
// /jobs", ...)) from their source, so a new endpoint cannot go undocumented.
func routePatterns(t *testing.T) []string {
	t.Helper()
	var patterns []string
	for _, dir := range []string{"../api", "../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
					return true
				}
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					p, _ := strconv.Unquote(lit.Value)
					patterns = append(patterns, p)
				}
				return true
			})
		}
	}
	if len(patterns) < 5 {
		t.Fatalf("found only %d route patterns in internal/api and internal/web: %v", len(patterns), patterns)
	}
	return patterns
}

// commas writes n the way the doc does: 1,048,576.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func seconds(d time.Duration) string { return fmt.Sprintf("%d s", int(d.Seconds())) }

// TestAPIDocCoversTheCode checks what docs/api.md says against the code: a heading for every
// route the servers register and every job kind, every job status, and each limit as the
// constant in the code has it.
func TestAPIDocCoversTheCode(t *testing.T) {
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatalf("read the API doc: %v", err)
	}
	doc := string(b)
	headings := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "#") {
			for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(line, -1) {
				headings[m[1]] = true
			}
		}
	}
	for _, p := range routePatterns(t) {
		if !headings[p] {
			t.Errorf("docs/api.md has no heading for the route %q", p)
		}
	}
	for _, kind := range jobs.DefaultRegistry().Names() {
		if !headings[kind] {
			t.Errorf("docs/api.md has no heading for the job kind %q", kind)
		}
	}
	for _, st := range jobs.Statuses {
		if !strings.Contains(doc, "`"+string(st)+"`") {
			t.Errorf("docs/api.md never names the status `%s`", st)
		}
	}
	limits := map[string]string{
		"jobs.MaxPrimeEnd":           "at most " + commas(jobs.MaxPrimeEnd),
		"jobs.MaxPrimeWidth":         "at most " + commas(jobs.MaxPrimeWidth) + " numbers",
		"jobs.MaxStatsValues":        "1 to " + commas(jobs.MaxStatsValues) + " numbers",
		"jobs.MaxStatsAbs":           fmt.Sprintf("from %g to %g", -jobs.MaxStatsAbs, jobs.MaxStatsAbs),
		"jobs.MaxSleepSeconds":       fmt.Sprintf("0 to %d, fractions allowed", jobs.MaxSleepSeconds),
		"jobs.IDLen":                 fmt.Sprintf("%d lowercase hex characters", jobs.IDLen),
		"api.MaxBody":                commas(api.MaxBody) + " bytes",
		"api.DefaultLimit, MaxLimit": fmt.Sprintf("1 to %d (default %d)", api.MaxLimit, api.DefaultLimit),
		"queue.MaxRetry":             fmt.Sprintf("After %d failed attempts", queue.MaxRetry+1),
		"queue.Timeout":              fmt.Sprintf("at most %d min", int(queue.Timeout.Minutes())),
		"worker.ShutdownTimeout":     "for up to " + seconds(worker.ShutdownTimeout),
		"worker.RetryDelay": fmt.Sprintf("%s, %s, %s, ... (doubling, at most %s)", seconds(worker.RetryDelay(0, nil, nil)),
			seconds(worker.RetryDelay(1, nil, nil)), seconds(worker.RetryDelay(2, nil, nil)), seconds(worker.RetryDelay(1000, nil, nil))),
	}
	for constant, phrase := range limits {
		if !strings.Contains(doc, phrase) {
			t.Errorf("docs/api.md does not say %q (from %s)", phrase, constant)
		}
	}
}

// TestAPIDocExamples runs every sh block of docs/api.md, in order and in one bash session,
// against the real api and worker binaries and a real redis-server, and checks each answer
// against the block after it. Directives above a block: "worker stopped" runs it with no worker
// (so a new job surely stays queued), "redis down" with Redis stopped.
func TestAPIDocExamples(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "sed", "grep", "seq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the doc's examples need %s: %v", tool, err)
		}
	}
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatalf("read the API doc: %v", err)
	}
	doc := string(b)
	examples := docExamples(t, doc)
	if len(examples) < 10 {
		t.Fatalf("docs/api.md has %d sh examples; expected the whole API", len(examples))
	}

	rs := redistest.Start(t)
	apiBin, workerBin := buildBinary(t, "api"), buildBinary(t, "worker")
	apiProc := startProcess(t, apiBin, "REDIS_ADDR="+rs.Addr, "HOST=127.0.0.1")
	startWorker := func() *proc {
		return startProcess(t, workerBin, "REDIS_ADDR="+rs.Addr, "HOST=127.0.0.1", "CONCURRENCY=4")
	}
	workerProc := startWorker()
	stopWorker := func() {
		if err := workerProc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-workerProc.done:
			if err != nil {
				t.Fatalf("worker stopped with %v", err)
			}
		case <-time.After(worker.ShutdownTimeout + 5*time.Second):
			t.Fatal("worker did not stop after SIGTERM")
		}
	}
	sh := newShell(t)

	seen := map[int]bool{} // status codes the examples show
	kindsRun := map[string]bool{}
	for _, ex := range examples {
		where := fmt.Sprintf("docs/api.md:%d", ex.line)
		switch {
		case ex.directive == "":
		case strings.HasPrefix(ex.directive, "worker stopped"):
			stopWorker()
		case ex.directive == "redis down":
			rs.Stop()
		default:
			t.Fatalf("%s: unknown directive %q (known: worker stopped, redis down)", where, ex.directive)
		}
		out, stderr, code := sh.run(ex.script, apiProc.url(), workerProc.url(), 60*time.Second)
		switch {
		case strings.HasPrefix(ex.directive, "worker stopped"):
			workerProc = startWorker()
		case ex.directive == "redis down":
			rs.StartAgain()
			if err := waitReady(apiProc.url(), 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := waitReady(workerProc.url(), 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if code != 0 || stderr != "" {
			t.Errorf("%s: the block exited %d, stderr:\n%s\nblock:\n%s", where, code, stderr, ex.script)
			continue
		}
		switch ex.lang {
		case "":
			if out != "" {
				t.Errorf("%s: the block printed %q but the doc shows no answer", where, out)
			}
		case "text":
			if !matchText(ex.answer, strings.TrimSuffix(out, "\n")) {
				t.Errorf("%s: the block printed %q; the doc says %q", where, out, ex.answer)
			}
		case "http":
			got, problem := checkHTTP(ex.answer, out)
			if problem != "" {
				t.Errorf("%s: %s\nblock:\n%s\nanswer:\n%s", where, problem, ex.script, out)
			}
			seen[got] = true
			if got/100 == 2 {
				for _, kind := range jobs.DefaultRegistry().Names() {
					if strings.Contains(ex.script, `"kind":"`+kind+`"`) {
						kindsRun[kind] = true
					}
				}
			}
		}
	}

	for _, kind := range jobs.DefaultRegistry().Names() {
		if !kindsRun[kind] {
			t.Errorf("no example of docs/api.md runs a %s job", kind)
		}
	}
	// The status code table and the examples must agree: each code the table lists is shown.
	table := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (\d{3}) [A-Z]`).FindAllStringSubmatch(doc, -1) {
		n, _ := strconv.Atoi(m[1])
		table[n] = true
	}
	for n := range table {
		if !seen[n] {
			t.Errorf("docs/api.md lists status %d but no example shows it", n)
		}
	}
	for n := range seen {
		if !table[n] {
			t.Errorf("an example of docs/api.md answers %d, which the status code table does not list", n)
		}
	}
}
