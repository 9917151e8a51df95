package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// IssueRequest describes a token to issue.
type IssueRequest struct {
	// Integration is the integration's UUID or name.
	Integration string
	Name        string
	// Features are feature names; nil means all three, an empty non-nil
	// slice is an error.
	Features []string
	// ExpiresIn is "never" (or empty), "30d", "90d", "180d", or a duration
	// such as "12h" or "2w" (token.ParseExpiry).
	ExpiresIn string
}

// Issued is a newly issued token: Secret is the bearer token, shown once.
type Issued struct {
	Token
	Secret string `json:"token"`
}

// ParseFeatureList checks feature names for the field "features": a
// non-empty list of known features, de-duplicated and ordered like
// events.AllFeatures. nil means all.
func ParseFeatureList(names []string) ([]events.Feature, error) {
	if names == nil {
		return events.AllFeatures, nil
	}
	set := map[events.Feature]bool{}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			continue
		}
		f, err := events.ParseFeature(n)
		if err != nil {
			return nil, invalidf("features", "%v", err)
		}
		set[f] = true
	}
	if len(set) == 0 {
		return nil, invalidf("features", "at least one feature is required (signinattempts, itemusages, auditevents)")
	}
	return events.SortFeatures(set), nil
}

// ParseExpiresIn reads a token lifetime for the field "expires_in".
func ParseExpiresIn(v string) (time.Duration, error) {
	d, err := token.ParseExpiry(v)
	if err != nil {
		return 0, invalidf("expires_in", "%v", err)
	}
	return d, nil
}

// IssueToken issues a token for an integration and records create/satoken
// (and expire/sa when the token has an expiry).
func (s *Service) IssueToken(ctx context.Context, a Actor, r IssueRequest) (Issued, error) {
	name, err := a.mustManageNamed("issue tokens", r.Name)
	if err != nil {
		return Issued{}, err
	}
	features, err := ParseFeatureList(r.Features)
	if err != nil {
		return Issued{}, err
	}
	expiresIn, err := ParseExpiresIn(r.ExpiresIn)
	if err != nil {
		return Issued{}, err
	}
	in, err := s.integration(ctx, a, r.Integration)
	if err != nil {
		return Issued{}, err
	}
	raw, t, err := s.tokens.Issue(ctx, token.IssueRequest{AccountUUID: a.Account.UUID, IntegrationUUID: in.UUID,
		Name: name, Features: features, ExpiresIn: expiresIn})
	if err != nil {
		return Issued{}, fmt.Errorf("issue token: %w", err)
	}
	trail := []auditEntry{{"create", "satoken", in.UUID, name}}
	if !t.ExpiresAt.IsZero() {
		trail = append(trail, auditEntry{"expire", "sa", in.UUID, t.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	if err := s.audit(ctx, a, trail...); err != nil {
		// A token nobody can see in the audit trail must not stay usable.
		t.RevokedAt = s.now().UTC()
		if rerr := s.st.UpdateToken(ctx, t); rerr != nil {
			err = errors.Join(err, fmt.Errorf("revoke unaudited token %s: %w", t.ID, rerr))
		}
		return Issued{}, err
	}
	s.log.Info("token issued", "account", a.Account.UUID, "integration", in.UUID, "token", t.ID, "by", a.User.UUID)
	return Issued{Token: tokenView(t, s.now()), Secret: raw}, nil
}

// Tokens lists the tokens of one integration (UUID or name), or of the
// whole account when integration is empty.
func (s *Service) Tokens(ctx context.Context, a Actor, integration string) ([]Token, error) {
	if err := a.mustManage("manage tokens"); err != nil {
		return nil, err
	}
	var ts []store.Token
	var err error
	if strings.TrimSpace(integration) == "" {
		ts, err = s.st.AccountTokens(ctx, a.Account.UUID)
	} else {
		var in store.Integration
		if in, err = s.integration(ctx, a, integration); err != nil {
			return nil, err
		}
		ts, err = s.st.Tokens(ctx, in.UUID)
	}
	now := s.now()
	return views(ts, err, func(t store.Token) Token { return tokenView(t, now) })
}

// token finds a token of the actor's account by id, or by name when the
// name is unique among the account's tokens.
func (s *Service) token(ctx context.Context, a Actor, ref string) (store.Token, error) {
	ref = strings.TrimSpace(ref)
	return findByRef(refKind{"token", "token", "token id"}, ref, ref, ref,
		func(id string) (store.Token, bool, error) {
			t, err := s.st.Token(ctx, strings.ToLower(id))
			return t, err == nil && t.AccountUUID == a.Account.UUID, err
		},
		func() ([]store.Token, error) { return s.st.AccountTokens(ctx, a.Account.UUID) },
		func(t store.Token) string { return t.Name })
}

// RenameToken renames a token and records trename/satoken.
func (s *Service) RenameToken(ctx context.Context, a Actor, ref, name string) (Token, error) {
	name, err := a.mustManageNamed("manage tokens", name)
	if err != nil {
		return Token{}, err
	}
	t, err := s.token(ctx, a, ref)
	if err != nil {
		return Token{}, err
	}
	if t.Name == name {
		return tokenView(t, s.now()), nil
	}
	t.Name = name
	if err := s.st.UpdateToken(ctx, t); err != nil {
		return Token{}, err
	}
	if err := s.audit(ctx, a, auditEntry{"trename", "satoken", t.IntegrationUUID, name}); err != nil {
		return Token{}, err
	}
	return tokenView(t, s.now()), nil
}

// RevokeToken revokes a token, effective on its next request, and records
// trevoke/satoken. Revoking a revoked token changes nothing.
func (s *Service) RevokeToken(ctx context.Context, a Actor, ref string) (Token, error) {
	t, err := managed(ctx, a, "manage tokens", ref, s.token)
	if err != nil {
		return Token{}, err
	}
	revoked, err := s.revoke(ctx, a, &t.RevokedAt, func() error { return s.st.UpdateToken(ctx, t) },
		auditEntry{"trevoke", "satoken", t.IntegrationUUID, t.Name})
	if err != nil {
		return Token{}, err
	}
	if revoked {
		s.log.Info("token revoked", "account", a.Account.UUID, "token", t.ID, "by", a.User.UUID)
	}
	return tokenView(t, s.now()), nil
}

// revoke sets *revokedAt to now, stores it with update and records entry
// in the audit trail, and reports true; when *revokedAt is already set it
// does nothing and reports false.
func (s *Service) revoke(ctx context.Context, a Actor, revokedAt *time.Time, update func() error, entry auditEntry) (bool, error) {
	if !revokedAt.IsZero() {
		return false, nil
	}
	*revokedAt = s.now().UTC()
	if err := update(); err != nil {
		return false, err
	}
	return true, s.audit(ctx, a, entry)
}
