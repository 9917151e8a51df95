package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/token"
)

func TestRouteLabels(t *testing.T) {
	for _, c := range []struct{ route, version, feature string }{
		{"POST /api/v2/auditevents", "v2", "auditevents"},
		{"GET /api/v3/auditevents", "v3", "auditevents"},
		{"POST /api/v1/signinattempts", "v1", "signinattempts"},
		{"GET /api/auth/introspect", "v1", "none"},
		{"GET /api/v2/auth/introspect", "v2", "none"},
		{"POST /api/v2/ingest/itemusages", "v2", "itemusages"},
		{"/api/", "none", "none"},
		{"GET /console/integrations/{integration}", "none", "none"},
		{"none", "none", "none"},
		{"GET /metrics", "none", "none"},
	} {
		v, f := RouteLabels(c.route)
		if v != c.version || f != c.feature {
			t.Errorf("RouteLabels(%q) = %q, %q, want %q, %q", c.route, v, f, c.version, c.feature)
		}
	}
}

// TestUnauthorizedReason: each authentication error maps to its reason,
// wrapped or not; an unknown key is not counted as a bad signature,
// though it is one; anything else is "other".
func TestUnauthorizedReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{api.ErrNoToken, ReasonMissing},
		{fmt.Errorf("%w: junk", token.ErrMalformed), ReasonMalformed},
		{fmt.Errorf("%w: bad", token.ErrSignature), ReasonBadSignature},
		{fmt.Errorf("%w: kid x", token.ErrUnknownKey), ReasonUnknownKey},
		{fmt.Errorf("%w: jti", token.ErrUnknown), ReasonUnknownToken},
		{token.ErrAudience, ReasonWrongAudience},
		{token.ErrExpired, ReasonExpired},
		{fmt.Errorf("verify: %w", token.ErrRevoked), ReasonRevoked},
		{token.ErrFeature, ReasonMissingFeature},
		{errors.New("something else"), ReasonOther},
		{nil, ReasonOther},
	} {
		if got := UnauthorizedReason(c.err); got != c.want {
			t.Errorf("UnauthorizedReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if !errors.Is(token.ErrUnknownKey, token.ErrSignature) {
		t.Error("token.ErrUnknownKey is not a token.ErrSignature; callers that answer 401 to signature errors would miss it")
	}
}

func TestDefaultReason(t *testing.T) {
	for _, c := range []struct {
		route  string
		status int
		want   string
	}{
		{"POST /api/v2/ingest/auditevents", 401, ReasonIngestKey},
		{"POST /api/v2/ingest/auditevents", 429, ReasonIngestInFlight},
		{"POST /console/signin", 401, ReasonConsole},
		{"POST /console/signin", 429, ReasonConsoleSignIn},
		{"GET /admin/api/v1/tokens", 401, ReasonAdminKey},
		{"GET /admin/api/v1/tokens", 429, ReasonOther},
		{"POST /api/v2/auditevents", 429, ReasonOther},
		{"none", 401, ReasonOther},
	} {
		if got := DefaultReason(c.route, c.status); got != c.want {
			t.Errorf("DefaultReason(%q, %d) = %q, want %q", c.route, c.status, got, c.want)
		}
	}
}

// gather returns the samples of name as label strings ("k=v,k=v") to
// values (histograms: their count).
func gather(t *testing.T, m *Metrics, name string) map[string]float64 {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			var kv []string
			for _, l := range s.GetLabel() {
				kv = append(kv, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(kv, ",")] = value(s)
		}
	}
	return out
}

func value(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	}
	return math.NaN()
}

// TestRequestReasons: a reason outside the closed sets, or given with a
// status it does not belong to, is counted as "other"; no reason lets the
// route decide.
func TestRequestReasons(t *testing.T) {
	m := New(Options{})
	m.Request("POST /api/v2/auditevents", 401, time.Millisecond, "eyJhbGciOi-a-token")
	m.Request("POST /api/v2/auditevents", 429, time.Millisecond, ReasonExpired)
	m.Request("POST /api/v2/ingest/auditevents", 401, time.Millisecond, "")
	m.Request("", 404, time.Millisecond, "")
	un := gather(t, m, UnauthorizedName)
	if un["reason=other"] != 1 || un["reason=ingest_key"] != 1 {
		t.Errorf("401s = %v, want other 1 and ingest_key 1", un)
	}
	if tm := gather(t, m, TooManyRequestsName); tm["reason=other"] != 1 {
		t.Errorf("429s = %v, want other 1", tm)
	}
	req := gather(t, m, RequestsName)
	if req["code=404,feature=none,route=none,version=none"] != 1 {
		t.Errorf("requests = %v, want the unmatched 404 under route none", req)
	}
	for k := range req {
		if strings.Contains(k, "eyJ") {
			t.Errorf("a label holds the reason given: %s", k)
		}
	}
}

// TestIngested: a stored batch is accepted unless every event was a
// duplicate; a refused one is rejected with its events.
func TestIngested(t *testing.T) {
	m := New(Options{})
	m.Ingested(events.AuditEvents, 3, 0, 0, false)
	m.Ingested(events.AuditEvents, 1, 2, 0, false)
	m.Ingested(events.AuditEvents, 0, 4, 0, false)
	m.Ingested(events.AuditEvents, 0, 0, 5, true)
	m.Ingested("nonsense", 1, 0, 0, false)
	b := gather(t, m, IngestBatchesName)
	e := gather(t, m, IngestEventsName)
	for k, want := range map[string]float64{"result=accepted": 2, "result=duplicate": 1, "result=rejected": 1} {
		if got := b["feature=auditevents,"+k]; got != want {
			t.Errorf("batches %s = %v, want %v", k, got, want)
		}
	}
	for k, want := range map[string]float64{"result=accepted": 4, "result=duplicate": 6, "result=rejected": 5} {
		if got := e["feature=auditevents,"+k]; got != want {
			t.Errorf("events %s = %v, want %v", k, got, want)
		}
	}
	if len(b) != 9 {
		t.Errorf("batch series = %d, want 9 (3 features × 3 results): %v", len(b), b)
	}
}

// TestConsoleSessions: the gauge reads the hook at each scrape; an error
// makes it NaN.
func TestConsoleSessions(t *testing.T) {
	n, fail := 3, false
	m := New(Options{ConsoleSessions: func(context.Context) (int, error) {
		if fail {
			return 0, errors.New("store down")
		}
		return n, nil
	}})
	if got := gather(t, m, ConsoleSessionsName)[""]; got != 3 {
		t.Errorf("sessions = %v, want 3", got)
	}
	n = 5
	if got := gather(t, m, ConsoleSessionsName)[""]; got != 5 {
		t.Errorf("sessions = %v, want 5", got)
	}
	fail = true
	if got := gather(t, m, ConsoleSessionsName)[""]; !math.IsNaN(got) {
		t.Errorf("sessions with a failing count = %v, want NaN", got)
	}
	if got := gather(t, New(Options{}), ConsoleSessionsName); len(got) != 0 {
		t.Errorf("without a hook the gauge exists: %v", got)
	}
}

// TestNilMetrics: a nil *Metrics records nothing and does not panic.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Request("x", 200, 0, "")
	m.Served(2, events.AuditEvents, 3)
	m.Ingested(events.AuditEvents, 1, 1, 0, false)
	m.Deleted(events.AuditEvents, 1)
	if st := m.Store(nil); st != nil {
		t.Errorf("nil Metrics wrapped the store: %v", st)
	}
}

// BenchmarkRequest is the cost Request adds to every request (an Events
// API page takes milliseconds; see docs/benchmarks.md).
func BenchmarkRequest(b *testing.B) {
	m := New(Options{})
	for b.Loop() {
		m.Request("POST /api/v2/auditevents", 200, 3*time.Millisecond, "")
	}
}

// TestServedV3: events sent by the v3 beta are counted under version v3.
func TestServedV3(t *testing.T) {
	m := New(Options{})
	m.Served(3, events.AuditEvents, 4)
	m.Served(2, events.AuditEvents, 1)
	got := gather(t, m, EventsServedName)
	if got["feature=auditevents,version=v3"] != 4 || got["feature=auditevents,version=v2"] != 1 {
		t.Errorf("served = %v, want 4 under v3 and 1 under v2", got)
	}
	if fresh := gather(t, New(Options{}), EventsServedName); len(fresh) != 7 {
		t.Errorf("a new registry has %d served series, want 7 (v1 and v2 of each feature, v3 of audit events): %v", len(fresh), fresh)
	}
}
