package cli_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/cli"
)

// logValue returns the value of key on the first log line that contains
// every one of match, and whether there is such a line.
func logValue(logs, key string, match ...string) (string, bool) {
	re := regexp.MustCompile(`(?:^| )` + regexp.QuoteMeta(key) + `=(\S+)`)
	for _, line := range strings.Split(logs, "\n") {
		ok := true
		for _, m := range match {
			if !strings.Contains(line, m) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1], true
		}
	}
	return "", false
}

func logInt(t *testing.T, logs, key string, match ...string) int {
	t.Helper()
	v, ok := logValue(logs, key, match...)
	if !ok {
		t.Fatalf("no log line with %q and %s=:\n%s", match, key, logs)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%s: %v", key, v, err)
	}
	return n
}

// TestForwardOnceSummary: --once ends with a summary whose numbers are
// the events actually delivered: per stream (events, pages, duplicates
// skipped), per sink (events confirmed), and in total.
func TestForwardOnceSummary(t *testing.T) {
	b := setupForward(t)
	b.appendAt(t, b.base, 2500)
	_, logs, err := b.run(t, nil, "forward", "--config", b.cfg, "--once")
	if err != nil {
		t.Fatalf("forward --once: %v\n%s", err, logs)
	}
	delivered := len(b.lines(t))
	if delivered != 2500 {
		t.Fatalf("%d events in the file, want 2500", delivered)
	}
	stream := []string{"msg=summary", "source=demo", "feature=auditevents"}
	if got := logInt(t, logs, "events", stream...); got != delivered {
		t.Errorf("summary of demo/auditevents: events=%d, want the %d delivered", got, delivered)
	}
	if got := logInt(t, logs, "pages", stream...); got != 3 {
		t.Errorf("summary of demo/auditevents: pages=%d, want 3 (1000+1000+500)", got)
	}
	if got := logInt(t, logs, "duplicates_skipped", stream...); got != 0 {
		t.Errorf("summary of demo/auditevents: duplicates_skipped=%d, want 0", got)
	}
	if got := logInt(t, logs, "events", "msg=summary", "sink=archive"); got != delivered {
		t.Errorf("summary of sink archive: events=%d, want the %d delivered", got, delivered)
	}
	if got := logInt(t, logs, "events", "msg=forwarded"); got != delivered {
		t.Errorf("total: events=%d, want %d", got, delivered)
	}
	if _, ok := logValue(logs, "took", "msg=forwarded"); !ok {
		t.Errorf("the total line lacks took=:\n%s", logs)
	}

	// A second run forwards only what is new, and says so.
	b.appendAt(t, b.base.Add(time.Hour), 7)
	_, logs, err = b.run(t, nil, "forward", "--config", b.cfg, "--once")
	if err != nil {
		t.Fatalf("second forward --once: %v\n%s", err, logs)
	}
	if got := logInt(t, logs, "events", stream...); got != 7 {
		t.Errorf("second run: events=%d, want 7", got)
	}
	if got := logInt(t, logs, "events", "msg=summary", "sink=archive"); got != 7 || len(b.lines(t)) != 2507 {
		t.Errorf("second run: sink events=%d, file %d lines; want 7 and 2507", got, len(b.lines(t)))
	}
}

// TestForwardProgressAndInterrupt: a continuous forwarder logs progress
// lines with the events each stream delivered, says "idle" once when
// nothing moves, and when interrupted (cli.Main's context is what main
// cancels on SIGINT or SIGTERM) exits cleanly with the summary.
func TestForwardProgressAndInterrupt(t *testing.T) {
	b := setupForward(t)
	b.rewriteConfig(t, "state_dir:", "poll_interval: 10ms\nstate_dir:")
	b.appendAt(t, b.base, 1200)
	logs := &syncBuffer{changed: make(chan struct{}, 1)}
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	done := make(chan error, 1)
	go func() {
		done <- cli.Main(ctx, []string{"forward", "--config", b.cfg, "--progress-interval", "50ms"},
			cli.Env{Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}, Stderr: logs})
	}()
	logs.waitFor(t, "msg=\"idle: nothing new to forward\"")
	total := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "msg=progress") && strings.Contains(line, "feature=auditevents") {
			n, _ := logValue(line, "events")
			v, _ := strconv.Atoi(n)
			total += v
		}
	}
	if total != 1200 {
		t.Errorf("progress lines add up to %d auditevents, want 1200:\n%s", total, logs.String())
	}
	if n := strings.Count(logs.String(), "idle: nothing new"); n != 1 {
		t.Errorf("idle said %d times, want once", n)
	}
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("interrupted forward returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("forward did not stop when interrupted:\n%s", logs.String())
	}
	if got := logInt(t, logs.String(), "events", "msg=summary", "feature=auditevents"); got != 1200 || len(b.lines(t)) != 1200 {
		t.Errorf("summary after the interrupt: events=%d, file %d lines; want 1200 and 1200", got, len(b.lines(t)))
	}
}
