package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kwokNodeAnnotation marks the nodes kwok manages; kwok ignores all others.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// FakeNodeTaint keeps pods off kwok's fake nodes unless they tolerate it:
// a pod placed there would look Running without ever running.
var FakeNodeTaint = corev1.Taint{Key: kwokNodeAnnotation, Value: "fake", Effect: corev1.TaintEffectNoSchedule}

// StorageClassName is the class both stacks request. It has no provisioner
// and binds immediately, so the real PV controller in kube-controller-manager
// binds each claim to one of the pre-created PersistentVolumes.
const StorageClassName = "standard"

func bootstrap(ctx context.Context, client *kubernetes.Clientset, runDir string, opts Options) (nodes, pvs []string, err error) {
	for i := range opts.FakeNodes {
		n := fakeNode(fmt.Sprintf("kwok-node-%d", i))
		if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("create fake node: %w", err)
		}
		nodes = append(nodes, n.Name)
	}
	immediate := storagev1.VolumeBindingImmediate
	retain := corev1.PersistentVolumeReclaimRetain
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: StorageClassName},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: &immediate,
		ReclaimPolicy:     &retain,
	}
	if _, err := client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		return nil, nil, fmt.Errorf("create storage class: %w", err)
	}
	size, err := resource.ParseQuantity(opts.PVSize)
	if err != nil {
		return nil, nil, fmt.Errorf("PV size %q: %w", opts.PVSize, err)
	}
	hostPathType := corev1.HostPathDirectory
	for i := range opts.PersistentVolumes {
		// The real node mounts these: below the run directory they go with
		// it, and world-writable they suit a non-root database image
		// (hostPath volumes ignore fsGroup).
		dir := filepath.Join(runDir, "pv", fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, nil, err
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("local-pv-%d", i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: retain,
				StorageClassName:              StorageClassName,
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					HostPath: &corev1.HostPathVolumeSource{
						Path: dir,
						Type: &hostPathType,
					},
				},
			},
		}
		if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("create persistent volume: %w", err)
		}
		pvs = append(pvs, pv.Name)
	}
	return nodes, pvs, nil
}

func fakeNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Spec:   corev1.NodeSpec{Taints: []corev1.Taint{FakeNodeTaint}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

func waitNodesReady(ctx context.Context, client *kubernetes.Clientset, names []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		notReady := []string{}
		for _, name := range names {
			n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil || !nodeReady(n) {
				notReady = append(notReady, name)
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes %v not Ready after %s: is kwok running? see logs/kwok.log", notReady, timeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitControllers waits for the service-account controller to create the
// default ServiceAccount: pods cannot be admitted into a namespace without
// it, so until then every Deployment would stall on controller start-up
// rather than on anything in its manifest.
func waitControllers(ctx context.Context, client *kubernetes.Clientset, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-controller-manager created no default ServiceAccount within %s (%v): see logs/kube-controller-manager.log", timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
