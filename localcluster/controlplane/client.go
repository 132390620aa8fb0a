package controlplane

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// RESTConfig returns a client configuration for the cluster's admin user.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.Server,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: c.CAFile},
		// The e2e test applies many small objects and polls; the default
		// client-side rate limit (5 qps) would only add waiting.
		QPS:   100,
		Burst: 200,
	}
}

func newClient(c *Cluster) (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(c.RESTConfig())
}

// waitHealthy polls /readyz until the API server reports ready, so callers
// never race the server's post-start hooks (RBAC bootstrap, priority classes).
func waitHealthy(ctx context.Context, client *kubernetes.Clientset, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("readyz said %q", body)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %s: %v", timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
