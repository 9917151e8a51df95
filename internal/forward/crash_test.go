package forward_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/forward"
	logbooksink "github.com/logbookhq/logbook/internal/sink/logbook"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// crashChildEnv makes the test binary act as "logbook forward": the crash
// test re-executes itself with it, so the forwarder runs in a process it
// can SIGKILL.
const crashChildEnv = "LOGBOOK_TEST_FORWARD_CHILD"

// TestCrashChild is the child of TestCrashRestart; it does nothing in a
// normal run.
func TestCrashChild(t *testing.T) {
	args := os.Getenv(crashChildEnv)
	if args == "" {
		t.Skip("only run as the crash test's child")
	}
	err := cli.Main(context.Background(), strings.Fields(args), cli.Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}

// TestCrashRestart runs "logbook forward --once" as a child process
// against a real Logbook server holding 30,000 events, SIGKILLs it at
// random (seeded) moments, restarts it each time, and finally lets it
// finish. Every event must be in the file; duplicates may only come from
// pages in flight at the kills: a stream delivers one page at a time and
// saves its cursor right after the sinks confirmed it, so each kill
// repeats at most one page per stream (the sinks never fail here, so the
// spools stay empty). A sink keyed by uuid (NATS JetStream, de-duplicating
// on Nats-Msg-Id; a Logbook mirror, whose store keeps one event per uuid)
// must hold every event exactly once.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, tt := range []struct {
		name                            string
		gzip, withNATS, v3, withLogbook bool
	}{{"file", false, false, false, false}, {"file-gzip", true, false, false, false}, {"file+nats", false, true, false, false},
		{"file-v3", false, false, true, false}, {"file+logbook", false, false, false, true}} {
		t.Run(tt.name, func(t *testing.T) { crashRestart(t, tt.gzip, tt.withNATS, tt.v3, tt.withLogbook) })
	}
}

// crashRestart is one run of TestCrashRestart; v3 reads audit events from
// the v3 beta (api_version: 3); withLogbook adds a logbook sink (a mirror
// in a SQLite store).
func crashRestart(t *testing.T, gz, withNATS, v3, withLogbook bool) {
	const (
		limit   = 250
		streams = 2 // auditevents and signinattempts carry events
		kills   = 12
	)
	b := setup(t)
	want := appendEvents(t, b.srv, 24_000) // 24,000 audit events + 6,000 sign-in attempts
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.token"), []byte(b.srv.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`state_dir: ./state
limit: %d
poll_interval: 10ms
backoff_initial: 1ms
backoff_max: 20ms
sources:
  - name: demo
    url: %s
    token_file: ./demo.token
    start_time: %s
    api_version: %d
sinks:
  - name: archive
    type: file
    path: ./events.ndjson
    gzip: %v
`, limit, b.srv.URL, time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339), map[bool]int{false: 2, true: 3}[v3], gz)
	var js jetstream.JetStream
	var streamName, natsAddr string
	if withNATS {
		js, streamName, natsAddr = natsStream(t)
		id := strings.ToLower(strings.TrimPrefix(streamName, "LOGBOOKCRASH_"))
		cfg += fmt.Sprintf(`  - name: jetstream
    type: nats
    url: %s
    stream: %s
    create_stream: true
    subject: logbookcrash.%s.{feature}
`, natsAddr, streamName, id)
	}
	if withLogbook {
		cfg += "  - name: mirror\n    type: logbook\n    data: ./mirror\n"
	}
	cfgPath := filepath.Join(dir, "forward.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "events.ndjson")
	if gz {
		out += ".gz"
	}

	rng := rand.New(rand.NewPCG(20261126, 5))
	midway := 0
	size := func() int64 {
		fi, err := os.Stat(out)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	// run starts the forwarder; with kill, it SIGKILLs it a seeded random
	// moment after the file first grew in this run, so that every kill
	// lands while events flow however slowly the child starts (a loaded
	// machine, the race detector). It reports whether the kill came first.
	run := func(kill bool) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"=forward --config "+cfgPath+" --once")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		before := size()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		var timer *time.Timer
		armed := make(chan *time.Timer, 1)
		if kill {
			extra := time.Duration(rng.IntN(40)) * time.Millisecond
			go func() {
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for size() <= before {
					select {
					case <-exited:
						armed <- nil
						return
					case <-tick.C:
					}
				}
				armed <- time.AfterFunc(extra, func() { cmd.Process.Signal(os.Kill) })
			}()
		}
		err := cmd.Wait()
		close(exited)
		if kill {
			timer = <-armed
		}
		if timer != nil && !timer.Stop() {
			killed = true
		}
		if err != nil && !killed {
			t.Fatalf("forwarder exited with %v:\n%s", err, stderr.Bytes())
		}
		return killed
	}
	k, seen := 0, 0
	for midway < kills && k < 4*kills {
		if !run(true) {
			break // finished before the kill
		}
		k++
		n := wholeLines(t, out)
		if n > seen && n < len(want) {
			midway++
		}
		seen = n
	}
	run(false)

	got := readUUIDs(t, out)
	bound := k * streams * limit
	checkAll(t, want, got, bound)
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	t.Logf("%d kills (%d with the file partly written), %d events, %d duplicates (bound %d)", k, midway, len(want), dups, bound)
	if midway < 3 {
		t.Errorf("only %d of %d kills hit the forwarder mid-stream, want at least 3 (the test proves little otherwise)", midway, k)
	}
	if len(got) != len(want) {
		t.Errorf("file holds %d distinct events, want %d", len(got), len(want))
	}
	if v3 {
		// The audit events came in the v3 shape: 24,000 of them at least.
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(data, []byte(`"insert_time":`)); n < 24_000 {
			t.Errorf("%d events in the v3 shape, want at least 24,000", n)
		}
	}
	if withLogbook {
		mirrorHoldsOnce(t, filepath.Join(dir, "mirror", logbooksink.DBFile), b.srv.Account, want)
	}
	if withNATS {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, streamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.State.Msgs; got != uint64(len(want)) {
			t.Errorf("JetStream stream holds %d messages, want exactly %d (one per event, no duplicates)", got, len(want))
		}
	}
}

// mirrorHoldsOnce fails the test unless the mirror's store at path holds,
// in account's streams, every event of want exactly once and nothing else.
func mirrorHoldsOnce(t *testing.T, path, account string, want map[string]bool) {
	t.Helper()
	st := sqlitetest.Open(t, path)
	got := map[string]int{}
	for _, f := range events.AllFeatures {
		for _, r := range storetest.Drain(t, st, store.ListQuery{Account: account, Feature: f, Limit: 1000}) {
			ev, err := forward.ScanEvent(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			got[ev.UUID]++
		}
	}
	checkAll(t, want, got, 0)
	if len(got) != len(want) {
		t.Errorf("the mirror holds %d distinct events, want %d", len(got), len(want))
	}
}

// natsStream connects to JetStream (skipping, or failing under CI, when
// there is none), names a stream that is deleted when the test ends, and
// returns the server's URL with them.
func natsStream(t *testing.T) (js jetstream.JetStream, stream, url string) {
	t.Helper()
	url = testenv.NATSURL(t) // skips (fails under CI) when there is none
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		testenv.Unavailable(t, "NATS at %s: %v (LOGBOOK_TEST_NATS_URL names the server)", url, err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := "LOGBOOKCRASH_" + strings.ToUpper(events.NewID()[:10])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", name, err)
		}
	})
	return js, name, url
}

// wholeLines counts the complete lines of path: a kill can leave a torn
// last line (or gzip member), which the file sink cuts off when it opens
// the file again.
func wholeLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") && len(data) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return 0
		}
		data, _ = io.ReadAll(zr) // what decompressed before a torn member
	}
	return bytes.Count(data, []byte{'\n'})
}
