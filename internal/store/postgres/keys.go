package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/store"
)

// AddSigningKey stores k; if k.Active, every other key becomes inactive in
// the same transaction. ErrConflict if its ID is taken. The table is locked
// against other writers first, so two servers rotating at once both
// succeed, one after the other.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("add signing key: %w", err)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		if k.Active {
			if _, err := tx.Exec(ctx, `UPDATE signing_keys SET active = false WHERE active`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO signing_keys (`+store.SigningKeyColumns+`) VALUES ($1, $2, $3, $4)`,
			k.ID, k.Private, nanos(k.CreatedAt), k.Active)
		return err
	})
	if err != nil {
		return fmt.Errorf("add signing key: %w", translate(err))
	}
	return nil
}

// SigningKeys lists every signing key by creation time.
func (db *DB) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := list(ctx, db, store.ScanSigningKey, `SELECT `+store.SigningKeyColumns+` FROM signing_keys ORDER BY created_at NULLS FIRST, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return ks, nil
}

// ReplaceSigningKeyPrivate sets the private bytes of key id to new if they
// are still old: ErrNotFound if there is no such key, ErrConflict if they
// changed. The row is locked while it is compared.
func (db *DB) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	if len(new) == 0 {
		return fmt.Errorf("replace signing key %s: %w", id, store.Required("private", ""))
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var cur []byte
		if err := tx.QueryRow(ctx, `SELECT private FROM signing_keys WHERE id = $1 FOR UPDATE`, id).Scan(&cur); err != nil {
			return err
		}
		if !bytes.Equal(cur, old) {
			return fmt.Errorf("%w: its stored bytes changed since they were read", store.ErrConflict)
		}
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET private = $1 WHERE id = $2`, new, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace signing key %s: %w", id, translate(err))
	}
	return nil
}

// CreateAPIKey stores k; ErrConflict if its ID is taken, ErrNotFound if its
// account does not exist.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO api_keys (`+store.APIKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Kind, k.AccountUUID, k.UserUUID, k.Name, k.Hash, nanos(k.CreatedAt), nanos(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// APIKey returns the API key with that ID.
func (db *DB) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := one(ctx, db, store.ScanAPIKey, `SELECT `+store.APIKeyReadColumns+` FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return k, fmt.Errorf("api key %s: %w", id, err)
	}
	return k, nil
}

// APIKeys lists an account's keys of one kind (every kind when kind is
// empty) by creation time.
func (db *DB) APIKeys(ctx context.Context, account, kind string) ([]store.APIKey, error) {
	ks, err := list(ctx, db, store.ScanAPIKey, `SELECT `+store.APIKeyReadColumns+` FROM api_keys
		WHERE account_uuid = $1 AND ($2 = '' OR kind = $2) ORDER BY created_at NULLS FIRST, id`, account, kind)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return ks, nil
}

// UpdateAPIKey replaces the name and revocation time of the key with k.ID.
func (db *DB) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	err := db.exec(ctx, true, `UPDATE api_keys SET name = $1, revoked_at = $2 WHERE id = $3`,
		k.Name, nanos(k.RevokedAt), k.ID)
	if err != nil {
		return fmt.Errorf("update api key %s: %w", k.ID, err)
	}
	return nil
}

// TouchAPIKey sets LastUsedAt to at unless it is already at or after it.
// Like TouchToken it commits with synchronous_commit off: a database crash
// may lose the latest touches.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	var n int64
	err := db.relaxed(ctx, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		n = tag.RowsAffected()
		return err
	}, stmt{`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, []any{at.UnixNano(), id}})
	if err == nil && n == 0 {
		// Already as late, or no such key.
		_, err = db.APIKey(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// Setting returns a server-wide value, ErrNotFound if unset.
func (db *DB) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("setting %s: %w", name, translate(err))
	}
	return v, nil
}

// InitSetting stores value under name unless one is there, and returns the
// stored value: the first writer wins. The insert waits for a concurrent
// insert of the same name to commit and then does nothing; the read that
// follows is a new statement, with a snapshot that sees the winner.
func (db *DB) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if err := store.Required("name", name); err != nil {
		return nil, fmt.Errorf("init setting: %w", err)
	}
	if value == nil {
		value = []byte{}
	}
	var got []byte
	err := db.pool.QueryRow(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING RETURNING value`, name, value).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&got)
	}
	if err != nil {
		return nil, fmt.Errorf("init setting %s: %w", name, translate(err))
	}
	return got, nil
}
