package controlplane

import (
	"fmt"
	"net"
)

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before use, so another process could take one in between; the
// window is milliseconds and a clash shows up as a clear bind error.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// freeAnyPort is a free port on every address, for a server that cannot be
// told which address to bind (kube-router's health endpoint).
func freeAnyPort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
