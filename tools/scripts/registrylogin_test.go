package scripts

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestLocalRegistryWithALogin: on a port of its own, the loopback registry asks for the login
// of an htpasswd file: anonymous and wrong logins are refused, the right one is let in, and stop
// frees the port. The shared registry on 5000 is not touched.
func TestLocalRegistryWithALogin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("ci:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	plain := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(plain, []byte("ci:right\n"), 0o600)
	if code, out := run(t, env, "", "scripts/local-registry.sh", "start", port, plain); code != 2 || !strings.Contains(out, "is not a bcrypt htpasswd file") {
		t.Errorf("a plain-text htpasswd: exit %d, output %q; want it refused", code, out)
	}
	if code, out := run(t, env, "", "scripts/local-registry.sh", "start", port, htpasswd); code != 0 {
		t.Fatalf("start: exit %d, output:\n%s", code, out)
	}
	t.Cleanup(func() {
		run(t, env, "", "scripts/local-registry.sh", "stop", port)
		os.RemoveAll(filepath.Join(root, ".cache", "registry-"+port))
	})
	get := func(user, pass string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/v2/", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("the registry does not answer: %v", err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("", ""); r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("anonymous: %s %q, want 401 asking for a Basic login", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("ci", "wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong password: %s, want 401", r.Status)
	}
	if r := get("ci", "right"); r.StatusCode != http.StatusOK {
		t.Errorf("the right login: %s, want 200", r.Status)
	}
	if code, out := run(t, env, "", "scripts/local-registry.sh", "start", port, htpasswd); code != 1 || !strings.Contains(out, "is already in use") {
		t.Errorf("a second start on the same port: exit %d, output %q", code, out)
	}
	if code, out := run(t, env, "", "scripts/local-registry.sh", "stop", port); code != 0 {
		t.Fatalf("stop: exit %d, output:\n%s", code, out)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Error("the registry still answers after stop")
	}
}
