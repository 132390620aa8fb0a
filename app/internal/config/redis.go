package config

import (
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
