package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// words joins names as a sentence does: "A", "A and B", "A, B and C".
func words(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// describe says how a process ended, in the shell's terms a newcomer knows from `echo $?`:
// "exit status 3", "exit status 137, killed by SIGKILL".
func describe(st *os.ProcessState) string {
	ws, ok := st.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return st.String()
	case ws.Signaled():
		return fmt.Sprintf("exit status %d, killed by %s", 128+int(ws.Signal()), signalName(ws.Signal()))
	default:
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	}
}

// signalName is "SIGKILL" for syscall.SIGKILL; reasons use the same names, except Ctrl-C.
func signalName(s syscall.Signal) string {
	for _, n := range []struct {
		s    syscall.Signal
		name string
	}{{syscall.SIGINT, "SIGINT"}, {syscall.SIGTERM, "SIGTERM"}, {syscall.SIGHUP, "SIGHUP"},
		{syscall.SIGKILL, "SIGKILL"}, {syscall.SIGSEGV, "SIGSEGV"}, {syscall.SIGABRT, "SIGABRT"},
		{syscall.SIGQUIT, "SIGQUIT"}, {syscall.SIGPIPE, "SIGPIPE"}} {
		if n.s == s {
			return n.name
		}
	}
	return fmt.Sprintf("signal %d", int(s))
}

// stopReason names what the user sent, as the report says it: Ctrl-C, SIGTERM or SIGHUP.
func stopReason(s os.Signal) string {
	if s == os.Interrupt {
		return "Ctrl-C"
	}
	if sig, ok := s.(syscall.Signal); ok {
		return signalName(sig)
	}
	return s.String()
}
