//go:build unix

package events

import "syscall"

// processCPU returns the CPU time the process has used, in nanoseconds:
// user and system, all threads, so the garbage collector's work counts.
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
