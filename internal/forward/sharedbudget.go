package forward

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// budgetFile is a request log in a file, shared by every process that
// opens the same path (the live forwarder and its backfill jobs), under an
// exclusive flock. The first 8 bytes hold the time until which a 429
// blocks everyone; then one 8-byte time per request, appended in order.
// To decide, a process reads only the PerMinute-th and PerHour-th newest
// entries, so a request costs a few small reads and one write whatever the
// limits. The log is compacted to its last PerHour entries when it grows
// to twice that. Times are wall-clock Unix nanoseconds (processes share no
// monotonic clock).
type budgetFile struct {
	mu sync.Mutex // one goroutine at a time per process; flock between processes
	f  *os.File
}

func openBudgetFile(path string) (*budgetFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open shared budget: %w", err)
	}
	return &budgetFile{f: f}, nil
}

// locked runs fn with the file locked against other processes.
func (bf *budgetFile) locked(fn func() error) error {
	bf.mu.Lock()
	defer bf.mu.Unlock()
	fd := int(bf.f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock shared budget: %w", err)
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	return fn()
}

func (bf *budgetFile) readAt(off int64) (int64, error) {
	var b [8]byte
	if _, err := bf.f.ReadAt(b[:], off); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

func (bf *budgetFile) writeAt(off, v int64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	_, err := bf.f.WriteAt(b[:], off)
	return err
}

// take records a request now if the limits allow one, and otherwise
// returns the earliest time to try again.
func (bf *budgetFile) take(l Limits, now time.Time) (next time.Time, err error) {
	err = bf.locked(func() error {
		info, err := bf.f.Stat()
		if err != nil {
			return err
		}
		if info.Size() < 8 {
			if err := bf.writeAt(0, 0); err != nil {
				return err
			}
		}
		n := (max(info.Size(), 8) - 8) / 8 // requests in the log
		next = now
		blocked, err := bf.readAt(0)
		if err != nil {
			return err
		}
		if t := time.Unix(0, blocked); t.After(next) {
			next = t
		}
		for _, w := range []struct {
			limit  int
			window time.Duration
		}{{l.PerMinute, time.Minute}, {l.PerHour, time.Hour}} {
			if n < int64(w.limit) {
				continue
			}
			v, err := bf.readAt(8 + 8*(n-int64(w.limit)))
			if err != nil {
				return err
			}
			if t := time.Unix(0, v).Add(w.window); t.After(next) {
				next = t
			}
		}
		if next.After(now) {
			return nil
		}
		if err := bf.writeAt(8+8*n, now.UnixNano()); err != nil {
			return err
		}
		if n+1 >= 2*int64(l.PerHour)+64 {
			return bf.compact(n+1, int64(l.PerHour))
		}
		return nil
	})
	return next, err
}

// compact keeps the last keep of n entries.
func (bf *budgetFile) compact(n, keep int64) error {
	buf := make([]byte, 8*keep)
	if _, err := bf.f.ReadAt(buf, 8+8*(n-keep)); err != nil {
		return err
	}
	if _, err := bf.f.WriteAt(buf, 8); err != nil {
		return err
	}
	return bf.f.Truncate(8 + 8*keep)
}

// block moves the shared blocked-until time to t if that is later.
func (bf *budgetFile) block(t time.Time) error {
	return bf.locked(func() error {
		cur, err := bf.readAt(0)
		if err != nil {
			cur = 0 // an empty file
		}
		if t.UnixNano() > cur {
			return bf.writeAt(0, t.UnixNano())
		}
		return nil
	})
}

// OpenSharedBudget returns a budget shared through the file at path with
// every other process (and Budget) that opens it: a live forwarder and a
// backfill of the same account then stay together within the account's
// limits.
func OpenSharedBudget(path string, l Limits) (*Budget, error) {
	bf, err := openBudgetFile(path)
	if err != nil {
		return nil, err
	}
	b := NewBudget(l)
	b.file = bf
	return b, nil
}

// waitShared is Wait for a budget kept in a file.
func (b *Budget) waitShared(ctx context.Context) error {
	for {
		now := time.Now()
		b.mu.Lock()
		blocked := b.blocked
		b.mu.Unlock()
		next := blocked
		if !blocked.After(now) {
			var err error
			if next, err = b.file.take(b.limits, now); err != nil {
				return err
			}
		}
		if !next.After(now) {
			return nil
		}
		if err := sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
}

// Close releases a shared budget's file; it is a no-op for others.
func (b *Budget) Close() error {
	if b.file == nil {
		return nil
	}
	return b.file.f.Close()
}
