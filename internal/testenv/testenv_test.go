package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// outcome runs f in a subtest and says whether it skipped, and with what.
func outcome(t *testing.T, f func(t *testing.T) string) (got string, skipped bool) {
	t.Helper()
	t.Run("sub", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		got = f(t)
	})
	return got, skipped
}

func TestServiceURL(t *testing.T) {
	t.Setenv("CI", "")
	var out bytes.Buffer
	reportTo = &out
	t.Cleanup(func() { reportTo = nil })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	up := newService("Widget", "TESTENV_WIDGET_URL", "widget://"+l.Addr().String()+"/0")

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	down := newService("Widget", "TESTENV_WIDGET_URL", "widget://"+closedAddr+"/0")

	tests := []struct {
		name    string
		s       *service
		env     string
		want    string
		skipped bool
	}{
		{"set", down, "widget://elsewhere:1/", "widget://elsewhere:1/", false},
		{"unset, default answers", up, "", up.def, false},
		{"unset, nothing answers", down, "", "", true},
		{"off", up, "off", "", true},
	}
	for _, tt := range tests {
		t.Setenv("TESTENV_WIDGET_URL", tt.env)
		got, skipped := outcome(t, func(t *testing.T) string { return tt.s.url(t) })
		if got != tt.want || skipped != tt.skipped {
			t.Errorf("%s: url = %q, skipped %v; want %q, skipped %v", tt.name, got, skipped, tt.want, tt.skipped)
		}
	}
	want := []string{
		"SKIPPED ./internal/testenv: no Widget: TESTENV_WIDGET_URL is unset and nothing answers at " + closedAddr + " (set TESTENV_WIDGET_URL to run)",
		"SKIPPED ./internal/testenv: Widget tests are off (TESTENV_WIDGET_URL=off)",
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnavailableUnderCI: under CI=true a missing service fails the test.
func TestUnavailableUnderCI(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Unavailable(t, "no widget")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableUnderCI$")
	cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI=true")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CI=true and no widget") {
		t.Errorf("under CI=true: %v\n%s", err, out)
	}
}

// TestGoTestShowsSkips runs go test, as a developer does, on a package
// whose tests skip, and looks for each reason, once, in what it prints;
// and under -v, which shows each skip already, for no added line. The two
// go test runs go side by side.
func TestGoTestShowsSkips(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test twice")
	}
	t.Parallel()
	const pkg = "./internal/testenv/testdata/skipper"
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CI=") {
			env = append(env, kv)
		}
	}
	type run struct {
		out string
		err error
	}
	gotest := func(args ...string) <-chan run {
		c := make(chan run, 1)
		go func() {
			cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
			cmd.Dir = "../.."
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			c <- run{string(out), err}
		}()
		return c
	}
	plain, verbose := gotest(pkg), gotest("-v", pkg)

	r := <-plain
	if r.err != nil {
		t.Fatalf("go test %s: %v\n%s", pkg, r.err, r.out)
	}
	for _, want := range []string{
		"SKIPPED " + pkg + ": no widget here (set TESTENV_WIDGET to run)\n",
		"SKIPPED " + pkg + ": no gadget here\n",
		"ok  \tgithub.com/logbookhq/logbook/internal/testenv/testdata/skipper",
	} {
		if n := strings.Count(r.out, want); n != 1 {
			t.Errorf("go test %s prints %q %d times, want once:\n%s", pkg, want, n, r.out)
		}
	}
	r = <-verbose
	if r.err != nil || strings.Contains(r.out, "SKIPPED") || strings.Count(r.out, "--- SKIP") != 3 {
		t.Errorf("go test -v %s: %v\n%s", pkg, r.err, r.out)
	}
}
