// Command logbook is the Logbook binary: an Events Reporting server that
// speaks the 1Password Events API, its admin tools, and a forwarder that
// delivers events to SIEMs. Run "logbook help" for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/logbookhq/logbook/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Main(ctx, os.Args[1:], cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	if err != nil {
		var u *cli.UsageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "logbook:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "logbook:", err)
		os.Exit(1)
	}
}
