package forward

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the forwarder's Prometheus series. Stream labels are
// source and feature; sink labels the sink's name.
type metrics struct {
	eventsIn    *prometheus.CounterVec
	eventsOut   *prometheus.CounterVec
	requests    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	paused      *prometheus.GaugeVec
	cursorAge   *prometheus.GaugeVec
	lag         *prometheus.GaugeVec
	spoolBytes  *prometheus.GaugeVec
	spoolBatch  *prometheus.GaugeVec
	deadLetters *prometheus.CounterVec
	sinkErrors  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	stream := []string{"source", "feature"}
	m := &metrics{
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_events_in_total",
			Help: "Events received from Events API streams."}, stream),
		eventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_events_out_total",
			Help: "Events confirmed by a sink (dead letters excluded)."}, []string{"sink", "source", "feature"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_requests_total",
			Help: "Requests to Events APIs, by HTTP status (0: network error)."}, []string{"source", "feature", "code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_rate_limited_total",
			Help: "429 replies received."}, []string{"source"}),
		paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbook_forward_stream_paused",
			Help: "1 while a stream is paused because the API refused its token (401) or cursor (400)."}, append(stream, "reason")),
		cursorAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbook_forward_cursor_age_seconds",
			Help: "Seconds since the stream's cursor was last confirmed current (saved or polled with nothing new)."}, stream),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbook_forward_lag_seconds",
			Help: "Seconds between now and the timestamp of the newest confirmed event."}, stream),
		spoolBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbook_forward_spool_bytes",
			Help: "Bytes waiting in a sink's on-disk spool."}, []string{"sink"}),
		spoolBatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbook_forward_spool_batches",
			Help: "Batches waiting in a sink's on-disk spool."}, []string{"sink"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_dead_letters_total",
			Help: "Events a sink refused for good, written to the dead-letter directory."}, []string{"sink"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbook_forward_sink_errors_total",
			Help: "Temporary sink write errors (the batch is retried)."}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.eventsIn, m.eventsOut, m.requests, m.rateLimited, m.paused, m.cursorAge, m.lag,
			m.spoolBytes, m.spoolBatch, m.deadLetters, m.sinkErrors)
	}
	return m
}
