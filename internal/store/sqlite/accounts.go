package sqlite

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/store"
)

// exec runs one write statement and reports ErrNotFound when it touched no
// row and mustChange is set.
func (db *DB) exec(ctx context.Context, mustChange bool, query string, args ...any) error {
	res, err := db.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return translate(err)
	}
	if mustChange {
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
	}
	return nil
}

// list runs a read query and scans each row with scan.
func list[T any](ctx context.Context, db *DB, scan func(store.Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, scan)
}

// one runs a read query expected to return a row.
func one[T any](ctx context.Context, db *DB, scan func(store.Scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(db.reader.QueryRowContext(ctx, query, args...))
	return v, translate(err)
}

// CreateAccount stores a; ErrConflict if its UUID or name is taken.
func (db *DB) CreateAccount(ctx context.Context, a store.Account) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO accounts (`+store.AccountColumns+`) VALUES (?, ?, ?)`,
		a.UUID, a.Name, nanos(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// Account returns the account with that UUID.
func (db *DB) Account(ctx context.Context, uuid string) (store.Account, error) {
	a, err := one(ctx, db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts WHERE uuid = ?`, uuid)
	if err != nil {
		return a, fmt.Errorf("account %s: %w", uuid, err)
	}
	return a, nil
}

// AccountByName returns the account with that name.
func (db *DB) AccountByName(ctx context.Context, name string) (store.Account, error) {
	a, err := one(ctx, db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts WHERE name = ?`, name)
	if err != nil {
		return a, fmt.Errorf("account named %q: %w", name, err)
	}
	return a, nil
}

// Accounts lists every account by creation time.
func (db *DB) Accounts(ctx context.Context) ([]store.Account, error) {
	as, err := list(ctx, db, store.ScanAccount, `SELECT `+store.AccountColumns+` FROM accounts ORDER BY created_at, uuid`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return as, nil
}

// CreateUser stores u; ErrConflict if its UUID, or its e-mail within the
// account, is taken; ErrNotFound if the account does not exist.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	err := db.exec(ctx, false, `INSERT INTO users (`+store.UserColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.UUID, u.AccountUUID, u.Name, u.Email, string(u.Role), u.PasswordHash, nanos(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// User returns the user with that UUID.
func (db *DB) User(ctx context.Context, uuid string) (store.User, error) {
	u, err := one(ctx, db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE uuid = ?`, uuid)
	if err != nil {
		return u, fmt.Errorf("user %s: %w", uuid, err)
	}
	return u, nil
}

// UserByEmail returns the user of account with that e-mail (exact match).
func (db *DB) UserByEmail(ctx context.Context, account, email string) (store.User, error) {
	u, err := one(ctx, db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE account_uuid = ? AND email = ?`, account, email)
	if err != nil {
		return u, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// Users lists the users of an account by creation time.
func (db *DB) Users(ctx context.Context, account string) ([]store.User, error) {
	us, err := list(ctx, db, store.ScanUser, `SELECT `+store.UserColumns+` FROM users WHERE account_uuid = ? ORDER BY created_at, uuid`, account)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UpdateUser replaces the name, e-mail, role and password hash of the user
// with u.UUID (its account and creation time do not change).
func (db *DB) UpdateUser(ctx context.Context, u store.User) error {
	err := db.exec(ctx, true, `UPDATE users SET name = ?, email = ?, role = ?, password_hash = ? WHERE uuid = ?`,
		u.Name, u.Email, string(u.Role), u.PasswordHash, u.UUID)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.UUID, err)
	}
	return nil
}
