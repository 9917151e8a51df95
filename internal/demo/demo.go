// Package demo makes the demo account a first `logbook serve` shows: an
// owner with a console password, an integration, a token with every
// feature, and a few days of simulated activity. The cli package decides
// when; this package knows what.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
)

// AccountName is the demo account's name.
const AccountName = "Demo"

// OwnerEmail is the demo account's owner, who signs in to the web
// console with the password in <data>/demo.password.
const OwnerEmail = "demo@example.com"

// Info describes the demo account.
type Info struct {
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

// Store is what Seed reads and fills.
type Store interface {
	store.AccountStore
	store.EventStore
}

// Seed makes the demo account on an empty database: an owner, an
// integration, a token with every feature saved to <data>/demo.token, the
// owner's console password saved to <data>/demo.password (both 0600), and
// a few days of simulated activity ending at now. On a database that
// already has the demo account it only reports where the token is; on one
// with other accounts it does nothing and returns nil.
func Seed(ctx context.Context, st Store, svc *admin.Service, data string, now time.Time) (*Info, error) {
	tokenFile := filepath.Join(data, "demo.token")
	passwordFile := filepath.Join(data, "demo.password")
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accounts) > 0 {
		if _, err := st.AccountByName(ctx, AccountName); err == nil {
			if _, err := os.Stat(tokenFile); err == nil {
				info := &Info{Account: AccountName, TokenFile: tokenFile}
				if _, err := os.Stat(passwordFile); err == nil {
					info.Owner, info.PasswordFile = OwnerEmail, passwordFile
				}
				return info, nil
			}
		}
		return nil, nil
	}
	// Through the admin domain, so the demo's auditevents stream opens with
	// the create/sa and create/satoken events 1Password emits.
	n := 0
	pw := password()
	acct, raw, err := Create(ctx, svc, AccountName, pw, func(a store.Account) (err error) {
		n, err = simulateInto(ctx, st, simulate.Demo(a.UUID, now), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(tokenFile, []byte(raw+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save %s: %w", tokenFile, err)
	}
	if err := atomicfile.WriteFile(passwordFile, []byte(pw+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save %s: %w", passwordFile, err)
	}
	return &Info{Account: acct.Name, TokenFile: tokenFile, Token: raw, Events: n,
		Owner: OwnerEmail, PasswordFile: passwordFile, Password: pw}, nil
}

// Create makes an account called name with the demo's owner (given the
// console password when not empty), calls fill (when not nil) so that the
// account's history comes first, then makes its integration and a token,
// all through the admin domain, so the audit trail starts with the
// create/sa and create/satoken a real account would show. It returns the
// account and the token, which is shown once.
func Create(ctx context.Context, svc *admin.Service, name, password string, fill func(store.Account) error) (store.Account, string, error) {
	a, _, err := svc.CreateAccount(ctx, name, admin.NewUser{Email: OwnerEmail, Name: "Demo Owner", Password: password})
	if err != nil {
		return store.Account{}, "", err
	}
	acct, err := svc.Account(ctx, a.UUID)
	if err != nil {
		return store.Account{}, "", err
	}
	// The account's history comes first, so the stream stays in timestamp
	// order: the integration and its token are made now.
	if fill != nil {
		if err := fill(acct); err != nil {
			return store.Account{}, "", err
		}
	}
	actor, err := svc.ActorAs(ctx, acct, "")
	if err != nil {
		return store.Account{}, "", err
	}
	in, err := svc.CreateIntegration(ctx, actor, "Demo SIEM", "Other")
	if err != nil {
		return store.Account{}, "", err
	}
	t, err := svc.IssueToken(ctx, actor, admin.IssueRequest{Integration: in.UUID, Name: "demo"})
	if err != nil {
		return store.Account{}, "", err
	}
	return acct, t.Secret, nil
}

// password returns a random console password: four groups of five
// letters and digits without look-alikes (about 100 bits).
func password() string {
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
