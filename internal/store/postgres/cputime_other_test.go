//go:build !unix

package postgres_test

import "time"

// cpuTime is unknown here; the CPU metric is left out.
func cpuTime() time.Duration { return 0 }
