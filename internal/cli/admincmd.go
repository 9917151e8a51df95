package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// This file holds what the admin commands (account, user, integration,
// token, keys, admin-key, ingest-key) share: their flags, opening the
// admin domain, and printing tables and JSON. Each of those commands is
// its flag set and one call: act, list or exec.

// adminScope is where an admin command acts.
type adminScope int

const (
	// inAccount: as a user (--as, default the first owner) of an account
	// (--account, default the only one).
	inAccount adminScope = iota
	// serverWide: as the server's operator, in no account; the command
	// has no --account and no --as.
	serverWide
	// eitherScope: as the operator, or as a user of an account when
	// --account or --as is given (actsAsUser).
	eitherScope
)

// adminFlags are the flags every admin command shares.
type adminFlags struct {
	store storeFlags
	kek   kekFlags
	// kekKey is the KEK that parse loaded; nil when none is given.
	kekKey    *token.KEK
	account   string
	as        string
	publicURL string
	json      bool
}

// actsAsUser reports whether a server-wide command is to act as a user of
// an account (--as or --account given) rather than as the operator.
func (f *adminFlags) actsAsUser() bool { return f.as != "" || f.account != "" }

// adminCmd is one admin command being run: its flags and what it takes
// besides them.
type adminCmd struct {
	adminFlags
	env   Env
	fs    *flag.FlagSet
	scope adminScope
	// arg, when set, is where the one positional argument the command
	// takes goes, unless a flag filled it already (ref).
	arg *string
	// checks run in order after parsing and before anything is opened,
	// so that mistakes cost nothing.
	checks []func() error
}

// newAdminCmd returns the command name, whose usage text is usage, with
// the flags every admin command in scope has; lists adds --json.
func newAdminCmd(env Env, name, usage string, scope adminScope, lists bool) *adminCmd {
	c := &adminCmd{env: env, fs: newFlagSet(env, name, usage), scope: scope}
	c.store.register(c.fs)
	c.kek.register(c.fs)
	if scope != serverWide {
		c.fs.StringVar(&c.account, "account", "", "account `NAME|UUID` (default: the only account)")
		c.fs.StringVar(&c.as, "as", "", "act as the user with this `EMAIL` (default: the account's first owner)")
	}
	if lists {
		c.fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	}
	return c
}

// publicURLFlag adds --public-url, for commands that issue tokens.
func (c *adminCmd) publicURLFlag() {
	c.fs.StringVar(&c.publicURL, "public-url", "", "the server's public `URL`; its host:port goes into tokens' aud (default: the one the last serve recorded in --data)")
}

// ref makes the command act on one thing, named by its one positional
// argument or, when flagName is not empty, by the flag flagName; missing
// is the usage error when neither names it ("" allows none).
func (c *adminCmd) ref(flagName, usage, missing string) *string {
	c.arg = new(string)
	if flagName != "" {
		c.fs.StringVar(c.arg, flagName, "", usage)
	}
	if missing != "" {
		c.require(c.arg, missing)
	}
	return c.arg
}

// check adds fn to what parse checks.
func (c *adminCmd) check(fn func() error) { c.checks = append(c.checks, fn) }

// require adds to what parse checks that *v is not empty; missing is the
// usage error when it is.
func (c *adminCmd) require(v *string, missing string) {
	c.check(func() error {
		if *v == "" {
			return usagef("%s", missing)
		}
		return nil
	})
}

// parse parses args: flags mixed with the positional argument ref allows,
// then the KEK, then the checks.
func (c *adminCmd) parse(args []string) error {
	var pos []string
	for {
		if err := parseFlags(c.fs, c.env, args, true); err != nil {
			return err
		}
		if c.fs.NArg() == 0 {
			break
		}
		pos = append(pos, c.fs.Arg(0))
		args = c.fs.Args()[1:]
	}
	maxArgs := 0
	if c.arg != nil {
		maxArgs = 1
	}
	if len(pos) > maxArgs {
		return usagef("%s: unexpected argument %q", c.fs.Name(), pos[maxArgs])
	}
	var err error
	if c.kekKey, err = c.kek.load(c.env); err != nil {
		return err
	}
	if c.arg != nil && *c.arg == "" && len(pos) > 0 {
		*c.arg = pos[0]
	}
	for _, check := range c.checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// adminCtx is what an admin command works with.
type adminCtx struct {
	st    store.Store
	svc   *admin.Service
	actor admin.Actor
}

// open opens the store and the admin service; the account and actor are
// resolved only when needAccount.
func (f *adminFlags) open(ctx context.Context, needAccount bool) (*adminCtx, error) {
	publicURL := f.publicURL
	if publicURL == "" {
		publicURL = readPublicURL(f.store.data)
	}
	aud, err := audienceOf(publicURL)
	if err != nil {
		return nil, usagef("%v", err)
	}
	st, err := f.store.open(ctx)
	if err != nil {
		return nil, err
	}
	tokens := token.New(st, aud, token.Config{KEK: f.kekKey})
	if err := tokens.EnsureKey(ctx); err != nil {
		st.Close()
		return nil, kekHint(err)
	}
	s := &adminCtx{st: st, svc: admin.New(st, tokens, admin.Config{})}
	if !needAccount {
		return s, nil
	}
	if s.actor, err = s.svc.ActorIn(ctx, f.account, f.as); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// run opens the admin domain (with the actor when the command acts in an
// account: always in scope inAccount, with --account or --as in
// eitherScope), calls fn, closes, and turns admin errors into CLI errors.
func (c *adminCmd) run(ctx context.Context, fn func(*adminCtx) error) error {
	return c.runAs(ctx, c.scope == inAccount || (c.scope == eitherScope && c.actsAsUser()), fn)
}

// runAs is run for a command that decides itself whether it acts as a
// user (needAccount).
func (c *adminCmd) runAs(ctx context.Context, needAccount bool, fn func(*adminCtx) error) error {
	s, err := c.open(ctx, needAccount)
	if err != nil {
		return cliError(err)
	}
	defer s.st.Close()
	return cliError(fn(s))
}

// asUserOr calls asUser with the actor when c acts as a user of an
// account (actsAsUser), else asOperator.
func asUserOr[T any](ctx context.Context, c *adminCmd, s *adminCtx, asUser func(context.Context, admin.Actor) (T, error), asOperator func(context.Context) (T, error)) (T, error) {
	if c.actsAsUser() {
		return asUser(ctx, s.actor)
	}
	return asOperator(ctx)
}

// exec parses args and runs fn.
func (c *adminCmd) exec(ctx context.Context, args []string, fn func(*adminCtx) error) error {
	if err := c.parse(args); err != nil {
		return err
	}
	return c.run(ctx, fn)
}

// act parses args, then gets a result from do and prints it with show.
func act[T any](ctx context.Context, c *adminCmd, args []string, do func(*adminCtx) (T, error), show func(*adminCtx, T) error) error {
	return c.exec(ctx, args, func(s *adminCtx) error {
		v, err := do(s)
		if err != nil {
			return err
		}
		return show(s, v)
	})
}

// list is act for a command that prints a list of what do returns: JSON
// with --json, else a table with header and a row of each.
func list[T any](ctx context.Context, c *adminCmd, args []string, do func(*adminCtx) ([]T, error), header []string, row func(T) []string) error {
	return act(ctx, c, args, do, func(_ *adminCtx, vs []T) error { return printTable(c, vs, header, row) })
}

// printDone writes v as JSON with --json, else the line format makes.
func (c *adminCmd) printDone(v any, format string, args ...any) error {
	if c.json {
		return printJSON(c.env.Stdout, v)
	}
	fmt.Fprintf(c.env.Stdout, format, args...)
	return nil
}

// printSecret writes v as JSON with --json, else the secret alone on
// stdout (so that $(logbook …) takes it) and the line format makes on
// stderr.
func (c *adminCmd) printSecret(v any, secret, format string, args ...any) error {
	if c.json {
		return printJSON(c.env.Stdout, v)
	}
	fmt.Fprintln(c.env.Stdout, secret)
	fmt.Fprintf(c.env.Stderr, format, args...)
	return nil
}

// printTable writes vs as JSON with --json, else a table with header and
// a row of each.
func printTable[T any](c *adminCmd, vs []T, header []string, row func(T) []string) error {
	if c.json {
		return printJSON(c.env.Stdout, vs)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, v := range vs {
		fmt.Fprintln(tw, strings.Join(row(v), "\t"))
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// when formats a time for tables: "-" for zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// passwordStdin adds --password-stdin, described by usage: parse then
// reads a password from stdin into pw (one line, trailing newline
// dropped).
func (c *adminCmd) passwordStdin(pw *string, usage string) {
	var read bool
	c.fs.BoolVar(&read, "password-stdin", false, usage)
	c.check(func() error {
		if !read {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(c.env.Stdin, 4096))
		if err != nil {
			return fmt.Errorf("--password-stdin: %w", err)
		}
		if *pw = strings.TrimRight(string(b), "\r\n"); *pw == "" {
			return usagef("--password-stdin: stdin is empty")
		}
		return nil
	})
}
