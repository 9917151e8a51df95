package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/logbookhq/logbook/internal/console"
)

// checkCounter counts password checks and the most that ran at once.
type checkCounter struct {
	checks, inFlight, maxInFlight atomic.Int64
	// heapPeak is the most heap seen as a check started or ended.
	heapPeak atomic.Uint64
}

func (c *checkCounter) hook(start bool) {
	if start {
		c.checks.Add(1)
		n := c.inFlight.Add(1)
		for {
			m := c.maxInFlight.Load()
			if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
	} else {
		c.inFlight.Add(-1)
	}
	h := heapBytes()
	for {
		p := c.heapPeak.Load()
		if h <= p || c.heapPeak.CompareAndSwap(p, h) {
			break
		}
	}
}

// heapBytes is the memory held by heap objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// parallelSignIns gets the sign-in form once per e-mail (each client its
// own CSRF cookie), then posts every form at the same moment and returns
// the replies' statuses and Retry-After headers.
func parallelSignIns(t *testing.T, b *testBundle, emails []string, pw string) ([]int, []string) {
	t.Helper()
	clients := make([]*browserless, len(emails))
	for i := range emails {
		clients[i] = b.client(t)
		clients[i].get("/console/signin")
	}
	statuses, retry := make([]int, len(emails)), make([]string, len(emails))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		form := url.Values{"email": {emails[i]}, "password": {pw}, "account": {"Acme"}, "csrf": {c.csrf}}
		req, _ := http.NewRequest("POST", c.base+"/console/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wg.Go(func() {
			<-start
			resp, err := c.c.Do(req)
			if err != nil {
				t.Errorf("sign-in %d: %v", i, err)
				return
			}
			resp.Body.Close()
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()
	return statuses, retry
}

// TestParallelSignInsLimited: 30 sign-ins with a wrong password sent at
// once for one e-mail from one address get at most MaxSignInFailures
// password checks; the rest are refused with Retry-After, unchecked.
func TestParallelSignInsLimited(t *testing.T) {
	var cc checkCounter
	b := setupWith(t, cc.hook)
	emails := make([]string, 30)
	for i := range emails {
		emails[i] = "owner@acme.test"
	}
	statuses, retry := parallelSignIns(t, b, emails, "not the password")
	checks := cc.checks.Load()
	if checks > console.MaxSignInFailures || checks == 0 {
		t.Errorf("password checks = %d of 30 parallel sign-ins, want 1 to %d", checks, console.MaxSignInFailures)
	}
	unauthorized := 0
	for i, st := range statuses {
		switch st {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if n, err := strconv.Atoi(retry[i]); err != nil || n < 1 {
				t.Errorf("sign-in %d: %d with Retry-After %q, want a number of seconds", i, st, retry[i])
			}
		default:
			t.Errorf("sign-in %d = %d, want 401, 429 or 503", i, st)
		}
	}
	if int64(unauthorized) != checks {
		t.Errorf("%d sign-ins answered 401 but %d passwords were checked; every refusal besides those must be unchecked", unauthorized, checks)
	}
	if checks == console.MaxSignInFailures {
		// The failures were counted: the right password is refused too.
		if r := b.client(t).signIn("owner@acme.test", password); r.status != http.StatusTooManyRequests {
			t.Errorf("right password after %d parallel failures = %d, want 429", checks, r.status)
		}
	}
}

// TestSignInSuccessReleasesReservation: a sign-in reserves one attempt of
// the limit before its check and gives it back when the password is
// right, so successful sign-ins never lock a user out.
func TestSignInSuccessReleasesReservation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range console.MaxSignInFailures + 2 {
		if r := b.client(t).signIn("owner@acme.test", password); r.status != http.StatusSeeOther {
			t.Fatalf("sign-in %d with the right password = %d, want 303", i+1, r.status)
		}
	}
	c := b.client(t)
	for i := range console.MaxSignInFailures - 1 {
		if r := c.signIn("owner@acme.test", "wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.status)
		}
	}
	if r := c.signIn("owner@acme.test", password); r.status != http.StatusSeeOther {
		t.Errorf("right password after %d failures = %d, want 303", console.MaxSignInFailures-1, r.status)
	}
}

// TestSignInMemoryBounded: 50 sign-ins at once, each for another e-mail so
// that the per-e-mail limit refuses none, run at most GOMAXPROCS argon2id
// checks (19 MiB each) at a time; the others wait in a short queue or get
// 503 with Retry-After. The heap stays within a few checks' worth.
func TestSignInMemoryBounded(t *testing.T) {
	var cc checkCounter
	b := setupWith(t, cc.hook)
	emails := make([]string, 50)
	for i := range emails {
		emails[i] = fmt.Sprintf("nobody%d@acme.test", i)
	}
	runtime.GC()
	before, hwmBefore := heapBytes(), peakRSS()
	statuses, retry := parallelSignIns(t, b, emails, "not the password")
	procs := int64(runtime.GOMAXPROCS(0))
	if m := cc.maxInFlight.Load(); m > procs {
		t.Errorf("%d password checks ran at once, want at most GOMAXPROCS = %d", m, procs)
	}
	var got [600]int
	for i, st := range statuses {
		got[st]++
		if st == http.StatusServiceUnavailable && retry[i] == "" {
			t.Errorf("sign-in %d: 503 without Retry-After", i)
		}
		if st != http.StatusUnauthorized && st != http.StatusServiceUnavailable {
			t.Errorf("sign-in %d = %d, want 401 or 503", i, st)
		}
	}
	if int64(got[http.StatusUnauthorized]) != cc.checks.Load() {
		t.Errorf("%d answered 401, %d checked", got[http.StatusUnauthorized], cc.checks.Load())
	}
	growth := int64(cc.heapPeak.Load()) - int64(before)
	t.Logf("50 parallel sign-ins: %d checked (401), %d busy (503), at most %d at once; heap %d MiB before, peak +%d MiB; peak RSS %d -> %d MiB",
		got[http.StatusUnauthorized], got[http.StatusServiceUnavailable], cc.maxInFlight.Load(),
		before>>20, growth>>20, hwmBefore>>20, peakRSS()>>20)
	// Each check holds 19 MiB; allow three times that per slot for garbage
	// not yet collected (the GC lets the heap reach twice what is live),
	// plus some slack. Unbounded, 50 checks took 951 MiB.
	if limit := 3*19<<20*procs + 32<<20; growth > limit {
		t.Errorf("heap grew by %d MiB during the sign-ins, want under %d MiB", growth>>20, limit>>20)
	}
}

// peakRSS is the process's peak resident set (VmHWM), 0 where unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
