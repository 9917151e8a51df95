package admin

import (
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// The views below are what the surfaces show: the CLI's --json output and
// the admin API's bodies share them. None carries a secret or a hash.

// Account is an account as shown.
type Account struct {
	UUID      string    `json:"uuid"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// ServeWindow is FormatServeWindow of the account's serving window;
	// omitted when it is the server's.
	ServeWindow string `json:"serve_window,omitempty"`
}

// User is a user as shown.
type User struct {
	UUID        string     `json:"uuid"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        store.Role `json:"role"`
	HasPassword bool       `json:"has_password"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Integration is an integration as shown.
type Integration struct {
	UUID      string    `json:"uuid"`
	Name      string    `json:"name"`
	SIEM      string    `json:"siem"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	DeletedAt time.Time `json:"deleted_at,omitzero"`
	// Tokens counts the tokens that are neither revoked nor expired.
	Tokens int `json:"active_tokens"`
}

// Token status values.
const (
	StatusActive  = "active"
	StatusExpired = "expired"
	StatusRevoked = "revoked"
)

// Token is an issued token's metadata as shown; the token itself is never
// shown again after issue.
type Token struct {
	ID              string           `json:"id"`
	IntegrationUUID string           `json:"integration_uuid"`
	Name            string           `json:"name"`
	Features        []events.Feature `json:"features"`
	Status          string           `json:"status"`
	KeyID           string           `json:"kid"`
	IssuedAt        time.Time        `json:"issued_at"`
	ExpiresAt       time.Time        `json:"expires_at,omitzero"`
	LastUsedAt      time.Time        `json:"last_used_at,omitzero"`
	RevokedAt       time.Time        `json:"revoked_at,omitzero"`
}

// SigningKey is a signing key as shown: never its private part.
type SigningKey struct {
	ID        string    `json:"kid"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
}

// APIKey is an admin API key as shown: never its secret.
type APIKey struct {
	ID        string    `json:"id"`
	UserUUID  string    `json:"user_uuid"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func accountView(a store.Account) Account {
	v := Account{UUID: a.UUID, Name: a.Name, CreatedAt: a.CreatedAt}
	if a.ServeWindow != 0 {
		v.ServeWindow = FormatServeWindow(a.ServeWindow)
	}
	return v
}

func userView(u store.User) User {
	return User{UUID: u.UUID, Email: u.Email, Name: u.Name, Role: u.Role, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt}
}

func integrationView(in store.Integration, active int) Integration {
	return Integration{UUID: in.UUID, Name: in.Name, SIEM: in.SIEM, CreatedAt: in.CreatedAt, CreatedBy: in.CreatedBy,
		DeletedAt: in.DeletedAt, Tokens: active}
}

func tokenStatus(t store.Token, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero() && !now.Before(t.RevokedAt):
		return StatusRevoked
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

func tokenView(t store.Token, now time.Time) Token {
	return Token{ID: t.ID, IntegrationUUID: t.IntegrationUUID, Name: t.Name, Features: t.Features,
		Status: tokenStatus(t, now), KeyID: t.KeyID, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func apiKeyView(k store.APIKey) APIKey {
	return APIKey{ID: k.ID, UserUUID: k.UserUUID, Name: k.Name, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

// views renders stored objects as shown, in the order the store listed
// them; an error from the store that listed them is passed on.
func views[S, V any](xs []S, err error, view func(S) V) ([]V, error) {
	if err != nil {
		return nil, err
	}
	out := make([]V, len(xs))
	for i, x := range xs {
		out[i] = view(x)
	}
	return out, nil
}
