package demo

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

type testBundle struct {
	st   *sqlite.DB
	svc  *admin.Service
	data string
}

// setup opens a SQLite store with a signing key and the admin domain over
// it, and a data directory.
func setup(t *testing.T) testBundle {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st := sqlitetest.Open(t, filepath.Join(dir, "logbook.db"))
	tokens := token.New(st, "127.0.0.1:8080", token.Config{})
	if err := tokens.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	return testBundle{st: st, svc: admin.New(st, tokens, admin.Config{}), data: filepath.Join(dir, "data")}
}

// TestSeed makes the demo on an empty database: the token and password
// are saved 0600 and returned, there are events; a second Seed reports
// the files without secrets and makes nothing.
func TestSeed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	info, err := Seed(ctx, b.st, b.svc, b.data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if info == nil || info.Account != AccountName || info.Owner != OwnerEmail || info.Events == 0 {
		t.Fatalf("Seed = %+v, want the demo account with events", info)
	}
	if !regexp.MustCompile(`^([a-z2-9]{5}-){3}[a-z2-9]{5}$`).MatchString(info.Password) {
		t.Errorf("password %q, want four groups of five letters and digits", info.Password)
	}
	for file, want := range map[string]string{info.TokenFile: info.Token, info.PasswordFile: info.Password} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", file, fi.Mode().Perm())
		}
		if got, _ := os.ReadFile(file); strings.TrimSpace(string(got)) != want || want == "" {
			t.Errorf("%s holds %q, want %q", file, got, want)
		}
	}
	acct, err := b.st.AccountByName(ctx, AccountName)
	if err != nil {
		t.Fatal(err)
	}
	head, err := b.st.HeadPosition(ctx, acct.UUID, events.AuditEvents)
	if err != nil || head == 0 {
		t.Errorf("audit stream head = %d, %v; want events", head, err)
	}

	again, err := Seed(ctx, b.st, b.svc, b.data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Account: AccountName, TokenFile: info.TokenFile, Owner: OwnerEmail, PasswordFile: info.PasswordFile}
	if again == nil || *again != want {
		t.Errorf("second Seed = %+v, want %+v", again, want)
	}
	if as, _ := b.st.Accounts(ctx); len(as) != 1 {
		t.Errorf("%d accounts after the second Seed, want 1", len(as))
	}
}

// TestSeedLeavesOtherAccounts: a database with another account gets no
// demo and no files.
func TestSeedLeavesOtherAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if _, _, err := b.svc.CreateAccount(ctx, "Acme", admin.NewUser{Email: "ops@acme.test"}); err != nil {
		t.Fatal(err)
	}
	info, err := Seed(ctx, b.st, b.svc, b.data, time.Now())
	if err != nil || info != nil {
		t.Fatalf("Seed = %+v, %v; want nil, nil", info, err)
	}
	if _, err := b.st.AccountByName(ctx, AccountName); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("demo account lookup = %v, want store.ErrNotFound", err)
	}
	if _, err := os.Stat(b.data); !os.IsNotExist(err) {
		t.Errorf("data dir: %v, want it not made", err)
	}
}

// TestSeedUnwritableData: when the token cannot be saved, Seed says which
// file.
func TestSeedUnwritableData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := os.WriteFile(b.data, nil, 0o600); err != nil { // a file where the directory goes
		t.Fatal(err)
	}
	_, err := Seed(t.Context(), b.st, b.svc, b.data, time.Now())
	if err == nil || !strings.Contains(err.Error(), "save "+filepath.Join(b.data, "demo.token")) {
		t.Errorf("Seed = %v, want an error naming demo.token", err)
	}
}

// TestCreateFillFails: an error from fill is returned, with no token.
func TestCreateFillFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	boom := errors.New("boom")
	_, raw, err := Create(t.Context(), b.svc, "D", "", func(store.Account) error { return boom })
	if !errors.Is(err, boom) || raw != "" {
		t.Fatalf("Create = %q, %v; want no token and the fill error", raw, err)
	}
}

// TestRandIntn checks every value of a small range comes up and none
// outside it.
func TestRandIntn(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 2000 {
		n := randIntn(31)
		if n < 0 || n >= 31 {
			t.Fatalf("randIntn(31) = %d", n)
		}
		seen[n] = true
	}
	if len(seen) != 31 {
		t.Errorf("randIntn(31) gave %d distinct values in 2000 draws, want 31", len(seen))
	}
}
