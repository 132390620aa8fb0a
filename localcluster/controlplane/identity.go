package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// identity is one static-token user of the API server.
type identity struct {
	user, uid string
	groups    []string
	token     string
}

func (i identity) csvLine() string {
	line := i.token + "," + i.user + "," + i.uid
	if len(i.groups) > 0 {
		line += `,"` + strings.Join(i.groups, ",") + `"`
	}
	return line + "\n"
}

// nodeIdentities gives every node component a user of its own instead of
// the admin token: the kubelet is system:node:<name> in system:nodes (the
// names the Node authorizer would expect), kube-proxy is system:kube-proxy
// (bound to system:node-proxier by the API server's bootstrap policy), and
// CoreDNS a user that may only read what service discovery needs.
func nodeIdentities() map[string]identity {
	return map[string]identity{
		"kubelet":    {user: "system:node:" + NodeName, uid: "kubelet-uid", groups: []string{"system:nodes"}, token: randomToken()},
		"kube-proxy": {user: "system:kube-proxy", uid: "kube-proxy-uid", token: randomToken()},
		"coredns":    {user: "system:jobs-coredns", uid: "coredns-uid", token: randomToken()},
		// kube-router reads pods, namespaces and policies to enforce them.
		"kube-router": {user: "system:jobs-kube-router", uid: "kube-router-uid", token: randomToken()},
	}
}

// corednsRole is what CoreDNS's kubernetes plugin lists and watches.
var corednsRole = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
}

// bindNodeIdentities grants the kubelet, CoreDNS and kube-router their roles. The API
// server runs RBAC only (no Node authorizer), and since Kubernetes 1.8 the
// bootstrap system:node role is bound to nobody, so the binding is ours.
func bindNodeIdentities(ctx context.Context, client *kubernetes.Clientset, ids map[string]identity) error {
	objs := []struct {
		role    *rbacv1.ClusterRole
		binding *rbacv1.ClusterRoleBinding
	}{
		{nil, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "jobs-cluster:nodes"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "system:nodes"}},
		}},
		{&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "jobs-cluster:coredns"},
			Rules:      corednsRole,
		}, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "jobs-cluster:coredns"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "jobs-cluster:coredns"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: ids["coredns"].user}},
		}},
		{&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "jobs-cluster:kube-router"},
			Rules:      kubeRouterRole,
		}, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "jobs-cluster:kube-router"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "jobs-cluster:kube-router"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: ids["kube-router"].user}},
		}},
	}
	for _, o := range objs {
		if o.role != nil {
			if _, err := client.RbacV1().ClusterRoles().Create(ctx, o.role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create cluster role %s: %w", o.role.Name, err)
			}
		}
		if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, o.binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create cluster role binding %s: %w", o.binding.Name, err)
		}
	}
	return nil
}

// writeKubeconfigFor writes a kubeconfig for one token user of the cluster.
func writeKubeconfigFor(path, server, caFile, user, token string) error {
	cfg := strings.Join([]string{
		"apiVersion: v1",
		"kind: Config",
		"clusters:",
		"- name: local",
		"  cluster:",
		"    server: " + server,
		"    certificate-authority: " + caFile,
		"users:",
		"- name: " + user,
		"  user:",
		"    token: " + token,
		"contexts:",
		"- name: local",
		"  context:",
		"    cluster: local",
		"    user: " + user,
		"current-context: local",
		"",
	}, "\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(cfg), 0o600)
}
