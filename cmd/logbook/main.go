// Command logbook is the Logbook binary: an Events Reporting server that
// speaks the 1Password Events API, its admin tools, and a forwarder that
// delivers events to SIEMs. Run "logbook help" for the commands.
//
// Exit status: 0 on success, and when a command that runs until
// interrupted (serve, forward, simulate --live) stops cleanly on SIGINT or
// SIGTERM; 1 on an error, including a serve whose --shutdown-timeout cut
// requests off; 2 on a mistake in the command line; 130 when a
// signal stops a command before it finished its work (simulate
// --backfill, ingest, forward --once). A second SIGINT or SIGTERM ends the
// process at once, without cleaning up.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/logbookhq/logbook/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks the command to stop; giving the
		// default behaviour back lets a second one end the process.
		<-ctx.Done()
		stop()
	}()
	err := cli.Main(ctx, os.Args[1:], cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	interrupted := ctx.Err() != nil
	stop()
	os.Exit(exitCode(os.Stderr, err, interrupted))
}

// exitCode reports err and returns the process's exit status.
func exitCode(w io.Writer, err error, interrupted bool) int {
	if interrupted && errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "logbook: interrupted before the command finished")
		return 130
	}
	return cli.ReportError(w, err)
}
