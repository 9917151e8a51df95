package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// This file reads rows into the types of this package for both backends:
// the tables have the same columns in SQLite and PostgreSQL, so each
// type's column list and the Scan that reads it are written once. The
// queries around them stay with each backend.

// Scanner is one row to read: database/sql's *sql.Row and *sql.Rows and
// pgx's Row and Rows all are.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is the result of a query, as database/sql and pgx return it.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// CollectRows reads every row of rows with scan, stopping at the first
// error. The caller closes rows.
func CollectRows[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// FromNanos is a time stored as unix nanoseconds, always in UTC; NULL
// (nil) is the zero time. Both drivers scan a NULL into a nil *int64.
func FromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// The columns each type is read from, in the order its Scan function
// reads them.
const (
	AccountColumns     = `uuid, name, created_at, serve_window`
	UserColumns        = `uuid, account_uuid, name, email, role, password_hash, created_at`
	IntegrationColumns = `uuid, account_uuid, name, siem, created_at, created_by, deleted_at`
	TokenColumns       = `id, integration_uuid, account_uuid, name, features, key_id, hash, issued_at, expires_at, last_used_at, revoked_at`
	SigningKeyColumns  = `id, private, created_at, active`
	// APIKeyColumns are those CreateAPIKey writes; APIKeyReadColumns add
	// what only TouchAPIKey writes.
	APIKeyColumns     = `id, kind, account_uuid, user_uuid, name, hash, created_at, revoked_at`
	APIKeyReadColumns = APIKeyColumns + `, last_used_at`
	SessionColumns    = `hash, uuid, device_uuid, user_uuid, account_uuid, csrf, ip, created_at, last_seen_at, expires_at`
)

// ScanAccount reads the AccountColumns of a row.
func ScanAccount(r Scanner) (Account, error) {
	var a Account
	var created *int64
	var window int64
	err := r.Scan(&a.UUID, &a.Name, &created, &window)
	a.CreatedAt = FromNanos(created)
	a.ServeWindow = windowFromSeconds(window)
	return a, err
}

// ScanUser reads the UserColumns of a row.
func ScanUser(r Scanner) (User, error) {
	var u User
	var created *int64
	err := r.Scan(&u.UUID, &u.AccountUUID, &u.Name, &u.Email, &u.Role, &u.PasswordHash, &created)
	u.CreatedAt = FromNanos(created)
	return u, err
}

// ScanIntegration reads the IntegrationColumns of a row.
func ScanIntegration(r Scanner) (Integration, error) {
	var in Integration
	var created, deleted *int64
	err := r.Scan(&in.UUID, &in.AccountUUID, &in.Name, &in.SIEM, &created, &in.CreatedBy, &deleted)
	in.CreatedAt, in.DeletedAt = FromNanos(created), FromNanos(deleted)
	return in, err
}

// ScanToken reads the TokenColumns of a row; features are stored joined
// by commas (events.JoinFeatures).
func ScanToken(r Scanner) (Token, error) {
	var t Token
	var features string
	var issued, expires, used, revoked *int64
	err := r.Scan(&t.ID, &t.IntegrationUUID, &t.AccountUUID, &t.Name, &features, &t.KeyID, &t.Hash,
		&issued, &expires, &used, &revoked)
	if err != nil {
		return t, err
	}
	t.IssuedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = FromNanos(issued), FromNanos(expires), FromNanos(used), FromNanos(revoked)
	if features != "" {
		for _, f := range strings.Split(features, ",") {
			t.Features = append(t.Features, events.Feature(f))
		}
	}
	return t, nil
}

// ScanSigningKey reads the SigningKeyColumns of a row.
func ScanSigningKey(r Scanner) (SigningKey, error) {
	var k SigningKey
	var created *int64
	err := r.Scan(&k.ID, &k.Private, &created, &k.Active)
	k.CreatedAt = FromNanos(created)
	return k, err
}

// ScanAPIKey reads the APIKeyReadColumns of a row.
func ScanAPIKey(r Scanner) (APIKey, error) {
	var k APIKey
	var created, revoked, used *int64
	err := r.Scan(&k.ID, &k.Kind, &k.AccountUUID, &k.UserUUID, &k.Name, &k.Hash, &created, &revoked, &used)
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = FromNanos(created), FromNanos(revoked), FromNanos(used)
	return k, err
}

// ScanSession reads the SessionColumns of a row.
func ScanSession(r Scanner) (Session, error) {
	var s Session
	var created, seen, expires *int64
	err := r.Scan(&s.Hash, &s.UUID, &s.DeviceUUID, &s.UserUUID, &s.AccountUUID, &s.CSRF, &s.IP, &created, &seen, &expires)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = FromNanos(created), FromNanos(seen), FromNanos(expires)
	return s, err
}

// windowFromSeconds reads the serve_window column: seconds, 0 for the
// server's window, -1 for ServeForever.
func windowFromSeconds(s int64) time.Duration {
	if s < 0 {
		return ServeForever
	}
	return time.Duration(s) * time.Second
}

// WindowSeconds is the serve_window column of w.
func WindowSeconds(w time.Duration) int64 {
	if w < 0 {
		return -1
	}
	return int64(w / time.Second)
}

// SetInserted sets the Inserted of rows (in position order) from the
// appends that stored them, which next yields in position order from the
// first one at or above rows[0].Seq (ok false when there is none left):
// each row's is that of the first append whose highest position is at or
// above the row's. An append's record commits with its events and is
// dropped only once they are all gone, so a read later than the rows'
// finds it.
func SetInserted(rows []Row, next func() (maxSeq, inserted int64, ok bool, err error)) error {
	upto, at := int64(-1), time.Time{}
	for i := range rows {
		for upto < rows[i].Seq {
			maxSeq, ns, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("position %d: no insertion time recorded", rows[i].Seq)
			}
			upto, at = maxSeq, time.Unix(0, ns).UTC()
		}
		rows[i].Inserted = at
	}
	return nil
}
