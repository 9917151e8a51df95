// Package metrics holds the Prometheus series of logbook serve, in one
// registry per server (tests start many servers in one process), and the
// handler that serves them at /metrics in the text format.
//
// Every label value comes from a closed set fixed by the code: route
// patterns of the server's muxes (never a request path), API versions,
// features, status codes, and the reasons listed in reasons.go. Nothing a
// client sends (a token, key id, account, path or e-mail address) ever
// becomes a label value, so the number of series stays bounded whatever
// requests arrive.
//
// Packages do not see the registry: the composition root (internal/cli)
// calls the methods here from the hooks those packages offer.
package metrics

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logbookhq/logbook/events"
)

// Series names. Each is documented where it is made (New) and in
// docs/operations.md; TestDocumented checks the docs name every one.
const (
	// RequestsName counts HTTP requests by route pattern, API version,
	// feature and status code.
	RequestsName = "logbook_http_requests_total"
	// RequestDurationName is the latency of HTTP requests per route.
	RequestDurationName = "logbook_http_request_duration_seconds"
	// UnauthorizedName counts 401 replies by reason.
	UnauthorizedName = "logbook_http_unauthorized_total"
	// TooManyRequestsName counts 429 replies by reason.
	TooManyRequestsName = "logbook_http_too_many_requests_total"
	// EventsServedName counts events sent in Events API pages.
	EventsServedName = "logbook_events_served_total"
	// IngestBatchesName counts ingestion batches by result.
	IngestBatchesName = "logbook_ingest_batches_total"
	// IngestEventsName counts ingested events by result.
	IngestEventsName = "logbook_ingest_events_total"
	// StoreDurationName is the latency of store calls on the request path.
	StoreDurationName = "logbook_store_duration_seconds"
	// RetentionDeletedName counts events deleted by --delete-after.
	RetentionDeletedName = "logbook_retention_deleted_events_total"
	// ConsoleSessionsName is the number of open console sessions.
	ConsoleSessionsName = "logbook_console_sessions"
	// BuildInfoName is 1, labelled with the build's version.
	BuildInfoName = "logbook_build_info"
)

// Build describes the binary for logbook_build_info.
type Build struct {
	Version, Revision, GoVersion string
}

// Options configure New. The zero value is usable.
type Options struct {
	// Backend labels store latencies: "sqlite" or "postgres".
	Backend string
	// ConsoleSessions counts open console sessions for
	// logbook_console_sessions; the series is absent when nil.
	ConsoleSessions func(context.Context) (int, error)
	// Build labels logbook_build_info.
	Build Build
	// Logger gets errors of ConsoleSessions and of serving /metrics;
	// discarded when nil.
	Logger *slog.Logger
}

// Metrics is one server's series. Its methods are safe for concurrent use;
// a nil *Metrics records nothing.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	unauthorized *prometheus.CounterVec
	tooMany      *prometheus.CounterVec
	served       *prometheus.CounterVec
	batches      *prometheus.CounterVec
	ingested     *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	deleted      *prometheus.CounterVec
	backend      string
	handler      http.Handler

	// perRoute holds the request series of each route and status seen
	// (reqKey -> *reqSeries): WithLabelValues hashes every label value at
	// each call, about a microsecond a request for these two.
	perRoute sync.Map
}

type reqKey struct {
	route  string
	status int
}

type reqSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// latencyBuckets span 1 ms to 10 s: pages of 1,000 events take a few
// milliseconds, ingestion batches up to seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New makes a registry holding the server's series, the Go runtime and
// process collectors, and logbook_build_info.
func New(o Options) *Metrics {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backend := o.Backend
	if backend == "" {
		backend = "other"
	}
	m := &Metrics{reg: prometheus.NewRegistry(), backend: backend}
	// Requests: every request a Logbook listener answers (the API, ingest,
	// admin API, console, health checks), labelled with the pattern of the
	// route that matched ("none" when none did), the API version (v1, v2
	// or none) and feature (signinattempts, itemusages, auditevents or
	// none) the route serves, and the status code sent.
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: RequestsName,
		Help: "HTTP requests answered, by route pattern, API version, feature and status code."},
		[]string{"route", "version", "feature", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: RequestDurationName,
		Help: "Time from a request's arrival to the end of its reply, by route pattern.", Buckets: latencyBuckets},
		[]string{"route"})
	m.unauthorized = prometheus.NewCounterVec(prometheus.CounterOpts{Name: UnauthorizedName,
		Help: "401 replies, by reason (see docs/operations.md)."}, []string{"reason"})
	m.tooMany = prometheus.NewCounterVec(prometheus.CounterOpts{Name: TooManyRequestsName,
		Help: "429 replies, by reason (see docs/operations.md)."}, []string{"reason"})
	m.served = prometheus.NewCounterVec(prometheus.CounterOpts{Name: EventsServedName,
		Help: "Events sent in Events API pages, by API version and feature."}, []string{"version", "feature"})
	m.batches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: IngestBatchesName,
		Help: "Ingestion batches by result: accepted (stored, at least one event new), duplicate (every event already held), rejected (refused with 400 or 409, nothing stored)."},
		[]string{"feature", "result"})
	m.ingested = prometheus.NewCounterVec(prometheus.CounterOpts{Name: IngestEventsName,
		Help: "Ingested events by result: accepted (new, stored), duplicate (already held, skipped), rejected (in a refused batch, not stored)."},
		[]string{"feature", "result"})
	m.storeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: StoreDurationName,
		Help: "Latency of store calls made while serving requests, by backend and op (append, read_page, start_position).", Buckets: latencyBuckets},
		[]string{"backend", "op"})
	m.deleted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: RetentionDeletedName,
		Help: "Events deleted because they were older than --delete-after, by feature."}, []string{"feature"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: BuildInfoName,
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": o.Build.Version, "revision": o.Build.Revision, "goversion": o.Build.GoVersion}})
	build.Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.unauthorized, m.tooMany, m.served, m.batches, m.ingested,
		m.storeLatency, m.deleted, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.ConsoleSessions != nil {
		count := o.ConsoleSessions
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: ConsoleSessionsName,
			Help: "Console sessions signed in and not expired (NaN when they cannot be counted)."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n, err := count(ctx)
				if err != nil {
					log.Warn("count console sessions", "err", err)
					return math.NaN()
				}
				return float64(n)
			}))
	}
	// Zero series for the closed sets people alert on, so that rate()
	// sees them from the first scrape rather than from their first event.
	for _, r := range UnauthorizedReasons {
		m.unauthorized.WithLabelValues(r)
	}
	for _, r := range TooManyRequestsReasons {
		m.tooMany.WithLabelValues(r)
	}
	for _, f := range events.AllFeatures {
		for _, res := range []string{"accepted", "duplicate", "rejected"} {
			m.batches.WithLabelValues(string(f), res)
			m.ingested.WithLabelValues(string(f), res)
		}
		m.deleted.WithLabelValues(string(f))
		m.served.WithLabelValues("v1", string(f))
		m.served.WithLabelValues("v2", string(f))
	}
	m.served.WithLabelValues("v3", string(events.AuditEvents)) // the v3 beta serves audit events only
	for _, op := range []string{opAppend, opReadPage, opStartPosition} {
		m.storeLatency.WithLabelValues(backend, op)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Handler serves the series in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Gatherer is the registry, for tests that read descriptors.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Request records one answered request. route is the pattern that matched
// ("" when none did); reason, for a 401 or 429, is one of
// UnauthorizedReasons or TooManyRequestsReasons ("" lets the route decide,
// see DefaultReason).
func (m *Metrics) Request(route string, status int, d time.Duration, reason string) {
	if m == nil {
		return
	}
	if route == "" {
		route = "none"
	}
	k := reqKey{route, status}
	v, ok := m.perRoute.Load(k)
	if !ok {
		version, feature := RouteLabels(route)
		v, _ = m.perRoute.LoadOrStore(k, &reqSeries{
			requests: m.requests.WithLabelValues(route, version, feature, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route),
		})
	}
	rs := v.(*reqSeries)
	rs.requests.Inc()
	rs.duration.Observe(d.Seconds())
	switch status {
	case http.StatusUnauthorized:
		m.unauthorized.WithLabelValues(checkReason(reason, route, status, UnauthorizedReasons)).Inc()
	case http.StatusTooManyRequests:
		m.tooMany.WithLabelValues(checkReason(reason, route, status, TooManyRequestsReasons)).Inc()
	}
}

// Served records a page of n events sent by API version (1, 2 or 3) and
// feature.
func (m *Metrics) Served(version int, f events.Feature, n int) {
	if m == nil || n == 0 {
		return
	}
	m.served.WithLabelValues(versionLabel(version), string(f)).Add(float64(n))
}

// Ingested records one ingestion batch of feature f: accepted and
// duplicate events of a stored batch, or, when refused, the events of a
// refused batch (as far as they could be counted).
func (m *Metrics) Ingested(f events.Feature, accepted, duplicates, refusedEvents int, refused bool) {
	if m == nil || !f.Valid() {
		return
	}
	fs := string(f)
	switch {
	case refused:
		m.batches.WithLabelValues(fs, "rejected").Inc()
		m.ingested.WithLabelValues(fs, "rejected").Add(float64(refusedEvents))
		return
	case accepted == 0 && duplicates > 0:
		m.batches.WithLabelValues(fs, "duplicate").Inc()
	default:
		m.batches.WithLabelValues(fs, "accepted").Inc()
	}
	m.ingested.WithLabelValues(fs, "accepted").Add(float64(accepted))
	m.ingested.WithLabelValues(fs, "duplicate").Add(float64(duplicates))
}

// Deleted records n events of feature f deleted by retention.
func (m *Metrics) Deleted(f events.Feature, n int64) {
	if m == nil || !f.Valid() {
		return
	}
	m.deleted.WithLabelValues(string(f)).Add(float64(n))
}

func versionLabel(v int) string {
	switch v {
	case 1:
		return "v1"
	case 2:
		return "v2"
	case 3:
		return "v3"
	}
	return "none"
}

// RouteLabels returns the API version and feature a route pattern serves
// ("none" for either when it serves none): "POST /api/v2/auditevents" is
// v2 and auditevents, "GET /api/v3/auditevents" v3 and auditevents,
// "GET /api/auth/introspect" v1 and none, and
// "POST /api/v2/ingest/itemusages" v2 and itemusages.
func RouteLabels(route string) (version, feature string) {
	_, path, ok := strings.Cut(route, " ")
	if !ok {
		path = route
	}
	version, feature = "none", "none"
	switch {
	case strings.HasPrefix(path, "/api/v1/"), path == "/api/auth/introspect":
		version = "v1"
	case strings.HasPrefix(path, "/api/v2/"):
		version = "v2"
	case strings.HasPrefix(path, "/api/v3/"):
		version = "v3"
	default:
		return version, feature
	}
	last := path[strings.LastIndexByte(path, '/')+1:]
	if events.Feature(last).Valid() {
		feature = last
	}
	return version, feature
}
