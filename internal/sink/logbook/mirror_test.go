package logbook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/sink/logbook"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/testenv"
)

// mirrorAhead is how far the mirror's clock runs ahead of the source's: far
// enough that a window of the default 120 days no longer reaches the
// demo's events, while the mirror's account, which serves forever, still
// does.
const mirrorAhead = 200 * 24 * time.Hour

// stream is the v2 events of one stream as a walk from the beginning
// returned them: each event's bytes, in order.
type stream [][]byte

// walk reads all three streams of srv from 2020 on, with v2 pages of 1000
// (or those of the API versions given: 1, or 3 for audit events).
func walk(t *testing.T, url, token string, version ...int) map[events.Feature]stream {
	t.Helper()
	var opts []client.Option
	for _, v := range version {
		opts = append(opts, client.WithAPIVersion(v))
	}
	c, err := client.New(url, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	out := map[events.Feature]stream{}
	for _, f := range events.AllFeatures {
		req := client.FromReset(events.ResetCursor{Limit: 1000, StartTime: &start})
		for {
			p, err := c.RawPage(t.Context(), f, req)
			if err != nil {
				t.Fatalf("walk %s of %s: %v", f, url, err)
			}
			for _, it := range p.Items {
				out[f] = append(out[f], bytes.Clone(it))
			}
			if !p.HasMore {
				break
			}
			req = client.FromCursor(p.Cursor)
		}
	}
	return out
}

// sameStreams fails the test unless the mirror served every stream of the
// source: the same events, byte for byte, in the same order, each once.
func sameStreams(t *testing.T, src, mirror map[events.Feature]stream) {
	t.Helper()
	for _, f := range events.AllFeatures {
		s, m := src[f], mirror[f]
		if len(s) == 0 {
			t.Errorf("%s: the source served no events; the test proves nothing", f)
		}
		if len(m) != len(s) {
			t.Errorf("%s: mirror served %d events, source %d", f, len(m), len(s))
		}
		for i := range min(len(s), len(m)) {
			if !bytes.Equal(s[i], m[i]) {
				t.Fatalf("%s event %d:\nsource %s\nmirror %s", f, i, s[i], m[i])
			}
		}
	}
}

var insertTimeRE = regexp.MustCompile(`"insert_time":"([^"]*)"`)

// insertedBefore checks that every v3 event of mirror has a later
// insert_time than the source's event at the same place (the mirror stored
// it, later, by its clock running ahead), and returns both with
// insert_time blanked, for sameStreams to compare the rest byte for byte.
func insertedBefore(t *testing.T, src, mirror map[events.Feature]stream) (map[events.Feature]stream, map[events.Feature]stream) {
	t.Helper()
	blank := func(m map[events.Feature]stream) (map[events.Feature]stream, [][]byte) {
		out, times := map[events.Feature]stream{}, [][]byte{}
		for f, s := range m {
			for _, ev := range s {
				if f == events.AuditEvents {
					times = append(times, insertTimeRE.FindSubmatch(ev)[1])
					ev = insertTimeRE.ReplaceAll(ev, []byte(`"insert_time":""`))
				}
				out[f] = append(out[f], ev)
			}
		}
		return out, times
	}
	s, st := blank(src)
	m, mt := blank(mirror)
	for i := range min(len(st), len(mt)) {
		a, errA := time.Parse(time.RFC3339Nano, string(st[i]))
		b, errB := time.Parse(time.RFC3339Nano, string(mt[i]))
		if errA != nil || errB != nil || !b.After(a) {
			t.Fatalf("audit event %d: insert_time %s at the source, %s at the mirror; want the mirror's later", i, st[i], mt[i])
		}
	}
	return s, m
}

// forwardOnce runs "logbook forward --once" on a configuration mirroring
// src into the sink of doc (a YAML mapping of the sink's options), in dir.
func forwardOnce(t *testing.T, dir string, src *servertest.Server, sinkDoc string, env map[string]string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "source.token"), []byte(src.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "state_dir: ./state\nsources:\n  - name: onepassword\n    url: " + src.URL +
		"\n    token_file: source.token\n    start_time: 2020-01-01T00:00:00Z\nsinks:\n  - name: mirror\n    type: logbook\n"
	for line := range strings.Lines(sinkDoc) {
		cfg += "    " + line
	}
	path := filepath.Join(dir, "forward.yaml")
	if err := os.WriteFile(path, []byte(cfg+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := cli.Main(ctx, []string{"forward", "--config", path, "--once"}, cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("forward --once: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// lateEvents stores n audit events at the source, one a second from at:
// days in the past, after the mirror caught up, as a source does with
// events that arrive late, or new ones.
func lateEvents(t *testing.T, src *servertest.Server, n int, at time.Time) {
	t.Helper()
	var evs []any
	for i := range n {
		evs = append(evs, &events.AuditEvent{UUID: events.NewID(), Timestamp: at.Add(time.Duration(i) * time.Second),
			ActorUUID: events.NewID(), Action: "join", ObjectType: "user",
			ObjectUUID: events.Str(events.NewID()), AccountUUID: src.Account})
	}
	if got := src.Append(t, evs...); got != n {
		t.Fatalf("stored %d late events, want %d", got, n)
	}
}

// mirrorCase is one way of keeping the mirror: the sink's options, and the
// server that serves what it kept.
type mirrorCase struct {
	name string
	// setUp returns the sink's options and its environment, and the
	// options of the server on the mirror's store (started after the
	// first forward).
	setUp func(t *testing.T, src *servertest.Server, dir string) (doc string, env map[string]string, serve servertest.Options)
	// remote: the mirror's server runs from the start (it receives).
	remote bool
}

var mirrorCases = []mirrorCase{
	{name: "sqlite", setUp: func(t *testing.T, src *servertest.Server, dir string) (string, map[string]string, servertest.Options) {
		data := filepath.Join(dir, "mirror")
		return "data: " + data, nil, servertest.Options{DataDir: data}
	}},
	{name: "postgres", setUp: func(t *testing.T, src *servertest.Server, dir string) (string, map[string]string, servertest.Options) {
		db := testenv.PostgresSchema(t)
		return "db: " + db, nil, servertest.Options{DB: db}
	}},
	{name: "remote", remote: true},
}

// TestMirror: a source Logbook with the demo, mirrored with logbook forward
// into a second store and served from it with a longer window (the mirror's
// account serves forever, and its clock runs 200 days ahead), serves the
// same streams: the same uuids in the same order, byte-identical events
// (v2, and v1 and the v3 beta's audit events too, but for v3's
// insert_time, which is the mirror's own and later).
// Events that arrive late at the source (old timestamps, after the mirror
// caught up) reach the mirror once; forwarding again adds nothing.
func TestMirror(t *testing.T) {
	for _, mc := range mirrorCases {
		t.Run(mc.name, func(t *testing.T) {
			src := servertest.Start(t, servertest.Options{Demo: true})
			dir := t.TempDir()
			ahead := func() time.Time { return time.Now().Add(mirrorAhead) }
			var (
				doc    string
				env    map[string]string
				mirror *servertest.Server
			)
			if mc.remote {
				mirror = servertest.Start(t, servertest.Options{Account: src.Account, Now: ahead})
				key, _, err := ingest.CreateKey(t.Context(), mirror.Store, src.Account, "mirror", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				doc, env = "url: "+mirror.URL+"\nkey_env: MIRROR_KEY", map[string]string{"MIRROR_KEY": key}
			} else {
				var serve servertest.Options
				doc, env, serve = mc.setUp(t, src, dir)
				forwardOnce(t, dir, src, doc, env)
				serve.Account, serve.Now = src.Account, ahead
				mirror = servertest.Start(t, serve)
			}
			if err := mirror.Store.SetServeWindow(t.Context(), src.Account, store.ServeForever); err != nil {
				t.Fatal(err)
			}
			if mc.remote {
				forwardOnce(t, dir, src, doc, env)
			}
			before := walk(t, src.URL, src.Token)
			sameStreams(t, before, walk(t, mirror.URL, mirror.Token))
			sameStreams(t, walk(t, src.URL, src.Token, 1), walk(t, mirror.URL, mirror.Token, 1))
			s3, m3 := insertedBefore(t, walk(t, src.URL, src.Token, 3), walk(t, mirror.URL, mirror.Token, 3))
			sameStreams(t, s3, m3)
			if !mc.remote {
				checkStatus(t, dir, env, before, 0)
			}

			lateEvents(t, src, 25, time.Now().UTC().Add(-10*24*time.Hour).Truncate(time.Second))
			lateEvents(t, src, 5, time.Now().UTC())
			if !mc.remote {
				checkStatus(t, dir, env, before, 5)
			}
			log := forwardOnce(t, dir, src, doc, env)
			after := walk(t, src.URL, src.Token)
			if !mc.remote {
				checkStatus(t, dir, env, after, 0)
			}
			if got, want := len(after[events.AuditEvents]), len(before[events.AuditEvents])+30; got != want {
				t.Fatalf("source serves %d audit events after the late ones, want %d", got, want)
			}
			sameStreams(t, after, walk(t, mirror.URL, mirror.Token))
			if !strings.Contains(log, "duplicates_absorbed=0") {
				t.Errorf("the run summary does not say the mirror absorbed no duplicates:\n%s", log)
			}

			// Forwarding again from the start (the forwarder's state lost)
			// gives the mirror every event again: the store absorbs them
			// all, and the run summary counts them.
			if err := os.RemoveAll(filepath.Join(dir, "state")); err != nil {
				t.Fatal(err)
			}
			log = forwardOnce(t, dir, src, doc, env)
			total := 0
			for _, s := range after {
				total += len(s)
			}
			if want := fmt.Sprintf("sink=mirror events=%d dead_letters=0 spooled_batches=0 duplicates_absorbed=%d", total, total); !strings.Contains(log, want) {
				t.Errorf("the run summary lacks %q:\n%s", want, log)
			}
			sameStreams(t, after, walk(t, mirror.URL, mirror.Token))

			// The same bytes in the same order: each stream's Merkle tree
			// (docs/integrity.md) is the source's, leaf for leaf.
			for _, f := range events.AllFeatures {
				sh, err := src.Store.TreeHead(t.Context(), src.Account, f)
				if err != nil {
					t.Fatal(err)
				}
				mh, err := mirror.Store.TreeHead(t.Context(), src.Account, f)
				if err != nil {
					t.Fatal(err)
				}
				if sh.Size != int64(len(after[f])) || mh.Size != sh.Size || !bytes.Equal(mh.Frontier, sh.Frontier) {
					t.Errorf("%s: the mirror's tree head (size %d) is not the source's (size %d)", f, mh.Size, sh.Size)
				}
			}
		})
	}
}

// checkStatus runs "logbook mirror status" on the configuration in dir and
// checks that it says the mirror holds the streams of mirrored, and that
// the source holds behind audit events more, newer ones (0: the mirror is
// level with the source).
func checkStatus(t *testing.T, dir string, env map[string]string, mirrored map[events.Feature]stream, behind int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Main(t.Context(), []string{"mirror", "status", "--config", filepath.Join(dir, "forward.yaml"), "--json"},
		cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("mirror status: %v\n%s", err, stderr.String())
	}
	var rows []struct {
		Sink, Source string
		logbook.StreamStatus
	}
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatalf("mirror status --json: %v\n%s", err, stdout.String())
	}
	if len(rows) != len(events.AllFeatures) {
		t.Fatalf("mirror status: %d streams, want %d:\n%s", len(rows), len(events.AllFeatures), stdout.String())
	}
	for _, r := range rows {
		s := mirrored[r.Feature]
		last, _ := forward.ScanEvent(s[len(s)-1])
		newer := 0
		if r.Feature == events.AuditEvents {
			newer = behind
		}
		if r.Sink != "mirror" || r.Source != "onepassword" || r.Count != int64(len(s)) || r.LastUUID != last.UUID ||
			!r.LastTime.Equal(last.Time) || r.Newer != newer || (r.Lag > 0) != (newer > 0) || r.SourceNewest.IsZero() {
			t.Errorf("mirror status of %s: %+v; want %d events, the last %s, %d newer at the source", r.Feature, r, len(s), last.UUID, newer)
		}
	}
}
