package config

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisClient opens a pool for the configured Redis. Short dial and read
// timeouts make a Redis outage a quick 503 rather than a hung request.
func (c Config) RedisClient(poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         c.RedisAddr,
		Password:     c.RedisPassword,
		DB:           c.RedisDB,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
		PoolSize:     poolSize,
		MaxRetries:   1,
	})
}

// redisLog sends go-redis's internal messages (dial failures, pool trouble)
// to slog so every log line stays JSON.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// LogRedisTo routes go-redis's process-wide logger to l.
func LogRedisTo(l *slog.Logger) { redis.SetLogger(redisLog{l}) }
