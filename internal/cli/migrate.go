package cli

import (
	"context"
	"fmt"
)

const migrateUsage = `
Usage: logbook migrate [--data DIR | --db URL]

Applies the database migrations not yet applied, each in its own
transaction, and prints their names. Safe to run while servers start or run:
concurrent migrators take turns and each migration runs once. "serve" also
migrates at start.

Examples:
  logbook migrate --data ./data
  LOGBOOK_DB=postgres://logbook@db.internal/logbook logbook migrate
`

func runMigrate(ctx context.Context, env Env, args []string) error {
	var f storeFlags
	fs := newFlagSet(env, "migrate", migrateUsage)
	f.register(fs)
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	st, applied, err := f.openMigrate(ctx, true)
	if err != nil {
		return err
	}
	for _, name := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", name)
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "%s is up to date\n", f.describe())
	} else {
		fmt.Fprintf(env.Stdout, "%s is up to date (%d applied)\n", f.describe(), len(applied))
	}
	return st.Close()
}
