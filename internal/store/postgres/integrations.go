package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// CreateIntegration stores in; ErrConflict if its UUID is taken, ErrNotFound
// if its account does not exist.
func (db *DB) CreateIntegration(ctx context.Context, in store.Integration) error {
	if err := in.Validate(); err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO integrations (`+store.IntegrationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		in.UUID, in.AccountUUID, in.Name, in.SIEM, nanos(in.CreatedAt), in.CreatedBy, nanos(in.DeletedAt))
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// Integration returns the integration with that UUID, deleted or not.
func (db *DB) Integration(ctx context.Context, uuid string) (store.Integration, error) {
	in, err := one(ctx, db, store.ScanIntegration, `SELECT `+store.IntegrationColumns+` FROM integrations WHERE uuid = $1`, uuid)
	if err != nil {
		return in, fmt.Errorf("integration %s: %w", uuid, err)
	}
	return in, nil
}

// Integrations lists an account's integrations, deleted ones included, by
// creation time.
func (db *DB) Integrations(ctx context.Context, account string) ([]store.Integration, error) {
	ins, err := list(ctx, db, store.ScanIntegration,
		`SELECT `+store.IntegrationColumns+` FROM integrations WHERE account_uuid = $1 ORDER BY created_at NULLS FIRST, uuid`, account)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return ins, nil
}

// UpdateIntegration replaces the name, SIEM and deletion time of the
// integration with in.UUID.
func (db *DB) UpdateIntegration(ctx context.Context, in store.Integration) error {
	err := db.exec(ctx, true, `UPDATE integrations SET name = $1, siem = $2, deleted_at = $3 WHERE uuid = $4`,
		in.Name, in.SIEM, nanos(in.DeletedAt), in.UUID)
	if err != nil {
		return fmt.Errorf("update integration %s: %w", in.UUID, err)
	}
	return nil
}

// CreateToken stores t; ErrConflict if its ID is taken, ErrNotFound if its
// integration does not exist.
func (db *DB) CreateToken(ctx context.Context, t store.Token) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO tokens (`+store.TokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.ID, t.IntegrationUUID, t.AccountUUID, t.Name, events.JoinFeatures(t.Features), t.KeyID, t.Hash,
		nanos(t.IssuedAt), nanos(t.ExpiresAt), nanos(t.LastUsedAt), nanos(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// Token returns the token with that ID.
func (db *DB) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := one(ctx, db, store.ScanToken, `SELECT `+store.TokenColumns+` FROM tokens WHERE id = $1`, id)
	if err != nil {
		return t, fmt.Errorf("token %s: %w", id, err)
	}
	return t, nil
}

// Tokens lists an integration's tokens by issue time.
func (db *DB) Tokens(ctx context.Context, integration string) ([]store.Token, error) {
	ts, err := list(ctx, db, store.ScanToken,
		`SELECT `+store.TokenColumns+` FROM tokens WHERE integration_uuid = $1 ORDER BY issued_at NULLS FIRST, id`, integration)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// AccountTokens lists every token of an account by issue time.
func (db *DB) AccountTokens(ctx context.Context, account string) ([]store.Token, error) {
	ts, err := list(ctx, db, store.ScanToken,
		`SELECT `+store.TokenColumns+` FROM tokens WHERE account_uuid = $1 ORDER BY issued_at NULLS FIRST, id`, account)
	if err != nil {
		return nil, fmt.Errorf("list account tokens: %w", err)
	}
	return ts, nil
}

// UpdateToken replaces the name, expiry, last use and revocation of the
// token with t.ID; what was signed into it (features, key, hash, issue
// time, integration) does not change.
func (db *DB) UpdateToken(ctx context.Context, t store.Token) error {
	err := db.exec(ctx, true, `UPDATE tokens SET name = $1, expires_at = $2, last_used_at = $3, revoked_at = $4 WHERE id = $5`,
		t.Name, nanos(t.ExpiresAt), nanos(t.LastUsedAt), nanos(t.RevokedAt), t.ID)
	if err != nil {
		return fmt.Errorf("update token %s: %w", t.ID, err)
	}
	return nil
}

// TouchToken sets LastUsedAt. It is called on every request, so it commits
// with synchronous_commit off: a database crash may lose the latest touches.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	var n int64
	err := db.relaxed(ctx, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		n = tag.RowsAffected()
		return err
	}, stmt{`UPDATE tokens SET last_used_at = $1 WHERE id = $2`, []any{at.UnixNano(), id}})
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}
