package program

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// LoginRefused is a registry's answer that the login is wrong.
type LoginRefused struct {
	Server string
	Status string // the HTTP status the registry answered
}

func (e *LoginRefused) Error() string {
	return fmt.Sprintf("registry %s refused the login (%s)", e.Server, e.Status)
}

// LoginUnverifiable says the registry's TLS certificate could not be verified here, so the
// password was not sent to it; the push will use the engine's own trust settings.
type LoginUnverifiable struct {
	Server string
	Err    error
}

func (e *LoginUnverifiable) Error() string {
	return fmt.Sprintf("registry %s: its certificate cannot be verified here (%v), so the login was not tried", e.Server, e.Err)
}

// CheckRegistryLogin asks a registry whether it accepts a login, the way docker login does
// (Docker Registry HTTP API v2): GET /v2/, and on a 401 the challenge it names, Basic credentials
// on /v2/ itself or a token from the Bearer realm. It returns nil when the registry accepts the
// login or asks for none, a *LoginRefused when it refuses it, a *LoginUnverifiable when its
// certificate cannot be verified, and another error when it cannot be reached. A loopback
// registry is tried over plain HTTP after HTTPS, as the Docker engine treats it as insecure.
func CheckRegistryLogin(ctx context.Context, server, username, password string) error {
	client := &http.Client{Timeout: 15 * time.Second}
	var firstErr error
	for _, scheme := range schemes(server) {
		err := checkLogin(ctx, client, scheme+"://"+server, server, username, password)
		if err == nil || errors.As(err, new(*LoginRefused)) {
			return err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// schemes are the schemes to try for a registry: HTTPS, then HTTP for a loopback one.
func schemes(server string) []string {
	host := server
	if h, _, err := net.SplitHostPort(server); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return []string{"https", "http"}
	}
	return []string{"https"}
}

func checkLogin(ctx context.Context, client *http.Client, base, server, username, password string) error {
	resp, err := get(ctx, client, base+"/v2/")
	if err != nil {
		return classify(server, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return nil // no login needed: there is nothing to check
	case http.StatusUnauthorized:
	default:
		return fmt.Errorf("registry %s answered %s to GET /v2/: it does not look like a container registry", server, resp.Status)
	}
	scheme, params := challenge(resp.Header.Get("WWW-Authenticate"))
	var check *http.Request
	switch scheme {
	case "basic":
		check, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2/", nil)
	case "bearer":
		realm, perr := url.Parse(params["realm"])
		if perr != nil || realm.Scheme == "" {
			return fmt.Errorf("registry %s asks for a token from %q, which is no URL", server, params["realm"])
		}
		q := realm.Query()
		if params["service"] != "" {
			q.Set("service", params["service"])
		}
		q.Set("account", username)
		realm.RawQuery = q.Encode()
		check, err = http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	default:
		return fmt.Errorf("registry %s asks for a login this check does not know (%q)", server, resp.Header.Get("WWW-Authenticate"))
	}
	if err != nil {
		return err
	}
	check.SetBasicAuth(username, password)
	resp, err = client.Do(check)
	if err != nil {
		return classify(server, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &LoginRefused{Server: server, Status: resp.Status}
}

func get(ctx context.Context, client *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp, nil
}

// classify tells a certificate this machine does not trust from a registry it cannot reach.
func classify(server string, err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return &LoginUnverifiable{Server: server, Err: err}
	}
	return fmt.Errorf("registry %s cannot be reached: %w", server, err)
}

// challenge parses a WWW-Authenticate header: its scheme, lowercase, and its parameters.
func challenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		var kv string
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				break
			}
			kv, rest = after[1:end+1], after[end+2:]
		} else {
			kv, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(key))] = kv
	}
	return strings.ToLower(scheme), params
}

// verifyLogin checks the stack's registry login before anything is registered, so a wrong
// password stops the preview and the update with the key to fix, before any image is pushed or
// any pull secret or Deployment changes. (The provider pushes only when an image changes, so
// a new password alone would otherwise reach the pull secret unchecked, and pods would fail to
// pull at their next start.)
func verifyLogin(ctx *pulumi.Context, check LoginCheck, cfg settings.Config) error {
	login := cfg.Images.Login
	if login == nil {
		return nil
	}
	if check == nil {
		check = CheckRegistryLogin
	}
	server := cfg.Images.Server
	err := check(ctx.Context(), server, login.Username, login.Password.Reveal())
	var refused *LoginRefused
	var unverifiable *LoginUnverifiable
	switch {
	case err == nil:
		return ctx.Log.Info(fmt.Sprintf("registry %s accepts the login of jobs:registryUsername %q", server, login.Username), nil)
	case errors.As(err, &refused):
		return fmt.Errorf("registry %s (the server of jobs:registry) refused the login of jobs:registryUsername %q with jobs:registryPassword (%s), "+
			"so no image could be pushed and no pod could pull; fix: pulumi config set --secret jobs:registryPassword <the password of %s at %s> "+
			"(or pulumi config set jobs:registryUsername <user>)", server, login.Username, refused.Status, login.Username, server)
	case errors.As(err, &unverifiable):
		return ctx.Log.Warn(err.Error()+"; the push will tell whether jobs:registryUsername and jobs:registryPassword are right", nil)
	}
	return fmt.Errorf("checking the login of jobs:registryUsername %q at the registry of jobs:registry: %w; fix: make the registry reachable from here, or correct jobs:registry", login.Username, err)
}
