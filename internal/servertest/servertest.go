// Package servertest starts real Logbook servers for tests: a SQLite
// database in a temporary directory, the full HTTP stack on a free loopback
// port, an account with an integration and a token that has every feature.
package servertest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
	"github.com/ncruces/go-sqlite3"
)

// Options tune Start. The zero value is an empty account.
type Options struct {
	// Demo seeds the first-run demo (simulated events) instead of an empty
	// account.
	Demo bool
	// Now is the server's clock, and its store's (insertion times); time.Now
	// when nil.
	Now func() time.Time
	// Retention bounds what the API serves; the default when zero.
	Retention time.Duration
	// DataDir reuses a data directory (to restart a server on the same
	// database); a new temporary one when empty.
	DataDir string
	// Listen is the address; "127.0.0.1:0" when empty.
	Listen string
	// Logger receives the server's logs; discarded when nil.
	Logger *slog.Logger
	// Sandbox configures rate limits, scenarios and scorecards.
	Sandbox cli.SandboxOptions
	// DB, when set, is a PostgreSQL URL the server's store is opened on
	// instead of SQLite in DataDir.
	DB string
	// Account is the uuid of the account the server sets up (with Demo
	// false): created when the store lacks it, used as it is (its events
	// untouched, such as a mirror's) when the store holds it. A new uuid
	// when empty.
	Account string
}

// Server is a running test server.
type Server struct {
	*cli.Server
	// Token has every feature; Account and Integration are what it names.
	Token       string
	Account     string
	Integration string
	DataDir     string
	opts        Options
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ctx := context.Background()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	var st store.Store
	var err error
	if o.DB != "" {
		st, err = postgres.Open(ctx, o.DB, postgres.Options{Logger: o.Logger, Now: o.Now})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(o.DataDir, "logbook.db"), sqlite.Options{Logger: o.Logger, Now: o.Now})
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	srv, err := cli.StartServer(ctx, cli.ServerOptions{Store: st, Listen: o.Listen, Retention: o.Retention, Logger: o.Logger, Now: o.Now, Sandbox: o.Sandbox})
	if err != nil {
		st.Close()
		t.Fatalf("start server: %v", err)
	}
	s := &Server{Server: srv, DataDir: o.DataDir, opts: o}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		st.Close()
	})
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	if err := s.setUp(ctx, t, now); err != nil {
		t.Fatalf("set up account: %v", err)
	}
	return s
}

// Restart stops s and starts a new server on the same database and port.
// The old value must not be used afterwards.
func (s *Server) Restart(t testing.TB) *Server {
	t.Helper()
	if err := s.Server.Close(); err != nil {
		t.Fatalf("close server: %v", err)
	}
	s.Store.Close()
	o := s.opts
	o.DataDir = s.DataDir
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://"))
	o.Listen = "127.0.0.1:" + port
	return Start(t, o)
}

func (s *Server) setUp(ctx context.Context, t testing.TB, now time.Time) error {
	st := s.Store
	accts, err := st.Accounts(ctx)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(s.DataDir, "test.token"))
	if len(accts) > 0 && (s.opts.Account == "" || statErr == nil) {
		// A restart: pick up what the first start made.
		b, err := os.ReadFile(filepath.Join(s.DataDir, "test.token"))
		if err != nil {
			return err
		}
		parts := strings.Fields(string(b))
		s.Account, s.Integration, s.Token = parts[0], parts[1], parts[2]
		return nil
	}
	if s.opts.Demo {
		info, err := cli.SeedDemo(ctx, s.Server, s.DataDir, now)
		if err != nil {
			return err
		}
		a, err := st.AccountByName(ctx, info.Account)
		if err != nil {
			return err
		}
		ins, err := st.Integrations(ctx, a.UUID)
		if err != nil || len(ins) == 0 {
			return err
		}
		s.Account, s.Integration, s.Token = a.UUID, ins[0].UUID, info.Token
	} else {
		a := store.Account{UUID: s.opts.Account, Name: "Test", CreatedAt: now.UTC()}
		if a.UUID == "" {
			a.UUID = events.NewID()
		}
		if _, err := st.Account(ctx, a.UUID); errors.Is(err, store.ErrNotFound) {
			err = st.CreateAccount(ctx, a)
			if err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		in := store.Integration{UUID: events.NewID(), AccountUUID: a.UUID, Name: "Test SIEM", SIEM: "Other", CreatedAt: now.UTC()}
		if err := st.CreateIntegration(ctx, in); err != nil {
			return err
		}
		s.Account, s.Integration = a.UUID, in.UUID
		if s.Token, err = s.issue(ctx, events.AllFeatures, 0); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(s.DataDir, "test.token"), []byte(s.Account+" "+s.Integration+" "+s.Token+"\n"), 0o600)
}

func (s *Server) issue(ctx context.Context, fs []events.Feature, expiresIn time.Duration) (string, error) {
	raw, _, err := s.Tokens.Issue(ctx, token.IssueRequest{AccountUUID: s.Account, IntegrationUUID: s.Integration,
		Name: "test " + events.JoinFeatures(fs), Features: fs, ExpiresIn: expiresIn})
	return raw, err
}

// IssueToken issues another token of the account with the given features.
func (s *Server) IssueToken(t testing.TB, expiresIn time.Duration, fs ...events.Feature) string {
	t.Helper()
	raw, err := s.issue(context.Background(), fs, expiresIn)
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return raw
}

// Append stores events (*events.SignInAttempt, *events.ItemUsage,
// *events.AuditEvent) in the account, as ingestion would, and returns how
// many were new.
func (s *Server) Append(t testing.TB, evs ...any) int {
	t.Helper()
	ctx := context.Background()
	w := ingest.NewWriter(s.Store, s.Account, 0)
	for _, ev := range evs {
		if err := w.Add(ctx, ev); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("append: %v", err)
	}
	return w.Inserted
}

// AdminKey adds an owner (owner@example.com) to the account and returns
// the secret of an admin API key ("ops") that acts as that owner.
func (s *Server) AdminKey(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	u := store.User{UUID: events.NewID(), AccountUUID: s.Account, Name: "Owner", Email: "owner@example.com", Role: store.RoleOwner, CreatedAt: time.Now().UTC()}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	actor, err := s.Admin.ActorIn(ctx, s.Account, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Admin.CreateAPIKey(ctx, actor, "ops")
	if err != nil {
		t.Fatal(err)
	}
	return key.Secret
}

// TreeKeys returns the public keys of the server's tree keys, as a client
// reads them from the JWKS of logbook keys tree-public.
func (s *Server) TreeKeys(t testing.TB) client.TreeKeys {
	t.Helper()
	jwks, err := s.Heads.PublicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := client.ParseTreeKeys(jwks)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Tamper changes the stored v2 bytes of the event uuid of the stream
// feature behind the server's back, as an attacker with the database
// would: in the SQLite file, through a connection of its own, every old
// replaced by new. The event's leaf hash is left as it was. SQLite only.
func (s *Server) Tamper(t testing.TB, feature events.Feature, uuid, old, new string) {
	t.Helper()
	if s.opts.DB != "" {
		t.Fatal("Tamper: SQLite only")
	}
	c, err := sqlite3.Open(filepath.Join(s.DataDir, "logbook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	table := sqlitetest.EventsTable(t, c, s.Account, feature)
	u, _, err := c.Prepare(`UPDATE ` + table + ` SET v2 = CAST(replace(CAST(v2 AS TEXT), ?, ?) AS BLOB) WHERE uuid = ? AND instr(CAST(v2 AS TEXT), ?) > 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.BindText(1, old)
	u.BindText(2, new)
	u.BindText(3, uuid)
	u.BindText(4, old)
	if err := u.Exec(); err != nil {
		t.Fatal(err)
	}
	if c.Changes() != 1 {
		t.Fatalf("Tamper: %d events of %s hold %q, want 1", c.Changes(), uuid, old)
	}
}
