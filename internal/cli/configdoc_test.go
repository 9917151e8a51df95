package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The reference of docs/configuration.md is made from serve's flag set, so
// a flag added to serve is documented by refreshing it:
//
//	go generate ./internal/cli
//
// (LOGBOOK_UPDATE_DOCS=1 go test -run '^TestConfigurationDoc$' ./internal/cli
// does the same).

const (
	configDoc      = "../../docs/configuration.md"
	configDocBegin = "<!-- BEGIN keys: generated from serve's flags by TestConfigurationDoc; refresh with go generate ./internal/cli -->\n"
	configDocEnd   = "<!-- END keys -->\n"
)

// configReference is the table of every key serve's file takes.
func configReference(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("| Key | Value | Default | Variable | Meaning |\n|---|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg == "" {
			arg = "true or false"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | `%s` | %s |\n", f.Name, mdCell(arg), yamlValue(f, f.DefValue), envKey(f.Name), mdCell(usage))
	})
	return b.String()
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// TestConfigurationDoc fails when docs/configuration.md's table of keys is
// not the one serve's flags make (and rewrites it when
// LOGBOOK_UPDATE_DOCS=1).
func TestConfigurationDoc(t *testing.T) {
	raw, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, configDocBegin)
	j := strings.Index(doc, configDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q", configDoc, configDocBegin, configDocEnd)
	}
	want := doc[:i] + configDocBegin + configReference(inspectServe(t)) + doc[j:]
	if doc == want {
		return
	}
	if os.Getenv("LOGBOOK_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(configDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", configDoc)
		return
	}
	t.Errorf("%s's table of keys is out of date with serve's flags; run go generate ./internal/cli", configDoc)
}

// TestExampleConfig: the example file deploy/logbook.yaml (the one the
// systemd unit reads as /etc/logbook/logbook.yaml) is accepted by serve
// and sets what it shows.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	const path = "../../deploy/logbook.yaml"
	got, _ := printConfig(t, nil, "--config", path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, errs := parseConfigFile(path, data)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(entries) < 5 {
		t.Errorf("the example sets %d keys; it should show a production setup", len(entries))
	}
	for _, e := range entries {
		if w := fmt.Sprintf("file %s:%d", path, e.line); got[e.key].Source != w {
			t.Errorf("%s came from %q, want %q", e.key, got[e.key].Source, w)
		}
	}
}

// codeBlockAfter returns the fenced code block that follows marker in doc.
func codeBlockAfter(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, marker)
	if !ok {
		t.Fatalf("%s has no %q", configDoc, marker)
	}
	_, rest, _ = strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("%s: no code block after %q", configDoc, marker)
	}
	return block
}

// TestConfigurationDocErrors: the bad file of docs/configuration.md gets
// the messages the page shows.
func TestConfigurationDocErrors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	path := writeConfig(t, codeBlockAfter(t, doc, "<!-- errors-example: file -->"))
	want := codeBlockAfter(t, doc, "<!-- errors-example: output -->")
	_, errOut, code := runMain([]string{"serve", "--config", path}, nil)
	got := "$ logbook serve --config logbook.yaml\n" + strings.ReplaceAll(errOut, path, "logbook.yaml")
	if code != 2 || got != want {
		t.Errorf("exit %d; docs/configuration.md shows:\n%s\nthe program prints:\n%s", code, want, got)
	}
}
