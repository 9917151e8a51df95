package forward

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// waited returns how long one w.Wait took (in synctest's fake time),
// failing t on an error.
func waited(t *testing.T, w interface{ Wait(context.Context) error }) time.Duration {
	t.Helper()
	start := time.Now()
	if err := w.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// TestBudgetWindow: no 60-second window holds more than PerMinute
// requests, and Block delays everyone.
func TestBudgetWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(Limits{PerMinute: 10, PerHour: 25})
		start := time.Now()
		var times []time.Duration
		for range 30 {
			if err := b.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		for i := 10; i < len(times); i++ {
			if d := times[i] - times[i-10]; d < time.Minute {
				t.Errorf("requests %d and %d are %v apart, want at least a minute", i-10, i, d)
			}
		}
		// The hour limit: the 26th request waits for the first to age out.
		if times[25] < time.Hour {
			t.Errorf("request 26 at %v, want after an hour", times[25])
		}
		b.Block(time.Now().Add(2 * time.Hour))
		if d := waited(t, b); d < 2*time.Hour {
			t.Errorf("Wait after Block returned after %v, want 2h", d)
		}
	})
}

func TestBackoffFullJitter(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 8 * time.Second}
	for i, ceil := range []time.Duration{1, 2, 4, 8, 8, 8} {
		d := b.Next(0)
		if d <= 0 || d > ceil*time.Second {
			t.Errorf("retry %d waits %v, want in (0, %v]", i, d, ceil*time.Second)
		}
	}
	if d := b.Next(time.Minute); d != time.Minute {
		t.Errorf("Next(1m) = %v, want the Retry-After floor 1m", d)
	}
}

func TestParseConfigErrors(t *testing.T) {
	doc := `
state_dir: ./s
limit: 5000
bogus: 1
sources:
  - name: "bad name"
    start_time: yesterday
  - name: ok
    token_env: TOKEN
    features: [auditevents, nope]
sinks:
  - name: a
    type: file
    extra: 1
  - name: b
    type: splunk
`
	types := map[string]NewSinkFunc{"file": func(cfg SinkConfig) (Sink, error) {
		var o struct {
			Path string `yaml:"path"`
		}
		return nil, cfg.Decode(&o)
	}}
	cfg, err := ParseConfig([]byte(doc), "/etc/logbook", types, func(k string) string {
		if k == "TOKEN" {
			return "secret-token-value"
		}
		return ""
	})
	if err == nil {
		t.Fatal("ParseConfig succeeded, want errors")
	}
	if _, serr := cfg.OpenSinks(nil); serr != nil {
		err = errorsJoin(err, serr)
	}
	msg := err.Error()
	for _, want := range []string{
		"limit: 5000: must be 1–1000",
		"bogus: unknown option (line 4)",
		`sources[0].name: "bad name"`,
		"sources[0]: token_file or token_env: one is required",
		"sources[0].start_time:",
		`sources[1].features: unknown feature "nope"`,
		`sinks[1].type: "splunk": want one of file`,
		"sinks[0].extra: unknown option (line 14)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret-token-value") {
		t.Error("errors contain the token")
	}
}

func errorsJoin(a, b error) error {
	return &ConfigError{Errs: append(a.(*ConfigError).Errs, b.(*ConfigError).Errs...)}
}

// TestSharedBudget: two budgets on one file (as a live forwarder and a
// backfill in two processes would be) stay together within the limits,
// and a Block by one delays the other.
func TestSharedBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "acct.budget")
		l := Limits{PerMinute: 10, PerHour: 40}
		var times []time.Time
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 2 {
			b, err := OpenSharedBudget(path, l)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			wg.Go(func() {
				for range 25 {
					if err := b.Wait(t.Context()); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					times = append(times, time.Now())
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i := 10; i < len(times); i++ {
			if d := times[i].Sub(times[i-10]); d < time.Minute {
				t.Errorf("requests %d and %d (of both budgets) are %v apart, want at least a minute", i-10, i, d)
			}
		}
		if d := times[40].Sub(times[0]); d < time.Hour {
			t.Errorf("request 41 came %v after the first, want an hour (per_hour 40)", d)
		}

		a, err := OpenSharedBudget(path, l)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := OpenSharedBudget(path, l)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		time.Sleep(3 * time.Hour) // fake time: let the windows empty
		a.Block(time.Now().Add(30 * time.Minute))
		if d := waited(t, b); d < 30*time.Minute {
			t.Errorf("the other budget waited %v after a Block of 30m", d)
		}
	})
}

// TestSharedBudgetCompacts: the log stays bounded.
func TestSharedBudgetCompacts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "acct.budget")
		b, err := OpenSharedBudget(path, Limits{PerMinute: 1000, PerHour: 100})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for range 1000 {
			if err := b.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Minute) // fake time: the hour limit allows it
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if max := int64(8 + 8*(2*100+64)); info.Size() > max {
			t.Errorf("log is %d bytes after 1000 requests, want at most %d", info.Size(), max)
		}
	})
}
