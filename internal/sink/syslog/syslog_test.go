package syslog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// harness builds sinks from YAML the way the configuration file hands it
// to New.
var harness = sinktest.Harness{New: New, Type: "syslog", Name: "syslog"}

var newTestSink = sinktest.Opener[*Sink](harness)

func TestFormat(t *testing.T) {
	t.Parallel()
	ev := forward.Event{
		UUID: "WMYL5LD5J7PK3JJAJJE7A4MS4F",
		Time: time.Date(2025, 7, 28, 20, 49, 16, 504514981, time.FixedZone("CEST", 2*3600)),
		Data: []byte("{\n  \"uuid\": \"WMYL5LD5J7PK3JJAJJE7A4MS4F\"\n}\n"),
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"defaults", "hostname: fw1\n",
			`<134>1 2025-07-28T18:49:16.504514Z fw1 logbook - auditevents - {"uuid":"WMYL5LD5J7PK3JJAJJE7A4MS4F"}`},
		{"facility, msgid and sd", "hostname: fw1\nfacility: authpriv\nseverity: notice\napp_name: op\nmsgids: {auditevents: AUDIT}\nstructured_data_id: \"logbook@32473\"\n",
			`<85>1 2025-07-28T18:49:16.504514Z fw1 op - AUDIT [logbook@32473 uuid="WMYL5LD5J7PK3JJAJJE7A4MS4F" source="a\"b\]c"] {"uuid":"WMYL5LD5J7PK3JJAJJE7A4MS4F"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSink(t, "address: 127.0.0.1:514\n"+tt.doc)
			got := string(s.format(forward.Batch{Source: `a"b]c`, Feature: events.AuditEvents}, ev))
			if got != tt.want {
				t.Errorf("format =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// wantReceived is what rsyslog must have parsed from the batch.
func wantReceived(b forward.Batch, sd bool) []received {
	out := make([]received, len(b.Events))
	for i, ev := range b.Events {
		r := received{
			Pri:       "134",
			Timestamp: ev.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
			Hostname:  "forwarder-1",
			AppName:   "logbook",
			ProcID:    "-",
			MsgID:     string(b.Feature),
			SD:        "-",
			Msg:       string(ev.Data),
		}
		if sd {
			r.SD = fmt.Sprintf(`[logbook@32473 uuid="%s" source="%s"]`, ev.UUID, b.Source)
		}
		out[i] = r
	}
	return out
}

func TestRsyslog(t *testing.T) {
	t.Parallel()
	r := startRsyslogd(t)
	networks := []struct{ network, extra, file string }{
		{"udp", fmt.Sprintf("address: 127.0.0.1:%d\n", r.udpPort), "udp.log"},
		{"tcp", fmt.Sprintf("address: 127.0.0.1:%d\nstructured_data_id: logbook@32473\n", r.tcpPort), "tcp.log"},
		{"tls", fmt.Sprintf("address: 127.0.0.1:%d\nca_file: %s\n", r.tlsPort, filepath.Join(r.dir, "ca.pem")), "tls.log"},
	}
	for _, n := range networks {
		t.Run(n.network, func(t *testing.T) {
			if n.network == "tls" && !r.tls {
				testenv.Unavailable(t, "rsyslog-gnutls is not installed (apt-get install rsyslog-gnutls)")
			}
			s := newTestSink(t, "network: "+n.network+"\nhostname: forwarder-1\n"+n.extra)
			b := sinktest.AuditBatch(t)
			sinktest.Write(t, s, b)
			b2 := b
			b2.Feature = events.SignInAttempts
			b2.Events = b.Events[:2]
			sinktest.Write(t, s, b2)
			got := r.messages(t, n.file, len(b.Events)+len(b2.Events))
			want := append(wantReceived(b, n.network == "tcp"), wantReceived(b2, n.network == "tcp")...)
			if n.network == "udp" {
				// Datagrams may be reordered in principle; compare as sets.
				sortReceived(got)
				sortReceived(want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rsyslog received (-want +got):\n%s", diff)
			}
		})
	}
}

func sortReceived(rs []received) {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if rs[j].MsgID+rs[j].Msg < rs[i].MsgID+rs[i].Msg {
				rs[i], rs[j] = rs[j], rs[i]
			}
		}
	}
}

// TestRsyslogRestart restarts the receiver under a connected sink: the next
// Write must notice the closed connection, dial again and deliver.
func TestRsyslogRestart(t *testing.T) {
	t.Parallel()
	r := startRsyslogd(t)
	for _, network := range []string{"tcp", "tls"} {
		t.Run(network, func(t *testing.T) {
			if network == "tls" && !r.tls {
				testenv.Unavailable(t, "rsyslog-gnutls is not installed (apt-get install rsyslog-gnutls)")
			}
			port, file := r.tcpPort, "tcp.log"
			if network == "tls" {
				port, file = r.tlsPort, "tls.log"
			}
			doc := fmt.Sprintf("network: %s\naddress: 127.0.0.1:%d\nhostname: forwarder-1\n", network, port)
			if network == "tls" {
				doc += "ca_file: " + filepath.Join(r.dir, "ca.pem") + "\n"
			}
			s := newTestSink(t, doc)
			b := sinktest.AuditBatch(t)
			first := forward.Batch{Source: b.Source, Feature: b.Feature, Events: b.Events[:3]}
			second := forward.Batch{Source: b.Source, Feature: b.Feature, Events: b.Events[3:]}
			sinktest.Write(t, s, first)
			r.messages(t, file, 3)
			r.restart(t)
			sinktest.Write(t, s, second)
			got := r.messages(t, file, len(b.Events))
			if diff := cmp.Diff(wantReceived(b, false), got); diff != "" {
				t.Errorf("rsyslog received (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteReceiverDown(t *testing.T) {
	t.Parallel()
	port := freeTCPPort(t) // nothing listens there now
	s := newTestSink(t, fmt.Sprintf("address: 127.0.0.1:%d\ntimeout: 2s\n", port))
	sinktest.Temporary(t, s.Write(t.Context(), sinktest.AuditBatch(t)), "syslog: dial tcp 127.0.0.1:"+strconv.Itoa(port))
}

func TestWriteUDPTooLarge(t *testing.T) {
	t.Parallel()
	r := startRsyslogd(t)
	s := newTestSink(t, fmt.Sprintf("network: udp\naddress: 127.0.0.1:%d\nhostname: forwarder-1\n", r.udpPort))
	b := sinktest.AuditBatch(t)
	big := forward.Event{UUID: "BIG", Data: []byte(`{"pad":"` + strings.Repeat("x", MaxUDPMessage) + `"}`)}
	b.Events = append(b.Events[:1:1], big, b.Events[1])
	if rej := sinktest.Rejected(t, s.Write(t.Context(), b)); len(rej) != 1 || rej[0].Index != 1 {
		t.Fatalf("Write rejected %+v, want event 1 as too large", rej)
	}
	got := r.messages(t, "udp.log", 2)
	if len(got) != 2 || got[0].Msg != string(b.Events[0].Data) || got[1].Msg != string(b.Events[2].Data) {
		t.Errorf("rsyslog received %+v, want events 0 and 2", got)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	harness.RefusedAll(t, []sinktest.Refusal{
		{Name: "missing address", Doc: "network: tcp\n", Want: []string{"address: required"}},
		{Name: "bad address", Doc: "address: localhost\n", Want: []string{`address: "localhost" must be host:port`}},
		{Name: "bad port", Doc: "address: localhost:99999\n", Want: []string{`address: port "99999" must be 1 to 65535`}},
		{Name: "bad network", Doc: "network: sctp\naddress: h:514\n", Want: []string{`network: "sctp" must be udp, tcp or tls`}},
		{Name: "bad facility", Doc: "address: h:514\nfacility: local9\n", Want: []string{`facility: unknown facility "local9"`}},
		{Name: "bad severity", Doc: "address: h:514\nseverity: loud\n", Want: []string{`severity: unknown severity "loud"`}},
		{Name: "long msgid", Doc: "address: h:514\nmsgids: {auditevents: " + strings.Repeat("x", 33) + "}\n", Want: []string{"msgids.auditevents: must be 1 to 32 characters"}},
		{Name: "space in app name", Doc: "address: h:514\napp_name: \"a b\"\n", Want: []string{`app_name: "a b" must be printable ASCII`}},
		{Name: "sd id without pen", Doc: "address: h:514\nstructured_data_id: logbook\n", Want: []string{"structured_data_id: \"logbook\" must have the form name@"}},
		{Name: "tls file without tls", Doc: "address: h:514\nca_file: ca.pem\n", Want: []string{"only with network: tls"}},
		{Name: "missing ca file", Doc: "network: tls\naddress: h:6514\nca_file: nope.pem\n", Want: []string{"ca_file:"}},
		{Name: "negative timeout", Doc: "address: h:514\ntimeout: -1s\n", Want: []string{"timeout: must not be negative"}},
	})
}
