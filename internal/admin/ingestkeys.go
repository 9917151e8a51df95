package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
)

// Ingest keys (apikey.Ingest, used by internal/ingest) open the ingestion API of one account.
// Owners and administrators make, list and revoke them. 1Password has no
// such credential, so their audit events are those of the nearest one, a
// service account token: create/satoken and trevoke/satoken, with the
// key's id (upper-cased) as object_uuid and aux_info "ingest key: NAME",
// which no token event carries.

// NewIngestKey is a newly made ingest key: Secret is shown once.
type NewIngestKey struct {
	IngestKey
	Secret string `json:"key"`
}

// CreateIngestKey makes an ingest key for the actor's account and records
// create/satoken.
func (s *Service) CreateIngestKey(ctx context.Context, a Actor, name string) (NewIngestKey, error) {
	name, err := a.mustManageNamed("manage ingest keys", name)
	if err != nil {
		return NewIngestKey{}, err
	}
	raw, k, err := apikey.Ingest.Create(ctx, s.st, store.APIKey{AccountUUID: a.Account.UUID, Name: name}, s.now())
	if err != nil {
		return NewIngestKey{}, err
	}
	if err := s.audit(ctx, a, ingestKeyAudit("create", k)); err != nil {
		// A key nobody can see in the audit trail must not stay usable.
		k.RevokedAt = s.now().UTC()
		if rerr := s.st.UpdateAPIKey(ctx, k); rerr != nil {
			err = errors.Join(err, fmt.Errorf("revoke unaudited ingest key %s: %w", k.ID, rerr))
		}
		return NewIngestKey{}, err
	}
	s.log.Info("ingest key created", "account", a.Account.UUID, "key", k.ID, "by", a.User.UUID)
	return NewIngestKey{IngestKey: ingestKeyView(k, s.now()), Secret: raw}, nil
}

// IngestKeys lists the ingest keys of the actor's account, oldest first,
// revoked ones included.
func (s *Service) IngestKeys(ctx context.Context, a Actor) ([]IngestKey, error) {
	if err := a.mustManage("manage ingest keys"); err != nil {
		return nil, err
	}
	ks, err := s.st.APIKeys(ctx, a.Account.UUID, apikey.Ingest.Name)
	now := s.now()
	return views(ks, err, func(k store.APIKey) IngestKey { return ingestKeyView(k, now) })
}

// RevokeIngestKey revokes an ingest key of the actor's account, named by
// its id, its listed prefix (lbi_ + id), the whole key, or its name when
// no other key of the account has it, and records trevoke/satoken. Every
// server reads the key on every request, so its very next request gets
// 401. Revoking a revoked key changes nothing.
func (s *Service) RevokeIngestKey(ctx context.Context, a Actor, ref string) (IngestKey, error) {
	k, err := managed(ctx, a, "manage ingest keys", ref, s.ingestKey)
	if err != nil {
		return IngestKey{}, err
	}
	revoked, err := s.revoke(ctx, a, &k.RevokedAt, func() error { return s.st.UpdateAPIKey(ctx, k) }, ingestKeyAudit("trevoke", k))
	if err != nil {
		return IngestKey{}, err
	}
	if revoked {
		s.log.Info("ingest key revoked", "account", a.Account.UUID, "key", k.ID, "by", a.User.UUID)
	}
	return ingestKeyView(k, s.now()), nil
}

// ingestKey finds an ingest key of the actor's account; see
// RevokeIngestKey for what ref may be.
func (s *Service) ingestKey(ctx context.Context, a Actor, ref string) (store.APIKey, error) {
	ref = strings.TrimSpace(ref)
	return findByRef(refKind{"key", "ingest key", "key id"}, ref, apikey.Ingest.ID(ref), shorten(ref),
		func(id string) (store.APIKey, bool, error) {
			k, err := s.st.APIKey(ctx, strings.ToLower(id))
			return k, err == nil && k.Kind == apikey.Ingest.Name && k.AccountUUID == a.Account.UUID, err
		},
		func() ([]store.APIKey, error) { return s.st.APIKeys(ctx, a.Account.UUID, apikey.Ingest.Name) },
		func(k store.APIKey) string { return k.Name })
}

// shorten keeps an echoed reference short: it may be a whole secret key.
func shorten(ref string) string {
	if len(ref) > len(apikey.Ingest.Prefix)+events.IDLen {
		return ref[:len(apikey.Ingest.Prefix)+events.IDLen] + "…"
	}
	return ref
}

func ingestKeyAudit(action string, k store.APIKey) auditEntry {
	return auditEntry{action, "satoken", strings.ToUpper(k.ID), "ingest key: " + k.Name}
}

// IngestKey is an ingest key as shown: never its secret.
type IngestKey struct {
	ID string `json:"id"`
	// Prefix is how the key begins (lbi_ + id), to tell which key a
	// leaked string is.
	Prefix     string    `json:"prefix"`
	Name       string    `json:"name"`
	Status     string    `json:"status"` // active or revoked
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // to the minute
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

func ingestKeyView(k store.APIKey, now time.Time) IngestKey {
	status := StatusActive
	if apikey.Revoked(k, now) {
		status = StatusRevoked
	}
	return IngestKey{ID: k.ID, Prefix: apikey.Ingest.Prefix + k.ID, Name: k.Name, Status: status,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}
