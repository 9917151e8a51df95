package ratelimit_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

type step struct {
	at         time.Duration // after the start of the hour
	allowed    bool
	remaining  int64
	retryAfter time.Duration
}

func run(t *testing.T, counter ratelimit.Counter, account string) {
	// Windows near the real time: the stores drop (and Redis expires)
	// windows long past.
	hour := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	clk := testenv.NewClock(time.Time{})
	l := ratelimit.New(ratelimit.Config{Counter: counter, Now: clk.Now,
		Limits: []ratelimit.Limit{{N: 3, Per: time.Minute}, {N: 5, Per: time.Hour}}})
	for i, s := range []step{
		{at: 10 * time.Second, allowed: true, remaining: 2},
		{at: 20 * time.Second, allowed: true, remaining: 1},
		{at: 30 * time.Second, allowed: true, remaining: 0},
		{at: 45500 * time.Millisecond, allowed: false, remaining: 0, retryAfter: 14500 * time.Millisecond},
		// A new minute: the minute window frees, the hour has 5-4 = 1 left.
		{at: 61 * time.Second, allowed: true, remaining: 0},
		{at: 62 * time.Second, allowed: false, remaining: 0, retryAfter: 58*time.Minute + 58*time.Second},
		// The next hour starts afresh.
		{at: 60 * time.Minute, allowed: true, remaining: 2},
	} {
		clk.Set(hour.Add(s.at))
		d, err := l.Allow(context.Background(), account)
		if err != nil {
			t.Fatal(err)
		}
		got := step{at: s.at, allowed: d.Allowed, remaining: d.Remaining, retryAfter: d.RetryAfter}
		if diff := cmp.Diff(s, got, cmp.AllowUnexported(step{})); diff != "" {
			t.Errorf("request %d (-want +got):\n%s", i+1, diff)
		}
	}
}

func TestStoreCounterWindows(t *testing.T) {
	db := sqlitetest.Open(t, filepath.Join(t.TempDir(), "l.db"))
	run(t, ratelimit.StoreCounter{Store: db}, events.NewID())
}

// TestSharedAcrossServers: two limiters on two handles of one database
// (two servers) share one allowance.
func TestSharedAcrossServers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	a, b := sqlitetest.Open(t, path), sqlitetest.Open(t, path)
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Minute).Add(time.Minute + 5*time.Second))
	mk := func(st store.CounterStore) *ratelimit.Limiter {
		return ratelimit.New(ratelimit.Config{Counter: ratelimit.StoreCounter{Store: st}, Now: clk.Now,
			Limits: []ratelimit.Limit{{N: 10, Per: time.Minute}}})
	}
	la, lb := mk(a), mk(b)
	acct := events.NewID()
	allowed := 0
	for i := 0; i < 20; i++ {
		l := la
		if i%2 == 1 {
			l = lb
		}
		d, err := l.Allow(context.Background(), acct)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("allowed %d of 20 requests across two servers, want 10", allowed)
	}
	// Another account has its own allowance.
	if d, _ := la.Allow(context.Background(), events.NewID()); !d.Allowed || d.Remaining != 9 {
		t.Errorf("other account: %+v", d)
	}
}

func TestRedisCounter(t *testing.T) {
	ctx := context.Background()
	c, err := ratelimit.NewRedisCounter(ctx, testenv.RedisURL(t))
	if err != nil {
		testenv.Unavailable(t, "Redis: %v (LOGBOOK_TEST_REDIS_URL names the server)", err)
		return
	}
	defer c.Close()
	c.Prefix = "logbooktest:" + events.NewID() + ":"
	run(t, c, events.NewID())
	keys, err := c.Client.Keys(ctx, c.Prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if ttl := c.Client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no expiry (ttl %v)", k, ttl)
		}
		c.Client.Del(ctx, k)
	}
}

func TestGuard(t *testing.T) {
	db := sqlitetest.Open(t, filepath.Join(t.TempDir(), "l.db"))
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Minute).Add(time.Minute + 59200*time.Millisecond))
	l := ratelimit.New(ratelimit.Config{Counter: ratelimit.StoreCounter{Store: db}, Now: clk.Now,
		Limits: []ratelimit.Limit{{N: 1, Per: time.Minute}, {N: 100, Per: time.Hour}}})
	call := api.Call{Token: token.Verified{Token: store.Token{AccountUUID: events.NewID()}}, Feature: events.AuditEvents, Version: 2}
	w := httptest.NewRecorder()
	if l.Guard(w, httptest.NewRequest("POST", "/api/v2/auditevents", nil), call) {
		t.Fatal("first request refused")
	}
	want := map[string]string{"RateLimit-Limit": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": "1"}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("allowed: %s = %q, want %q", k, got, v)
		}
	}
	w = httptest.NewRecorder()
	if !l.Guard(w, httptest.NewRequest("POST", "/api/v2/auditevents", nil), call) {
		t.Fatal("second request allowed")
	}
	if w.Code != 429 || w.Body.String() != `{"Error":{"Message":"Too Many Requests"}}` || w.Header().Get("Retry-After") != "1" {
		t.Errorf("refused: %d %s Retry-After %q", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	// Zero limits disable the guard.
	off := ratelimit.New(ratelimit.Config{Counter: ratelimit.StoreCounter{Store: db}, Limits: []ratelimit.Limit{{N: 0, Per: time.Minute}}})
	w = httptest.NewRecorder()
	if off.Enabled() || off.Guard(w, httptest.NewRequest("POST", "/", nil), call) || w.Header().Get("RateLimit-Limit") != "" {
		t.Error("a disabled limiter guarded")
	}
}
