package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// CreateAccount stores a; ErrConflict if its UUID or name is taken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	return s.insert(ctx, "create account", a, `INSERT INTO accounts (`+store.AccountColumns+`) VALUES ($1, $2, $3, $4)`,
		a.UUID, a.Name, nanos(a.CreatedAt), store.WindowSeconds(a.ServeWindow))
}

// SetServeWindow sets the account's serving window.
func (s *Store) SetServeWindow(ctx context.Context, uuid string, w time.Duration) error {
	if (w < 0 && w != store.ServeForever) || (w > 0 && w%time.Second != 0) {
		return fmt.Errorf("set serve window of account %s: %v is not whole seconds or forever", uuid, w)
	}
	return wrap(exec(ctx, s.db, true, `UPDATE accounts SET serve_window = $1 WHERE uuid = $2`, store.WindowSeconds(w), uuid),
		"set serve window of account %s", uuid)
}

// Account returns the account with that UUID.
func (s *Store) Account(ctx context.Context, uuid string) (store.Account, error) {
	a, err := one(ctx, s.db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts WHERE uuid = $1`, uuid)
	return a, wrap(err, "account %s", uuid)
}

// AccountByName returns the account with that name.
func (s *Store) AccountByName(ctx context.Context, name string) (store.Account, error) {
	a, err := one(ctx, s.db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts WHERE name = $1`, name)
	return a, wrap(err, "account named %q", name)
}

// Accounts lists every account by creation time.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	as, err := list(ctx, s.db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts ORDER BY created_at NULLS FIRST, uuid`)
	return as, wrap(err, "list accounts")
}

// CreateUser stores u; ErrConflict if its UUID, or its e-mail within the
// account, is taken; ErrNotFound if the account does not exist.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	return s.insert(ctx, "create user", u, `INSERT INTO users (`+store.UserColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.UUID, u.AccountUUID, u.Name, u.Email, string(u.Role), u.PasswordHash, nanos(u.CreatedAt))
}

// User returns the user with that UUID.
func (s *Store) User(ctx context.Context, uuid string) (store.User, error) {
	u, err := one(ctx, s.db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE uuid = $1`, uuid)
	return u, wrap(err, "user %s", uuid)
}

// UserByEmail returns the user of account with that e-mail (exact match).
func (s *Store) UserByEmail(ctx context.Context, account, email string) (store.User, error) {
	u, err := one(ctx, s.db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE account_uuid = $1 AND email = $2`, account, email)
	return u, wrap(err, "user %q", email)
}

// Users lists the users of an account by creation time.
func (s *Store) Users(ctx context.Context, account string) ([]store.User, error) {
	us, err := list(ctx, s.db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE account_uuid = $1 ORDER BY created_at NULLS FIRST, uuid`, account)
	return us, wrap(err, "list users")
}

// UpdateUser replaces the name, e-mail, role and password hash of the user
// with u.UUID (its account and creation time do not change).
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return wrap(exec(ctx, s.db, true, `UPDATE users SET name = $1, email = $2, role = $3, password_hash = $4 WHERE uuid = $5`,
		u.Name, u.Email, string(u.Role), u.PasswordHash, u.UUID), "update user %s", u.UUID)
}
