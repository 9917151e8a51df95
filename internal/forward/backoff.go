package forward

import (
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: the n-th retry waits a
// uniformly random time in [0, min(Max, Initial·2ⁿ)).
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	n       int
}

// Next returns the wait before the next attempt, at least floor (a
// server's Retry-After).
func (b *Backoff) Next(floor time.Duration) time.Duration {
	initial, max := b.Initial, b.Max
	if initial <= 0 {
		initial = time.Second
	}
	if max <= 0 {
		max = 5 * time.Minute
	}
	ceil := initial << min(b.n, 30)
	if ceil <= 0 || ceil > max {
		ceil = max
	}
	b.n++
	d := time.Duration(rand.Int64N(int64(ceil)) + 1)
	return maxDuration(d, floor)
}

// Reset starts again from Initial after a success.
func (b *Backoff) Reset() { b.n = 0 }

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
