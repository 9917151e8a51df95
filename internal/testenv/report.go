package testenv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// go test ./... keeps a test binary's stdout and stderr to itself and,
// for a package that passes, prints only its "ok" line: without -v a skip
// leaves no trace. The binary's parent is the go command, though, and on
// Linux /proc/<parent>/fd/2 is the go command's own stderr, which go test
// ./... (and whatever it is piped into) shows. report writes there.

// reported holds the reasons already reported by this test binary.
var reported sync.Map

// reportTo, when set, receives what report writes (testenv's own tests).
var reportTo io.Writer

// report writes "SKIPPED <package>: <msg>" once per msg where the person
// running go test sees it: the go command's stderr when go test holds
// this binary's output back, this binary's stderr when it does not (the
// binary run by hand), nothing under -v or -json, which show the skip
// already.
func report(msg string) {
	if _, dup := reported.LoadOrStore(msg, true); dup {
		return
	}
	line := fmt.Sprintf("SKIPPED %s: %s\n", packageDir(), msg)
	if reportTo != nil {
		io.WriteString(reportTo, line)
		return
	}
	if testing.Verbose() {
		return
	}
	w := reportWriter()
	if w == nil {
		return
	}
	w.Write([]byte(line)) // one write, whole even on a pipe shared with other packages
}

// reportWriter is where report writes, looked for once.
var reportWriter = sync.OnceValue(func() io.Writer {
	ppid := os.Getppid()
	proc := "/proc/" + strconv.Itoa(ppid)
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		// Not Linux, or no /proc: our stderr is all there is.
		return os.Stderr
	}
	if b := filepath.Base(exe); b != "go" && b != "go.exe" {
		// Run by hand or by go test -exec: our stderr is shown.
		return os.Stderr
	}
	ours, err := os.Stderr.Stat()
	if err != nil {
		return nil
	}
	for _, fd := range []string{"/fd/1", "/fd/2"} {
		if fi, err := os.Stat(proc + fd); err == nil && os.SameFile(fi, ours) {
			// go test in a package directory streams our output.
			return os.Stderr
		}
	}
	fi, err := os.Stat(proc + "/fd/2")
	if err != nil || fi.Mode().IsRegular() {
		// Opened anew, a regular file would be written at an offset of
		// our own, over what the go command writes: stay quiet.
		return nil
	}
	f, err := os.OpenFile(proc+"/fd/2", os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
})

// packageDir names the package under test as go test ./... does not: its
// directory relative to the module's root ("./internal/store/postgres"),
// which is also the test binary's working directory.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return wd
		}
		dir = parent
	}
}
