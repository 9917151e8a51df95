// Package storetest is the behavioural suite every store.Store
// implementation must pass. A backend's test calls Run with a function that
// returns a new, empty, migrated store for each subtest:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
//			...
//			t.Cleanup(func() { db.Close() })
//			return db
//		})
//	}
//
// The suite pins what callers rely on: errors (store.ErrNotFound,
// store.ErrConflict), de-duplication, ordering and visibility of positions,
// the time filter, insertion times and the filter on them,
// ListResult.More and Last, the StartPosition lower bound,
// retention, counters and first-writer-wins settings, console sessions
// and their once-only secrets, and a concurrency
// stress test of writers and paginating readers on one stream.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// Run runs every behavioural test against stores made by open. open is
// called once per subtest and must return an empty, migrated store; it
// should register its own cleanup with t.Cleanup. The subtests run in
// parallel (each on its own store), so open must be safe to call from
// several goroutines at once.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// tests are the subtests of Run, each given a store of its own.
var tests = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"Accounts", testAccounts},
	{"Users", testUsers},
	{"Integrations", testIntegrations},
	{"Tokens", testTokens},
	{"SigningKeys", testSigningKeys},
	{"APIKeys", testAPIKeys},
	{"Settings", testSettings},
	{"SettingsRace", testSettingsRace},
	{"Counters", testCounters},
	{"CountersConcurrent", testCountersConcurrent},
	{"Sessions", testSessions},
	{"SessionSecrets", testSessionSecrets},
	{"SessionSecretsConcurrent", testSessionSecretsConcurrent},
	{"Migrate", testMigrate},

	{"AppendAndList", testAppendAndList},
	{"ListWithToken", testListWithToken},
	{"AppendInvalid", testAppendInvalid},
	{"AppendSeq", testAppendSeq},
	{"V1Rendering", testV1Rendering},
	{"Dedup", testDedup},
	{"UUIDConflict", testUUIDConflict},
	{"StreamIsolation", testStreamIsolation},
	{"Paging", testPaging},
	{"TimeFilter", testTimeFilter},
	{"LateArrival", testLateArrival},
	{"MoreWithFilter", testMoreWithFilter},
	{"SparseFilterProgress", testSparseFilterProgress},
	{"StartPosition", testStartPosition},
	{"HeadPosition", testHeadPosition},
	{"Retention", testRetention},
	{"CountEvents", testCountEvents},
	{"ConcurrentWritersAndReaders", testConcurrentWritersAndReaders},
	{"ConcurrentOverlap", testConcurrentOverlap},
	{"ConcurrentConflict", testConcurrentConflict},
	{"InsertionTime", testInsertionTime},
	{"InsertedFilter", testInsertedFilter},
	{"InsertedLateArrival", testInsertedLateArrival},
	{"InsertedRetention", testInsertedRetention},
	{"Tree", testTree},
	{"TreeConcurrent", testTreeConcurrent},
	{"SignedHeads", testSignedHeads},
}

// base is a fixed instant with nanoseconds, so round trips are checked to
// the nanosecond.
var base = time.Date(2026, 3, 10, 12, 0, 0, 123456789, time.UTC)

// newID returns a fresh random identifier.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func diff(t testing.TB, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// same returns the check of what a read returns: no error (else t
// fails now) and want. Use: same(t, "Token", tok)(s.Token(ctx, tok.ID)).
func same[T any](t testing.TB, what string, want T) func(got T, err error) {
	return func(got T, err error) {
		t.Helper()
		must(t, what, err)
		diff(t, what, got, want)
	}
}

func mustAccount(t testing.TB, s store.Store, name string) store.Account {
	t.Helper()
	a := store.Account{UUID: newID(), Name: name, CreatedAt: base}
	must(t, "CreateAccount", s.CreateAccount(t.Context(), a))
	return a
}

func mustIntegration(t testing.TB, s store.Store, account string) store.Integration {
	t.Helper()
	in := store.Integration{UUID: newID(), AccountUUID: account, Name: "splunk", SIEM: "Splunk", CreatedAt: base}
	must(t, "CreateIntegration", s.CreateIntegration(t.Context(), in))
	return in
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.Account{UUID: newID(), Name: "Acme", CreatedAt: base}
	b := store.Account{UUID: newID(), Name: "Globex", CreatedAt: base.Add(time.Second)}
	must(t, "CreateAccount a", s.CreateAccount(ctx, a))
	must(t, "CreateAccount b", s.CreateAccount(ctx, b))

	got, err := s.Account(ctx, a.UUID)
	same(t, "Account", a)(got, err)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	same(t, "AccountByName", b)(s.AccountByName(ctx, "Globex"))
	same(t, "Accounts", []store.Account{a, b})(s.Accounts(ctx))

	_, err = s.Account(ctx, newID())
	wantErr(t, "Account(unknown)", err, store.ErrNotFound)
	_, err = s.AccountByName(ctx, "nobody")
	wantErr(t, "AccountByName(unknown)", err, store.ErrNotFound)
	err = s.CreateAccount(ctx, store.Account{UUID: a.UUID, Name: "Other", CreatedAt: base})
	wantErr(t, "CreateAccount(same uuid)", err, store.ErrConflict)
	err = s.CreateAccount(ctx, store.Account{UUID: newID(), Name: "Acme", CreatedAt: base})
	wantErr(t, "CreateAccount(same name)", err, store.ErrConflict)

	// The serving window: the server's (0) until set, a span, forever.
	for _, w := range []time.Duration{400 * 24 * time.Hour, store.ServeForever, 0} {
		must(t, "SetServeWindow", s.SetServeWindow(ctx, a.UUID, w))
		a.ServeWindow = w
		same(t, "Account after SetServeWindow", a)(s.Account(ctx, a.UUID))
	}
	c := store.Account{UUID: newID(), Name: "Initech", CreatedAt: base.Add(2 * time.Second), ServeWindow: store.ServeForever}
	must(t, "CreateAccount with a window", s.CreateAccount(ctx, c))
	same(t, "Account with a window", c)(s.Account(ctx, c.UUID))
	wantErr(t, "SetServeWindow(unknown)", s.SetServeWindow(ctx, newID(), time.Hour), store.ErrNotFound)
	if err := s.SetServeWindow(ctx, a.UUID, time.Millisecond); err == nil {
		t.Error("SetServeWindow(1ms) = nil, want an error (whole seconds)")
	}
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustAccount(t, s, "Acme")
	other := mustAccount(t, s, "Other")
	u := store.User{UUID: newID(), AccountUUID: acme.UUID, Name: "Wendy Appleseed", Email: "wendy@acme.test",
		Role: store.RoleOwner, PasswordHash: "$argon2id$x", CreatedAt: base}
	v := store.User{UUID: newID(), AccountUUID: acme.UUID, Name: "Jo", Email: "jo@acme.test",
		Role: store.RoleMember, CreatedAt: base.Add(time.Minute)}
	must(t, "CreateUser u", s.CreateUser(ctx, u))
	must(t, "CreateUser v", s.CreateUser(ctx, v))
	// The same e-mail in another account is another user.
	w := store.User{UUID: newID(), AccountUUID: other.UUID, Name: "Wendy", Email: u.Email, Role: store.RoleAdmin, CreatedAt: base}
	must(t, "CreateUser in other account", s.CreateUser(ctx, w))

	same(t, "User", u)(s.User(ctx, u.UUID))
	same(t, "UserByEmail", u)(s.UserByEmail(ctx, acme.UUID, u.Email))
	same(t, "UserByEmail other", w)(s.UserByEmail(ctx, other.UUID, u.Email))
	same(t, "Users", []store.User{u, v})(s.Users(ctx, acme.UUID))

	u.Name, u.Role, u.PasswordHash = "Wendy A.", store.RoleAdmin, ""
	must(t, "UpdateUser", s.UpdateUser(ctx, u))
	same(t, "User after update", u)(s.User(ctx, u.UUID))

	_, err := s.User(ctx, newID())
	wantErr(t, "User(unknown)", err, store.ErrNotFound)
	_, err = s.UserByEmail(ctx, acme.UUID, "nobody@acme.test")
	wantErr(t, "UserByEmail(unknown)", err, store.ErrNotFound)
	err = s.UpdateUser(ctx, store.User{UUID: newID(), AccountUUID: acme.UUID, Email: "x@y"})
	wantErr(t, "UpdateUser(unknown)", err, store.ErrNotFound)
	err = s.CreateUser(ctx, store.User{UUID: newID(), AccountUUID: acme.UUID, Email: v.Email, Role: store.RoleMember})
	wantErr(t, "CreateUser(same email)", err, store.ErrConflict)
	err = s.CreateUser(ctx, store.User{UUID: u.UUID, AccountUUID: acme.UUID, Email: "new@acme.test", Role: store.RoleMember})
	wantErr(t, "CreateUser(same uuid)", err, store.ErrConflict)
	v.Email = u.Email
	err = s.UpdateUser(ctx, v)
	wantErr(t, "UpdateUser(email taken)", err, store.ErrConflict)
	err = s.CreateUser(ctx, store.User{UUID: newID(), AccountUUID: newID(), Email: "a@b", Role: store.RoleMember})
	wantErr(t, "CreateUser(unknown account)", err, store.ErrNotFound)
}

func testIntegrations(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustAccount(t, s, "Acme")
	in := store.Integration{UUID: newID(), AccountUUID: acme.UUID, Name: "Splunk prod", SIEM: "Splunk",
		CreatedAt: base, CreatedBy: newID()}
	in2 := store.Integration{UUID: newID(), AccountUUID: acme.UUID, Name: "Elastic", SIEM: "Elastic", CreatedAt: base.Add(time.Hour)}
	must(t, "CreateIntegration", s.CreateIntegration(ctx, in))
	must(t, "CreateIntegration 2", s.CreateIntegration(ctx, in2))
	same(t, "Integration", in)(s.Integration(ctx, in.UUID))

	in.Name, in.DeletedAt = "Splunk old", base.Add(48*time.Hour)
	must(t, "UpdateIntegration", s.UpdateIntegration(ctx, in))
	same(t, "Integrations (deleted ones included)", []store.Integration{in, in2})(s.Integrations(ctx, acme.UUID))
	list, err := s.Integrations(ctx, newID())
	must(t, "Integrations(unknown account)", err)
	if len(list) != 0 {
		t.Errorf("Integrations(unknown account) = %v, want none", list)
	}

	_, err = s.Integration(ctx, newID())
	wantErr(t, "Integration(unknown)", err, store.ErrNotFound)
	err = s.UpdateIntegration(ctx, store.Integration{UUID: newID()})
	wantErr(t, "UpdateIntegration(unknown)", err, store.ErrNotFound)
	err = s.CreateIntegration(ctx, in2)
	wantErr(t, "CreateIntegration(same uuid)", err, store.ErrConflict)
	err = s.CreateIntegration(ctx, store.Integration{UUID: newID(), AccountUUID: newID(), Name: "x"})
	wantErr(t, "CreateIntegration(unknown account)", err, store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustAccount(t, s, "Acme")
	in := mustIntegration(t, s, acme.UUID)
	in2 := mustIntegration(t, s, acme.UUID)
	tok := store.Token{ID: newID(), IntegrationUUID: in.UUID, AccountUUID: acme.UUID, Name: "prod",
		Features: []events.Feature{events.AuditEvents, events.SignInAttempts}, KeyID: "k1",
		Hash: []byte{0, 1, 2, 0xff}, IssuedAt: base, ExpiresAt: base.Add(90 * 24 * time.Hour)}
	tok2 := store.Token{ID: newID(), IntegrationUUID: in2.UUID, AccountUUID: acme.UUID, Name: "test",
		Features: []events.Feature{events.ItemUsages}, KeyID: "k1", Hash: []byte("h2"), IssuedAt: base.Add(time.Second)}
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	must(t, "CreateToken 2", s.CreateToken(ctx, tok2))

	same(t, "Token", tok)(s.Token(ctx, tok.ID))
	same(t, "Tokens", []store.Token{tok})(s.Tokens(ctx, in.UUID))
	same(t, "AccountTokens", []store.Token{tok, tok2})(s.AccountTokens(ctx, acme.UUID))

	used := base.Add(5*time.Minute + 7)
	must(t, "TouchToken", s.TouchToken(ctx, tok.ID, used))
	tok.LastUsedAt = used
	same(t, "Token after touch", tok)(s.Token(ctx, tok.ID))

	tok.RevokedAt = base.Add(time.Hour)
	must(t, "UpdateToken", s.UpdateToken(ctx, tok))
	same(t, "Token after revoke", tok)(s.Token(ctx, tok.ID))

	_, err := s.Token(ctx, newID())
	wantErr(t, "Token(unknown)", err, store.ErrNotFound)
	err = s.TouchToken(ctx, newID(), base)
	wantErr(t, "TouchToken(unknown)", err, store.ErrNotFound)
	err = s.UpdateToken(ctx, store.Token{ID: newID()})
	wantErr(t, "UpdateToken(unknown)", err, store.ErrNotFound)
	err = s.CreateToken(ctx, tok2)
	wantErr(t, "CreateToken(same id)", err, store.ErrConflict)
	bad := tok2
	bad.ID, bad.IntegrationUUID = newID(), newID()
	err = s.CreateToken(ctx, bad)
	wantErr(t, "CreateToken(unknown integration)", err, store.ErrNotFound)
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	must(t, "SigningKeys(empty)", err)
	if len(keys) != 0 {
		t.Fatalf("SigningKeys on a new store = %v, want none", keys)
	}
	k1 := store.SigningKey{ID: "k1", Private: []byte("der1"), CreatedAt: base, Active: true}
	k2 := store.SigningKey{ID: "k2", Private: []byte("der2"), CreatedAt: base.Add(time.Hour), Active: false}
	k3 := store.SigningKey{ID: "k3", Private: []byte("der3"), CreatedAt: base.Add(2 * time.Hour), Active: true}
	must(t, "AddSigningKey k1", s.AddSigningKey(ctx, k1))
	must(t, "AddSigningKey k2 (inactive)", s.AddSigningKey(ctx, k2))
	same(t, "SigningKeys after an inactive add", []store.SigningKey{k1, k2})(s.SigningKeys(ctx))

	must(t, "AddSigningKey k3 (active)", s.AddSigningKey(ctx, k3))
	keys, err = s.SigningKeys(ctx)
	must(t, "SigningKeys", err)
	k1.Active = false
	diff(t, "SigningKeys after an active add", keys, []store.SigningKey{k1, k2, k3})

	err = s.AddSigningKey(ctx, store.SigningKey{ID: "k2", Private: []byte("x"), CreatedAt: base})
	wantErr(t, "AddSigningKey(same id)", err, store.ErrConflict)
	same(t, "SigningKeys after a refused add", []store.SigningKey{k1, k2, k3})(s.SigningKeys(ctx))

	// ReplaceSigningKeyPrivate is a compare and swap of the private bytes.
	must(t, "ReplaceSigningKeyPrivate k2", s.ReplaceSigningKeyPrivate(ctx, "k2", []byte("der2"), []byte("sealed2")))
	k2.Private = []byte("sealed2")
	err = s.ReplaceSigningKeyPrivate(ctx, "k2", []byte("der2"), []byte("again"))
	wantErr(t, "ReplaceSigningKeyPrivate(stale old)", err, store.ErrConflict)
	err = s.ReplaceSigningKeyPrivate(ctx, "nope", []byte("der2"), []byte("x"))
	wantErr(t, "ReplaceSigningKeyPrivate(unknown id)", err, store.ErrNotFound)
	if err := s.ReplaceSigningKeyPrivate(ctx, "k3", []byte("der3"), nil); err == nil {
		t.Errorf("ReplaceSigningKeyPrivate(empty new) = nil, want an error")
	}
	same(t, "SigningKeys after replacing k2's bytes", []store.SigningKey{k1, k2, k3})(s.SigningKeys(ctx))
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustAccount(t, s, "Acme")
	admin := store.APIKey{ID: newID(), Kind: "admin", AccountUUID: acme.UUID, UserUUID: newID(), Name: "ops",
		Hash: []byte("h1"), CreatedAt: base}
	ingest := store.APIKey{ID: newID(), Kind: "ingest", AccountUUID: acme.UUID, Name: "feeder",
		Hash: []byte("h2"), CreatedAt: base.Add(time.Second)}
	must(t, "CreateAPIKey admin", s.CreateAPIKey(ctx, admin))
	must(t, "CreateAPIKey ingest", s.CreateAPIKey(ctx, ingest))

	same(t, "APIKey", admin)(s.APIKey(ctx, admin.ID))
	same(t, "APIKeys(ingest)", []store.APIKey{ingest})(s.APIKeys(ctx, acme.UUID, "ingest"))
	same(t, "APIKeys(all kinds)", []store.APIKey{admin, ingest})(s.APIKeys(ctx, acme.UUID, ""))

	ingest.RevokedAt = base.Add(time.Hour)
	must(t, "UpdateAPIKey", s.UpdateAPIKey(ctx, ingest))
	same(t, "APIKey after revoke", ingest)(s.APIKey(ctx, ingest.ID))

	_, err := s.APIKey(ctx, newID())
	wantErr(t, "APIKey(unknown)", err, store.ErrNotFound)
	err = s.UpdateAPIKey(ctx, store.APIKey{ID: newID()})
	wantErr(t, "UpdateAPIKey(unknown)", err, store.ErrNotFound)
	err = s.CreateAPIKey(ctx, admin)
	wantErr(t, "CreateAPIKey(same id)", err, store.ErrConflict)

	// Last use: only TouchAPIKey sets it, never backwards.
	used := base.Add(2 * time.Hour)
	must(t, "TouchAPIKey", s.TouchAPIKey(ctx, ingest.ID, used))
	must(t, "TouchAPIKey(earlier)", s.TouchAPIKey(ctx, ingest.ID, used.Add(-time.Minute)))
	must(t, "TouchAPIKey(same time)", s.TouchAPIKey(ctx, ingest.ID, used))
	ingest.LastUsedAt = used
	same(t, "APIKey after touch", ingest)(s.APIKey(ctx, ingest.ID))
	same(t, "APIKeys(ingest) after touch", []store.APIKey{ingest})(s.APIKeys(ctx, acme.UUID, "ingest"))
	ingest.Name = "renamed"
	ingest.LastUsedAt = time.Time{} // UpdateAPIKey leaves the stored last use
	must(t, "UpdateAPIKey after touch", s.UpdateAPIKey(ctx, ingest))
	ingest.LastUsedAt = used
	same(t, "APIKey after update", ingest)(s.APIKey(ctx, ingest.ID))
	later := used.Add(time.Minute)
	must(t, "TouchAPIKey(later)", s.TouchAPIKey(ctx, ingest.ID, later))
	got, err := s.APIKey(ctx, ingest.ID)
	must(t, "APIKey after a later touch", err)
	if !got.LastUsedAt.Equal(later) {
		t.Errorf("LastUsedAt after a later touch = %v, want %v", got.LastUsedAt, later)
	}
	err = s.TouchAPIKey(ctx, newID(), base)
	wantErr(t, "TouchAPIKey(unknown)", err, store.ErrNotFound)
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.Setting(ctx, "cursor_key")
	wantErr(t, "Setting(unset)", err, store.ErrNotFound)
	got, err := s.InitSetting(ctx, "cursor_key", []byte("first"))
	must(t, "InitSetting", err)
	diff(t, "InitSetting", string(got), "first")
	got, err = s.InitSetting(ctx, "cursor_key", []byte("second"))
	must(t, "InitSetting again", err)
	diff(t, "InitSetting again (first writer wins)", string(got), "first")
	got, err = s.Setting(ctx, "cursor_key")
	must(t, "Setting", err)
	diff(t, "Setting", string(got), "first")
	bin := []byte{0, 0xff, 0x10}
	same(t, "InitSetting binary", bin)(s.InitSetting(ctx, "binary", bin))
}

func testSettingsRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 8
	results := make(chan []byte, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			v, err := s.InitSetting(ctx, "race", fmt.Appendf(nil, "value-%d", i))
			results <- v
			errs <- err
		}()
	}
	close(start)
	var first []byte
	for i := range n {
		v := <-results
		must(t, "InitSetting", <-errs)
		if i == 0 {
			first = v
			continue
		}
		if string(v) != string(first) {
			t.Errorf("InitSetting returned %q and %q to racing callers, want one value", first, v)
		}
	}
	stored, err := s.Setting(ctx, "race")
	must(t, "Setting", err)
	diff(t, "stored value", string(stored), string(first))
}

func testCounters(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Windows near the real clock: stores may drop old windows.
	w := time.Now().Truncate(time.Minute)
	steps := []struct {
		key    string
		window time.Time
		delta  int64
		want   int64
	}{
		{"rl:acme", w, 1, 1},
		{"rl:acme", w, 2, 3},
		{"rl:acme", w.Add(time.Minute), 1, 1}, // a new window starts at zero
		{"rl:globex", w, 5, 5},                // keys are independent
		{"rl:acme", w, 1, 4},
		{"rl:acme", w, -4, 0},
	}
	for i, st := range steps {
		got, err := s.IncrCounter(ctx, st.key, st.window, st.delta)
		must(t, "IncrCounter", err)
		if got != st.want {
			t.Errorf("step %d: IncrCounter(%s, %v, %d) = %d, want %d", i, st.key, st.window, st.delta, got, st.want)
		}
	}
}

func testCountersConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, each = 8, 20
	w := time.Now().Truncate(time.Hour)
	got := make(chan int64, workers*each)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				n, err := s.IncrCounter(ctx, "shared", w, 1)
				if err != nil {
					errs <- err
					return
				}
				got <- n
			}
			errs <- nil
		}()
	}
	for range workers {
		must(t, "IncrCounter", <-errs)
	}
	close(got)
	seen := map[int64]bool{}
	for n := range got {
		if seen[n] {
			t.Errorf("IncrCounter returned %d twice: increments were lost", n)
		}
		seen[n] = true
	}
	for i := int64(1); i <= workers*each; i++ {
		if !seen[i] {
			t.Errorf("no increment returned %d", i)
		}
	}
}

func testMigrate(t *testing.T, s store.Store) {
	// The store is already migrated: migrating again changes nothing and
	// the data stays.
	ctx := t.Context()
	a := mustAccount(t, s, "Acme")
	must(t, "Migrate", s.Migrate(ctx))
	must(t, "Migrate again", s.Migrate(ctx))
	same(t, "Account after Migrate", a)(s.Account(ctx, a.UUID))
}
