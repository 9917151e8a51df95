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
	fmt.Fprintln(env.Stdout, "logbook", version())
	return nil
}
