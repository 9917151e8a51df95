package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// Session lifetimes.
const (
	// SessionIdle is how long a session lasts without a request.
	SessionIdle = 30 * time.Minute
	// SessionMax is how long a session lasts at most.
	SessionMax = 12 * time.Hour
	// secretTTL is how long an issued token's secret waits in its slot.
	secretTTL = 10 * time.Minute
)

// session is one signed-in browser. Only the SHA-256 of the cookie value is
// kept (as the map key), so a dump of memory does not yield cookies.
type session struct {
	uuid     string // the audit session uuid
	device   string // the audit device uuid
	userUUID string
	account  string
	csrf     string
	ip       string
	created  time.Time
	lastSeen time.Time
	secrets  map[string]*secretSlot // by token id
}

// secretSlot holds a newly issued token's secret for the "Save your token"
// page (shown once) and its download (served once).
type secretSlot struct {
	secret      string
	integration string
	name        string
	expires     time.Time
	shown       bool
	downloaded  bool
}

// sessions is the in-memory session table.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
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

// create stores s and returns the cookie value that names it.
func (t *sessions) create(s *session) string {
	raw := randomString(32)
	now := t.now()
	s.created, s.lastSeen = now, now
	s.csrf = randomString(32)
	s.secrets = map[string]*secretSlot{}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	t.m[hashKey(raw)] = s
	return raw
}

// get returns a copy of the live session named by the cookie value and
// extends its idle expiry; ok is false when there is none.
func (t *sessions) get(raw string) (session, bool) {
	if raw == "" {
		return session{}, false
	}
	now := t.now()
	k := hashKey(raw)
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[k]
	if !ok {
		return session{}, false
	}
	if expired(s, now) {
		delete(t.m, k)
		return session{}, false
	}
	s.lastSeen = now
	c := *s
	c.secrets = nil
	return c, true
}

func expired(s *session, now time.Time) bool {
	return !now.Before(s.lastSeen.Add(SessionIdle)) || !now.Before(s.created.Add(SessionMax))
}

// delete ends the session named by the cookie value.
func (t *sessions) delete(raw string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, hashKey(raw))
}

// sweep drops expired sessions; called with mu held.
func (t *sessions) sweep(now time.Time) {
	for k, s := range t.m {
		if expired(s, now) {
			delete(t.m, k)
		}
	}
}

// putSecret keeps a token's secret in the session for the save page.
func (t *sessions) putSecret(raw, tokenID string, slot secretSlot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[hashKey(raw)]
	if !ok {
		return
	}
	now := t.now()
	for id, sl := range s.secrets {
		if !now.Before(sl.expires) {
			delete(s.secrets, id)
		}
	}
	slot.expires = now.Add(secretTTL)
	s.secrets[tokenID] = &slot
}

// takeSecret returns the secret of tokenID for showing (download false) or
// downloading (download true), once each, while the slot lives.
func (t *sessions) takeSecret(raw, tokenID string, download bool) (secretSlot, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[hashKey(raw)]
	if !ok {
		return secretSlot{}, false
	}
	sl, ok := s.secrets[tokenID]
	if !ok {
		return secretSlot{}, false
	}
	if !t.now().Before(sl.expires) {
		delete(s.secrets, tokenID)
		return secretSlot{}, false
	}
	used := &sl.shown
	if download {
		used = &sl.downloaded
	}
	if *used {
		return secretSlot{}, false
	}
	*used = true
	c := *sl
	if sl.shown && sl.downloaded {
		delete(s.secrets, tokenID)
	}
	return c, true
}

// hasSecret reports whether tokenID's secret can still be downloaded.
func (t *sessions) canDownload(raw, tokenID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[hashKey(raw)]
	if !ok {
		return false
	}
	sl, ok := s.secrets[tokenID]
	return ok && !sl.downloaded && t.now().Before(sl.expires)
}

// sameToken compares two CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
