package systemtest

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/redistest"
)

// otherLocalAddrs is addresses of this machine other than 127.0.0.1: 127.0.0.2,
// which Linux routes to the loopback interface like all of 127/8, and every
// global address of the machine's interfaces.
func otherLocalAddrs(t *testing.T) []string {
	t.Helper()
	addrs := []string{"127.0.0.2"}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ifaddrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || !ipnet.IP.IsGlobalUnicast() {
			continue // link-local addresses need a zone; the global ones make the point
		}
		addrs = append(addrs, ipnet.IP.String())
	}
	return addrs
}

// reachable reports whether something accepts TCP connections at host:port;
// a refused connection is the only other answer a local address may give.
func reachable(t *testing.T, host, port string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
	if err == nil {
		c.Close()
		return true
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s:%s: %v; want it accepted or refused", host, port, err)
	}
	return false
}

// listenAddr reads the address the process logged it listens on.
func listenAddr(t *testing.T, p *proc) string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Addr != "" {
			return entry.Addr
		}
	}
	t.Fatalf("no log line with the listen address in:\n%s", b)
	return ""
}

// TestHostLimitsWhereTheProcessesListen runs the real binaries with
// HOST=127.0.0.1, as make run does: they must answer on 127.0.0.1 and be
// refused on every other address of the machine. The same binaries without
// HOST (the containers' setting) must answer on those addresses, which shows
// the refusals come from HOST and not from the addresses.
func TestHostLimitsWhereTheProcessesListen(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	others := otherLocalAddrs(t)
	t.Logf("other local addresses: %v", others)
	for _, name := range []string{"api", "worker"} {
		bin := buildBinary(t, name)
		local := startProcess(t, bin, "REDIS_ADDR="+rs.Addr, "HOST=127.0.0.1")
		if got := listenAddr(t, local); got != "127.0.0.1:"+local.port {
			t.Errorf("%s with HOST=127.0.0.1 listens on %s, want 127.0.0.1:%s", name, got, local.port)
		}
		everywhere := startProcess(t, bin, "REDIS_ADDR="+rs.Addr)
		if got := listenAddr(t, everywhere); got != "[::]:"+everywhere.port {
			t.Errorf("%s without HOST listens on %s, want every interface ([::]:%s)", name, got, everywhere.port)
		}
		for _, host := range others {
			if reachable(t, host, local.port) {
				t.Errorf("%s with HOST=127.0.0.1 accepts connections on %s:%s", name, host, local.port)
			}
			if !reachable(t, host, everywhere.port) {
				t.Errorf("%s without HOST refuses connections on %s:%s; want every interface", name, host, everywhere.port)
			}
		}
	}
}
