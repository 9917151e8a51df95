package admin

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// NewUser describes a user to add.
type NewUser struct {
	Email string
	// Name defaults to the part of Email before the @.
	Name string
	// Role defaults to member.
	Role store.Role
	// Password, when set, lets the user sign in to the web console; only
	// its argon2id hash is kept.
	Password string
}

// CreateAccount makes an account and its first owner. It is a server
// operator's action (the CLI), not one an account's user can take, so it
// has no actor and records no audit event.
func (s *Service) CreateAccount(ctx context.Context, name string, owner NewUser) (Account, User, error) {
	return s.CreateAccountUUID(ctx, events.NewID(), name, owner)
}

// CreateAccountUUID is CreateAccount of an account with that uuid: a
// mirror's, whose uuid is its source's (docs/mirror.md).
func (s *Service) CreateAccountUUID(ctx context.Context, uuid, name string, owner NewUser) (Account, User, error) {
	if !events.ValidUpperID(uuid) {
		return Account{}, User{}, invalidf("uuid", "%q is not an account uuid (26 upper-case base32 characters)", uuid)
	}
	if _, err := s.st.Account(ctx, uuid); err == nil {
		return Account{}, User{}, conflictf("uuid", "an account with uuid %s already exists", uuid)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Account{}, User{}, err
	}
	name, err := cleanName("name", name, 100)
	if err != nil {
		return Account{}, User{}, err
	}
	if events.ValidID(name) {
		return Account{}, User{}, invalidf("name", "must not look like an account uuid")
	}
	owner.Role = store.RoleOwner
	u, err := s.newUser(owner)
	if err != nil {
		return Account{}, User{}, err
	}
	if _, err := s.st.AccountByName(ctx, name); err == nil {
		return Account{}, User{}, conflictf("name", "an account named %q already exists", name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Account{}, User{}, err
	}
	now := s.now().UTC()
	a := store.Account{UUID: uuid, Name: name, CreatedAt: now}
	if err := s.st.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Account{}, User{}, conflictf("name", "an account named %q already exists", name)
		}
		return Account{}, User{}, err
	}
	u.AccountUUID, u.CreatedAt = a.UUID, now
	if err := s.st.CreateUser(ctx, u); err != nil {
		return Account{}, User{}, fmt.Errorf("create owner: %w", err)
	}
	s.log.Info("account created", "account", a.UUID, "name", a.Name)
	return accountView(a), userView(u), nil
}

// Accounts lists every account; a server operator's view.
func (s *Service) Accounts(ctx context.Context) ([]Account, error) {
	as, err := s.st.Accounts(ctx)
	return views(as, err, accountView)
}

// Me returns the actor's account and user.
func (s *Service) Me(a Actor) (Account, User) {
	return accountView(a.Account), userView(a.User)
}

func validRole(r store.Role) bool {
	return r == store.RoleOwner || r == store.RoleAdmin || r == store.RoleMember
}

func (s *Service) newUser(n NewUser) (store.User, error) {
	email := strings.TrimSpace(n.Email)
	if email == "" {
		return store.User{}, invalidf("email", "is required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return store.User{}, invalidf("email", "%q is not an e-mail address", email)
	}
	if n.Role == "" {
		n.Role = store.RoleMember
	}
	if !validRole(n.Role) {
		return store.User{}, invalidf("role", "%q is not owner, administrator or member", n.Role)
	}
	name := strings.TrimSpace(n.Name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if name, err = cleanName("name", name, 100); err != nil {
		return store.User{}, err
	}
	u := store.User{UUID: events.NewID(), Name: name, Email: email, Role: n.Role}
	if n.Password != "" {
		if u.PasswordHash, err = HashPassword(n.Password); err != nil {
			return store.User{}, err
		}
	}
	return u, nil
}

// AddUser adds a user to the actor's account. Owners and administrators
// add users; only owners add owners.
func (s *Service) AddUser(ctx context.Context, a Actor, n NewUser) (User, error) {
	if err := a.mustManage("add users"); err != nil {
		return User{}, err
	}
	u, err := s.newUser(n)
	if err != nil {
		return User{}, err
	}
	if u.Role == store.RoleOwner && a.User.Role != store.RoleOwner {
		return User{}, forbiddenf("only owners may add owners")
	}
	if _, err := s.st.UserByEmail(ctx, a.Account.UUID, u.Email); err == nil {
		return User{}, conflictf("email", "%s is already a user of %s", u.Email, a.Account.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return User{}, err
	}
	u.AccountUUID, u.CreatedAt = a.Account.UUID, s.now().UTC()
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return User{}, conflictf("email", "%s is already a user of %s", u.Email, a.Account.Name)
		}
		return User{}, err
	}
	return userView(u), nil
}

// Users lists the users of the actor's account; every role may.
func (s *Service) Users(ctx context.Context, a Actor) ([]User, error) {
	us, err := s.st.Users(ctx, a.Account.UUID)
	return views(us, err, userView)
}

// user finds a user of the actor's account by UUID or e-mail.
func (s *Service) user(ctx context.Context, a Actor, ref string) (store.User, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.User{}, invalidf("user", "is required")
	}
	if events.ValidUpperID(ref) {
		u, err := s.st.User(ctx, ref)
		if err == nil && u.AccountUUID == a.Account.UUID {
			return u, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, err
		}
	}
	u, err := s.st.UserByEmail(ctx, a.Account.UUID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, notFoundf("user", "no user %q in this account", ref)
	}
	return u, err
}

// SetRole changes a user's role. Owners and administrators change roles;
// only owners grant or take away the owner role; the account keeps at
// least one owner.
func (s *Service) SetRole(ctx context.Context, a Actor, userRef string, role store.Role) (User, error) {
	if err := a.mustManage("change roles"); err != nil {
		return User{}, err
	}
	if !validRole(role) {
		return User{}, invalidf("role", "%q is not owner, administrator or member", role)
	}
	u, err := s.user(ctx, a, userRef)
	if err != nil {
		return User{}, err
	}
	if u.Role == role {
		return userView(u), nil
	}
	if (u.Role == store.RoleOwner || role == store.RoleOwner) && a.User.Role != store.RoleOwner {
		return User{}, forbiddenf("only owners may grant or remove the owner role")
	}
	if u.Role == store.RoleOwner {
		us, err := s.st.Users(ctx, a.Account.UUID)
		if err != nil {
			return User{}, err
		}
		owners := 0
		for _, o := range us {
			if o.Role == store.RoleOwner {
				owners++
			}
		}
		if owners <= 1 {
			return User{}, conflictf("role", "%s is the last owner of %s; make another owner first", u.Email, a.Account.Name)
		}
	}
	u.Role = role
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	return userView(u), nil
}

// CheckUserPassword returns the user of account with that e-mail if
// password is theirs; any failure is ErrUnauthenticated, without saying
// whether the user exists.
func (s *Service) CheckUserPassword(ctx context.Context, account store.Account, email, password string) (store.User, error) {
	u, err := s.st.UserByEmail(ctx, account.UUID, strings.TrimSpace(email))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, err
	}
	if err != nil || u.PasswordHash == "" {
		// Spend the time a real check takes, so timing does not tell
		// whether the user exists.
		CheckPassword(dummyHash, password)
		return store.User{}, &Error{Kind: ErrUnauthenticated, Msg: "e-mail or password is wrong"}
	}
	if !CheckPassword(u.PasswordHash, password) {
		return store.User{}, &Error{Kind: ErrUnauthenticated, Msg: "e-mail or password is wrong"}
	}
	return u, nil
}

// ParseSpan reads a span written as days ("120d") or as a Go duration
// ("2160h"); it must be positive.
func ParseSpan(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days such as 30d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 30d or 12h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive", s)
	}
	return d, nil
}

// ParseServeWindow reads an account's serving window as written in the
// CLI, the admin API and the console: "forever", "default" (the server's,
// serve --serve-window) or a span of at least an hour in whole seconds,
// such as "400d".
func ParseServeWindow(s string) (time.Duration, error) {
	switch s = strings.TrimSpace(s); s {
	case "forever":
		return store.ServeForever, nil
	case "default":
		return 0, nil
	}
	w, err := ParseSpan(s)
	if err != nil {
		return 0, invalidf("serve_window", "%v (or forever, or default for the server's)", err)
	}
	if w < time.Hour || w%time.Second != 0 {
		return 0, invalidf("serve_window", "%q is not whole seconds of at least an hour", s)
	}
	return w, nil
}

// FormatServeWindow writes w as ParseServeWindow reads it: whole days as
// "400d".
func FormatServeWindow(w time.Duration) string {
	switch {
	case w == store.ServeForever:
		return "forever"
	case w == 0:
		return "default"
	case w%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", w/(24*time.Hour))
	}
	return w.String()
}

// SetServeWindow sets how far back the Events API serves the events of
// account (ParseServeWindow's values). It deletes nothing. A server
// operator's action, like CreateAccount: it records no audit event, so a
// mirror's audit stream stays the source's.
func (s *Service) SetServeWindow(ctx context.Context, account store.Account, w time.Duration) (Account, error) {
	if w != 0 && w != store.ServeForever && (w < time.Hour || w%time.Second != 0) {
		return Account{}, invalidf("serve_window", "%v is not whole seconds of at least an hour", w)
	}
	if err := s.st.SetServeWindow(ctx, account.UUID, w); err != nil {
		return Account{}, err
	}
	account.ServeWindow = w
	s.log.Info("serving window set", "account", account.UUID, "serve_window", FormatServeWindow(w))
	return accountView(account), nil
}

// SetOwnServeWindow is SetServeWindow of the actor's account, for its
// owners and administrators.
func (s *Service) SetOwnServeWindow(ctx context.Context, a Actor, w time.Duration) (Account, error) {
	if err := a.mustManage("set the serving window"); err != nil {
		return Account{}, err
	}
	return s.SetServeWindow(ctx, a.Account, w)
}
