package sqlstore

import (
	"context"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// CreateIntegration stores in; ErrConflict if its UUID is taken, ErrNotFound
// if its account does not exist.
func (s *Store) CreateIntegration(ctx context.Context, in store.Integration) error {
	return s.insert(ctx, "create integration", in, `INSERT INTO integrations (`+store.IntegrationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		in.UUID, in.AccountUUID, in.Name, in.SIEM, nanos(in.CreatedAt), in.CreatedBy, nanos(in.DeletedAt))
}

// Integration returns the integration with that UUID, deleted or not.
func (s *Store) Integration(ctx context.Context, uuid string) (store.Integration, error) {
	in, err := one(ctx, s.db, store.ScanIntegration, `SELECT `+store.IntegrationColumns+` FROM integrations WHERE uuid = $1`, uuid)
	return in, wrap(err, "integration %s", uuid)
}

// Integrations lists an account's integrations, deleted ones included, by
// creation time.
func (s *Store) Integrations(ctx context.Context, account string) ([]store.Integration, error) {
	ins, err := list(ctx, s.db, store.ScanIntegration,
		`SELECT `+store.IntegrationColumns+` FROM integrations WHERE account_uuid = $1 ORDER BY created_at NULLS FIRST, uuid`, account)
	return ins, wrap(err, "list integrations")
}

// UpdateIntegration replaces the name, SIEM and deletion time of the
// integration with in.UUID.
func (s *Store) UpdateIntegration(ctx context.Context, in store.Integration) error {
	return wrap(exec(ctx, s.db, true, `UPDATE integrations SET name = $1, siem = $2, deleted_at = $3 WHERE uuid = $4`,
		in.Name, in.SIEM, nanos(in.DeletedAt), in.UUID), "update integration %s", in.UUID)
}

// CreateToken stores t; ErrConflict if its ID is taken, ErrNotFound if its
// integration does not exist.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	return s.insert(ctx, "create token", t, `INSERT INTO tokens (`+store.TokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.ID, t.IntegrationUUID, t.AccountUUID, t.Name, events.JoinFeatures(t.Features), t.KeyID, t.Hash,
		nanos(t.IssuedAt), nanos(t.ExpiresAt), nanos(t.LastUsedAt), nanos(t.RevokedAt))
}

// Token returns the token with that ID.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := one(ctx, s.db, store.ScanToken, `SELECT `+store.TokenColumns+` FROM tokens WHERE id = $1`, id)
	return t, wrap(err, "token %s", id)
}

// Tokens lists an integration's tokens by issue time.
func (s *Store) Tokens(ctx context.Context, integration string) ([]store.Token, error) {
	ts, err := list(ctx, s.db, store.ScanToken,
		`SELECT `+store.TokenColumns+` FROM tokens WHERE integration_uuid = $1 ORDER BY issued_at NULLS FIRST, id`, integration)
	return ts, wrap(err, "list tokens")
}

// AccountTokens lists every token of an account by issue time.
func (s *Store) AccountTokens(ctx context.Context, account string) ([]store.Token, error) {
	ts, err := list(ctx, s.db, store.ScanToken,
		`SELECT `+store.TokenColumns+` FROM tokens WHERE account_uuid = $1 ORDER BY issued_at NULLS FIRST, id`, account)
	return ts, wrap(err, "list account tokens")
}

// UpdateToken replaces the name, expiry, last use and revocation of the
// token with t.ID; what was signed into it (features, key, hash, issue
// time, integration) does not change.
func (s *Store) UpdateToken(ctx context.Context, t store.Token) error {
	return wrap(exec(ctx, s.db, true, `UPDATE tokens SET name = $1, expires_at = $2, last_used_at = $3, revoked_at = $4 WHERE id = $5`,
		t.Name, nanos(t.ExpiresAt), nanos(t.LastUsedAt), nanos(t.RevokedAt), t.ID), "update token %s", t.ID)
}

// TouchToken sets LastUsedAt. It is called on every request, so it commits
// relaxed (DB.Relaxed): a crash may lose the latest touches.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	n, err := s.db.Relaxed(ctx, Stmt{`UPDATE tokens SET last_used_at = $1 WHERE id = $2`, []any{at.UnixNano(), id}})
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return wrap(err, "touch token %s", id)
}
