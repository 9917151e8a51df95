package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// AddSigningKey stores k; if k.Active, every other key becomes inactive in
// the same transaction. ErrConflict if its ID is taken. Where writers need
// locks (PostgreSQL) the table is locked against other writers first, so
// two servers rotating at once both succeed, one after the other.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	return wrap(s.addKey(ctx, "signing_keys", k), "add signing key")
}

// SigningKeys lists every signing key by creation time.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := s.keys(ctx, "signing_keys")
	return ks, wrap(err, "list signing keys")
}

// ReplaceSigningKeyPrivate sets the private bytes of key id to new if they
// are still old: ErrNotFound if there is no such key, ErrConflict if they
// changed. Where writers need locks the row is locked while it is
// compared.
func (s *Store) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	return wrap(s.replaceKeyPrivate(ctx, "signing_keys", id, old, new), "replace signing key %s", id)
}

// AddTreeKey, TreeKeys and ReplaceTreeKeyPrivate are the signing-key
// operations on the keys that sign tree heads (tree_keys, migration 0008).
func (s *Store) AddTreeKey(ctx context.Context, k store.SigningKey) error {
	return wrap(s.addKey(ctx, "tree_keys", k), "add tree key")
}

func (s *Store) TreeKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := s.keys(ctx, "tree_keys")
	return ks, wrap(err, "list tree keys")
}

func (s *Store) ReplaceTreeKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	return wrap(s.replaceKeyPrivate(ctx, "tree_keys", id, old, new), "replace tree key %s", id)
}

// addKey stores k in table (signing_keys or tree_keys, of one shape).
func (s *Store) addKey(ctx context.Context, table string, k store.SigningKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx Querier) error {
		if s.locks {
			if _, err := tx.Exec(ctx, `LOCK TABLE `+table+` IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		if k.Active {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET active = false WHERE active`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+store.SigningKeyColumns+`) VALUES ($1, $2, $3, $4)`,
			k.ID, k.Private, nanos(k.CreatedAt), k.Active)
		return err
	})
}

// keys lists the keys of table by creation time.
func (s *Store) keys(ctx context.Context, table string) ([]store.SigningKey, error) {
	return list(ctx, s.db, store.ScanSigningKey, `SELECT `+store.SigningKeyColumns+` FROM `+table+` ORDER BY created_at NULLS FIRST, id`)
}

// replaceKeyPrivate is ReplaceSigningKeyPrivate on table.
func (s *Store) replaceKeyPrivate(ctx context.Context, table, id string, old, new []byte) error {
	if len(new) == 0 {
		return store.Required("private", "")
	}
	read := `SELECT private FROM ` + table + ` WHERE id = $1`
	if s.locks {
		read += ` FOR UPDATE`
	}
	return s.db.Tx(ctx, func(tx Querier) error {
		var cur []byte
		if err := tx.QueryRow(ctx, scanValue(&cur), read, id); err != nil {
			return err
		}
		if !bytes.Equal(cur, old) {
			return fmt.Errorf("%w: its stored bytes changed since they were read", store.ErrConflict)
		}
		_, err := tx.Exec(ctx, `UPDATE `+table+` SET private = $1 WHERE id = $2`, new, id)
		return err
	})
}

// CreateAPIKey stores k; ErrConflict if its ID is taken, ErrNotFound if its
// account does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.insert(ctx, "create api key", k, `INSERT INTO api_keys (`+store.APIKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Kind, k.AccountUUID, k.UserUUID, k.Name, k.Hash, nanos(k.CreatedAt), nanos(k.RevokedAt))
}

// APIKey returns the API key with that ID.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := one(ctx, s.db, store.ScanAPIKey, `SELECT `+store.APIKeyReadColumns+` FROM api_keys WHERE id = $1`, id)
	return k, wrap(err, "api key %s", id)
}

// APIKeys lists an account's keys of one kind (every kind when kind is
// empty) by creation time.
func (s *Store) APIKeys(ctx context.Context, account, kind string) ([]store.APIKey, error) {
	ks, err := list(ctx, s.db, store.ScanAPIKey, `SELECT `+store.APIKeyReadColumns+` FROM api_keys
		WHERE account_uuid = $1 AND ($2 = '' OR kind = $2) ORDER BY created_at NULLS FIRST, id`, account, kind)
	return ks, wrap(err, "list api keys")
}

// UpdateAPIKey replaces the name and revocation time of the key with k.ID.
func (s *Store) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	return wrap(exec(ctx, s.db, true, `UPDATE api_keys SET name = $1, revoked_at = $2 WHERE id = $3`,
		k.Name, nanos(k.RevokedAt), k.ID), "update api key %s", k.ID)
}

// TouchAPIKey sets LastUsedAt to at unless it is already at or after it.
// Like TouchToken it commits relaxed: a crash may lose the latest touches.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := s.db.Relaxed(ctx, Stmt{`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
		[]any{at.UnixNano(), id}})
	if err == nil && n == 0 {
		// Already as late, or no such key.
		_, err = s.APIKey(ctx, id)
	}
	return wrap(err, "touch api key %s", id)
}

// Setting returns a server-wide value, ErrNotFound if unset.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	if err := s.db.QueryRow(ctx, scanValue(&v), `SELECT value FROM settings WHERE name = $1`, name); err != nil {
		return nil, fmt.Errorf("setting %s: %w", name, err)
	}
	return v, nil
}

// InitSetting stores value under name unless one is there, and returns the
// stored value: the first writer wins, in this process or another. The
// insert waits for a concurrent insert of the same name to commit and then
// does nothing (SQLite: the two share the one write lock); the read that
// follows is a new statement, with a snapshot that sees the winner.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if err := store.Required("name", name); err != nil {
		return nil, fmt.Errorf("init setting: %w", err)
	}
	if value == nil {
		value = []byte{}
	}
	var got []byte
	err := s.db.Tx(ctx, func(tx Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, scanValue(&got), `SELECT value FROM settings WHERE name = $1`, name)
	})
	if err != nil {
		return nil, fmt.Errorf("init setting %s: %w", name, err)
	}
	return got, nil
}
