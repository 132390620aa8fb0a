// Command podcheck is the tiny HTTP server the real-node tests run in pods.
// It reports what only a process inside the pod can see: its uid and gid,
// whether its root filesystem is writable, what a name resolves to through
// the pod's resolver, and whether another address answers from where it runs.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	host, _ := os.Hostname()
	log.Printf("podcheck %s listening on :8080 as uid %d", host, os.Getuid())
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "podcheck %s\n", host)
	})
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		werr := os.WriteFile("/podcheck-probe", []byte("x"), 0o644)
		if werr == nil {
			os.Remove("/podcheck-probe")
		}
		reply(w, map[string]any{"uid": os.Getuid(), "gid": os.Getgid(), "rootfsWritable": werr == nil, "writeError": errString(werr)})
	})
	mux.HandleFunc("/resolve", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(ctx, r.URL.Query().Get("name"))
		reply(w, map[string]any{"addrs": addrs, "error": errString(err)})
	})
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		// A new connection each time: a reachability check must pass the firewall's verdict on a
		// new connection, not ride one that conntrack let through before a policy existed.
		client := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(r.URL.Query().Get("url"))
		if err != nil {
			reply(w, map[string]any{"error": err.Error()})
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		reply(w, map[string]any{"status": resp.StatusCode, "body": string(body)})
	})
	log.Fatal(http.ListenAndServe(":8080", mux))
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
