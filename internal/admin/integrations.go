package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// SIEMs lists the integration types 1Password offers, as displayed.
var SIEMs = []string{"Splunk", "Elastic", "Datadog", "Sumo Logic", "Panther", "Microsoft Sentinel", "Other"}

// ParseSIEM returns the display name of a SIEM type given in any case, with
// spaces, dashes or underscores ("sumo-logic", "Microsoft Sentinel",
// "sentinel"). Empty means Other.
func ParseSIEM(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "Other", nil
	}
	key := func(s string) string {
		return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(s))
	}
	k := key(v)
	if k == "sentinel" {
		return "Microsoft Sentinel", nil
	}
	for _, s := range SIEMs {
		if key(s) == k {
			return s, nil
		}
	}
	return "", invalidf("siem", "%q is not one of %s", v, strings.Join(SIEMs, ", "))
}

// DefaultIntegrationName is the integration the CLI makes when it issues a
// token for an account that has none.
const DefaultIntegrationName = "Logbook CLI"

// CreateIntegration makes an integration and records create/sa.
func (s *Service) CreateIntegration(ctx context.Context, a Actor, name, siem string) (Integration, error) {
	name, err := a.mustManageNamed("manage integrations", name)
	if err != nil {
		return Integration{}, err
	}
	if events.ValidID(name) {
		return Integration{}, invalidf("name", "must not look like an integration uuid")
	}
	if siem, err = ParseSIEM(siem); err != nil {
		return Integration{}, err
	}
	live, err := s.liveIntegrations(ctx, a)
	if err != nil {
		return Integration{}, err
	}
	for _, in := range live {
		if strings.EqualFold(in.Name, name) {
			return Integration{}, conflictf("name", "an integration named %q already exists", in.Name)
		}
	}
	in := store.Integration{UUID: events.NewID(), AccountUUID: a.Account.UUID, Name: name, SIEM: siem,
		CreatedAt: s.now().UTC(), CreatedBy: a.User.UUID}
	if err := s.st.CreateIntegration(ctx, in); err != nil {
		return Integration{}, err
	}
	if err := s.audit(ctx, a, auditEntry{"create", "sa", in.UUID, "D"}); err != nil {
		return Integration{}, err
	}
	s.log.Info("integration created", "account", a.Account.UUID, "integration", in.UUID, "by", a.User.UUID)
	return integrationView(in, 0), nil
}

func (s *Service) liveIntegrations(ctx context.Context, a Actor) ([]store.Integration, error) {
	all, err := s.st.Integrations(ctx, a.Account.UUID)
	if err != nil {
		return nil, err
	}
	live := all[:0]
	for _, in := range all {
		if in.DeletedAt.IsZero() {
			live = append(live, in)
		}
	}
	return live, nil
}

// integration finds a live integration of the actor's account by UUID or
// name. Another account's integration is not found.
func (s *Service) integration(ctx context.Context, a Actor, ref string) (store.Integration, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Integration{}, invalidf("integration", "is required")
	}
	if events.ValidID(ref) {
		in, err := s.st.Integration(ctx, strings.ToUpper(ref))
		if err == nil && in.AccountUUID == a.Account.UUID && in.DeletedAt.IsZero() {
			return in, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Integration{}, err
		}
		return store.Integration{}, notFoundf("integration", "no integration %s", ref)
	}
	live, err := s.liveIntegrations(ctx, a)
	if err != nil {
		return store.Integration{}, err
	}
	for _, in := range live {
		if strings.EqualFold(in.Name, ref) {
			return in, nil
		}
	}
	return store.Integration{}, notFoundf("integration", "no integration named %q", ref)
}

func (s *Service) activeTokens(ctx context.Context, in store.Integration) (int, error) {
	ts, err := s.st.Tokens(ctx, in.UUID)
	if err != nil {
		return 0, err
	}
	now, n := s.now(), 0
	for _, t := range ts {
		if tokenStatus(t, now) == StatusActive {
			n++
		}
	}
	return n, nil
}

// Integrations lists the actor's account's integrations; deleted ones only
// when all is set.
func (s *Service) Integrations(ctx context.Context, a Actor, all bool) ([]Integration, error) {
	if err := a.mustManage("manage integrations"); err != nil {
		return nil, err
	}
	ins, err := s.st.Integrations(ctx, a.Account.UUID)
	if err != nil {
		return nil, err
	}
	out := []Integration{}
	for _, in := range ins {
		if !all && !in.DeletedAt.IsZero() {
			continue
		}
		n, err := s.activeTokens(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, integrationView(in, n))
	}
	return out, nil
}

// integrationTokens finds the integration ref names, for an actor who may
// manage integrations, and lists its tokens.
func (s *Service) integrationTokens(ctx context.Context, a Actor, ref string) (store.Integration, []store.Token, error) {
	in, err := managed(ctx, a, "manage integrations", ref, s.integration)
	if err != nil {
		return store.Integration{}, nil, err
	}
	ts, err := s.st.Tokens(ctx, in.UUID)
	return in, ts, err
}

// IntegrationDetails is an integration with its tokens.
type IntegrationDetails struct {
	Integration
	TokenList []Token `json:"tokens"`
}

// Integration returns the integration named by ref (UUID or name) with its
// tokens.
func (s *Service) Integration(ctx context.Context, a Actor, ref string) (IntegrationDetails, error) {
	in, ts, err := s.integrationTokens(ctx, a, ref)
	if err != nil {
		return IntegrationDetails{}, err
	}
	now := s.now()
	d := IntegrationDetails{TokenList: make([]Token, len(ts))}
	n := 0
	for i, t := range ts {
		d.TokenList[i] = tokenView(t, now)
		if d.TokenList[i].Status == StatusActive {
			n++
		}
	}
	d.Integration = integrationView(in, n)
	return d, nil
}

// DefaultIntegration returns the account's only integration, making one
// named DefaultIntegrationName (type Other) when it has none; with several
// it is an error naming "integration".
func (s *Service) DefaultIntegration(ctx context.Context, a Actor) (Integration, error) {
	if err := a.mustManage("manage integrations"); err != nil {
		return Integration{}, err
	}
	live, err := s.liveIntegrations(ctx, a)
	if err != nil {
		return Integration{}, err
	}
	switch len(live) {
	case 0:
		return s.CreateIntegration(ctx, a, DefaultIntegrationName, "Other")
	case 1:
		n, err := s.activeTokens(ctx, live[0])
		if err != nil {
			return Integration{}, err
		}
		return integrationView(live[0], n), nil
	}
	names := make([]string, len(live))
	for i, in := range live {
		names[i] = in.Name
	}
	return Integration{}, invalidf("integration", "the account has %d integrations (%s); name one", len(live), strings.Join(names, ", "))
}

// DeleteIntegration marks the integration deleted and revokes its tokens,
// recording trevoke/satoken for each token not yet revoked.
func (s *Service) DeleteIntegration(ctx context.Context, a Actor, ref string) (Integration, error) {
	in, ts, err := s.integrationTokens(ctx, a, ref)
	if err != nil {
		return Integration{}, err
	}
	now := s.now().UTC()
	in.DeletedAt = now
	if err := s.st.UpdateIntegration(ctx, in); err != nil {
		return Integration{}, err
	}
	var trail []auditEntry
	for _, t := range ts {
		if !t.RevokedAt.IsZero() {
			continue
		}
		t.RevokedAt = now
		if err := s.st.UpdateToken(ctx, t); err != nil {
			return Integration{}, err
		}
		trail = append(trail, auditEntry{"trevoke", "satoken", in.UUID, t.Name})
	}
	if len(trail) > 0 {
		if err := s.audit(ctx, a, trail...); err != nil {
			return Integration{}, err
		}
	}
	s.log.Info("integration deleted", "account", a.Account.UUID, "integration", in.UUID, "by", a.User.UUID, "revoked", len(trail))
	return integrationView(in, 0), nil
}
