package ociimage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Push uploads img to the plain-HTTP registry at host (e.g. "localhost:5000")
// as repo:tag through the registry API (monolithic blob uploads) and returns
// the manifest digest, so callers can refer to repo@digest as well.
func (img *Image) Push(ctx context.Context, host, repo, tag string) (string, error) {
	base := "http://" + host + "/v2/" + repo
	for _, b := range [][]byte{img.Layer, img.Config} {
		if err := pushBlob(ctx, base, b); err != nil {
			return "", err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/manifests/"+tag, bytes.NewReader(img.Manifest))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", MediaTypeManifest)
	if err := do(req, http.StatusCreated); err != nil {
		return "", fmt.Errorf("push manifest %s:%s: %w", repo, tag, err)
	}
	return img.ManifestDigest, nil
}

func pushBlob(ctx context.Context, base string, b []byte) error {
	digest := Digest(b)
	head, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/blobs/"+digest, nil)
	if err != nil {
		return err
	}
	if do(head, http.StatusOK) == nil {
		return nil // already there
	}
	start, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/blobs/uploads/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(start)
	if err != nil {
		return fmt.Errorf("start blob upload: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("start blob upload: %s", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("blob upload without a location: %w", err)
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	put.Header.Set("Content-Type", "application/octet-stream")
	if err := do(put, http.StatusCreated); err != nil {
		return fmt.Errorf("upload blob %s: %w", digest, err)
	}
	return nil
}

func do(req *http.Request, want int) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s", req.Method, (&url.URL{Path: req.URL.Path}).String(), resp.Status, bytes.TrimSpace(body))
	}
	return nil
}
