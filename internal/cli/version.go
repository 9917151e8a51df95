package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/logbookhq/logbook/internal/cli.Version=v1.2.3".
var Version = "dev"

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

const versionUsage = `
Usage: logbook version [--json]

Prints the version of this binary (the release stamp, else the module
version), the Go version that built it, the module path and version, and the
VCS revision and commit time when the build recorded them (builds with
-buildvcs=false, as ours, record none: "unknown").

--json prints the same as one JSON object:
  {"version", "go", "module", "module_version", "revision", "time", "modified"}
`

// buildInfo is what logbook version reports.
type buildInfo struct {
	Version       string `json:"version"`
	Go            string `json:"go"`
	Module        string `json:"module"`
	ModuleVersion string `json:"module_version"`
	Revision      string `json:"revision"`
	Time          string `json:"time"`
	Modified      bool   `json:"modified"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version(), Go: runtime.Version(), Module: "github.com/logbookhq/logbook",
		ModuleVersion: "unknown", Revision: "unknown", Time: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	if bi.Main.Path != "" {
		b.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		b.ModuleVersion = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func runVersion(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "version", versionUsage)
	asJSON := fs.Bool("json", false, "print a JSON object with the same fields instead of text")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	b := readBuildInfo()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	rev := b.Revision
	if b.Modified {
		rev += " (modified)"
	}
	fmt.Fprintf(env.Stdout, "logbook %s\ngo: %s\nmodule: %s %s\nrevision: %s\ntime: %s\n",
		b.Version, b.Go, b.Module, b.ModuleVersion, rev, b.Time)
	return nil
}
