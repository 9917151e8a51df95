package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

const simStart = "2026-03-02T00:00:00Z"

func runSim(t *testing.T, clock simClock, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := simulateWith(t.Context(), Env{Stdout: &out, Stderr: &errb}, args, clock)
	return out.String(), err
}

func fixedClock(now time.Time) simClock {
	return simClock{now: func() time.Time { return now }, ticker: realClock.ticker}
}

// readNDJSON checks each line's shape and returns the number per kind.
func readNDJSON(t *testing.T, data []byte) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var rec struct {
			Kind  string `json:"kind"`
			Event struct {
				UUID      string    `json:"uuid"`
				Timestamp time.Time `json:"timestamp"`
			} `json:"event"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if _, err := events.ParseFeature(rec.Kind); err != nil || !events.ValidUpperID(rec.Event.UUID) || rec.Event.Timestamp.IsZero() {
			t.Fatalf("line %d: kind %q, uuid %q, timestamp %v", i+1, rec.Kind, rec.Event.UUID, rec.Event.Timestamp)
		}
		kinds[rec.Kind]++
	}
	return kinds
}

func TestSimulateOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var files [][]byte
	for _, name := range []string{"a.ndjson", "b.ndjson"} {
		path := filepath.Join(dir, name)
		out, err := runSim(t, fixedClock(now), "--seed", "5", "--start", simStart, "--backfill", "2d", "--out", path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "simulated ") || !strings.Contains(out, "events/s") {
			t.Errorf("output %q lacks the summary", out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("two runs with the same --seed and --start wrote different files")
	}
	kinds := readNDJSON(t, files[0])
	for _, f := range events.AllFeatures {
		if kinds[string(f)] < 50 {
			t.Errorf("%d %s in 2 days, want at least 50", kinds[string(f)], f)
		}
	}
}

func TestSimulateIntoStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	args := []string{"--data", dir, "--account", "Acme", "--seed", "9", "--start", simStart, "--backfill", "36h", "--users", "20"}
	out, err := runSim(t, fixedClock(now), args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `account "Acme"`) {
		t.Errorf("output %q does not name the account", out)
	}

	var f storeFlags
	f.data = dir
	st, err := f.open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.AccountByName(t.Context(), "Acme")
	if err != nil {
		t.Fatalf("account Acme: %v", err)
	}
	start, _ := time.Parse(time.RFC3339, simStart)
	stored := 0
	for _, feat := range events.AllFeatures {
		counts, err := st.CountEvents(t.Context(), acct.UUID, feat, start, start.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, c := range counts {
			n += c.N
		}
		if n == 0 {
			t.Errorf("no %s stored", feat)
		}
		stored += int(n)
	}
	st.Close()
	if want := "simulated " + strconv.Itoa(stored) + " events"; !strings.HasPrefix(out, want) {
		t.Errorf("output %q, want it to start %q (the store holds %d)", out, want, stored)
	}
	if !strings.Contains(out, "; "+strconv.Itoa(stored)+" new") {
		t.Errorf("output %q, want %d new", out, stored)
	}

	// The same run again adds nothing: events are the same, by uuid.
	out, err = runSim(t, fixedClock(now), args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "; 0 new") {
		t.Errorf("second run: %q, want 0 new", out)
	}

	// The same seed an hour later, as a backfill rerun the next hour starts:
	// its events are new ones, stored beside the first run's, not the first
	// run's UUIDs at other times (which the store refuses as conflicts).
	later := slices.Clone(args)
	later[slices.Index(later, simStart)] = "2026-03-02T01:00:00Z"
	out, err = runSim(t, fixedClock(now), later...)
	if err != nil {
		t.Fatalf("same seed, later start: %v", err)
	}
	if strings.Contains(out, "; 0 new") {
		t.Errorf("same seed, later start: %q, want new events", out)
	}
}

// TestSimulateLive paces --live with a hand-driven ticker and clock: after
// the ticks, the file holds exactly what a backfill of the same span gives.
func TestSimulateLive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start, _ := time.Parse(time.RFC3339, simStart)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu  sync.Mutex
		now = start.Add(90 * time.Minute)
	)
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	ticks := make(chan time.Time)
	clock := simClock{
		now:    func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		ticker: func() (<-chan time.Time, func()) { return ticks, func() {} },
	}
	live := filepath.Join(dir, "live.ndjson")
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- simulateWith(ctx, Env{Stdout: &out, Stderr: &out}, []string{"--seed", "4", "--start", simStart, "--live", "--out", live}, clock)
	}()
	for _, d := range []time.Duration{2 * time.Hour, 3*time.Hour + 17*time.Minute, 5 * time.Hour} {
		ticks <- time.Time{} // received only once the previous tick is handled
		setNow(start.Add(d))
	}
	ticks <- time.Time{} // handles the 5-hour mark
	ticks <- time.Time{} // received once that is written
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	bf := filepath.Join(dir, "backfill.ndjson")
	if _, err := runSim(t, fixedClock(start.Add(10*time.Hour)), "--seed", "4", "--start", simStart, "--backfill", "5h", "--out", bf); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(live)
	want, _ := os.ReadFile(bf)
	if len(readNDJSON(t, got)) == 0 {
		t.Fatal("live run wrote nothing")
	}
	if !bytes.Equal(got, want) {
		t.Errorf("live run wrote %d bytes, a backfill of the same span %d; want the same bytes", len(got), len(want))
	}
}

func TestSimulateFlags(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "x.ndjson")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no mode", []string{"--out", out}, "--backfill DURATION or --live"},
		{"both modes", []string{"--backfill", "1d", "--live", "--out", out}, "--backfill DURATION or --live"},
		{"rate without live", []string{"--backfill", "1d", "--rate", "5/min", "--out", out}, "--rate: only with --live"},
		{"bad rate", []string{"--live", "--rate", "fast", "--out", out}, `--rate: "fast" is not a positive rate`},
		{"bad rate unit", []string{"--live", "--rate", "5/week", "--out", out}, `unit "week"`},
		{"bad span", []string{"--backfill", "3x", "--out", out}, `--backfill: "3x" is not a duration`},
		{"zero span", []string{"--backfill", "0d", "--out", out}, `--backfill: "0d" is not positive`},
		{"bad start", []string{"--backfill", "1d", "--start", "yesterday", "--out", out}, `--start: "yesterday" is not an RFC 3339 time`},
		{"future live", []string{"--live", "--start", "2027-01-01T00:00:00Z", "--out", out}, "--start: 2027-01-01T00:00:00Z is in the future"},
		{"rate above the most", []string{"--live", "--rate", "601/min", "--out", out}, "--rate: 601/min is more than the simulator generates live (at most 600/min"},
		{"rate above the most per second", []string{"--live", "--rate", "11/s", "--out", out}, "--rate: 11/s is more than"},
		{"users and rate", []string{"--live", "--rate", "5", "--users", "3", "--out", out}, "--users: give --users or --rate"},
		{"negative users", []string{"--backfill", "1d", "--users", "-1", "--out", out}, "--users: -1 is negative"},
		{"stray", []string{"--backfill", "1d", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runSim(t, fixedClock(now), tt.args...)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("error = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseRateAndSpan(t *testing.T) {
	t.Parallel()
	rates := map[string]float64{"120/min": 120, "2/s": 120, "600/h": 10, "45": 45, "7.5/m": 7.5}
	got := map[string]float64{}
	for in := range rates {
		r, err := parseRate(in)
		if err != nil {
			t.Fatalf("parseRate(%q): %v", in, err)
		}
		got[in] = r
	}
	if diff := cmp.Diff(rates, got); diff != "" {
		t.Errorf("parseRate (-want +got):\n%s", diff)
	}
	spans := map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute}
	for in, want := range spans {
		if d, err := parseSpan(in); err != nil || d != want {
			t.Errorf("parseSpan(%q) = %v, %v, want %v", in, d, err, want)
		}
	}
}

// BenchmarkSimulateIntoStore measures `logbook simulate --backfill 30d` into
// a fresh SQLite store: generation, encoding and de-duplicating appends,
// overlapped. Reported in events/s.
func BenchmarkSimulateIntoStore(b *testing.B) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	total := 0
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "data")
		var f storeFlags
		f.data = dir
		st, err := f.open(b.Context()) // migrations outside the timing
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
		var out bytes.Buffer
		b.StartTimer()
		err = simulateWith(b.Context(), Env{Stdout: &out}, []string{"--data", dir, "--seed", "1", "--start", simStart, "--backfill", "30d"}, fixedClock(now))
		if err != nil {
			b.Fatal(err)
		}
		var n int
		if _, err := fmt.Sscanf(out.String(), "simulated %d events", &n); err != nil {
			b.Fatalf("output %q: %v", out.String(), err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}
