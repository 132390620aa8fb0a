// Command cluster starts and stops the local cluster (control plane and one
// real node) the e2e test and developers use:
//
//	go run ./cmd/cluster up     # build if needed, start, print kubeconfig path
//	go run ./cmd/cluster down   # stop exactly the processes `up` started
//	go run ./cmd/cluster status # list the recorded processes still alive
//	go run ./cmd/cluster kubectl # build kubectl if needed, print its path
//
// State lives in localcluster/.run (git-ignored); the kubeconfig of `up` is
// localcluster/.run/kubeconfig and localcluster/.run/kubectl runs a kubectl
// of the cluster's release, built on its first use rather than by `up`. `down` removes every folder under .run, so what
// described the cluster (the local Pulumi state the scripts keep in
// .run/pulumi-state) goes with it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/example/jobs/localcluster/binaries"
	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/workspace"
)

const usage = "usage: go run ./cmd/cluster up|down|status|kubectl"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(verb string) error {
	runRoot, err := workspace.RunDir()
	if err != nil {
		return err
	}
	// `up` owns .run/cluster; e2e runs use their own .run/e2e-* directories,
	// which `down` also stops in case a test binary was killed mid-run.
	mainRun := filepath.Join(runRoot, "cluster")
	switch verb {
	case "up":
		return up(mainRun)
	case "down":
		return down(runRoot)
	case "status":
		return status(runRoot)
	case "kubectl":
		return kubectl()
	default:
		return fmt.Errorf("unknown command %q; %s", verb, usage)
	}
}

func up(runDir string) error {
	if alive, err := controlplane.Running(runDir); err != nil {
		return err
	} else if len(alive) > 0 {
		return fmt.Errorf("a cluster already runs from %s (%v); run `go run ./cmd/cluster down` first", runDir, alive)
	}
	if err := os.RemoveAll(runDir); err != nil {
		return err
	}
	clusterDir, err := workspace.ClusterDir()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := controlplane.Start(ctx, clusterDir, controlplane.Options{RunDir: runDir, Log: os.Stderr})
	if err != nil {
		return err
	}
	// A stable path for tools (make cluster-up documents .run/kubeconfig).
	kubeconfig, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		return err
	}
	stable := filepath.Join(filepath.Dir(runDir), "kubeconfig")
	if err := os.WriteFile(stable, kubeconfig, 0o600); err != nil {
		return err
	}
	// And a kubectl of the cluster's own release beside it: a launcher, so
	// that nobody who never runs it waits for its build.
	kubectl := filepath.Join(filepath.Dir(runDir), "kubectl")
	if err := writeKubectlLauncher(kubectl, clusterDir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "cluster up in %s: node %s at %s (NodePorts on 127.0.0.1 too), logs in %s, kubectl at %s; stop it with `go run ./cmd/cluster down`\n",
		time.Since(start).Round(time.Second), c.Node.Name, c.Node.IP, filepath.Join(c.RunDir, "logs"), kubectl)
	fmt.Printf("export KUBECONFIG=%s\n", stable)
	return nil
}

// writeKubectlLauncher writes a script at path that builds kubectl on its
// first run (a few minutes cold, a stat after) and then runs it.
func writeKubectlLauncher(path, clusterDir string) error {
	script := "#!/bin/sh\n" +
		"# kubectl of the local cluster's release, built on first use by `go run ./cmd/cluster kubectl`.\n" +
		"bin=$(cd '" + clusterDir + "' && go run ./cmd/cluster kubectl) || exit\n" +
		"exec \"$bin\" \"$@\"\n"
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(script), 0o755)
}

// kubectl prints the path of a kubectl of the cluster's release on stdout,
// building it (with progress on stderr) if the cache lacks it.
func kubectl() error {
	clusterDir, err := workspace.ClusterDir()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	set, err := binaries.Ensure(ctx, clusterDir, os.Stderr, binaries.Options{Kubectl: true})
	if err != nil {
		return err
	}
	fmt.Println(set.Kubectl)
	return nil
}

func down(runRoot string) error {
	entries, err := os.ReadDir(runRoot)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(runRoot, e.Name())
		// Stop also puts back what the real node changed on the host.
		if err := controlplane.Stop(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(os.Stderr, "stopped %s\n", dir)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, name := range []string{"kubeconfig", "kubectl"} {
		if err := os.Remove(filepath.Join(runRoot, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func status(runRoot string) error {
	entries, err := os.ReadDir(runRoot)
	if os.IsNotExist(err) {
		fmt.Println("no cluster recorded")
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		alive, err := controlplane.Running(filepath.Join(runRoot, e.Name()))
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d running %v\n", e.Name(), len(alive), alive)
	}
	return nil
}
