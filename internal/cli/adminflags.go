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
// token, keys, admin-key) share: their flags, opening the admin domain,
// and printing tables and JSON.

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

func (f *adminFlags) flagSet(env Env, name, usage string, lists bool) *flag.FlagSet {
	fs := newFlagSet(env, name, usage)
	f.store.register(fs)
	f.kek.register(fs)
	fs.StringVar(&f.account, "account", "", "account `NAME|UUID` (default: the only account)")
	fs.StringVar(&f.as, "as", "", "act as the user with this `EMAIL` (default: the account's first owner)")
	if lists {
		fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	}
	return fs
}

// serverFlagSet is flagSet for server-wide commands, which act in no
// account: no --account, no --as.
func (f *adminFlags) serverFlagSet(env Env, name, usage string, lists bool) *flag.FlagSet {
	fs := newFlagSet(env, name, usage)
	f.store.register(fs)
	f.kek.register(fs)
	if lists {
		fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	}
	return fs
}

// publicURLFlag adds --public-url, for commands that issue tokens.
func (f *adminFlags) publicURLFlag(fs *flag.FlagSet) {
	fs.StringVar(&f.publicURL, "public-url", "", "the server's public `URL`; its host:port goes into tokens' aud (default: the one the last serve recorded in --data)")
}

// parse parses args, allowing up to maxArgs positional arguments mixed with
// flags, and returns the first one ("" if none).
func (f *adminFlags) parse(fs *flag.FlagSet, env Env, args []string, maxArgs int) (string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, env, args, true); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > maxArgs {
		return "", usagef("%s: unexpected argument %q", fs.Name(), pos[maxArgs])
	}
	var err error
	if f.kekKey, err = f.kek.load(env); err != nil {
		return "", err
	}
	if len(pos) == 0 {
		return "", nil
	}
	return pos[0], nil
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

// run opens, calls fn, closes, and turns admin errors into CLI errors.
func (f *adminFlags) run(ctx context.Context, env Env, fn func(*adminCtx) error) error {
	return f.runWith(ctx, true, fn)
}

func (f *adminFlags) runWith(ctx context.Context, needAccount bool, fn func(*adminCtx) error) error {
	s, err := f.open(ctx, needAccount)
	if err != nil {
		return cliError(err)
	}
	defer s.st.Close()
	return cliError(fn(s))
}

// parseRef is parse for a command acting on one thing, which the flag
// ref points to or the one argument names; missing is the usage error
// when neither does.
func (f *adminFlags) parseRef(fs *flag.FlagSet, env Env, args []string, ref *string, missing string) error {
	arg, err := f.parse(fs, env, args, 1)
	if err != nil {
		return err
	}
	if *ref == "" {
		*ref = arg
	}
	if *ref == "" {
		return usagef("%s", missing)
	}
	return nil
}

// printDone writes v as JSON with --json, else the line format makes.
func (f *adminFlags) printDone(env Env, v any, format string, args ...any) error {
	if f.json {
		return printJSON(env.Stdout, v)
	}
	fmt.Fprintf(env.Stdout, format, args...)
	return nil
}

// print writes v as JSON with --json, else a table with header and n rows.
func (f *adminFlags) print(env Env, v any, header []string, row func(int) []string, n int) error {
	if f.json {
		return printJSON(env.Stdout, v)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := 0; i < n; i++ {
		fmt.Fprintln(tw, strings.Join(row(i), "\t"))
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

// readPassword reads a password from stdin (one line, trailing newline
// dropped).
func readPassword(env Env) (string, error) {
	b, err := io.ReadAll(io.LimitReader(env.Stdin, 4096))
	if err != nil {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", usagef("--password-stdin: stdin is empty")
	}
	return pw, nil
}
