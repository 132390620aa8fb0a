// Package config reads the processes' settings from the environment, the only
// place they come from, and says exactly which variable is wrong.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Config is both processes' settings; Concurrency matters to the worker only.
type Config struct {
	RedisAddr     string
	RedisPassword string
	RedisDB       int
	// Host is the address the HTTP server listens on; empty means every
	// interface, which a container needs so the kubelet and the Service
	// reach it. A local run sets 127.0.0.1 so nothing off the machine can.
	Host        string
	Port        int
	Concurrency int
	// LogLevel is the least severe level logged (LOG_LEVEL, default info);
	// debug adds a line for every probe and scrape.
	LogLevel slog.Level
}

// ListenAddr is Host and Port as net.Listen wants them.
func (c Config) ListenAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

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
	if c.Host, err = hostVar(getenv("HOST")); err != nil {
		return c, err
	}
	if c.Port, err = intVar(getenv, "PORT", 8080, 1, 65535); err != nil {
		return c, err
	}
	if c.Concurrency, err = intVar(getenv, "CONCURRENCY", 10, 1, 1000); err != nil {
		return c, err
	}
	if c.LogLevel, err = levelVar(getenv("LOG_LEVEL")); err != nil {
		return c, err
	}
	return c, nil
}

// levelVar reads a log level by the names slog prints: debug, info, warn or
// error, in any case; empty is info.
func levelVar(v string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("LOG_LEVEL=%q is invalid: it must be debug, info, warn or error (leave it unset for info)", v)
}

// Logger is the process's JSON logger on stdout at the configured level.
func (c Config) Logger(process string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: c.LogLevel})).With("process", process)
}

// hostName is a DNS name such as localhost or api.internal: dot-separated
// labels of letters, digits and inner hyphens.
var hostName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// hostVar accepts an IP address or a host name, without a port: the port
// has its own variable, and "host:port" here would only fail later, in
// net.Listen, with a message about a "too many colons" address.
func hostVar(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", nil
	case net.ParseIP(v) != nil:
		return v, nil
	case len(v) <= 253 && hostName.MatchString(v):
		return v, nil
	}
	return "", fmt.Errorf("HOST=%q is invalid: it must be an IP address or host name to listen on, without a port (set the port with PORT), e.g. HOST=127.0.0.1; leave it unset to listen on every interface", v)
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
