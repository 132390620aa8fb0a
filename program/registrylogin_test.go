package program

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// registry is a stand-in registry on loopback (plain HTTP, as the local one) that asks for a
// login the way the given challenge says and records every Authorization it was sent.
type registry struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func (r *registry) server() string { return strings.TrimPrefix(r.URL, "http://") }

func newRegistry(t *testing.T, scheme string) *registry {
	t.Helper()
	r := &registry{}
	mux := http.NewServeMux()
	ok := func(req *http.Request) bool {
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		u, p, has := req.BasicAuth()
		return has && u == "ci" && p == "right"
	}
	mux.HandleFunc("GET /v2/", func(w http.ResponseWriter, req *http.Request) {
		switch {
		case scheme == "none":
			w.WriteHeader(http.StatusOK)
		case scheme == "basic" && ok(req):
			w.WriteHeader(http.StatusOK)
		case scheme == "basic":
			w.Header().Set("WWW-Authenticate", `Basic realm="Registry Realm"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+r.URL+`/token?x=1",service="registry.test",scope="repository:a:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		if q.Get("service") != "registry.test" || q.Get("account") != "ci" || q.Get("x") != "1" {
			http.Error(w, "bad token request "+req.URL.RawQuery, http.StatusBadRequest)
			return
		}
		if !ok(req) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"token":"t"}`))
	})
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

func TestCheckRegistryLogin(t *testing.T) {
	ctx := context.Background()
	for _, scheme := range []string{"basic", "bearer"} {
		r := newRegistry(t, scheme)
		if err := CheckRegistryLogin(ctx, r.server(), "ci", "right"); err != nil {
			t.Errorf("%s: the right login: %v", scheme, err)
		}
		err := CheckRegistryLogin(ctx, r.server(), "ci", "wrong")
		var refused *LoginRefused
		if !errors.As(err, &refused) || refused.Status != "401 Unauthorized" || refused.Server != r.server() {
			t.Errorf("%s: a wrong password: %v, want refused with 401", scheme, err)
		}
	}
	if err := CheckRegistryLogin(ctx, newRegistry(t, "none").server(), "ci", "anything"); err != nil {
		t.Errorf("a registry that asks for no login: %v", err)
	}

	// Nothing listens: an error that is no refusal.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	err = CheckRegistryLogin(ctx, closed, "ci", "right")
	if err == nil || errors.As(err, new(*LoginRefused)) || !strings.Contains(err.Error(), "registry "+closed+" cannot be reached") {
		t.Errorf("a registry nobody serves: %v", err)
	}
}

// TestCheckRegistryLoginSendsNoPasswordToAnUntrustedServer: a certificate this machine does not
// trust gets no password; the check says it could not be made.
func TestCheckRegistryLoginSendsNoPasswordToAnUntrustedServer(t *testing.T) {
	var sent []string
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		sent = append(sent, req.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	server := strings.TrimPrefix(srv.URL, "https://")
	err := CheckRegistryLogin(context.Background(), server, "ci", "right")
	var unverifiable *LoginUnverifiable
	if !errors.As(err, &unverifiable) {
		t.Fatalf("an untrusted certificate: %v, want LoginUnverifiable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if slices.ContainsFunc(sent, func(a string) bool { return a != "" }) {
		t.Errorf("credentials were sent to a server whose certificate is not trusted: %v", sent)
	}
}

func TestLoginSchemes(t *testing.T) {
	for server, want := range map[string]string{
		"localhost:5001": "https,http", "127.0.0.1:5000": "https,http", "[::1]:5000": "https,http",
		"registry.example.com": "https", "10.0.0.5:5000": "https", "ghcr.io": "https",
	} {
		if got := strings.Join(schemes(server), ","); got != want {
			t.Errorf("schemes(%s) = %s, want %s", server, got, want)
		}
	}
}

func TestChallenge(t *testing.T) {
	scheme, params := challenge(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"`)
	if scheme != "bearer" || params["realm"] != "https://auth.docker.io/token" || params["service"] != "registry.docker.io" ||
		params["scope"] != "repository:samalba/my-app:pull,push" {
		t.Errorf("challenge: %s %v", scheme, params)
	}
	if scheme, params := challenge(`Basic realm=Registry`); scheme != "basic" || params["realm"] != "Registry" {
		t.Errorf("challenge: %s %v", scheme, params)
	}
}
