// Package cli is Logbook's composition root: it parses flags and LOGBOOK_*
// variables, opens stores, builds handlers and starts listeners. Each
// subcommand lives in its own file with its usage text at the top.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a command sees of its process: tests pass their own.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// fromEnv records, for the running command, which flags took their
	// value from a variable (flag name → LOGBOOK_…) or a configuration
	// file (flag name → "FILE:LINE: name"), so that errors name both.
	// Main sets it.
	fromEnv *map[string]string
	// inspectFlags, when set, is given the command's flag set instead of
	// running it (configFile.parse): the configuration reference is made
	// from it.
	inspectFlags func(*flag.FlagSet)
	// subs are the subcommands of the command whose flags are parsed,
	// which its help lists (set by dispatchOr).
	subs []string
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// UsageError is a mistake in the command line; main exits 2 on it.
type UsageError struct {
	// Cmd is the command the mistake was made in ("token revoke"); Main
	// fills it in when the command did not.
	Cmd string
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ReportError writes err for the user of the command line and returns the
// exit status: a usage error is one line naming the command, then where
// to find its usage (status 2); any other error is one line (status 1).
func ReportError(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var u *UsageError
	if !errors.As(err, &u) {
		fmt.Fprintln(w, "logbook:", err)
		return 1
	}
	if u.Cmd == "" {
		fmt.Fprintf(w, "logbook: %s\nRun 'logbook help' for usage.\n", u.Msg)
		return 2
	}
	msg := strings.TrimPrefix(u.Msg, u.Cmd+": ")
	fmt.Fprintf(w, "logbook %s: %s\nRun 'logbook %s -h' for usage.\n", u.Cmd, msg, u.Cmd)
	return 2
}

// inCommand names cmd as where a usage error was made, unless a
// subcommand already did; it also names the variable a flag's value came
// from (LOGBOOK_DATA (--data): …) when the message starts with the flag.
func inCommand(err error, cmd string, env Env) error {
	var u *UsageError
	if !errors.As(err, &u) {
		return err
	}
	if u.Cmd == "" {
		u.Cmd = cmd
	}
	if env.fromEnv != nil && strings.HasPrefix(u.Msg, "--") {
		name, _, _ := strings.Cut(u.Msg[2:], ":")
		name, _, _ = strings.Cut(name, " ")
		if key, ok := (*env.fromEnv)[name]; ok {
			u.Msg = key + " (" + u.Msg[:2+len(name)] + ")" + u.Msg[2+len(name):]
		}
	}
	return err
}

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// group is the command name made of the subcommands subs, whose usage
// text is usage: it runs the one its first argument names (dispatch).
func group(name, summary, usage string, subs map[string]subcommand) command {
	return command{name, summary, func(ctx context.Context, env Env, args []string) error {
		return dispatch(ctx, env, name, usage, args, subs)
	}}
}

// commands lists every subcommand, in the order help shows them.
func commands() []command {
	return []command{
		group("account", "create and list accounts, set their serving window", accountUsage, map[string]subcommand{
			"create": accountCreate, "list": accountList, "serve-window": accountServeWindow}),
		group("admin-key", "create, list and revoke admin API keys", adminKeyUsage, map[string]subcommand{
			"create": adminKeyCreate, "list": adminKeyList, "revoke": adminKeyRevoke}),
		{"archive", "write signed day archives of the events; check one offline", runArchive},
		{"backup", "copy the SQLite database while the server runs", runBackup},
		{"forward", "forward events from Events APIs to SIEMs", runForward},
		{"ingest", "load events from JSON or NDJSON files into the store", runIngest},
		group("ingest-key", "create, list and revoke ingestion API keys", ingestKeyUsage, map[string]subcommand{
			"create": ingestKeyCreate, "list": ingestKeyList, "revoke": ingestKeyRevoke}),
		group("integration", "create, list, show and delete integrations", integrationUsage, map[string]subcommand{
			"create": integrationCreate, "list": integrationList, "show": integrationShow, "delete": integrationDelete}),
		group("keys", "list and rotate token signing keys; make a key-encryption key; print the tree keys' public keys", keysUsage, map[string]subcommand{
			"list": keysList, "rotate": keysRotate, "kek-new": keysKEKNew, "tree-public": keysTreePublic}),
		{"migrate", "apply database migrations", runMigrate},
		{"mirror", "how far a mirror (a forwarder's logbook sink) is behind its source", runMirror},
		{"scorecard", "print a token's connector scorecard", runScorecard},
		{"serve", "run the Events API server", runServe},
		{"simulate", "generate realistic events into the store or a file", runSimulate},
		group("token", "issue, list, rename and revoke Events API tokens", tokenUsage, map[string]subcommand{
			"issue": tokenIssue, "list": tokenList, "rename": tokenRename, "revoke": tokenRevoke}),
		group("user", "add, list and change the role of users", userUsage, map[string]subcommand{
			"add": userAdd, "list": userList, "set-role": userSetRole}),
		{"verify", "check the stored events against their Merkle trees", runVerify},
		{"version", "print the version", runVersion},
	}
}

// Main runs the logbook command line.
func Main(ctx context.Context, args []string, env Env) error {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	env.fromEnv = &map[string]string{}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Main(ctx, append(args[1:len(args):len(args)], "-h"), env)
		}
		printUsage(env.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, env, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return inCommand(err, c.name, env)
		}
	}
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Logbook is an Events Reporting server that speaks the 1Password Events API,
and a forwarder that delivers events to SIEMs.

Usage:
  logbook <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "logbook <command> -h" for a command's flags. Every flag can also be set
with a LOGBOOK_* environment variable named after it (--data: LOGBOOK_DATA).
`)
}

// subcommand is one of the subcommands of a command group.
type subcommand func(ctx context.Context, env Env, args []string) error

// dispatch runs the subcommand of the command name that args[0] names.
// "name -h" prints usage and the subcommands on stdout.
func dispatch(ctx context.Context, env Env, name, usage string, args []string, subs map[string]subcommand) error {
	return dispatchOr(ctx, env, name, usage, args, subs, nil)
}

// dispatchOr is dispatch for a command that runs dflt when args[0] names
// no subcommand (forward runs the forwarder); its help lists the
// subcommands.
func dispatchOr(ctx context.Context, env Env, name, usage string, args []string, subs map[string]subcommand, dflt subcommand) error {
	env.subs = make([]string, 0, len(subs))
	for s := range subs {
		env.subs = append(env.subs, s)
	}
	sort.Strings(env.subs)
	if len(args) > 0 {
		if sub, ok := subs[args[0]]; ok {
			subEnv := env
			subEnv.subs = nil
			return inCommand(sub(ctx, subEnv, args[1:]), name+" "+args[0], env)
		}
	}
	if dflt != nil {
		return dflt(ctx, env, args)
	}
	if len(args) == 0 {
		return usagef("a subcommand is required: %s", strings.Join(env.subs, ", "))
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		printHelp(env, name, usage, nil)
		return flag.ErrHelp
	}
	return usagef("unknown subcommand %q (want %s)", args[0], strings.Join(env.subs, ", "))
}

// printHelp writes the usage text of the command name, its flags with
// their double-dash names and variables, and its subcommands to standard
// output.
func printHelp(env Env, name, usage string, fs *flag.FlagSet) {
	w := env.Stdout
	fmt.Fprintln(w, strings.TrimSpace(usage))
	if fs != nil {
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				fmt.Fprintln(w, "\nFlags (each also read from the variable in brackets):")
				first = false
			}
			arg, help := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if arg != "" {
				line += " " + arg
			}
			if !zeroDefault(f) {
				if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
					help += fmt.Sprintf(" (default %q)", f.DefValue)
				} else {
					help += " (default " + f.DefValue + ")"
				}
			}
			fmt.Fprintf(w, "%s\n    \t%s [%s]\n", line, strings.ReplaceAll(help, "\n", "\n    \t"), envKey(f.Name))
		})
	}
	if len(env.subs) > 0 {
		fmt.Fprintf(w, "\nSubcommands: %s\nRun 'logbook %s <subcommand> -h' for a subcommand's flags.\n", strings.Join(env.subs, ", "), name)
	}
}

// envKey is the variable a flag defaults from: LOGBOOK_ and its name in
// upper case, dashes as underscores.
func envKey(flagName string) string {
	return "LOGBOOK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// zeroDefault reports whether f's default is its type's zero value, which
// help does not show.
func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

// newFlagSet returns a flag set for the command name whose usage text is
// usage. parseFlags prints its help and reports its errors.
func newFlagSet(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports; flag's own messages would repeat it
	fs.Usage = func() { printHelp(env, name, usage, fs) }
	return fs
}

// parseFlags parses args, then fills every flag not given on the command line
// from LOGBOOK_<NAME> (dashes become underscores), and refuses stray
// arguments unless allowArgs. -h prints the command's help on stdout and
// returns flag.ErrHelp; a mistake is a *UsageError of one line.
func parseFlags(fs *flag.FlagSet, env Env, args []string, allowArgs bool) error {
	help := fs.Usage
	fs.Usage = func() {} // flag calls it on every error too
	err := fs.Parse(args)
	fs.Usage = help
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return err
		}
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
			return usagef("unknown flag --%s", name)
		}
		return &UsageError{Msg: strings.Replace(err.Error(), " flag -", " flag --", 1)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		key := envKey(f.Name)
		if v := env.getenv(key); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = usagef("%s (--%s): invalid value %q: %v", key, f.Name, v, e)
				return
			}
			if env.fromEnv != nil {
				(*env.fromEnv)[f.Name] = key
			}
		}
	})
	if err != nil {
		return err
	}
	if !allowArgs && fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
