package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// Session lifetimes.
const (
	// SessionIdle is how long a session lasts without a request.
	SessionIdle = 30 * time.Minute
	// SessionMax is how long a session lasts at most.
	SessionMax = 12 * time.Hour
	// SessionRefresh is how stale a session's last use may be before a
	// request writes it anew: a request writes only when the last write is
	// more than a minute old, so idle expiry is exact to within a minute.
	SessionRefresh = time.Minute
	// secretTTL is how long an issued token's secret waits in its slot.
	secretTTL = 10 * time.Minute
)

// session is one signed-in browser, as kept in the store (store.Session).
// Only the SHA-256 of the cookie value is stored, so a copy of the
// database does not yield cookies.
type session struct {
	uuid     string // the audit session uuid
	device   string // the audit device uuid
	userUUID string
	account  string
	csrf     string
	ip       string
	created  time.Time
	lastSeen time.Time
}

// secretSlot is a newly issued token's secret for the "Save your token"
// page (shown once) and its download (served once). In the store the
// secret is sealed (sealSecret).
type secretSlot struct {
	secret      string
	integration string
	name        string
}

// sessions is the console's view of the store's session table. Any server
// on the same database serves any session.
type sessions struct {
	st  store.SessionStore
	now func() time.Time
}

func newSessions(st store.SessionStore, now func() time.Time) *sessions {
	return &sessions{st: st, now: now}
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// sessionHash names a session in the store: SHA-256 of the cookie value.
func sessionHash(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// expiry is when a session created at created and last used at seen ends.
func expiry(created, seen time.Time) time.Time {
	idle, hard := seen.Add(SessionIdle), created.Add(SessionMax)
	if hard.Before(idle) {
		return hard
	}
	return idle
}

// create stores s and returns the cookie value that names it. It first
// sweeps expired sessions (and expired secrets) from the store.
func (t *sessions) create(ctx context.Context, s *session) (string, error) {
	raw := randomString(32)
	now := t.now()
	s.created, s.lastSeen = now, now
	s.csrf = randomString(32)
	if _, err := t.st.DeleteExpiredSessions(ctx, now); err != nil {
		return "", err
	}
	err := t.st.CreateSession(ctx, store.Session{Hash: sessionHash(raw), UUID: s.uuid, DeviceUUID: s.device,
		UserUUID: s.userUUID, AccountUUID: s.account, CSRF: s.csrf, IP: s.ip,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: expiry(now, now)})
	if err != nil {
		return "", err
	}
	return raw, nil
}

// get returns the live session named by the cookie value and extends its
// idle expiry (writing only when the last write is over SessionRefresh old);
// ok is false when there is none. An expired session is deleted.
func (t *sessions) get(ctx context.Context, raw string) (s session, ok bool, err error) {
	if raw == "" {
		return session{}, false, nil
	}
	hash := sessionHash(raw)
	row, err := t.st.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	now := t.now()
	if !now.Before(row.ExpiresAt) {
		return session{}, false, t.st.DeleteSession(ctx, hash)
	}
	if stale := now.Add(-SessionRefresh); row.LastSeenAt.Before(stale) {
		if _, err := t.st.TouchSession(ctx, hash, now, expiry(row.CreatedAt, now), stale); err != nil {
			return session{}, false, err
		}
		row.LastSeenAt = now
	}
	return session{uuid: row.UUID, device: row.DeviceUUID, userUUID: row.UserUUID, account: row.AccountUUID,
		csrf: row.CSRF, ip: row.IP, created: row.CreatedAt, lastSeen: row.LastSeenAt}, true, nil
}

// delete ends the session named by the cookie value.
func (t *sessions) delete(ctx context.Context, raw string) error {
	return t.st.DeleteSession(ctx, sessionHash(raw))
}

// secretKey derives the key that seals a session's token secrets from the
// cookie value: the store holds only the value's SHA-256, from which the
// key cannot be had, so a copy of the database yields no token secret.
func secretKey(raw string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(raw), nil, "logbook console token secret v1", 32)
}

// secretAAD binds a sealed secret to its session, token and integration.
func secretAAD(hash []byte, tokenID, integration string) []byte {
	aad := append([]byte{}, hash...)
	aad = append(aad, tokenID...)
	aad = append(aad, 0)
	return append(aad, integration...)
}

func secretAEAD(raw string) (cipher.AEAD, error) {
	key, err := secretKey(raw)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// putSecret seals a token's secret into the session for the save page. A
// session that ended meanwhile is not an error: the page will say the
// secret was shown.
func (t *sessions) putSecret(ctx context.Context, raw, tokenID string, slot secretSlot) error {
	aead, err := secretAEAD(raw)
	if err != nil {
		return err
	}
	hash := sessionHash(raw)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nil, nonce, []byte(slot.secret), secretAAD(hash, tokenID, slot.integration))
	err = t.st.PutSessionSecret(ctx, store.SessionSecret{SessionHash: hash, TokenID: tokenID,
		IntegrationUUID: slot.integration, Name: slot.name, Nonce: nonce, Sealed: sealed,
		ExpiresAt: t.now().Add(secretTTL)})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// takeSecret returns the secret of tokenID for showing (download false) or
// downloading (download true), once each across every server, while the
// slot lives.
func (t *sessions) takeSecret(ctx context.Context, raw, tokenID string, download bool) (secretSlot, bool, error) {
	use := store.UseShow
	if download {
		use = store.UseDownload
	}
	hash := sessionHash(raw)
	sec, err := t.st.TakeSessionSecret(ctx, hash, tokenID, use, t.now())
	if errors.Is(err, store.ErrNotFound) {
		return secretSlot{}, false, nil
	}
	if err != nil {
		return secretSlot{}, false, err
	}
	aead, err := secretAEAD(raw)
	if err != nil {
		return secretSlot{}, false, err
	}
	plain, err := aead.Open(nil, sec.Nonce, sec.Sealed, secretAAD(hash, sec.TokenID, sec.IntegrationUUID))
	if err != nil {
		return secretSlot{}, false, fmt.Errorf("open sealed secret of token %s: %w", tokenID, err)
	}
	return secretSlot{secret: string(plain), integration: sec.IntegrationUUID, name: sec.Name}, true, nil
}

// OpenSessions returns a function that counts the console sessions not
// yet expired in st, for a gauge of open sessions (every server on one
// database counts the same sessions). now is time.Now when nil.
func OpenSessions(st store.SessionStore, now func() time.Time) func(ctx context.Context) (int, error) {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context) (int, error) { return st.CountSessions(ctx, now()) }
}

// sameToken compares two CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
