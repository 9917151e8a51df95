package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// CreateSession stores se; ErrConflict if its Hash is taken.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	if se.LastSeenAt.IsZero() {
		se.LastSeenAt = se.CreatedAt
	}
	return s.insert(ctx, "create session", se, `INSERT INTO console_sessions (`+store.SessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		se.Hash, se.UUID, se.DeviceUUID, se.UserUUID, se.AccountUUID, se.CSRF, se.IP,
		nanos(se.CreatedAt), nanos(se.LastSeenAt), nanos(se.ExpiresAt))
}

// Session returns the session named by hash, expired or not.
func (s *Store) Session(ctx context.Context, hash []byte) (store.Session, error) {
	se, err := one(ctx, s.db, store.ScanSession, `SELECT `+store.SessionColumns+` FROM console_sessions WHERE hash = $1`, hash)
	return se, wrap(err, "session")
}

// TouchSession moves the session's last use and expiry forward when its
// last use is before staleBefore. Like TouchToken it commits relaxed: a
// crash may lose the latest touches, which shortens a session by at most
// the refresh interval.
func (s *Store) TouchSession(ctx context.Context, hash []byte, seen, expires, staleBefore time.Time) (bool, error) {
	n, err := s.db.Relaxed(ctx, Stmt{`UPDATE console_sessions SET last_seen_at = $1, expires_at = $2 WHERE hash = $3 AND last_seen_at < $4`,
		[]any{seen.UnixNano(), expires.UnixNano(), hash, staleBefore.UnixNano()}})
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession removes the session and (by cascade) its secrets.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return wrap(exec(ctx, s.db, false, `DELETE FROM console_sessions WHERE hash = $1`, hash), "delete session")
}

// DeleteExpiredSessions removes sessions and secrets expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx Querier) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_secrets WHERE expires_at <= $1`, now.UnixNano()); err != nil {
			return err
		}
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now.UnixNano())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// CountSessions returns how many sessions have not expired at now.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, scanValue(&n), `SELECT count(*) FROM console_sessions WHERE expires_at > $1`, now.UnixNano()); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// PutSessionSecret stores sec, unused.
func (s *Store) PutSessionSecret(ctx context.Context, sec store.SessionSecret) error {
	if err := sec.Validate(); err != nil {
		return fmt.Errorf("put session secret: %w", err)
	}
	return wrap(exec(ctx, s.db, false, `INSERT INTO console_secrets (session_hash, token_id, integration_uuid, name, nonce, sealed, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sec.SessionHash, sec.TokenID, sec.IntegrationUUID, sec.Name, sec.Nonce, sec.Sealed, nanos(sec.ExpiresAt)),
		"put session secret %s", sec.TokenID)
}

// TakeSessionSecret marks one use of a secret with a conditional UPDATE …
// RETURNING, so that of racing callers exactly one gets it (PostgreSQL,
// under READ COMMITTED: a racing update waits for the first to commit,
// re-checks the condition and finds the use made), then removes it if both
// uses are made.
func (s *Store) TakeSessionSecret(ctx context.Context, hash []byte, tokenID string, use store.SessionUse, now time.Time) (store.SessionSecret, error) {
	col := "shown"
	if use == store.UseDownload {
		col = "downloaded"
	}
	var sec store.SessionSecret
	err := s.db.Tx(ctx, func(tx Querier) error {
		var expires *int64
		err := tx.QueryRow(ctx, func(r store.Scanner) error {
			return r.Scan(&sec.SessionHash, &sec.TokenID, &sec.IntegrationUUID, &sec.Name,
				&sec.Nonce, &sec.Sealed, &expires, &sec.Shown, &sec.Downloaded)
		}, `UPDATE console_secrets SET `+col+` = true
			WHERE session_hash = $1 AND token_id = $2 AND NOT `+col+` AND expires_at > $3
			RETURNING session_hash, token_id, integration_uuid, name, nonce, sealed, expires_at, shown, downloaded`,
			hash, tokenID, now.UnixNano())
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
		return store.SessionSecret{}, fmt.Errorf("take session secret %s: %w", tokenID, err)
	}
	return sec, nil
}
