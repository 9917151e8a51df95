package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
// queue on the row and none is lost. It commits with synchronous_commit
// off. Now and then it drops windows that started more than two days
// before now.
func (db *DB) IncrCounter(ctx context.Context, key string, window time.Time, delta int64) (int64, error) {
	if err := store.Required("key", key); err != nil {
		return 0, fmt.Errorf("incr counter: %w", err)
	}
	now := db.now()
	calls := db.counterCalls.Add(1)
	purge := calls%purgeEveryCalls == 1 || now.UnixNano()-db.lastPurge.Load() > int64(purgeEveryTime)
	if purge {
		db.lastPurge.Store(now.UnixNano())
	}
	var stmts []stmt
	if purge {
		stmts = append(stmts, stmt{`DELETE FROM counters WHERE win_start < $1`, []any{now.Add(-counterRetention).UnixNano()}})
	}
	stmts = append(stmts, stmt{`INSERT INTO counters (key, win_start, n) VALUES ($1, $2, $3)
		ON CONFLICT (key, win_start) DO UPDATE SET n = counters.n + excluded.n RETURNING n`,
		[]any{key, window.UnixNano(), delta}})
	var n int64
	err := db.relaxed(ctx, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&n)
	}, stmts...)
	if err != nil {
		return 0, fmt.Errorf("incr counter %s: %w", key, err)
	}
	return n, nil
}
