package forward

import (
	"context"
	"sync"
	"time"
)

// Limits is a request budget: at most PerMinute requests in any 60-second
// window and PerHour in any hour. Zero means the Events API default (600
// and 30,000).
type Limits struct {
	PerMinute int `yaml:"per_minute"`
	PerHour   int `yaml:"per_hour"`
}

func (l Limits) withDefaults() Limits {
	if l.PerMinute <= 0 {
		l.PerMinute = 600
	}
	if l.PerHour <= 0 {
		l.PerHour = 30000
	}
	return l
}

// Budget is the request budget of one Events API account, shared by every
// stream and token of it. It is a sliding-window log: it remembers the
// times of the last requests, so no window ever holds more than the limit,
// and it can be blocked until a time (a 429's Retry-After).
type Budget struct {
	mu      sync.Mutex
	limits  Limits
	minute  ring
	hour    ring
	blocked time.Time
	file    *budgetFile // when shared with other processes
}

// NewBudget returns a budget with the given limits.
func NewBudget(l Limits) *Budget {
	l = l.withDefaults()
	return &Budget{limits: l, minute: newRing(l.PerMinute), hour: newRing(l.PerHour)}
}

// Wait blocks until a request may be sent, and records it.
func (b *Budget) Wait(ctx context.Context) error {
	if b.file != nil {
		return b.waitShared(ctx)
	}
	for {
		b.mu.Lock()
		now := time.Now()
		next := now
		if b.blocked.After(next) {
			next = b.blocked
		}
		if t, full := b.minute.oldest(); full && t.Add(time.Minute).After(next) {
			next = t.Add(time.Minute)
		}
		if t, full := b.hour.oldest(); full && t.Add(time.Hour).After(next) {
			next = t.Add(time.Hour)
		}
		if !next.After(now) {
			b.minute.push(now)
			b.hour.push(now)
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		if err := sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
}

// Block stops every request until t.
func (b *Budget) Block(t time.Time) {
	if b.file != nil {
		// Also kept in memory below, so that this process honours it even
		// if the file cannot be written.
		_ = b.file.block(t)
	}
	b.mu.Lock()
	if t.After(b.blocked) {
		b.blocked = t
	}
	b.mu.Unlock()
}

// ring remembers the last size request times. It grows as requests come,
// so a generous limit costs memory only once it is used.
type ring struct {
	times []time.Time
	size  int
	next  int
}

func newRing(size int) ring { return ring{size: size} }

func (r *ring) push(t time.Time) {
	if len(r.times) < r.size {
		r.times = append(r.times, t)
		return
	}
	r.times[r.next] = t
	r.next = (r.next + 1) % r.size
}

// oldest returns the oldest remembered time and whether the ring is full.
func (r *ring) oldest() (time.Time, bool) {
	if len(r.times) < r.size {
		return time.Time{}, false
	}
	return r.times[r.next], true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
