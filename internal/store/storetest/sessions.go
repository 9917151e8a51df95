package storetest

import (
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

func sessionHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newSession(name string, created time.Time) store.Session {
	return store.Session{Hash: sessionHash(name), UUID: newID(), DeviceUUID: newID(), UserUUID: newID(),
		AccountUUID: newID(), CSRF: "csrf-" + name, IP: "192.0.2.7", CreatedAt: created,
		LastSeenAt: created, ExpiresAt: created.Add(30 * time.Minute)}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newSession("a", base)
	must(t, "CreateSession", s.CreateSession(ctx, a))
	got, err := s.Session(ctx, a.Hash)
	must(t, "Session", err)
	diff(t, "Session", got, a)

	wantErr(t, "CreateSession twice", s.CreateSession(ctx, a), store.ErrConflict)
	_, err = s.Session(ctx, sessionHash("nobody"))
	wantErr(t, "Session of an unknown hash", err, store.ErrNotFound)

	for name, bad := range map[string]func(*store.Session){
		"hash":       func(x *store.Session) { x.Hash = []byte("short") },
		"uuid":       func(x *store.Session) { x.UUID = "" },
		"user_uuid":  func(x *store.Session) { x.UserUUID = "" },
		"csrf":       func(x *store.Session) { x.CSRF = "" },
		"expires_at": func(x *store.Session) { x.ExpiresAt = time.Time{} },
	} {
		x := newSession("bad-"+name, base)
		bad(&x)
		err := s.CreateSession(ctx, x)
		if err == nil || !containsField(err, name) {
			t.Errorf("CreateSession with a bad %s: err = %v, want one naming %s", name, err, name)
		}
		if _, err := s.Session(ctx, x.Hash); len(x.Hash) == 32 && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session with a bad %s was stored (err = %v)", name, err)
		}
	}

	// Touch writes only when the last use is older than staleBefore.
	seen := base.Add(30 * time.Second)
	wrote, err := s.TouchSession(ctx, a.Hash, seen, seen.Add(30*time.Minute), seen.Add(-time.Minute))
	must(t, "TouchSession", err)
	if wrote {
		t.Errorf("TouchSession 30s after the last use wrote, want no write (refresh interval 1m)")
	}
	seen = base.Add(2 * time.Minute)
	wrote, err = s.TouchSession(ctx, a.Hash, seen, seen.Add(30*time.Minute), seen.Add(-time.Minute))
	must(t, "TouchSession", err)
	if !wrote {
		t.Errorf("TouchSession 2m after the last use did not write")
	}
	got, err = s.Session(ctx, a.Hash)
	must(t, "Session", err)
	if !got.LastSeenAt.Equal(seen) || !got.ExpiresAt.Equal(seen.Add(30*time.Minute)) {
		t.Errorf("after touch: last seen %v, expires %v; want %v, %v", got.LastSeenAt, got.ExpiresAt, seen, seen.Add(30*time.Minute))
	}
	if wrote, err := s.TouchSession(ctx, sessionHash("nobody"), seen, seen, seen.Add(time.Hour)); err != nil || wrote {
		t.Errorf("TouchSession of an unknown session = %v, %v; want false, nil", wrote, err)
	}

	// Counting and sweeping go by ExpiresAt.
	b := newSession("b", base)
	b.ExpiresAt = base.Add(10 * time.Minute)
	must(t, "CreateSession", s.CreateSession(ctx, b))
	count := func(at time.Time, want int) {
		t.Helper()
		n, err := s.CountSessions(ctx, at)
		must(t, "CountSessions", err)
		if n != want {
			t.Errorf("CountSessions(%v) = %d, want %d", at, n, want)
		}
	}
	count(base, 2)
	count(base.Add(10*time.Minute), 1) // b expires at exactly that instant
	n, err := s.DeleteExpiredSessions(ctx, base.Add(10*time.Minute))
	must(t, "DeleteExpiredSessions", err)
	if n != 1 {
		t.Errorf("DeleteExpiredSessions removed %d, want 1", n)
	}
	_, err = s.Session(ctx, b.Hash)
	wantErr(t, "Session after its expiry was swept", err, store.ErrNotFound)
	if _, err := s.Session(ctx, a.Hash); err != nil {
		t.Errorf("a live session was swept: %v", err)
	}
	count(base, 1)

	must(t, "DeleteSession", s.DeleteSession(ctx, a.Hash))
	_, err = s.Session(ctx, a.Hash)
	wantErr(t, "Session after DeleteSession", err, store.ErrNotFound)
	must(t, "DeleteSession of a deleted session", s.DeleteSession(ctx, a.Hash))
	count(base, 0)
}

// containsField reports whether err's text names field.
func containsField(err error, field string) bool {
	return strings.Contains(err.Error(), field)
}

func newSecret(sess store.Session, tokenID string, expires time.Time) store.SessionSecret {
	return store.SessionSecret{SessionHash: sess.Hash, TokenID: tokenID, IntegrationUUID: newID(), Name: "splunk-hec",
		Nonce: []byte("0123456789ab"), Sealed: []byte("ciphertext and tag"), ExpiresAt: expires}
}

func testSessionSecrets(t *testing.T, s store.Store) {
	ctx := t.Context()
	sess := newSession("a", base)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	exp := base.Add(10 * time.Minute)

	orphan := newSecret(newSession("gone", base), "t0", exp)
	wantErr(t, "PutSessionSecret without its session", s.PutSessionSecret(ctx, orphan), store.ErrNotFound)
	bad := newSecret(sess, "t0", exp)
	bad.Sealed = nil
	if err := s.PutSessionSecret(ctx, bad); err == nil || !containsField(err, "sealed") {
		t.Errorf("PutSessionSecret with no ciphertext: err = %v, want one naming sealed", err)
	}

	sec := newSecret(sess, "t1", exp)
	must(t, "PutSessionSecret", s.PutSessionSecret(ctx, sec))
	wantErr(t, "PutSessionSecret twice", s.PutSessionSecret(ctx, sec), store.ErrConflict)

	_, err := s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseShow, exp)
	wantErr(t, "TakeSessionSecret at its expiry", err, store.ErrNotFound)

	now := base.Add(time.Minute)
	got, err := s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseShow, now)
	must(t, "TakeSessionSecret show", err)
	want := sec
	want.Shown = true
	diff(t, "TakeSessionSecret show", got, want)
	_, err = s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseShow, now)
	wantErr(t, "TakeSessionSecret show again", err, store.ErrNotFound)
	_, err = s.TakeSessionSecret(ctx, sessionHash("other"), "t1", store.UseDownload, now)
	wantErr(t, "TakeSessionSecret from another session", err, store.ErrNotFound)

	got, err = s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseDownload, now)
	must(t, "TakeSessionSecret download", err)
	want.Downloaded = true
	diff(t, "TakeSessionSecret download", got, want)
	_, err = s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseDownload, now)
	wantErr(t, "TakeSessionSecret download again", err, store.ErrNotFound)
	// Used both ways, it is gone: the same token id may be put anew.
	must(t, "PutSessionSecret after both uses", s.PutSessionSecret(ctx, sec))

	// Expired secrets are swept with expired sessions; deleting a session
	// takes its secrets.
	must(t, "PutSessionSecret", s.PutSessionSecret(ctx, newSecret(sess, "t2", base.Add(time.Minute))))
	if _, err := s.DeleteExpiredSessions(ctx, base.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = s.TakeSessionSecret(ctx, sess.Hash, "t2", store.UseShow, base)
	wantErr(t, "TakeSessionSecret of a swept secret", err, store.ErrNotFound)
	must(t, "DeleteSession", s.DeleteSession(ctx, sess.Hash))
	_, err = s.TakeSessionSecret(ctx, sess.Hash, "t1", store.UseShow, now)
	wantErr(t, "TakeSessionSecret after its session was deleted", err, store.ErrNotFound)
}

// testSessionSecretsConcurrent races many takers of one use: exactly one
// gets the secret.
func testSessionSecretsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	sess := newSession("a", base)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	must(t, "PutSessionSecret", s.PutSessionSecret(ctx, newSecret(sess, "t1", base.Add(time.Hour))))
	const takers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := map[store.SessionUse]int{}
	start := make(chan struct{})
	for i := range takers {
		use := store.SessionUse(i % 2)
		wg.Go(func() {
			<-start
			_, err := s.TakeSessionSecret(ctx, sess.Hash, "t1", use, base)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TakeSessionSecret: %v", err)
				return
			}
			if err == nil {
				mu.Lock()
				wins[use]++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if wins[store.UseShow] != 1 || wins[store.UseDownload] != 1 {
		t.Errorf("of %d racing takers, %d showed and %d downloaded; want 1 each", takers, wins[store.UseShow], wins[store.UseDownload])
	}
}
