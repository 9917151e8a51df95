package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/store"
)

// CreateSession stores s; ErrConflict if its Hash is taken.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	err := db.exec(ctx, false, `INSERT INTO console_sessions (`+store.SessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.Hash, s.UUID, s.DeviceUUID, s.UserUUID, s.AccountUUID, s.CSRF, s.IP,
		nanos(s.CreatedAt), nanos(s.LastSeenAt), nanos(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session named by hash, expired or not.
func (db *DB) Session(ctx context.Context, hash []byte) (store.Session, error) {
	s, err := one(ctx, db, store.ScanSession, `SELECT `+store.SessionColumns+` FROM console_sessions WHERE hash = $1`, hash)
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// TouchSession moves the session's last use and expiry forward when its
// last use is before staleBefore, committed with synchronous_commit off
// (as counters): a database crash may lose the latest touches, which
// shortens a session by at most the refresh interval.
func (db *DB) TouchSession(ctx context.Context, hash []byte, seen, expires, staleBefore time.Time) (bool, error) {
	var n int64
	err := db.relaxed(ctx, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		n = tag.RowsAffected()
		return err
	}, stmt{`UPDATE console_sessions SET last_seen_at = $1, expires_at = $2 WHERE hash = $3 AND last_seen_at < $4`,
		[]any{seen.UnixNano(), expires.UnixNano(), hash, staleBefore.UnixNano()}})
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession removes the session and (by cascade) its secrets.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if err := db.exec(ctx, false, `DELETE FROM console_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions and secrets expired at now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_secrets WHERE expires_at <= $1`, now.UnixNano()); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now.UnixNano())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// CountSessions returns how many sessions have not expired at now.
func (db *DB) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM console_sessions WHERE expires_at > $1`, now.UnixNano()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// PutSessionSecret stores sec, unused.
func (db *DB) PutSessionSecret(ctx context.Context, sec store.SessionSecret) error {
	if err := sec.Validate(); err != nil {
		return fmt.Errorf("put session secret: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO console_secrets (session_hash, token_id, integration_uuid, name, nonce, sealed, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sec.SessionHash, sec.TokenID, sec.IntegrationUUID, sec.Name, sec.Nonce, sec.Sealed, nanos(sec.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put session secret %s: %w", sec.TokenID, err)
	}
	return nil
}

// TakeSessionSecret marks one use of a secret with a conditional UPDATE …
// RETURNING: under READ COMMITTED a racing update waits for the first to
// commit, re-checks the condition, and finds the use made, so exactly one
// caller on any server gets it. A secret used both ways is then removed.
func (db *DB) TakeSessionSecret(ctx context.Context, hash []byte, tokenID string, use store.SessionUse, now time.Time) (store.SessionSecret, error) {
	col := "shown"
	if use == store.UseDownload {
		col = "downloaded"
	}
	var sec store.SessionSecret
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var expires *int64
		err := tx.QueryRow(ctx, `UPDATE console_secrets SET `+col+` = true
			WHERE session_hash = $1 AND token_id = $2 AND NOT `+col+` AND expires_at > $3
			RETURNING session_hash, token_id, integration_uuid, name, nonce, sealed, expires_at, shown, downloaded`,
			hash, tokenID, now.UnixNano()).Scan(&sec.SessionHash, &sec.TokenID, &sec.IntegrationUUID, &sec.Name,
			&sec.Nonce, &sec.Sealed, &expires, &sec.Shown, &sec.Downloaded)
		if err != nil {
			return err
		}
		sec.ExpiresAt = store.FromNanos(expires)
		if sec.Shown && sec.Downloaded {
			_, err = tx.Exec(ctx, `DELETE FROM console_secrets WHERE session_hash = $1 AND token_id = $2`, hash, tokenID)
		}
		return err
	})
	if err != nil {
		return store.SessionSecret{}, fmt.Errorf("take session secret %s: %w", tokenID, translate(err))
	}
	return sec, nil
}
