package makerun

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat is what /proc/<pid>/stat says about a process.
type procStat struct {
	state            string
	ppid, pgrp, sess int
	start            uint64 // clock ticks after boot: tells a process from a later one with its pid
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return procStat{}, false
	}
	var st procStat
	st.state = f[0]
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.sess, _ = strconv.Atoi(f[3])
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	return st, true
}

// pids lists the processes now running, with their stat lines.
func pids() map[int]procStat {
	all := map[int]procStat{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			all[pid] = st
		}
	}
	return all
}

// cmdline is a process's command line, words separated by spaces.
func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// server is one of the three processes make run starts, as its banner names it.
type server struct {
	name, log string
	pid       int
	start     uint64
}

// running reports whether the very process the banner named still runs (a zombie has exited).
func (s server) running() bool {
	st, ok := readStat(s.pid)
	return ok && st.start == s.start && st.state != "Z" && st.state != "X"
}
