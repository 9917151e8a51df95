package forward_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/servertest"
)

// BenchmarkForwardServerToFile measures end-to-end events/s from a real
// Logbook server (SQLite, full HTTP stack on loopback, sharing the cores
// with the forwarder) to the file sink: pages of 1,000, JSON lines fsynced
// per page, cursor saved per page.
func BenchmarkForwardServerToFile(b *testing.B) {
	const n = 100_000
	srv := servertest.Start(b, servertest.Options{})
	start := time.Now().UTC().Add(-24 * time.Hour)
	appendAudit(b, srv, 0, n, start)
	c, err := client.New(srv.URL, srv.IssueToken(b, 0, "auditevents"))
	if err != nil {
		b.Fatal(err)
	}
	var written int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		tb := &testBundle{state: filepath.Join(dir, "state"), out: filepath.Join(dir, "out.ndjson")}
		opts := forward.Options{Sources: []forward.SourceOptions{{Name: "bench", Source: clientSource{c}, StartTime: start.Add(-time.Minute),
			Limit: 1000, PollInterval: time.Millisecond, Limits: forward.Limits{PerMinute: 1 << 20, PerHour: 1 << 20}}},
			Sinks: []forward.Sink{tb.fileSink(b)}}
		b.StartTimer()
		cpu0 := cpuTime()
		tb.run(b, opts)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		if got := countLines(b, tb.out); got != n {
			b.Fatalf("file holds %d lines, want %d", got, n)
		}
		written += fileSize(b, tb.out)
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(written)/float64(n*b.N), "B/event")
}
