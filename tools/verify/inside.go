package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/jobs/release"
)

// probeWait bounds the probe pod: pulling the API image it already runs and a few requests.
const probeWait = 3 * time.Minute

// kubectl runs kubectl against the caller's KUBECONFIG.
type kubectl struct{ bin string }

func newKubectl(dir string) (kubectl, error) {
	if bin := os.Getenv("KUBECTL"); bin != "" {
		return kubectl{bin}, nil
	}
	if bin, err := exec.LookPath("kubectl"); err == nil {
		return kubectl{bin}, nil
	}
	local := filepath.Join(dir, "localcluster", ".run", "kubectl")
	if _, err := os.Stat(local); err == nil {
		return kubectl{local}, nil
	}
	return kubectl{}, fmt.Errorf("no kubectl: install it (apt-get install kubernetes-client) or set KUBECTL; the local cluster's is %s while it runs", local)
}

func (k kubectl) run(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, k.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (k kubectl) getJSON(ctx context.Context, into any, args ...string) error {
	out, err := k.run(ctx, "", append([]string{"get", "-o", "json"}, args...)...)
	if err != nil {
		return err
	}
	return json.Unmarshal(out, into)
}

type deployment struct {
	Metadata struct{ Generation int64 } `json:"metadata"`
	Spec     struct {
		Replicas int32 `json:"replicas"`
		Template struct {
			Spec podSpec `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int64 `json:"observedGeneration"`
		UpdatedReplicas    int32 `json:"updatedReplicas"`
		ReadyReplicas      int32 `json:"readyReplicas"`
		Replicas           int32 `json:"replicas"`
	} `json:"status"`
}

type podSpec struct {
	ImagePullSecrets []map[string]string `json:"imagePullSecrets,omitempty"`
	Containers       []struct {
		Image           string `json:"image"`
		ImagePullPolicy string `json:"imagePullPolicy"`
	} `json:"containers"`
}

// checkDeployments checks that the API and worker run exactly the images the stack exports (the
// ones a pass records) and are rolled out: every pod updated and ready, no old one left.
func checkDeployments(ctx context.Context, r *report, k kubectl, d deployed) {
	for _, c := range release.Components {
		name := fmt.Sprintf("cluster: Deployment %s-%s runs %s, rolled out", d.stack, c, release.OutputName(c))
		var dep deployment
		if err := k.getJSON(ctx, &dep, "deployment", "-n", d.namespace, d.stack+"-"+c); err != nil {
			r.fail(name, err.Error())
			continue
		}
		if len(dep.Spec.Template.Spec.Containers) == 0 || dep.Spec.Template.Spec.Containers[0].Image != d.images[c] {
			r.fail(name, fmt.Sprintf("it runs %+v, the stack exports %s: the cluster was changed outside Pulumi (make preview STACK=%s shows it)", dep.Spec.Template.Spec.Containers, d.images[c], d.stack))
			continue
		}
		s := dep.Status
		if s.ObservedGeneration < dep.Metadata.Generation || s.UpdatedReplicas != dep.Spec.Replicas || s.ReadyReplicas != dep.Spec.Replicas || s.Replicas != dep.Spec.Replicas {
			r.fail(name, fmt.Sprintf("%d of %d pods updated, %d ready, %d in all: the rollout has not finished (kubectl rollout status -n %s deployment/%s-%s)",
				s.UpdatedReplicas, dep.Spec.Replicas, s.ReadyReplicas, s.Replicas, d.namespace, d.stack, c))
			continue
		}
		r.pass(name, fmt.Sprintf("%d of %d pods ready", s.ReadyReplicas, dep.Spec.Replicas))
	}
}

// checkInside runs the probe pod: every Service of the environment must resolve by name
// (<service>.<namespace>, as the API and worker get REDIS_ADDR) and the API must answer by its
// Service name. Redis itself answers only to the API and worker pods (its NetworkPolicy), so the
// API's readiness through its Service, which needs Redis by that very name, is what shows Redis
// answers; the probe pod does not try to reach it.
func checkInside(ctx context.Context, r *report, k kubectl, d deployed) {
	var services struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
			Spec     struct {
				Ports []struct{ Port int } `json:"ports"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := k.getJSON(ctx, &services, "services", "-n", d.namespace, "-l", "app.kubernetes.io/instance="+d.stack); err != nil {
		r.fail("inside: the environment's Services", err.Error())
		return
	}
	api := d.stack + "-api"
	var targets []string
	for _, s := range services.Items {
		targets = append(targets, "dns://"+s.Metadata.Name+"."+d.namespace)
		if s.Metadata.Name == api && len(s.Spec.Ports) > 0 {
			base := fmt.Sprintf("http://%s.%s:%d", api, d.namespace, s.Spec.Ports[0].Port)
			targets = append(targets, base+"/readyz", base+"/version#"+fmt.Sprintf(`"version":%q`, d.version))
		}
	}
	if !strings.Contains(strings.Join(targets, " "), "http://") {
		r.fail("inside: the environment's Services", fmt.Sprintf("namespace %s has no Service %s: the API cannot be reached by name", d.namespace, api))
		return
	}
	lines, err := runProbe(ctx, k, d, targets)
	if err != nil {
		r.fail("inside: probe pod "+probeName(d), err.Error())
		return
	}
	for _, target := range targets {
		name := "inside: " + describe(target)
		line := findLine(lines, target)
		switch {
		case strings.HasPrefix(line, "ok "):
			r.pass(name, "")
		case line == "":
			r.fail(name, "the probe pod reported nothing for it: "+strings.Join(lines, " | "))
		default:
			r.fail(name, strings.TrimPrefix(line, "FAIL "+target+": "))
		}
	}
}

func describe(target string) string {
	if name, ok := strings.CutPrefix(target, "dns://"); ok {
		return "Service " + name + " resolves"
	}
	url, want, _ := strings.Cut(target, "#")
	if want != "" {
		return "GET " + url + " answers " + want
	}
	return "GET " + url + " answers 200"
}

func findLine(lines []string, target string) string {
	for _, l := range lines {
		if l == "ok "+target || strings.HasPrefix(l, "FAIL "+target+": ") {
			return l
		}
	}
	return ""
}

// probeName is the probe pod's name: fixed, so a pod left by an interrupted run is found and
// replaced instead of piling up.
func probeName(d deployed) string { return d.stack + "-verify" }

// runProbe creates the probe pod, waits for it to end, returns its log lines and deletes it.
func runProbe(ctx context.Context, k kubectl, d deployed, targets []string) ([]string, error) {
	var api deployment
	if err := k.getJSON(ctx, &api, "deployment", "-n", d.namespace, d.stack+"-api"); err != nil {
		return nil, err
	}
	name := probeName(d)
	manifest, err := json.Marshal(probePod(d, name, api.Spec.Template.Spec.ImagePullSecrets, targets))
	if err != nil {
		return nil, err
	}
	del := func() error {
		// Not the caller's context: an interrupted run still removes its pod.
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := k.run(dctx, "", "delete", "pod", "-n", d.namespace, name, "--ignore-not-found", "--wait=true")
		return err
	}
	if err := del(); err != nil {
		return nil, err
	}
	if _, err := k.run(ctx, string(manifest), "create", "-f", "-"); err != nil {
		return nil, err
	}
	defer del()
	deadline := time.Now().Add(probeWait)
	var phase string
	for phase != "Succeeded" && phase != "Failed" {
		if time.Now().After(deadline) {
			events, _ := k.run(ctx, "", "get", "events", "-n", d.namespace, "--field-selector", "involvedObject.name="+name, "-o", "custom-columns=REASON:.reason,MESSAGE:.message", "--no-headers")
			return nil, fmt.Errorf("the probe pod did not finish within %s (phase %q); its events: %s", probeWait, phase, strings.Join(strings.Fields(string(events)), " "))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		out, err := k.run(ctx, "", "get", "pod", "-n", d.namespace, name, "-o", "jsonpath={.status.phase}")
		if err != nil {
			return nil, err
		}
		phase = strings.TrimSpace(string(out))
	}
	logs, err := k.run(ctx, "", "logs", "-n", d.namespace, name)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSpace(string(logs)), "\n"), nil
}

// probePod is a pod of the stack's own API image in its probe mode, as locked down as the API's
// own pods, labelled as part of the environment but as no component a Service selects.
func probePod(d deployed, name string, pullSecrets []map[string]string, targets []string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": name, "namespace": d.namespace,
			"labels": map[string]string{
				"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": d.stack, "app.kubernetes.io/part-of": "jobs",
				"app.kubernetes.io/component": release.Verifier, "app.kubernetes.io/managed-by": "make-verify",
			},
		},
		"spec": map[string]any{
			"restartPolicy":         "Never",
			"activeDeadlineSeconds": int(probeWait / time.Second),
			"imagePullSecrets":      pullSecrets,
			"securityContext": map[string]any{
				"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
				"seccompProfile": map[string]string{"type": "RuntimeDefault"},
			},
			"containers": []map[string]any{{
				"name": "probe", "image": d.images[release.API], "imagePullPolicy": "IfNotPresent",
				"args": append([]string{"probe"}, targets...),
				"securityContext": map[string]any{
					"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
					"capabilities": map[string]any{"drop": []string{"ALL"}},
				},
				"resources": map[string]any{"limits": map[string]string{"cpu": "100m", "memory": "32Mi"}},
			}},
		},
	}
}

// pulumiCLI reads a stack's outputs and runs commands in the project directory.
type pulumiCLI struct{ dir string }

func (p pulumiCLI) outputs(ctx context.Context, stack string) (map[string]any, error) {
	cmd := exec.CommandContext(ctx, "pulumi", "stack", "output", "--json", "--stack", stack, "--non-interactive")
	cmd.Dir = p.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading the outputs of stack %s (pulumi stack output --json -s %s): %v: %s; is the state backend the one make up wrote (run through make verify)?",
			stack, stack, err, strings.TrimSpace(stderr.String()))
	}
	var outs map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &outs); err != nil {
		return nil, fmt.Errorf("pulumi stack output --json -s %s: %v", stack, err)
	}
	return outs, nil
}

// run runs a command in the project directory, its output to out.
func (p pulumiCLI) run(ctx context.Context, out io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return nil
}
