package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
	err := db.exec(ctx, false, `INSERT INTO console_sessions (`+store.SessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.Hash, s.UUID, s.DeviceUUID, s.UserUUID, s.AccountUUID, s.CSRF, s.IP,
		nanos(s.CreatedAt), nanos(s.LastSeenAt), nanos(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session named by hash, expired or not.
func (db *DB) Session(ctx context.Context, hash []byte) (store.Session, error) {
	s, err := one(ctx, db, store.ScanSession, `SELECT `+store.SessionColumns+` FROM console_sessions WHERE hash = ?`, hash)
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// TouchSession moves the session's last use and expiry forward when its
// last use is before staleBefore. Like TouchToken it commits with
// synchronous=NORMAL: a power cut may lose the latest touches, which
// shortens a session by at most the refresh interval.
func (db *DB) TouchSession(ctx context.Context, hash []byte, seen, expires, staleBefore time.Time) (bool, error) {
	var n int64
	err := db.relaxed(ctx, func(e execer) error {
		var err error
		n, err = e.execChanges(`UPDATE console_sessions SET last_seen_at = ?, expires_at = ? WHERE hash = ? AND last_seen_at < ?`,
			seen.UnixNano(), expires.UnixNano(), hash, staleBefore.UnixNano())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession removes the session and (by cascade) its secrets.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if err := db.exec(ctx, false, `DELETE FROM console_sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions and secrets expired at now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_secrets WHERE expires_at <= ?`, now.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, now.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
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
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM console_sessions WHERE expires_at > ?`, now.UnixNano()).Scan(&n); err != nil {
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
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sec.SessionHash, sec.TokenID, sec.IntegrationUUID, sec.Name, sec.Nonce, sec.Sealed, nanos(sec.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put session secret %s: %w", sec.TokenID, err)
	}
	return nil
}

// TakeSessionSecret marks one use of a secret with a conditional UPDATE …
// RETURNING, so that of racing callers exactly one gets it, then removes
// it if both uses are made.
func (db *DB) TakeSessionSecret(ctx context.Context, hash []byte, tokenID string, use store.SessionUse, now time.Time) (store.SessionSecret, error) {
	col := "shown"
	if use == store.UseDownload {
		col = "downloaded"
	}
	var sec store.SessionSecret
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var expires *int64
		err := tx.QueryRowContext(ctx, `UPDATE console_secrets SET `+col+` = 1
			WHERE session_hash = ? AND token_id = ? AND `+col+` = 0 AND expires_at > ?
			RETURNING session_hash, token_id, integration_uuid, name, nonce, sealed, expires_at, shown, downloaded`,
			hash, tokenID, now.UnixNano()).Scan(&sec.SessionHash, &sec.TokenID, &sec.IntegrationUUID, &sec.Name,
			&sec.Nonce, &sec.Sealed, &expires, &sec.Shown, &sec.Downloaded)
		if err != nil {
			return err
		}
		sec.ExpiresAt = store.FromNanos(expires)
		if sec.Shown && sec.Downloaded {
			_, err = tx.ExecContext(ctx, `DELETE FROM console_secrets WHERE session_hash = ? AND token_id = ?`, hash, tokenID)
		}
		return err
	})
	if err != nil {
		return store.SessionSecret{}, fmt.Errorf("take session secret %s: %w", tokenID, translate(err))
	}
	return sec, nil
}
