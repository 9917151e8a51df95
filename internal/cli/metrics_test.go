package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/metrics"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// scrape is a parsed /metrics reply.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics fetches url and parses it as the Prometheus text format.
func scrapeMetrics(t *testing.T, url string) (scrape, string) {
	t.Helper()
	status, body := roundtrip.Call(t, "GET", url, "", "")
	if status != 200 {
		t.Fatalf("GET %s = %d, want 200:\n%s", url, status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("GET %s: not the Prometheus text format: %v", url, err)
	}
	return fams, string(body)
}

// value sums the samples of name whose labels include want (a histogram
// counts its observations).
func (s scrape) value(name string, want map[string]string) float64 {
	f, ok := s[name]
	if !ok {
		return math.NaN()
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// labelValues returns every label value of every sample in s.
func (s scrape) labelValues() []string {
	var out []string
	for _, f := range s {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// simulatedEvents returns n realistic events of kind from the last three
// days, as JSON objects.
func simulatedEvents(t *testing.T, kind events.Feature, n int) []json.RawMessage {
	t.Helper()
	sim := simulate.New(simulate.Config{Seed: 11, Start: time.Now().Add(-72 * time.Hour).Truncate(time.Hour), Users: 50, Intensity: 5})
	out, err := sim.Sample(time.Now(), kind, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func batch(evs ...json.RawMessage) string {
	b, _ := json.Marshal(evs)
	return string(b)
}

// metricsFixture is a server on SQLite with an account, an integration,
// an admin actor, and the server's clock fixed at now.
type metricsFixture struct {
	srv         *Server
	st          store.Store
	actor       admin.Actor
	integration string
	now         time.Time
}

func startMetricsServer(t *testing.T, o ServerOptions) *metricsFixture {
	t.Helper()
	ctx := t.Context()
	sf := storeFlags{data: t.TempDir()}
	st, err := sf.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o.Store, o.Listen, o.Now = st, "127.0.0.1:0", func() time.Time { return now }
	srv, err := StartServer(ctx, o)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		st.Close()
	})
	acct, _, err := srv.Admin.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test", Role: store.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	actor, err := srv.Admin.ActorIn(ctx, acct.UUID, "")
	if err != nil {
		t.Fatal(err)
	}
	in, err := srv.Admin.CreateIntegration(ctx, actor, "Splunk", "Splunk")
	if err != nil {
		t.Fatal(err)
	}
	return &metricsFixture{srv: srv, st: st, actor: actor, integration: in.UUID, now: now}
}

func (f *metricsFixture) issue(t *testing.T, name string, features ...string) admin.Issued {
	t.Helper()
	is, err := f.srv.Admin.IssueToken(t.Context(), f.actor, admin.IssueRequest{Integration: f.integration, Name: name, Features: features})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// TestMetrics drives a real server with requests of every kind the
// metrics tell apart and checks that each series moved by exactly what was
// sent: requests by route, version, feature and code; 401s by reason; a
// 429 of the per-minute rate limit; events served; ingestion batches and
// events accepted, duplicate and rejected; store latencies. /metrics is
// on --metrics-listen and absent from the main listener. Then it checks
// the Grafana dashboard and the docs against what the server exposes.
func TestMetrics(t *testing.T) {
	f := startMetricsServer(t, ServerOptions{MetricsListen: "127.0.0.1:0",
		Sandbox: SandboxOptions{RateLimits: []ratelimit.Limit{{N: 3, Per: time.Minute}, {N: 1000, Per: time.Hour}}}})
	ctx := t.Context()
	srv := f.srv
	if strings.HasPrefix(srv.MetricsURL, srv.URL) {
		t.Fatalf("MetricsURL = %s, want the metrics listener's, not %s", srv.MetricsURL, srv.URL)
	}
	if code, _ := roundtrip.Call(t, "GET", srv.URL+"/metrics", "", ""); code != 404 {
		t.Errorf("GET /metrics on the main listener with --metrics-listen = %d, want 404", code)
	}

	good := f.issue(t, "good").Secret
	auditOnly := f.issue(t, "audit events only", "auditevents").Secret
	revoked := f.issue(t, "revoked")
	if _, err := srv.Admin.RevokeToken(ctx, f.actor, revoked.ID); err != nil {
		t.Fatal(err)
	}
	elsewhere, _, err := token.New(f.st, "elsewhere.example", token.Config{}).Issue(ctx, token.IssueRequest{
		AccountUUID: f.actor.Account.UUID, IntegrationUUID: f.integration, Name: "elsewhere", Features: events.AllFeatures})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := token.New(f.st, srv.Audience, token.Config{Now: func() time.Time { return f.now.Add(-48 * time.Hour) }}).Issue(ctx,
		token.IssueRequest{AccountUUID: f.actor.Account.UUID, IntegrationUUID: f.integration, Name: "expired", Features: events.AllFeatures, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	badSignature := parts[0] + "." + parts[1] + "." + flip(parts[2])
	unknownKey := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"nosuchkey","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	key, err := srv.Admin.CreateIngestKey(ctx, f.actor, "producer")
	if err != nil {
		t.Fatal(err)
	}

	// Ingestion: 4 new; 1 new and 1 duplicate; 1 duplicate; a batch of 2
	// with an invalid event; and one without a key.
	// Sign-in attempts: the admin actions above are audit events.
	evs := simulatedEvents(t, events.SignInAttempts, 6)
	ingestURL := srv.URL + "/api/v2/ingest/signinattempts"
	for _, c := range []struct {
		body, key string
		want      int
	}{
		{batch(evs[:4]...), key.Secret, 200},
		{batch(evs[0], evs[4]), key.Secret, 200},
		{batch(evs[1]), key.Secret, 200},
		{batch(evs[5], json.RawMessage(`{"uuid":"not-an-event"}`)), key.Secret, 400},
		{batch(evs[5]), "", 401},
	} {
		if code, body := roundtrip.Call(t, "POST", ingestURL, c.key, c.body); code != c.want {
			t.Fatalf("ingest = %d %s, want %d", code, body, c.want)
		}
	}

	// The Events API: three requests pass the rate limit of 3 a minute
	// (the clock stands still), the fourth is refused.
	page := `{"limit":100,"start_time":"2020-01-01T00:00:00Z"}`
	pageURL := srv.URL + "/api/v2/signinattempts"
	if code, body := roundtrip.Call(t, "POST", pageURL, good, page); code != 200 || !strings.Contains(string(body), `"has_more":false`) {
		t.Fatalf("page = %d %s", code, body)
	}
	if code, body := roundtrip.Call(t, "GET", srv.URL+"/api/v2/auth/introspect", good, ""); code != 200 {
		t.Fatalf("introspect = %d %s", code, body)
	}
	if code, body := roundtrip.Call(t, "POST", srv.URL+"/api/v1/itemusages", good, page); code != 200 {
		t.Fatalf("v1 page = %d %s", code, body)
	}
	if code, _ := roundtrip.Call(t, "POST", pageURL, good, page); code != 429 {
		t.Fatalf("fourth request in the minute = %d, want 429", code)
	}
	unauthorized := map[string]string{
		metrics.ReasonMissing:        "",
		metrics.ReasonMalformed:      "not-a-jwt",
		metrics.ReasonBadSignature:   badSignature,
		metrics.ReasonUnknownKey:     unknownKey,
		metrics.ReasonWrongAudience:  elsewhere,
		metrics.ReasonExpired:        expired,
		metrics.ReasonRevoked:        revoked.Secret,
		metrics.ReasonMissingFeature: auditOnly,
	}
	for reason, tok := range unauthorized {
		if code, body := roundtrip.Call(t, "POST", pageURL, tok, page); code != 401 {
			t.Fatalf("%s: POST = %d %s, want 401", reason, code, body)
		}
	}

	got, text := scrapeMetrics(t, srv.MetricsURL)
	type sample struct {
		name   string
		labels map[string]string
		want   float64
	}
	route := func(r, version, feature, code string) map[string]string {
		return map[string]string{"route": r, "version": version, "feature": feature, "code": code}
	}
	checks := []sample{
		{metrics.RequestsName, route("POST /api/v2/signinattempts", "v2", "signinattempts", "200"), 1},
		{metrics.RequestsName, route("POST /api/v2/signinattempts", "v2", "signinattempts", "429"), 1},
		{metrics.RequestsName, route("POST /api/v2/signinattempts", "v2", "signinattempts", "401"), float64(len(unauthorized))},
		{metrics.RequestsName, route("GET /api/v2/auth/introspect", "v2", "none", "200"), 1},
		{metrics.RequestsName, route("POST /api/v1/itemusages", "v1", "itemusages", "200"), 1},
		{metrics.RequestsName, route("POST /api/v2/ingest/signinattempts", "v2", "signinattempts", "200"), 3},
		{metrics.RequestsName, route("POST /api/v2/ingest/signinattempts", "v2", "signinattempts", "400"), 1},
		{metrics.RequestsName, route("POST /api/v2/ingest/signinattempts", "v2", "signinattempts", "401"), 1},
		{metrics.RequestDurationName, map[string]string{"route": "POST /api/v2/signinattempts"}, float64(2 + len(unauthorized))},
		{metrics.TooManyRequestsName, map[string]string{"reason": metrics.ReasonRatePerMinute}, 1},
		{metrics.TooManyRequestsName, nil, 1},
		{metrics.UnauthorizedName, map[string]string{"reason": metrics.ReasonIngestKey}, 1},
		{metrics.UnauthorizedName, map[string]string{"reason": metrics.ReasonOther}, 0},
		{metrics.UnauthorizedName, nil, float64(len(unauthorized) + 1)},
		{metrics.EventsServedName, map[string]string{"version": "v2", "feature": "signinattempts"}, 5},
		{metrics.EventsServedName, map[string]string{"version": "v1"}, 0},
		{metrics.IngestBatchesName, map[string]string{"feature": "signinattempts", "result": "accepted"}, 2},
		{metrics.IngestBatchesName, map[string]string{"feature": "signinattempts", "result": "duplicate"}, 1},
		{metrics.IngestBatchesName, map[string]string{"feature": "signinattempts", "result": "rejected"}, 1},
		{metrics.IngestEventsName, map[string]string{"feature": "signinattempts", "result": "accepted"}, 5},
		{metrics.IngestEventsName, map[string]string{"feature": "signinattempts", "result": "duplicate"}, 2},
		{metrics.IngestEventsName, map[string]string{"feature": "signinattempts", "result": "rejected"}, 2},
		{metrics.StoreDurationName, map[string]string{"backend": "sqlite", "op": "append"}, 4},
		{metrics.StoreDurationName, map[string]string{"backend": "sqlite", "op": "read_page"}, 2},
		{metrics.StoreDurationName, map[string]string{"backend": "sqlite", "op": "start_position"}, 2},
		{metrics.ConsoleSessionsName, nil, 0},
		{metrics.BuildInfoName, map[string]string{"version": version()}, 1},
	}
	for reason := range unauthorized {
		checks = append(checks, sample{metrics.UnauthorizedName, map[string]string{"reason": reason}, 1})
	}
	for _, c := range checks {
		if v := got.value(c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	for _, secret := range []string{good, parts[2], key.Secret, f.actor.Account.UUID, "Acme", "owner@acme.test"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics holds %q", secret)
		}
	}

	t.Run("dashboard", func(t *testing.T) { checkDashboard(t, got) })
	t.Run("documented", func(t *testing.T) { checkDocumented(t, got) })
}

// flip changes one character in the middle of s.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestMetricsOnMainListener: without --metrics-listen, GET /metrics is
// served on the main listener and counts itself among the requests; the
// console session gauge reads the hook it is given.
func TestMetricsOnMainListener(t *testing.T) {
	f := startMetricsServer(t, ServerOptions{ConsoleSessions: func(context.Context) (int, error) { return 7, nil }})
	if f.srv.MetricsURL != f.srv.URL+"/metrics" {
		t.Errorf("MetricsURL = %s, want %s/metrics", f.srv.MetricsURL, f.srv.URL)
	}
	scrapeMetrics(t, f.srv.MetricsURL)
	got, _ := scrapeMetrics(t, f.srv.MetricsURL)
	if v := got.value(metrics.RequestsName, map[string]string{"route": "GET /metrics", "code": "200"}); v != 1 {
		t.Errorf("GET /metrics requests = %v, want 1 (the first scrape)", v)
	}
	if v := got.value(metrics.ConsoleSessionsName, nil); v != 7 {
		t.Errorf("console sessions = %v, want 7 from the hook", v)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := got[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestMetricsBoundedLabels: requests with random paths, queries, tokens
// and keys add no label value holding any of them, and at most one series
// per route pattern they reach.
func TestMetricsBoundedLabels(t *testing.T) {
	f := startMetricsServer(t, ServerOptions{})
	url := f.srv.URL
	before, _ := scrapeMetrics(t, url+"/metrics")
	var randoms []string
	for i := range 40 {
		r := fmt.Sprintf("zq%dx%d", i, time.Now().UnixNano()%1e9)
		randoms = append(randoms, r)
		for _, p := range []string{"/" + r, "/api/v2/" + r, "/api/v2/ingest/" + r, "/console/" + r, "/admin/api/v1/" + r, "/api/v2/auditevents?cursor=" + r} {
			roundtrip.Call(t, "POST", url+p, r, `{"cursor":"`+r+`"}`)
			if res, err := http.Get(url + p); err == nil {
				res.Body.Close()
			}
		}
		roundtrip.Call(t, "POST", url+"/api/v2/auditevents", r+".eyJ"+r+"."+r, `{}`)
		roundtrip.Call(t, "POST", url+"/api/v2/ingest/auditevents", r, `[]`)
	}
	got, text := scrapeMetrics(t, url+"/metrics")
	for _, r := range randoms {
		if strings.Contains(text, r) {
			t.Fatalf("/metrics holds %q, sent in a request", r)
		}
	}
	series := func(s scrape) int { return len(s[metrics.RequestsName].GetMetric()) }
	// Each kind of request above reaches one route (or none) with a few
	// status codes; 480 requests must not make more than a handful.
	if n := series(got) - series(before); n > 20 {
		var routes []string
		for _, m := range got[metrics.RequestsName].GetMetric() {
			routes = append(routes, fmt.Sprint(m.GetLabel()))
		}
		sort.Strings(routes)
		t.Errorf("random requests made %d request series:\n%s", n, strings.Join(routes, "\n"))
	}
	for _, v := range got.labelValues() {
		if len(v) > 100 {
			t.Errorf("label value of %d bytes: %.100q", len(v), v)
		}
	}
	// Two requests of each round carry a token that is no JWT.
	if v := got.value(metrics.UnauthorizedName, map[string]string{"reason": metrics.ReasonMalformed}); v != 80 {
		t.Errorf("malformed 401s = %v, want 80", v)
	}
}

// TestMetricsIngestInFlight: a 429 from the ingestion in-flight budget is
// counted under ingest_in_flight. A raw connection declares a body as
// large as the budget and holds it unsent; other batches are then refused.
func TestMetricsIngestInFlight(t *testing.T) {
	f := startMetricsServer(t, ServerOptions{IngestMaxBody: 4096, IngestMaxInFlight: 4096})
	key, err := f.srv.Admin.CreateIngestKey(t.Context(), f.actor, "producer")
	if err != nil {
		t.Fatal(err)
	}
	// hold sends the header and one byte of a batch that takes the whole
	// budget, and keeps it open.
	hold := func() net.Conn {
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v2/ingest/auditevents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 4096\r\n\r\n[", key.Secret)
		return conn
	}
	conn := hold()
	defer func() { conn.Close() }()
	refused, polls, resent := 0, 0, 0
	for deadline := time.Now().Add(20 * time.Second); refused == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no 429 within 20s (%d batches taken, the held batch sent %d more times) while a request holds the whole in-flight budget", polls, resent)
		}
		code, body := roundtrip.Call(t, "POST", f.srv.URL+"/api/v2/ingest/auditevents", key.Secret, `[]`)
		switch code {
		case 429:
			refused++
			continue
		case 200:
			polls++
		default:
			t.Fatalf("ingest = %d %s", code, body)
		}
		// A 200: the held batch has not reserved its bytes yet, or it
		// was refused itself, having come while a small batch's
		// reservation was still held (a server releases it after the
		// reply is written). Then it has an answer waiting: send it
		// again on a new connection.
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		var b [1]byte
		if n, _ := conn.Read(b[:]); n > 0 {
			conn.Close()
			conn = hold()
			resent++
		}
	}
	// Each held batch sent again was refused once, with the same reason.
	want := float64(refused + resent)
	got, _ := scrapeMetrics(t, f.srv.MetricsURL)
	if v := got.value(metrics.TooManyRequestsName, map[string]string{"reason": metrics.ReasonIngestInFlight}); v != want {
		t.Errorf("ingest_in_flight 429s = %v, want %v (%d small batches refused, %d held ones)", v, want, refused, resent)
	}
	if v := got.value(metrics.TooManyRequestsName, nil); v != want {
		t.Errorf("all 429s = %v, want %v", v, want)
	}
}

// TestServeMetricsRetention: serve --delete-after counts what it deletes
// per feature, served on --metrics-listen (whose address the banner
// prints), with the store's backend labelled; /metrics is not on --listen.
func TestServeMetricsRetention(t *testing.T) {
	for _, b := range retentionBackends {
		t.Run(b.name, func(t *testing.T) {
			_, _, before, out, stop := serveOverOldHistory(t, b, regexp.MustCompile(`deletion pass done`), "--delete-after", "150d", "--metrics-listen", "127.0.0.1:0")
			m := regexp.MustCompile(`Prometheus metrics are at (\S+)`).FindStringSubmatch(out)
			api := regexp.MustCompile(`serving the Events API at (\S+)`).FindStringSubmatch(out)
			if m == nil || api == nil {
				t.Fatalf("serve did not say where the API and metrics are:\n%s", out)
			}
			if strings.HasPrefix(m[1], api[1]) {
				t.Errorf("metrics at %s, want the --metrics-listen address, not under %s", m[1], api[1])
			}
			got, _ := scrapeMetrics(t, m[1])
			for _, f := range events.AllFeatures {
				if v := got.value(metrics.RetentionDeletedName, map[string]string{"feature": string(f)}); v != float64(before[f]) {
					t.Errorf("deleted %s = %v, want %d", f, v, before[f])
				}
			}
			if _, ok := got.values(metrics.StoreDurationName, "backend")[b.name]; !ok {
				t.Errorf("store latency has no backend=%q series: %v", b.name, got.values(metrics.StoreDurationName, "backend"))
			}
			if code, _ := roundtrip.Call(t, "GET", api[1]+"/metrics", "", ""); code != 404 {
				t.Errorf("GET /metrics on --listen = %d, want 404 with --metrics-listen", code)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// values returns the values label takes in name's samples.
func (s scrape) values(name, label string) map[string]bool {
	out := map[string]bool{}
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] = true
			}
		}
	}
	return out
}

// promQLWords are the PromQL functions, aggregations and keywords the
// dashboard may use: identifiers that are not metric names.
var promQLWords = map[string]bool{
	"sum": true, "rate": true, "irate": true, "increase": true, "histogram_quantile": true, "by": true,
	"without": true, "avg": true, "max": true, "min": true, "count": true, "topk": true, "bottomk": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "and": true, "or": true,
	"unless": true, "offset": true, "delta": true, "deriv": true, "abs": true, "clamp_min": true,
	"clamp_max": true, "label_values": true, "time": true, "vector": true, "scalar": true, "bool": true,
	"avg_over_time": true, "max_over_time": true, "min_over_time": true, "changes": true, "resets": true,
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promLabelArg = regexp.MustCompile(`(label_values\s*\([^,)]*),[^)]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
)

// metricNames returns the metric names a PromQL expression reads: what is
// left once strings, label matchers, ranges, grouping clauses, numbers,
// functions and keywords are taken out.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, " ")
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	e = promLabelArg.ReplaceAllString(e, "$1)")
	var out []string
	for _, id := range promIdent.FindAllString(e, -1) {
		if !promQLWords[id] {
			out = append(out, id)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string]string{
		`histogram_quantile(0.99, sum by (route, le) (rate(logbook_http_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`: "logbook_http_request_duration_seconds_bucket",
		`sum by (reason) (rate(logbook_http_unauthorized_total{code=~"4..|5.."}[5m])) / ignoring(reason) go_goroutines`:                              "logbook_http_unauthorized_total go_goroutines",
		`label_values(logbook_build_info, instance)`: "logbook_build_info",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// exprs returns every "expr" and templating "query" string in a Grafana
// dashboard.
func exprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || (k == "query" && strings.Contains(s, "("))) {
				out = append(out, s)
				continue
			}
			out = append(out, exprs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, exprs(x)...)
		}
	}
	return out
}

// descRecorder is a prometheus.Registerer that keeps the names of what
// is registered with it.
type descRecorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return nil
}

func (d *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d *descRecorder) Unregister(prometheus.Collector) bool { return false }

type nopSource struct{}

func (nopSource) Introspect(context.Context) (events.Introspection, error) {
	return events.Introspection{}, errors.New("not used")
}

func (nopSource) Page(context.Context, events.Feature, forward.Request) (events.RawPage, error) {
	return events.RawPage{}, errors.New("not used")
}

type nopSink struct{}

func (nopSink) Name() string                               { return "nop" }
func (nopSink) Write(context.Context, forward.Batch) error { return nil }
func (nopSink) Close() error                               { return nil }

// forwardMetricNames returns the names of the series logbook forward
// registers (it serves them on its own listener, not on serve's).
func forwardMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	rec := &descRecorder{names: map[string]bool{}}
	if _, err := forward.New(forward.Options{Sources: []forward.SourceOptions{{Name: "s", Source: nopSource{}}},
		Sinks: []forward.Sink{nopSink{}}, StateDir: t.TempDir(), Registerer: rec}); err != nil {
		t.Fatal(err)
	}
	if !rec.names["logbook_forward_events_in_total"] {
		t.Fatalf("the forwarder registered %v, without logbook_forward_events_in_total", rec.names)
	}
	return rec.names
}

// checkDashboard: every metric the Grafana dashboard queries is one the
// server exposes (a histogram's _bucket, _sum and _count included), or
// one the forwarder registers.
func checkDashboard(t *testing.T, got scrape) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "logbook.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/logbook.json: %v", err)
	}
	if d["uid"] == "" || d["uid"] == nil {
		t.Error("the dashboard has no uid")
	}
	if !strings.Contains(string(raw), `"${DS_PROMETHEUS}"`) {
		t.Error("the dashboard's data source is not the variable ${DS_PROMETHEUS}")
	}
	exposed := forwardMetricNames(t)
	for name, f := range got {
		exposed[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				exposed[name+s] = true
			}
		}
	}
	queried := map[string]bool{}
	all := exprs(d)
	if len(all) < 10 {
		t.Fatalf("found %d expressions in the dashboard, want its panels' (at least 10)", len(all))
	}
	for _, e := range all {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("expression reads no metric: %s", e)
		}
		for _, n := range names {
			queried[n] = true
			if !exposed[n] {
				t.Errorf("the dashboard queries %s, which neither the server nor the forwarder exposes (in %s)", n, e)
			}
		}
	}
	// And every Logbook series has a panel.
	for name := range got {
		if strings.HasPrefix(name, "logbook_") && !queried[name] && !queried[name+"_bucket"] && !queried[name+"_count"] {
			t.Errorf("no panel queries %s", name)
		}
	}
}

// checkDocumented: every logbook_ series is in the Metrics table of
// docs/operations.md, with its type and labels.
func checkDocumented(t *testing.T, got scrape) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		if m := regexp.MustCompile("^\\| `(logbook_[a-z_]+)` \\|").FindStringSubmatch(sc.Text()); m != nil {
			rows[m[1]] = sc.Text()
		}
	}
	for name, f := range got {
		if !strings.HasPrefix(name, "logbook_") || strings.HasPrefix(name, "logbook_forward_") {
			continue
		}
		row, ok := rows[name]
		if !ok {
			t.Errorf("docs/operations.md has no table row for %s", name)
			continue
		}
		if typ := strings.ToLower(f.GetType().String()); !strings.Contains(row, typ) {
			t.Errorf("docs row of %s does not say it is a %s: %s", name, typ, row)
		}
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		for l := range labels {
			if !strings.Contains(row, "`"+l+"`") {
				t.Errorf("docs row of %s does not name its label %s: %s", name, l, row)
			}
		}
	}
	for name := range rows {
		if _, ok := got[name]; !ok {
			t.Errorf("docs/operations.md documents %s, which the server does not expose", name)
		}
	}
}

// TestServeMetricsListenFlag: an --metrics-listen that is no address, or
// is --listen's, is a usage error naming the flag, given before the data
// directory is touched.
func TestServeMetricsListenFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--metrics-listen", "9464"},
		{"--metrics-listen", "localhost"},
		{"--listen", "127.0.0.1:8089", "--metrics-listen", "127.0.0.1:8089"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		err := Main(context.Background(), append([]string{"serve", "--data", data}, args...), Env{Getenv: func(string) string { return "" }})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--metrics-listen") {
			t.Errorf("serve %v: error %v, want a usage error naming --metrics-listen", args, err)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("serve %v made the data directory (stat: %v)", args, err)
		}
	}
}

// TestMetricsScenarioFaults: the 429 and 401 a sandbox scenario injects
// are counted under reason "scenario", not as rate limits or revocations.
func TestMetricsScenarioFaults(t *testing.T) {
	sc, err := sandbox.Parse([]byte("steps:\n  - after_requests: 1\n    status_429: {count: 1, retry_after: 1s}\n  - after_requests: 3\n    revoke_token: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := startMetricsServer(t, ServerOptions{Sandbox: SandboxOptions{Scenario: sc}})
	tok := f.issue(t, "connector").Secret
	var codes []int
	for len(codes) < 10 {
		code, body := roundtrip.Call(t, "POST", f.srv.URL+"/api/v2/itemusages", tok, `{"limit":10}`)
		codes = append(codes, code)
		if code == 401 {
			break
		}
		if code != 200 && code != 429 {
			t.Fatalf("request %d = %d %s", len(codes), code, body)
		}
	}
	got, _ := scrapeMetrics(t, f.srv.MetricsURL)
	for _, c := range []struct {
		name, reason string
		want         float64
	}{
		{metrics.TooManyRequestsName, metrics.ReasonScenario, 1},
		{metrics.TooManyRequestsName, "", 1},
		{metrics.UnauthorizedName, metrics.ReasonScenario, 1},
		{metrics.UnauthorizedName, "", 1},
	} {
		labels := map[string]string{"reason": c.reason}
		if c.reason == "" {
			labels = nil
		}
		if v := got.value(c.name, labels); v != c.want {
			t.Errorf("%s%v = %v, want %v (replies %v)", c.name, labels, v, c.want, codes)
		}
	}
}

// TestMetricsConsole: failed console sign-ins are 401s of reason
// "console" until the sixth in a minute, a 429 of reason
// "console_signin"; a sign-in opens a session the gauge counts.
func TestMetricsConsole(t *testing.T) {
	f := startMetricsServer(t, ServerOptions{})
	const password = "correct horse battery staple 42"
	if _, err := f.srv.Admin.AddUser(t.Context(), f.actor, admin.NewUser{Email: "ada@acme.test", Role: store.RoleAdmin, Password: password}); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(email, pw string) int {
		t.Helper()
		form := "csrf=tok&email=" + email + "&password=" + strings.ReplaceAll(pw, " ", "+")
		req := roundtrip.New(t, "POST", f.srv.URL+"/console/signin", "", form)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "logbook_console_signin", Value: "tok"})
		res, _ := roundtrip.Do(t, noRedirect, req)
		return res.StatusCode
	}
	if code := signIn("ada@acme.test", password); code != http.StatusSeeOther {
		t.Fatalf("sign-in with the right password = %d, want 303", code)
	}
	for i := range 6 {
		want := 401
		if i == 5 {
			want = 429
		}
		if code := signIn("ada@acme.test", "wrong password "+fmt.Sprint(i)); code != want {
			t.Fatalf("failed sign-in %d = %d, want %d", i+1, code, want)
		}
	}
	got, _ := scrapeMetrics(t, f.srv.MetricsURL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{metrics.UnauthorizedName, map[string]string{"reason": metrics.ReasonConsole}, 5},
		{metrics.TooManyRequestsName, map[string]string{"reason": metrics.ReasonConsoleSignIn}, 1},
		{metrics.RequestsName, map[string]string{"route": "POST /console/signin", "code": "401"}, 5},
		{metrics.ConsoleSessionsName, nil, 1},
	} {
		if v := got.value(c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
}
