// Package ociimage assembles single-layer OCI images from files in memory,
// writes them as OCI archives (for `ctr images import`) and pushes them to a
// plain-HTTP registry. No container registry can be pulled from here, so the
// images the local cluster needs (its pod sandbox, test servers) are made
// from programs built in this module instead of being downloaded.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"
)

// Media types of the OCI image spec.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// File is one regular file of the image's only layer.
type File struct {
	Path string // absolute path inside the image, e.g. "/pause"
	Mode int64
	Data []byte
}

// Config is the part of the image configuration a pod relies on.
type Config struct {
	Entrypoint []string
	// User is empty (root) or a numeric uid[:gid]; images made here carry
	// no /etc/passwd to resolve names with.
	User string
	// Labels describe the image honestly, e.g. which source built it.
	Labels map[string]string
}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is the OS and architecture of an image.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Image is a built image: its blobs and their digests.
type Image struct {
	Config, Layer, Manifest []byte
	// ManifestDigest identifies the image: a reference name@ManifestDigest
	// pulls exactly these bytes.
	ManifestDigest string
}

// New builds a linux/amd64 image whose single layer holds files (parent
// directories are added). Timestamps are fixed, so equal inputs give equal
// digests and a rebuilt image is recognised as the same one.
func New(files []File, cfg Config) (*Image, error) {
	layerTar, err := tarFiles(files)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(layerTar); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	type imageConfig struct {
		Entrypoint []string          `json:"Entrypoint,omitempty"`
		User       string            `json:"User,omitempty"`
		Labels     map[string]string `json:"Labels,omitempty"`
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config":       imageConfig{Entrypoint: cfg.Entrypoint, User: cfg.User, Labels: cfg.Labels},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{Digest(layerTar)}},
	})
	if err != nil {
		return nil, err
	}
	img := &Image{Config: config, Layer: gz.Bytes()}
	img.Manifest, err = json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeManifest,
		"config":        Descriptor{MediaType: MediaTypeConfig, Digest: Digest(img.Config), Size: int64(len(img.Config))},
		"layers":        []Descriptor{{MediaType: MediaTypeLayer, Digest: Digest(img.Layer), Size: int64(len(img.Layer))}},
	})
	if err != nil {
		return nil, err
	}
	img.ManifestDigest = Digest(img.Manifest)
	return img, nil
}

// Digest is the OCI digest of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func tarFiles(files []File) ([]byte, error) {
	epoch := time.Unix(0, 0)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(path.Clean(f.Path)); d != "/" && d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range sorted {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		name := path.Clean(f.Path)
		if !path.IsAbs(name) {
			return nil, fmt.Errorf("image file path %q is not absolute", f.Path)
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: name[1:], Mode: f.Mode, Size: int64(len(f.Data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
