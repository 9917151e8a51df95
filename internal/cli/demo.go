package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
)

const demoAccountName = "Demo"

// DemoInfo describes the demo account.
type DemoInfo struct {
	Account   string
	TokenFile string
	Token     string // empty when made by an earlier run
	Events    int
	// Owner signs in to the web console with the password saved in
	// PasswordFile; Password is set only on the run that made it.
	Owner        string
	PasswordFile string
	Password     string
}

// SeedDemo is seedDemo for tests (internal/servertest).
func SeedDemo(ctx context.Context, srv *Server, data string, now time.Time) (*DemoInfo, error) {
	return seedDemo(ctx, srv, data, now)
}

// seedDemo makes the demo account on an empty database: an owner, an
// integration, a token with every feature saved to <data>/demo.token, and a
// few days of simulated activity ending now. On a database that already has
// the demo account it only reports where the token is; on one with other
// accounts it does nothing.
func seedDemo(ctx context.Context, srv *Server, data string, now time.Time) (*DemoInfo, error) {
	st := srv.Store
	tokenFile := filepath.Join(data, "demo.token")
	passwordFile := filepath.Join(data, "demo.password")
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accounts) > 0 {
		if _, err := st.AccountByName(ctx, demoAccountName); err == nil {
			if _, err := os.Stat(tokenFile); err == nil {
				info := &DemoInfo{Account: demoAccountName, TokenFile: tokenFile}
				if _, err := os.Stat(passwordFile); err == nil {
					info.Owner, info.PasswordFile = demoOwnerEmail, passwordFile
				}
				return info, nil
			}
		}
		return nil, nil
	}
	// Through the admin domain, so the demo's auditevents stream opens with
	// the create/sa and create/satoken events 1Password emits.
	n := 0
	password := demoPassword()
	acct, raw, err := demoAdminWithPassword(ctx, srv.Admin, demoAccountName, password, func(a store.Account) (err error) {
		n, err = simulateInto(ctx, st, simulate.Demo(a.UUID, now), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(tokenFile, []byte(raw+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save %s: %w", tokenFile, err)
	}
	if err := writeFileAtomic(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save %s: %w", passwordFile, err)
	}
	return &DemoInfo{Account: acct.Name, TokenFile: tokenFile, Token: raw, Events: n,
		Owner: demoOwnerEmail, PasswordFile: passwordFile, Password: password}, nil
}

// demoPassword returns a random console password: four groups of five
// letters and digits without look-alikes (about 100 bits).
func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // 31 symbols
	b := make([]byte, 0, 23)
	for i := range 20 {
		if i > 0 && i%5 == 0 {
			b = append(b, '-')
		}
		b = append(b, alphabet[randIntn(len(alphabet))])
	}
	return string(b)
}

// randIntn returns a uniform random int in [0, n) from crypto/rand.
func randIntn(n int) int {
	var x [1]byte
	for {
		_, _ = rand.Read(x[:])
		if int(x[0]) < 256-256%n {
			return int(x[0]) % n
		}
	}
}

// simulateInto runs the simulator up to `to` and appends what arrived by
// then; it returns the number of events stored.
func simulateInto(ctx context.Context, st store.EventStore, cfg simulate.Config, to time.Time) (int, error) {
	w := ingest.NewWriter(st, cfg.AccountUUID, 0)
	err := simulate.New(cfg).Run(to, func(it simulate.Item) error {
		return w.Add(ctx, it.Event)
	})
	if err != nil {
		return 0, err
	}
	if err := w.Flush(ctx); err != nil {
		return 0, err
	}
	if w.Inserted == 0 {
		return 0, errors.New("the simulator made no events")
	}
	return w.Inserted, nil
}
