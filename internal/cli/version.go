package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/logbookhq/logbook/internal/cli.Version=v1.2.3".
var Version = "dev"

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

func runVersion(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "version", "Usage: logbook version\n\nPrints the version of this binary.")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "logbook", version())
	return nil
}
