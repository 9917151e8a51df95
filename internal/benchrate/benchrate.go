// Package benchrate reports benchmark throughput as events per wall-clock
// second and per CPU second of the process. On a machine shared with other
// work the CPU rate is the steadier of the two.
package benchrate

import (
	"testing"
	"time"
)

// Meter measures CPU time from its start.
type Meter struct{ cpu0, excluded time.Duration }

// Start returns a Meter started now.
func Start() Meter { return Meter{cpu0: processCPU()} }

// Report reports n events over the benchmark's elapsed time, and over the
// CPU time the process used since Start (omitted where the platform does
// not tell).
func (m Meter) Report(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	if cpu := processCPU() - m.cpu0 - m.excluded; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
}

// Exclude runs prep, the making of a benchmark's input, with the
// benchmark's timer stopped and its CPU time left out of the rate.
func (m *Meter) Exclude(b *testing.B, prep func()) {
	b.StopTimer()
	c0 := processCPU()
	prep()
	m.excluded += processCPU() - c0
	b.StartTimer()
}

// CPU returns the CPU time (user and system) the process has used.
func CPU() time.Duration { return processCPU() }
