package simulate

import (
	"math/bits"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// rng is a SplitMix64 generator. It is written here, not taken from
// math/rand, so that a seed gives the same stream on every Go release.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed) ^ 0x6a09e667f3bcc909} }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// dur returns a duration in [lo, hi).
func (r *rng) dur(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	hi64, _ := bits.Mul64(r.u64(), uint64(hi-lo))
	return lo + time.Duration(hi64)
}

// id returns an upper-case identifier (events, users, sessions, accounts).
func (r *rng) id() string {
	var b [16]byte
	putU64(b[:8], r.u64())
	putU64(b[8:], r.u64())
	return events.IDFromBytes(b)
}

// lid returns a lower-case identifier (vaults, items, devices).
func (r *rng) lid() string { return strings.ToLower(r.id()) }

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// weighted returns an index into weights chosen in proportion to them.
func (r *rng) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// shuffle permutes the first n positions with swap.
func (r *rng) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.intn(i+1))
	}
}

func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }
