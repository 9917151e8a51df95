package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesAreCurrent runs the generator on events/event.go into
// a temporary directory and fails when what it writes differs from the
// committed files: run go generate ./events after changing a shape.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	tmp := t.TempDir()
	evDir, inDir := filepath.Join(tmp, "events"), filepath.Join(tmp, "ingest")
	for _, d := range []string{evDir, inDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile("../../events/event.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evDir, "event.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(evDir, inDir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ got, committed string }{
		{filepath.Join(evDir, "append_gen.go"), "../../events/append_gen.go"},
		{filepath.Join(inDir, "read_gen.go"), "../ingest/read_gen.go"},
		{filepath.Join(inDir, "check_gen.go"), "../ingest/check_gen.go"},
	} {
		got, err := os.ReadFile(f.got)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(f.committed)
		if err != nil {
			t.Fatalf("%v (run go generate ./events)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is not what internal/eventgen writes now: run go generate ./events", f.committed)
		}
		if !strings.HasPrefix(string(got), "// Code generated ") || !strings.Contains(string(got), "DO NOT EDIT.") {
			t.Errorf("%s lacks the generated-code header", f.committed)
		}
	}
}

// eventSrc is a small event.go; %s stands for more members of the first
// event.
const eventSrc = "package events\n\nimport \"time\"\n\n" +
	"type SignInAttempt struct {\n\tUUID string `json:\"uuid\"`\n\tTimestamp time.Time `json:\"timestamp\"`\n" +
	"\tCategory string `json:\"category\" check:\"enum=L\"`\n%s}\n" +
	"type ItemUsage struct {\n\tUUID string `json:\"uuid\"`\n\tTimestamp time.Time `json:\"timestamp\"`\n" +
	"\tAction string `json:\"action\" check:\"enum=L\"`\n}\n" +
	"type AuditEvent struct {\n\tUUID string `json:\"uuid\"`\n\tTimestamp time.Time `json:\"timestamp\"`\n}\n" +
	"type AuditEventV3 struct {\n\tUUID string `json:\"uuid\"`\n\tTimestamp time.Time `json:\"timestamp\"`\n\tTargets []Target `json:\"targets\"`\n}\n" +
	"type Target struct {\n\tType string `json:\"type\"`\n}\n"

// TestGenerateRefuses: a definition the generator cannot honour is an
// error naming the member, and no file is written.
func TestGenerateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, member, want string
	}{
		{"unknown check", "\tX string `json:\"x\" check:\"upper\"`\n", `SignInAttempt.X: unknown check "upper"`},
		{"enum without list", "\tX string `json:\"x\" check:\"enum\"`\n", "SignInAttempt.X: check enum needs a value"},
		{"bad range", "\tX float64 `json:\"x\" check:\"range=5\"`\n", `SignInAttempt.X: check range="5", want range=LO:HI`},
		{"no json tag", "\tX string `check:\"text\"`\n", "SignInAttempt.X: no json tag"},
		{"json option", "\tX string `json:\"x,string\"`\n", `SignInAttempt.X: json option "string" is not supported`},
		{"bad api", "\tX string `json:\"x,omitempty\" api:\"v3\"`\n", `SignInAttempt.X: api:"v3", want v2`},
		{"unsupported type", "\tX []string `json:\"x\"`\n", "SignInAttempt.X: type"},
		{"v2 not last", "\tX string `json:\"x,omitempty\" api:\"v2\"`\n\tY string `json:\"y\"`\n", "SignInAttempt.X: an event's v2 members must come last"},
		{"v2 not omitempty", "\tX string `json:\"x\" api:\"v2\"`\n", "SignInAttempt.X: a v2 member must be an omitempty string"},
		{"omitempty time", "\tX time.Time `json:\"x,omitempty\"`\n", "SignInAttempt.X: omitempty never omits a time.Time"},
		{"check on a number", "\tX int64 `json:\"x\" check:\"upperid\"`\n", "SignInAttempt.X: check upperid does not apply to int64"},
		{"unnamed", "\tstring `json:\"x\"`\n", "every member needs its own name"},
		{"array", "\tX [2]Target `json:\"x\"`\n", "SignInAttempt.X: type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			src := strings.Replace(eventSrc, "%s", tc.member, 1)
			if err := os.WriteFile(filepath.Join(tmp, "event.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			err := run(tmp, tmp)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error containing %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
				t.Errorf("%d files in the directory, want event.go alone", len(entries))
			}
		})
	}
}

// TestGenerateNeedsEachEvent: a row of the events table without its
// struct is an error.
func TestGenerateNeedsEachEvent(t *testing.T) {
	tmp := t.TempDir()
	src := eventSrc[:strings.Index(eventSrc, "type ItemUsage")]
	src = strings.Replace(src, "%s", "", 1)
	if err := os.WriteFile(filepath.Join(tmp, "event.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(tmp, tmp); err == nil || !strings.Contains(err.Error(), "no struct ItemUsage") {
		t.Fatalf("run = %v, want no struct ItemUsage", err)
	}
	// And a canonical member must have a list to be made canonical from.
	src = strings.Replace(eventSrc, "%s", "", 1)
	src = strings.Replace(src, `json:"category" check:"enum=L"`, `json:"category"`, 1)
	if err := os.WriteFile(filepath.Join(tmp, "event.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(tmp, tmp); err == nil || !strings.Contains(err.Error(), "canonical member Category is not an enum") {
		t.Fatalf("run = %v, want canonical member Category is not an enum", err)
	}
}
