// Command pause is the pod sandbox process: it holds the pod's namespaces open
// and, as PID 1 of a shared PID namespace, reaps orphaned children. The
// container registry that serves the upstream pause image is unreachable here,
// so the node imports this build as its sandbox image instead; the image is
// named after this binary's digest, never after an upstream pause version.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
