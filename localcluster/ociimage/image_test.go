package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func testImage(t *testing.T) *Image {
	t.Helper()
	img, err := New([]File{{Path: "/bin/app", Mode: 0o755, Data: []byte("#!binary")}}, Config{Entrypoint: []string{"/bin/app"}, User: "65532"})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestNewIsDeterministicAndSelfConsistent(t *testing.T) {
	a, b := testImage(t), testImage(t)
	if a.ManifestDigest != b.ManifestDigest {
		t.Fatalf("same inputs gave digests %s and %s", a.ManifestDigest, b.ManifestDigest)
	}
	var m struct {
		Config Descriptor
		Layers []Descriptor
	}
	if err := json.Unmarshal(a.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.Digest != Digest(a.Config) || len(m.Layers) != 1 || m.Layers[0].Digest != Digest(a.Layer) {
		t.Fatalf("manifest does not point at the image's blobs: %s", a.Manifest)
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.Layer))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		Config struct{ User string }
	}
	if err := json.Unmarshal(a.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != Digest(raw) {
		t.Fatalf("diff_id %v is not the digest of the uncompressed layer %s", cfg.RootFS.DiffIDs, Digest(raw))
	}
	if cfg.Config.User != "65532" {
		t.Fatalf("user = %q", cfg.Config.User)
	}
	names := tarNames(t, raw)
	if strings.Join(names, ",") != "bin/,bin/app" {
		t.Fatalf("layer holds %v, want the parent directory then the file", names)
	}
}

func TestNewRejectsRelativePaths(t *testing.T) {
	if _, err := New([]File{{Path: "app", Data: []byte("x")}}, Config{}); err == nil {
		t.Fatal("a relative path was accepted")
	}
}

func TestArchiveNamesTheImage(t *testing.T) {
	img := testImage(t)
	var buf bytes.Buffer
	if err := img.WriteArchive(&buf, "localhost/jobs/app:abc"); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
	var index struct{ Manifests []Descriptor }
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Annotations["io.containerd.image.name"] != "localhost/jobs/app:abc" ||
		index.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "abc" {
		t.Fatalf("index %s does not name the image", files["index.json"])
	}
	for _, b := range [][]byte{img.Manifest, img.Config, img.Layer} {
		if got := files["blobs/sha256/"+strings.TrimPrefix(Digest(b), "sha256:")]; !bytes.Equal(got, b) {
			t.Fatalf("blob %s missing or different", Digest(b))
		}
	}
}

// TestPushSpeaksTheRegistryAPI checks the request sequence against a fake
// registry; the loopback registry itself is exercised by the node tests.
func TestPushSpeaksTheRegistryAPI(t *testing.T) {
	img := testImage(t)
	var mu sync.Mutex
	blobs := map[string][]byte{}
	var manifest []byte
	var contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/"):
			if _, ok := blobs[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]; ok {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/"):
			w.Header().Set("Location", "/v2/jobs/app/blobs/uploads/123?_state=x")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/"):
			b, _ := io.ReadAll(r.Body)
			if r.URL.Query().Get("_state") != "x" || r.URL.Query().Get("digest") != Digest(b) {
				http.Error(w, "bad upload query "+r.URL.RawQuery, http.StatusBadRequest)
				return
			}
			blobs[Digest(b)] = b
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/v1"):
			manifest, _ = io.ReadAll(r.Body)
			contentType = r.Header.Get("Content-Type")
			w.WriteHeader(http.StatusCreated)
		default:
			http.Error(w, r.Method+" "+r.URL.Path, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	digest, err := img.Push(context.Background(), strings.TrimPrefix(srv.URL, "http://"), "jobs/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if digest != img.ManifestDigest || !bytes.Equal(manifest, img.Manifest) || contentType != MediaTypeManifest {
		t.Fatalf("pushed manifest %q (%s), digest %s", manifest, contentType, digest)
	}
	if len(blobs) != 2 {
		t.Fatalf("registry got %d blobs, want config and layer", len(blobs))
	}
	// A second push finds the blobs and only puts the manifest again.
	if _, err := img.Push(context.Background(), strings.TrimPrefix(srv.URL, "http://"), "jobs/app", "v1"); err != nil {
		t.Fatal(err)
	}
}

func tarNames(t *testing.T, raw []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}
