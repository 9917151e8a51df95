package syslog

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/localca"
	"github.com/logbookhq/logbook/internal/testenv"
)

// rsyslogd is a real rsyslog daemon started by one test, listening on
// loopback ports: UDP, plain TCP and TCP with TLS (gtls), each writing what
// it receives to its own file in the test's directory, one line per
// message with the parsed RFC 5424 fields separated by '|'.
type rsyslogd struct {
	dir                       string
	udpPort, tcpPort, tlsPort int
	tls                       bool // the gtls driver is installed
	cmd                       *exec.Cmd
	exited                    chan struct{}
	owner                     *testing.T // the test that started it: it stops it
}

// rsyslogdPath finds rsyslogd; installed by the rsyslog package (and
// rsyslog-gnutls for TLS).
func rsyslogdPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"rsyslogd", "/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	testenv.Unavailable(t, "rsyslogd not found (apt-get install rsyslog rsyslog-gnutls)")
	return ""
}

// gtlsInstalled reports whether rsyslog's GnuTLS driver is present.
func gtlsInstalled() bool {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"} {
		if _, err := os.Stat(filepath.Join(dir, "lmnsd_gtls.so")); err == nil {
			return true
		}
	}
	return false
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startRsyslogd writes a configuration into a new temporary directory and
// starts rsyslogd in the foreground; it is killed when the test ends.
func startRsyslogd(t *testing.T) *rsyslogd {
	t.Helper()
	bin := rsyslogdPath(t)
	r := &rsyslogd{dir: t.TempDir(), udpPort: freeUDPPort(t), tcpPort: freeTCPPort(t), tls: gtlsInstalled(), owner: t}
	if r.tls {
		r.tlsPort = freeTCPPort(t)
		if _, _, err := localca.Ensure(r.dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\"", r.dir)
	if r.tls {
		fmt.Fprintf(&conf, "\n  defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q",
			filepath.Join(r.dir, localca.CAFile), filepath.Join(r.dir, localca.CertFile), filepath.Join(r.dir, localca.KeyFile))
	}
	conf.WriteString(")\n")
	conf.WriteString(`module(load="imudp")
module(load="imtcp")
template(name="fields" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
`)
	for _, name := range []string{"udp", "tcp", "tls"} {
		fmt.Fprintf(&conf, "ruleset(name=%q) { action(type=\"omfile\" file=%q template=\"fields\") }\n", name, filepath.Join(r.dir, name+".log"))
	}
	fmt.Fprintf(&conf, "input(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"udp\")\n", r.udpPort)
	fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"tcp\")\n", r.tcpPort)
	if r.tls {
		fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"tls\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n", r.tlsPort)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "rsyslog.conf"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start(t, bin)
	return r
}

func (r *rsyslogd) start(t *testing.T, bin string) {
	t.Helper()
	var stderr bytes.Buffer
	r.cmd = exec.Command(bin, "-n", "-f", filepath.Join(r.dir, "rsyslog.conf"), "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout = &stderr
	r.cmd.Stderr = &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	r.exited = make(chan struct{})
	cmd, exited := r.cmd, r.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	r.owner.Cleanup(func() { r.stopCmd(cmd, exited) })
	// rsyslogd opens its listeners after it started: wait for them.
	ports := []int{r.tcpPort}
	if r.tls {
		ports = append(ports, r.tlsPort)
	}
	for _, p := range ports {
		waitFor(t, 10*time.Second, func() bool {
			select {
			case <-exited:
				t.Fatalf("rsyslogd exited: %s", stderr.String())
			default:
			}
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
			if err != nil {
				return false
			}
			c.Close()
			return true
		}, "rsyslogd to listen on tcp port %d", p)
	}
	// UDP gives no sign of listening: send probes until one is written.
	probe, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(r.udpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	waitFor(t, 10*time.Second, func() bool {
		_, _ = probe.Write([]byte("<14>1 - - probe - - - probe"))
		b, _ := os.ReadFile(filepath.Join(r.dir, "udp.log"))
		return bytes.Contains(b, []byte("|probe|"))
	}, "rsyslogd to receive udp")
}

func (r *rsyslogd) stopCmd(cmd *exec.Cmd, exited chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Kill()
	<-exited
}

// restart kills rsyslogd and starts it again on the same ports, as a
// receiver restarting under a connected client.
func (r *rsyslogd) restart(t *testing.T) {
	t.Helper()
	r.stopCmd(r.cmd, r.exited)
	r.start(t, rsyslogdPath(t))
}

// waitFor polls cond until it holds or the deadline passes: waiting on a
// condition another process brings about, not sleeping for timing.
func waitFor(t *testing.T, within time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for "+format, append([]any{within}, args...)...)
		}
		<-tick.C
	}
}

// received is one message as rsyslog parsed it.
type received struct {
	Pri, Timestamp, Hostname, AppName, ProcID, MsgID, SD, Msg string
}

// messages waits until file holds n messages from app "logbook" and
// returns them.
func (r *rsyslogd) messages(t *testing.T, file string, n int) []received {
	t.Helper()
	var got []received
	var b []byte
	defer func() {
		if t.Failed() {
			t.Logf("%s holds:\n%s", file, b)
		}
	}()
	waitFor(t, 15*time.Second, func() bool {
		b, _ = os.ReadFile(filepath.Join(r.dir, file))
		got = got[:0]
		// Only whole lines: rsyslog may be halfway through writing the
		// last one (a long message, written in more than one piece).
		whole := string(b[:bytes.LastIndexByte(b, '\n')+1])
		for _, line := range strings.Split(strings.TrimSuffix(whole, "\n"), "\n") {
			f := strings.SplitN(line, "|", 8)
			if len(f) != 8 || f[3] == "probe" {
				continue
			}
			got = append(got, received{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]})
		}
		return len(got) >= n
	}, "%d messages in %s", n, file)
	return got
}
