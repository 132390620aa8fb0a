package config

import (
	"log/slog"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	got, err := Load(env("REDIS_ADDR", "test-redis.test-jobs.svc:6379"))
	want := Config{RedisAddr: "test-redis.test-jobs.svc:6379", RedisDB: 0, Port: 8080, Concurrency: 10}
	if err != nil || got != want {
		t.Fatalf("defaults: %+v, %v; want %+v", got, err, want)
	}
	if got.ListenAddr() != ":8080" {
		t.Errorf("default listen address %q, want :8080 (every interface, as a container needs)", got.ListenAddr())
	}
	got, err = Load(env("REDIS_ADDR", "redis:6380", "REDIS_PASSWORD", "s3cret", "REDIS_DB", "3", "HOST", "127.0.0.1", "PORT", "9000", "CONCURRENCY", "50"))
	want = Config{RedisAddr: "redis:6380", RedisPassword: "s3cret", RedisDB: 3, Host: "127.0.0.1", Port: 9000, Concurrency: 50}
	if err != nil || got != want {
		t.Fatalf("all set: %+v, %v; want %+v", got, err, want)
	}
	if got.ListenAddr() != "127.0.0.1:9000" {
		t.Errorf("listen address %q, want 127.0.0.1:9000", got.ListenAddr())
	}
	for host, addr := range map[string]string{"::1": "[::1]:8080", " localhost ": "localhost:8080", "0.0.0.0": "0.0.0.0:8080", "api-1.internal": "api-1.internal:8080"} {
		got, err := Load(env("REDIS_ADDR", "redis:1", "HOST", host))
		if err != nil || got.ListenAddr() != addr {
			t.Errorf("HOST=%q: listen address %q, %v; want %q", host, got.ListenAddr(), err, addr)
		}
	}

	for v, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, " DEBUG ": slog.LevelDebug, "info": slog.LevelInfo, "Warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := Load(env("REDIS_ADDR", "redis:1", "LOG_LEVEL", v))
		if err != nil || got.LogLevel != want {
			t.Errorf("LOG_LEVEL=%q: level %v, %v; want %v", v, got.LogLevel, err, want)
		}
	}

	bad := []struct {
		env   func(string) string
		names string
	}{
		{env(), "REDIS_ADDR is not set"},
		{env("REDIS_ADDR", "redis"), `REDIS_ADDR="redis" is not host:port`},
		{env("REDIS_ADDR", ":6379"), "REDIS_ADDR"},
		{env("REDIS_ADDR", "redis:0"), "bad port"},
		{env("REDIS_ADDR", "redis:http"), "bad port"},
		{env("REDIS_ADDR", "redis:1", "REDIS_DB", "16"), "REDIS_DB=\"16\" is invalid: it must be a whole number from 0 to 15"},
		{env("REDIS_ADDR", "redis:1", "REDIS_DB", "x"), "REDIS_DB"},
		{env("REDIS_ADDR", "redis:1", "PORT", "70000"), "PORT=\"70000\""},
		{env("REDIS_ADDR", "redis:1", "HOST", "127.0.0.1:8080"), `HOST="127.0.0.1:8080" is invalid: it must be an IP address or host name to listen on, without a port (set the port with PORT)`},
		{env("REDIS_ADDR", "redis:1", "HOST", "[::1]"), `HOST="[::1]" is invalid`},
		{env("REDIS_ADDR", "redis:1", "HOST", "http://localhost"), `HOST="http://localhost" is invalid`},
		{env("REDIS_ADDR", "redis:1", "HOST", "my_host"), `HOST="my_host" is invalid`},
		{env("REDIS_ADDR", "redis:1", "HOST", "-api"), `HOST="-api" is invalid`},
		{env("REDIS_ADDR", "redis:1", "CONCURRENCY", "0"), "CONCURRENCY=\"0\" is invalid: it must be a whole number from 1 to 1000"},
		{env("REDIS_ADDR", "redis:1", "LOG_LEVEL", "verbose"), `LOG_LEVEL="verbose" is invalid: it must be debug, info, warn or error (leave it unset for info)`},
		{env("REDIS_ADDR", "redis:1", "LOG_LEVEL", "warning"), `LOG_LEVEL="warning" is invalid`},
	}
	for _, c := range bad {
		_, err := Load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.names) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want one line containing %q", err, c.names)
		}
	}
}
