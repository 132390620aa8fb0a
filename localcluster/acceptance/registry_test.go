package acceptance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
)

// registry is the loopback registry the stacks push to and the node pulls from.
const registry = "http://127.0.0.1:5000"

var digestRef = regexp.MustCompile(`^localhost:5000/(.+)@(sha256:[0-9a-f]{64})$`)

// manifestDigest asks the registry for a manifest (by tag or digest) and returns the digest it
// serves, or "" when it has none.
func manifestDigest(t *testing.T, repo, ref string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, fmt.Sprintf("%s/v2/%s/manifests/%s", registry, repo, ref), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range []string{
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.oci.image.index.v1+json",
	} {
		req.Header.Add("Accept", mt)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// servedDigest checks that a digest reference names an image the registry serves, and returns
// the repository.
func servedDigest(t *testing.T, ref string) string {
	t.Helper()
	m := digestRef.FindStringSubmatch(ref)
	if m == nil {
		t.Fatalf("%q is not a digest reference in the loopback registry (localhost:5000/<repo>@sha256:<64 hex>)", ref)
	}
	if got := manifestDigest(t, m[1], m[2]); got != m[2] {
		t.Fatalf("the registry does not serve %s (HEAD answered digest %q)", ref, got)
	}
	return m[1]
}

// tags maps every tag of a repository to the digest it names now.
func tags(t *testing.T, repo string) map[string]string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/v2/%s/tags/list", registry, repo))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Tags []string `json:"tags"`
	}
	if resp.StatusCode == http.StatusNotFound {
		return map[string]string{}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tag := range list.Tags {
		out[tag] = manifestDigest(t, repo, tag)
	}
	return out
}
