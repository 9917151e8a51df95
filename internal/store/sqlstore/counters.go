package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// counterRetention is how long counters are kept after their window
// started. The contract allows dropping windows that ended over a day ago;
// keeping two days from the start is safe for windows up to a day long.
const counterRetention = 48 * time.Hour

// purgeEvery is how often (in calls, or in time) IncrCounter drops old
// windows.
const (
	purgeEveryCalls = 10000
	purgeEveryTime  = 10 * time.Minute
)

// IncrCounter adds delta to the counter key of the window starting at
// window and returns the new value, in one upsert (INSERT … ON CONFLICT DO
// UPDATE … RETURNING): concurrent increments from any number of servers
// queue on the row and none is lost. It commits relaxed (DB.Relaxed). Now
// and then it drops windows that started more than two days before now.
func (s *Store) IncrCounter(ctx context.Context, key string, window time.Time, delta int64) (int64, error) {
	if err := store.Required("key", key); err != nil {
		return 0, fmt.Errorf("incr counter: %w", err)
	}
	now := s.now()
	calls := s.counterCalls.Add(1)
	var stmts []Stmt
	if calls%purgeEveryCalls == 1 || now.UnixNano()-s.lastPurge.Load() > int64(purgeEveryTime) {
		s.lastPurge.Store(now.UnixNano())
		stmts = append(stmts, Stmt{`DELETE FROM counters WHERE win_start < $1`, []any{now.Add(-counterRetention).UnixNano()}})
	}
	stmts = append(stmts, Stmt{`INSERT INTO counters (key, win_start, n) VALUES ($1, $2, $3)
		ON CONFLICT (key, win_start) DO UPDATE SET n = counters.n + excluded.n RETURNING n`,
		[]any{key, window.UnixNano(), delta}})
	n, err := s.db.Relaxed(ctx, stmts...)
	if err != nil {
		return 0, fmt.Errorf("incr counter %s: %w", key, err)
	}
	return n, nil
}
