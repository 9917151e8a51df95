package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
)

var testEnv = map[string]string{"ES_PASSWORD": "s3cret-pw", "ES_API_KEY": "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="}

// harness builds sinks from YAML the way the configuration file hands it
// to New.
var harness = sinktest.Harness{New: New, Type: "elasticsearch", Name: "es", Env: testEnv}

var newTestSink = sinktest.Opener[*Sink](harness)

func keys(b forward.Batch, index string) []string {
	out := make([]string, len(b.Events))
	for i, e := range b.Events {
		out[i] = index + "/" + e.UUID
	}
	return out
}

func TestWriteCreatesOnce(t *testing.T) {
	t.Parallel()
	srv := newBulkServer(t, "")
	s := newTestSink(t, fmt.Sprintf("url: %s\nindex: \"1p-{source}-{feature}-{date}\"\n", srv.URL))
	b := sinktest.AuditBatch(t)
	for i := range 2 { // the second time every item answers 409
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatalf("Write #%d: %v", i+1, err)
		}
	}
	order, docs, requests, _ := srv.stored()
	if diff := cmp.Diff(keys(b, "1p-demo-auditevents-2025.07.28"), order); diff != "" {
		t.Errorf("created documents differ (-want +got):\n%s", diff)
	}
	if requests != 2 {
		t.Errorf("requests = %d, want 2", requests)
	}
	for _, ev := range b.Events {
		if got := string(docs["1p-demo-auditevents-2025.07.28"][ev.UUID]); got != string(ev.Data) {
			t.Errorf("document %s = %s, want the event bytes %s", ev.UUID, got, ev.Data)
		}
	}
}

func TestWriteMixedItems(t *testing.T) {
	t.Parallel()
	srv := newBulkServer(t, "")
	s := newTestSink(t, fmt.Sprintf("url: %s\n", srv.URL))
	b := sinktest.AuditBatch(t)
	// Event 0 is already there (409); event 2 breaks the date mapping (400).
	sinktest.Write(t, s, forward.Batch{Source: b.Source, Feature: b.Feature, Events: b.Events[:1]})
	b.Events[2].Data = bytes.Replace(b.Events[2].Data, []byte(`"timestamp":"2025-`), []byte(`"timestamp":"yesterday 2025-`), 1)
	rej := sinktest.Rejected(t, s.Write(t.Context(), b))
	if len(rej) != 1 || rej[0].Index != 2 ||
		!strings.HasPrefix(rej[0].Reason, "elasticsearch: 400 document_parsing_exception: [1:2] failed to parse field [timestamp] of type [date]") {
		t.Errorf("rejected = %+v, want event 2 with the mapping error", rej)
	}
	order, _, _, _ := srv.stored()
	want := keys(b, "logbook-auditevents")
	want = append(want[:2:2], want[3:]...)
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("created documents differ (-want +got):\n%s", diff)
	}
}

func TestWriteRetryableItems(t *testing.T) {
	t.Parallel()
	srv := newBulkServer(t, "")
	srv.reject429 = 2
	s := newTestSink(t, fmt.Sprintf("url: %s\n", srv.URL))
	b := sinktest.AuditBatch(t)
	b.Events[4].Data = []byte(`{"uuid":"X","timestamp":12}`) // a rejection that must wait for the retry
	// Two 429 items: the batch is to be retried.
	sinktest.Temporary(t, s.Write(t.Context(), b), "2 of 6 items to retry, first: 429 es_rejected_execution_exception")
	if rej := sinktest.Rejected(t, s.Write(t.Context(), b)); len(rej) != 1 || rej[0].Index != 4 {
		t.Fatalf("second Write rejected %+v, want event 4", rej)
	}
	order, _, _, _ := srv.stored()
	if len(order) != 5 {
		t.Errorf("stored %d documents (%v), want 5, each once", len(order), order)
	}
}

// TestWriteAuthAndErrors sends a batch to a cluster that wants the
// Authorization authz: it is indexed, or refused as a whole with wantErr.
func TestWriteAuthAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		authz   string
		down    int
		extra   string
		wantErr string // "": the batch is indexed
	}{
		{name: "basic", authz: "Basic ZWxhc3RpYzpzM2NyZXQtcHc=", extra: "username: elastic\npassword_env: ES_PASSWORD\n"},
		{name: "api key", authz: "ApiKey " + testEnv["ES_API_KEY"], extra: "api_key_env: ES_API_KEY\n"},
		{name: "cluster down", down: 1, wantErr: "elasticsearch bulk: 503 cluster_block_exception"},
		{name: "wrong password", authz: "Basic b3RoZXI6b3RoZXI=", extra: "username: elastic\npassword_env: ES_PASSWORD\n", wantErr: "401 security_exception"},
		{name: "no credentials", authz: "ApiKey x", wantErr: "401 security_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newBulkServer(t, tt.authz)
			srv.down = tt.down
			s := newTestSink(t, fmt.Sprintf("url: %s\n%s", srv.URL, tt.extra))
			if tt.wantErr == "" {
				sinktest.Write(t, s, sinktest.AuditBatch(t))
				return
			}
			err := s.Write(t.Context(), sinktest.AuditBatch(t))
			var be *BulkError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write = %v, want a BulkError with %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testEnv["ES_PASSWORD"]) {
				t.Errorf("error %q contains the password", err)
			}
			if order, _, _, _ := srv.stored(); len(order) != 0 {
				t.Errorf("stored %d documents, want 0", len(order))
			}
		})
	}
}

func TestWriteGzipSplitPipeline(t *testing.T) {
	t.Parallel()
	srv := newBulkServer(t, "")
	s := newTestSink(t, fmt.Sprintf("url: %s\ngzip: true\nmax_request_bytes: 2500\npipeline: onepassword\nindexes:\n  auditevents: audit\n", srv.URL))
	b := sinktest.AuditBatch(t)
	// An indented event must still travel as one NDJSON line.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b.Events[1].Data, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.Events[1].Data = pretty.Bytes()
	sinktest.Write(t, s, b)
	order, docs, requests, gzipped := srv.stored()
	if diff := cmp.Diff(keys(b, "audit"), order); diff != "" {
		t.Errorf("created documents differ (-want +got):\n%s", diff)
	}
	if requests < 2 || gzipped != requests {
		t.Errorf("requests = %d, gzipped = %d; want several, all gzipped", requests, gzipped)
	}
	if srv.pipeline != "onepassword" {
		t.Errorf("pipeline = %q, want onepassword", srv.pipeline)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, pretty.Bytes())
	if got := string(docs["audit"][b.Events[1].UUID]); got != compact.String() {
		t.Errorf("indented document stored as %s, want %s", got, compact.String())
	}
}

func TestIndexName(t *testing.T) {
	t.Parallel()
	b := forward.Batch{Source: "Prod", Feature: events.SignInAttempts}
	ev := forward.Event{Time: time.Date(2025, 1, 2, 23, 30, 0, 0, time.FixedZone("x", -3600))}
	tests := []struct {
		doc  string
		want string
	}{
		{"", "logbook-signinattempts"},
		{"index: \"{source}-{feature}-{date}\"", "prod-signinattempts-2025.01.03"},
		{"index: \"x-{date}\"\ndate_format: \"2006-01\"", "x-2025-01"},
		{"indexes: {signinattempts: signins}", "signins"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s := newTestSink(t, "url: http://127.0.0.1:9\n"+tt.doc)
			if got := s.indexName(b, ev); got != tt.want {
				t.Errorf("indexName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	harness.RefusedAll(t, []sinktest.Refusal{
		{Name: "missing url", Doc: "index: x\n", Want: []string{"url: required"}},
		{Name: "bad url", Doc: "url: es.example.com:9200\n", Want: []string{"url: must be an http or https URL"}},
		{Name: "upper-case index", Doc: "url: http://x\nindex: Logs\n", Want: []string{"index: must be lower case"}},
		{Name: "index starting with _", Doc: "url: http://x\nindex: _x\n", Want: []string{"index: must not start with _"}},
		{Name: "unknown feature", Doc: "url: http://x\nindexes: {logins: x}\n", Want: []string{`indexes: unknown feature "logins"`}},
		{Name: "password without user", Doc: "url: http://x\npassword_env: ES_PASSWORD\n", Want: []string{"username: required"}},
		{Name: "both auths", Doc: "url: http://x\nusername: u\npassword_env: ES_PASSWORD\napi_key_env: ES_API_KEY\n", Want: []string{"give either an API key or a username"}},
		{Name: "unset env", Doc: "url: http://x\napi_key_env: NOPE\n", Want: []string{"api_key_env: environment variable NOPE is not set"}},
		{Name: "negative size", Doc: "url: http://x\nmax_request_bytes: -1\n", Want: []string{"max_request_bytes: must not be negative"}},
		{Name: "unknown key", Doc: "url: http://x\nindex_name: x\n", Want: []string{"index_name"}},
		{Name: "negative timeout", Doc: "url: http://x\ntimeout: -1s\n", Want: []string{"timeout: must not be negative"}},
		{Name: "missing ca file", Doc: "url: https://x\nca_file: nope.pem\n", Want: []string{"ca_file:"}},
	})
}
