package cli

import (
	"context"
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
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accounts) > 0 {
		if _, err := st.AccountByName(ctx, demoAccountName); err == nil {
			if _, err := os.Stat(tokenFile); err == nil {
				return &DemoInfo{Account: demoAccountName, TokenFile: tokenFile}, nil
			}
		}
		return nil, nil
	}
	// Through the admin domain, so the demo's auditevents stream opens with
	// the create/sa and create/satoken events 1Password emits.
	n := 0
	acct, raw, err := demoAdmin(ctx, srv.Admin, demoAccountName, func(a store.Account) (err error) {
		n, err = simulateInto(ctx, st, simulate.Demo(a.UUID, now), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(tokenFile, []byte(raw+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save %s: %w", tokenFile, err)
	}
	return &DemoInfo{Account: acct.Name, TokenFile: tokenFile, Token: raw, Events: n}, nil
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
