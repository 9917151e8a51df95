package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCounter counts in Redis: one key per window, INCRBY then PEXPIREAT
// at the window's end (plus a minute), in one MULTI.
type RedisCounter struct {
	Client *redis.Client
	// Prefix begins every key; "logbook:" when empty.
	Prefix string
}

// NewRedisCounter connects to the Redis at url (redis://host:port/db) and
// checks that it answers.
func NewRedisCounter(ctx context.Context, url string) (*RedisCounter, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", opts.Addr, err)
	}
	return &RedisCounter{Client: c}, nil
}

// Incr implements Counter.
func (c *RedisCounter) Incr(ctx context.Context, key string, start time.Time, length time.Duration, delta int64) (int64, error) {
	prefix := c.Prefix
	if prefix == "" {
		prefix = "logbook:"
	}
	k := prefix + key + ":" + strconv.FormatInt(start.Unix(), 10)
	var incr *redis.IntCmd
	_, err := c.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.IncrBy(ctx, k, delta)
		p.PExpireAt(ctx, k, start.Add(length+time.Minute))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis incr %s: %w", k, err)
	}
	return incr.Val(), nil
}

// Close closes the connection pool.
func (c *RedisCounter) Close() error { return c.Client.Close() }
