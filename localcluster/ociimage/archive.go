package ociimage

import (
	"archive/tar"
	"encoding/json"
	"io"
	"strings"
	"time"
)

// WriteArchive writes img as an OCI image layout in a tar stream, with its
// index entry named ref (e.g. "localhost/jobs-cluster/pause:ab12"), the form
// `ctr images import` reads.
func (img *Image) WriteArchive(w io.Writer, ref string) error {
	tag := ref[strings.LastIndex(ref, ":")+1:]
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeIndex,
		"manifests": []Descriptor{{
			MediaType: MediaTypeManifest,
			Digest:    img.ManifestDigest,
			Size:      int64(len(img.Manifest)),
			Platform:  &Platform{Architecture: "amd64", OS: "linux"},
			Annotations: map[string]string{
				// containerd names the imported image after the first.
				"io.containerd.image.name":          ref,
				"org.opencontainers.image.ref.name": tag,
			},
		}},
	})
	if err != nil {
		return err
	}
	epoch := time.Unix(0, 0)
	tw := tar.NewWriter(w)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	blob := func(b []byte) string { return "blobs/sha256/" + strings.TrimPrefix(Digest(b), "sha256:") }
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blob(img.Manifest), img.Manifest},
		{blob(img.Config), img.Config},
		{blob(img.Layer), img.Layer},
	} {
		if err := add(f.name, f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}
