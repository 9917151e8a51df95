package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
)

func batch(raw ...string) forward.Batch {
	b := forward.Batch{Source: "demo", Feature: events.AuditEvents}
	for _, r := range raw {
		ev, _ := forward.ScanEvent([]byte(r))
		b.Events = append(b.Events, ev)
	}
	return b
}

func evs(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf(`{"uuid":"E%025d","timestamp":"2026-01-01T00:00:00Z","action":"join","aux_info":"%s"}`, i, strings.Repeat("x", 40)))
	}
	return out
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		// An open file ends with a flushed, unterminated member.
		b, err = io.ReadAll(zr)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatal(err)
		}
	}
	return string(b)
}

// TestWrite: after Write returns (before Close) the file holds exactly the
// raw events, one a line; multi-line events are compacted, invalid ones
// rejected with a reason.
func TestWrite(t *testing.T) {
	pretty := "{\n  \"uuid\": \"P\",\n  \"timestamp\": \"2026-01-01T00:00:00Z\"\n}"
	tests := []struct {
		name     string
		in       []string
		want     string
		rejected []int
	}{
		{"raw bytes", evs(0, 3), lines(evs(0, 3)...), nil},
		{"unusual spacing kept", []string{`{"uuid":"S" , "timestamp":"2026-01-01T00:00:00Z"}`}, lines(`{"uuid":"S" , "timestamp":"2026-01-01T00:00:00Z"}`), nil},
		{"pretty-printed compacted", []string{pretty}, lines(`{"uuid":"P","timestamp":"2026-01-01T00:00:00Z"}`), nil},
		{"invalid multi-line rejected", []string{evs(0, 1)[0], "{\n\"uuid\": \"B\",", evs(1, 1)[0]}, lines(evs(0, 2)...), []int{1}},
	}
	for _, gz := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/gzip=%v", tt.name, gz), func(t *testing.T) {
				s, err := Open("archive", Options{Path: filepath.Join(t.TempDir(), "out.ndjson"), Gzip: gz})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				err = s.Write(t.Context(), batch(tt.in...))
				var rej *forward.RejectedError
				var got []int
				if errors.As(err, &rej) {
					for _, r := range rej.Rejected {
						got = append(got, r.Index)
						if !strings.Contains(r.Reason, "not valid JSON") {
							t.Errorf("reason %q does not say why", r.Reason)
						}
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.rejected, got); diff != "" {
					t.Errorf("rejected (-want +got):\n%s", diff)
				}
				if gz != strings.HasSuffix(s.Path(), ".gz") {
					t.Errorf("path %s, gzip %v", s.Path(), gz)
				}
				if diff := cmp.Diff(tt.want, read(t, s.Path())); diff != "" {
					t.Errorf("file content after Write (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestAppendAcrossOpens: a second sink on the same path appends; with
// gzip the members concatenate into one valid stream.
func TestAppendAcrossOpens(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.ndjson")
			for i := range 3 {
				s, err := Open("archive", Options{Path: path, Gzip: gz})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Write(t.Context(), batch(evs(i*2, 2)...)); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				path = s.Path()
			}
			if diff := cmp.Diff(lines(evs(0, 6)...), read(t, path)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRotation: the file rotates before a batch would take it past
// max_size, rotated files are named by time, max_files keeps the newest,
// and together the files hold every event in order.
func TestRotation(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir := t.TempDir()
			line := len(evs(0, 1)[0]) + 1
			s, err := Open("archive", Options{Path: filepath.Join(dir, "out.ndjson"), MaxSize: forward.Size(5 * line), MaxFiles: 3, Gzip: gz})
			if err != nil {
				t.Fatal(err)
			}
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
			for i := range 10 { // batches of 2: files of 4 events (a third batch would pass 5 lines)
				if err := s.Write(t.Context(), batch(evs(i*2, 2)...)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "out.ndjson*"))
			sort.Strings(files)
			var names []string
			var all string
			for _, f := range files {
				names = append(names, filepath.Base(f))
			}
			// Rotated files sort by time; the live file (no stamp) is last.
			ext := ""
			if gz {
				ext = ".gz"
			}
			order := []string{ // oldest first
				"out.ndjson.20260101T000002.000000000Z" + ext,
				"out.ndjson.20260101T000003.000000000Z" + ext,
				"out.ndjson.20260101T000004.000000000Z" + ext,
				"out.ndjson" + ext,
			}
			want := append([]string(nil), order...)
			sort.Strings(want)
			if diff := cmp.Diff(want, names); diff != "" {
				t.Fatalf("files (-want +got):\n%s", diff)
			}
			// 5 files were made (4 events each); max_files 3 dropped the
			// oldest rotated one.
			for _, n := range order {
				all += read(t, filepath.Join(dir, n))
			}
			if diff := cmp.Diff(lines(evs(4, 16)...), all); diff != "" {
				t.Errorf("content of the kept files (-want +got):\n%s", diff)
			}
		})
	}
}

// harness builds sinks from YAML as a configuration file in /etc/logbook
// hands it to New.
var harness = sinktest.Harness{New: New, Type: "file", Name: "archive", Dir: "/etc/logbook"}

func TestNew(t *testing.T) {
	tests := []struct {
		doc, wantPath, wantErr string
	}{
		{"path: ./events.ndjson", "/etc/logbook/events.ndjson", ""},
		{"path: /var/log/e.ndjson\ngzip: true\nmax_size: 100MiB\nmax_files: 3", "/var/log/e.ndjson.gz", ""},
		{"gzip: true", "", "path: required"},
		{"path: x\nmax_size: lots", "", "lots"},
		{"path: x\nmax_size: 16777216TiB", "", `"16777216TiB": too large`},
		{"path: x\nmax_size: 9223372036854775807k", "", "too large"},
		{"path: x\nmax_files: -1", "", "max_files: must not be negative"},
		{"path: x\ncolour: red", "", "colour"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			if tt.wantErr != "" {
				harness.Refused(t, tt.doc, tt.wantErr)
				return
			}
			s := harness.Open(t, tt.doc)
			if got := s.(*Sink).Path(); got != tt.wantPath {
				t.Errorf("path = %s, want %s", got, tt.wantPath)
			}
			if _, err := os.Stat(tt.wantPath); err == nil {
				t.Errorf("New created %s; it must create no file", tt.wantPath)
			}
		})
	}
}

func TestWriteCancelled(t *testing.T) {
	s, err := Open("archive", Options{Path: filepath.Join(t.TempDir(), "out.ndjson")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, batch(evs(0, 1)...)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("a cancelled Write created the file (%v)", err)
	}
}

// TestTornTail: a crash in the middle of a write leaves a torn last line
// (or gzip member); the next open cuts it off, so the repeated batch
// follows whole lines and the gzip stream stays valid.
func TestTornTail(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.ndjson")
			s, err := Open("archive", Options{Path: path, Gzip: gz})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if err := s.Write(t.Context(), batch(evs(i*2, 2)...)); err != nil {
					t.Fatal(err)
				}
			}
			// Simulate the kill: half of the next batch's bytes, no Close.
			torn := []byte(lines(evs(4, 2)...))
			if gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(torn)
				zw.Close()
				torn = z.Bytes()
			}
			f, err := os.OpenFile(s.Path(), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(torn[:len(torn)/2-5]) // inside the first line (or member)
			f.Close()

			s2, err := Open("archive", Options{Path: path, Gzip: gz})
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.Write(t.Context(), batch(evs(4, 2)...)); err != nil {
				t.Fatal(err)
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(s2.Path())
			if err != nil {
				t.Fatal(err)
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if data, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gzip stream after the repair: %v", err)
				}
			}
			if diff := cmp.Diff(lines(evs(0, 6)...), string(data)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if s2.size != int64(len(lines(evs(0, 6)...))) {
				t.Errorf("size counted %d, want %d", s2.size, len(lines(evs(0, 6)...)))
			}
		})
	}
}
