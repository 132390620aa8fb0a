// Package config reads the processes' settings from the environment, the only
// place they come from, and says exactly which variable is wrong.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Config is both processes' settings; Concurrency matters to the worker only.
type Config struct {
	RedisAddr     string
	RedisPassword string
	RedisDB       int
	Port          int
	Concurrency   int
}

// Load reads the variables through getenv (os.Getenv in main, a map in
// tests). The error is one line naming the variable and the rule.
func Load(getenv func(string) string) (Config, error) {
	c := Config{RedisPassword: getenv("REDIS_PASSWORD")}
	addr := strings.TrimSpace(getenv("REDIS_ADDR"))
	if addr == "" {
		return c, fmt.Errorf("REDIS_ADDR is not set: set it to the Redis service as host:port, e.g. REDIS_ADDR=redis:6379")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return c, fmt.Errorf("REDIS_ADDR=%q is not host:port: set it like REDIS_ADDR=redis:6379", addr)
	}
	if _, err := parseInt("REDIS_ADDR port", port, 1, 65535); err != nil {
		return c, fmt.Errorf("REDIS_ADDR=%q has a bad port: it must be a number from 1 to 65535, e.g. REDIS_ADDR=redis:6379", addr)
	}
	c.RedisAddr = addr
	if c.RedisDB, err = intVar(getenv, "REDIS_DB", 0, 0, 15); err != nil {
		return c, err
	}
	if c.Port, err = intVar(getenv, "PORT", 8080, 1, 65535); err != nil {
		return c, err
	}
	if c.Concurrency, err = intVar(getenv, "CONCURRENCY", 10, 1, 1000); err != nil {
		return c, err
	}
	return c, nil
}

func intVar(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	return parseInt(name, v, lo, hi)
}

func parseInt(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q is invalid: it must be a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}
