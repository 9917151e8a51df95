package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// Config holds the optional settings of a Service.
type Config struct {
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives messages about actions; discarded when nil.
	Logger *slog.Logger
}

// Service performs admin operations over a store and a token service.
type Service struct {
	st     store.Store
	tokens *token.Service
	now    func() time.Time
	log    *slog.Logger
}

// New returns a Service. tokens issues tokens for the server's audience.
func New(st store.Store, tokens *token.Service, cfg Config) *Service {
	s := &Service{st: st, tokens: tokens, now: cfg.Now, log: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// TokenService returns the token service tokens are issued with.
func (s *Service) TokenService() *token.Service { return s.tokens }

// Actor is the user an operation is performed by, with the session that
// audit events record for it.
type Actor struct {
	User    store.User
	Account store.Account
	Session events.Session
	// Location is recorded in audit events; nil omits it.
	Location *events.Location
}

func (a Actor) canManage() bool {
	return a.User.Role == store.RoleOwner || a.User.Role == store.RoleAdmin
}

func (a Actor) mustManage(what string) error {
	if a.canManage() {
		return nil
	}
	return forbiddenf("only owners and administrators may %s; %s is a %s", what, a.User.Email, a.User.Role)
}

// mustManageNamed checks that the actor may do what, then returns name
// cleaned: the start of every operation that names a new object.
func (a Actor) mustManageNamed(what, name string) (string, error) {
	if err := a.mustManage(what); err != nil {
		return "", err
	}
	return cleanName("name", name, 100)
}

// managed checks that the actor may do what, then finds the object of the
// actor's account that ref names with find: the start of every operation
// on an existing integration, token or ingest key.
func managed[T any](ctx context.Context, a Actor, what, ref string, find func(context.Context, Actor, string) (T, error)) (T, error) {
	if err := a.mustManage(what); err != nil {
		var zero T
		return zero, err
	}
	return find(ctx, a, ref)
}

// LocalSession is the session recorded for a command run on this machine:
// a new session uuid, login_time = at, ip 127.0.0.1, and a device_uuid
// derived from the host name so that one machine is one device.
func LocalSession(at time.Time) events.Session {
	host, _ := os.Hostname()
	return events.Session{
		UUID:       events.NewID(),
		LoginTime:  at.UTC(),
		DeviceUUID: derivedID("device:"+host, true),
		IP:         "127.0.0.1",
	}
}

// keySession is the session recorded for requests made with an admin key:
// stable per key, as a signed-in session is.
func keySession(k store.APIKey, ip string) events.Session {
	return events.Session{
		UUID:       derivedID("session:"+k.ID, false),
		LoginTime:  k.CreatedAt.UTC(),
		DeviceUUID: derivedID("device:"+k.ID, true),
		IP:         ip,
	}
}

func derivedID(seed string, lower bool) string {
	sum := sha256.Sum256([]byte("logbook admin " + seed))
	var b [16]byte
	copy(b[:], sum[:])
	id := events.IDFromBytes(b)
	if lower {
		id = strings.ToLower(id)
	}
	return id
}

// Account returns the account named by ref: its UUID or its name.
func (s *Service) Account(ctx context.Context, ref string) (store.Account, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Account{}, invalidf("account", "is required")
	}
	if events.ValidUpperID(ref) {
		a, err := s.st.Account(ctx, ref)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Account{}, err
		}
	}
	a, err := s.st.AccountByName(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, notFoundf("account", "no account named %q", ref)
	}
	return a, err
}

// DefaultAccount returns the only account, or an error naming "account"
// when there are none or several.
func (s *Service) DefaultAccount(ctx context.Context) (store.Account, error) {
	as, err := s.st.Accounts(ctx)
	if err != nil {
		return store.Account{}, err
	}
	switch len(as) {
	case 1:
		return as[0], nil
	case 0:
		return store.Account{}, notFoundf("account", "there is no account yet; create one with: logbook account create --name NAME --owner-email EMAIL")
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return store.Account{}, invalidf("account", "there are %d accounts (%s); name one", len(as), strings.Join(names, ", "))
}

// ActorAs returns the actor for the user with e-mail email in account, or,
// when email is empty, for the account's first owner. The session is
// LocalSession.
func (s *Service) ActorAs(ctx context.Context, account store.Account, email string) (Actor, error) {
	var u store.User
	if email = strings.TrimSpace(email); email != "" {
		var err error
		u, err = s.st.UserByEmail(ctx, account.UUID, email)
		if errors.Is(err, store.ErrNotFound) {
			return Actor{}, notFoundf("as", "no user %q in account %q", email, account.Name)
		}
		if err != nil {
			return Actor{}, err
		}
	} else {
		us, err := s.st.Users(ctx, account.UUID)
		if err != nil {
			return Actor{}, err
		}
		for _, c := range us {
			if c.Role == store.RoleOwner {
				u = c
				break
			}
		}
		if u.UUID == "" {
			return Actor{}, notFoundf("as", "account %q has no owner yet; add the first with: logbook user add --account %q --role owner --email EMAIL", account.Name, account.Name)
		}
	}
	return Actor{User: u, Account: account, Session: LocalSession(s.now())}, nil
}

// auditEntry is one audit event to record.
type auditEntry struct {
	action, objectType, objectUUID, auxInfo string
}

// audit appends the entries, in order, to the actor's account's auditevents
// stream in one transaction.
func (s *Service) audit(ctx context.Context, a Actor, entries ...auditEntry) error {
	w := ingest.NewWriter(s.st, a.Account.UUID, 0)
	now := s.now().UTC()
	sess := a.Session
	for i, e := range entries {
		ev := events.AuditEvent{
			UUID:      events.NewID(),
			Timestamp: now.Add(time.Duration(i) * time.Microsecond),
			ActorUUID: a.User.UUID,
			ActorDetails: &events.User{
				UUID: a.User.UUID, Name: a.User.Name, Email: a.User.Email,
			},
			Action:      e.action,
			ObjectType:  e.objectType,
			ObjectUUID:  events.Str(e.objectUUID),
			AuxInfo:     e.auxInfo,
			Session:     &sess,
			Location:    a.Location,
			ActorType:   "user",
			AccountUUID: a.Account.UUID,
		}
		if err := w.Add(ctx, &ev); err != nil {
			return fmt.Errorf("record audit event %s/%s: %w", e.action, e.objectType, err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("record audit events: %w", err)
	}
	return nil
}

// cleanName trims a display name and checks it.
func cleanName(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", invalidf(field, "is required")
	}
	if len([]rune(v)) > max {
		return "", invalidf(field, "is longer than %d characters", max)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", invalidf(field, "must not contain control characters")
	}
	return v, nil
}
