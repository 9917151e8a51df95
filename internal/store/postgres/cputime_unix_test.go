//go:build unix

package postgres_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used. The build machines are
// shared, so benchmarks report events per CPU second next to events per
// wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
