//go:build !unix

package events

func processCPU() (int64, bool) { return 0, false }
