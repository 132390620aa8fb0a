package config

import (
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
	got, err = Load(env("REDIS_ADDR", "redis:6380", "REDIS_PASSWORD", "s3cret", "REDIS_DB", "3", "PORT", "9000", "CONCURRENCY", "50"))
	want = Config{RedisAddr: "redis:6380", RedisPassword: "s3cret", RedisDB: 3, Port: 9000, Concurrency: 50}
	if err != nil || got != want {
		t.Fatalf("all set: %+v, %v; want %+v", got, err, want)
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
		{env("REDIS_ADDR", "redis:1", "CONCURRENCY", "0"), "CONCURRENCY=\"0\" is invalid: it must be a whole number from 1 to 1000"},
	}
	for _, c := range bad {
		_, err := Load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.names) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want one line containing %q", err, c.names)
		}
	}
}
