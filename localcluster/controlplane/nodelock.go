package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A real node uses host-wide names: the bridge, the cgroup, kube-proxy's
// iptables chains, the NodePort range on 127.0.0.1. Two at once would fight
// over them, so one machine runs one real node. The lock file is held by
// the process that started the node while it lives (tests queue on it); the
// owner file names the run directory that holds the node, so a node left by
// `up` (whose process has exited) is found too.
const (
	nodeLockFile  = "/run/jobs-cluster-node.lock"
	nodeOwnerFile = "/run/jobs-cluster-node.owner"
)

var (
	heldMu sync.Mutex
	held   = map[string]*os.File{} // run dir -> its lock
)

// acquireNode waits until no other process holds the real node, then checks
// that no cluster left running by `up` does, and records runDir as owner.
func acquireNode(ctx context.Context, runDir string, log func(string, ...any)) error {
	f, err := os.OpenFile(nodeLockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("real node lock: %w (the node needs root)", err)
	}
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return fmt.Errorf("lock %s: %w", nodeLockFile, err)
		}
		if !waiting {
			owner, _ := os.ReadFile(nodeOwnerFile)
			log("another process runs the machine's real node (%s); waiting for it to stop", strings.TrimSpace(string(owner)))
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if owner, err := os.ReadFile(nodeOwnerFile); err == nil {
		dir := strings.TrimSpace(string(owner))
		if dir != runDir {
			if alive, _ := Running(dir); len(alive) > 0 {
				f.Close()
				return fmt.Errorf("the real node of %s still runs (%v); stop it with `go run ./cmd/cluster down` in localcluster", dir, alive)
			}
		}
	}
	if err := os.WriteFile(nodeOwnerFile, []byte(runDir+"\n"), 0o644); err != nil {
		f.Close()
		return err
	}
	heldMu.Lock()
	held[runDir] = f
	heldMu.Unlock()
	return nil
}

// releaseNode gives up runDir's claim on the real node.
func releaseNode(runDir string) {
	if owner, err := os.ReadFile(nodeOwnerFile); err == nil && strings.TrimSpace(string(owner)) == runDir {
		_ = os.Remove(nodeOwnerFile)
	}
	heldMu.Lock()
	f := held[runDir]
	delete(held, runDir)
	heldMu.Unlock()
	if f != nil {
		f.Close() // closing drops the flock
	}
}
