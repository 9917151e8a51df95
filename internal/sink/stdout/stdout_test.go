package stdout

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"raw bytes", []string{`{"uuid":"A","n":1}`, `{"uuid":"B" ,"n":2}`}, "{\"uuid\":\"A\",\"n\":1}\n{\"uuid\":\"B\" ,\"n\":2}\n"},
		{"pretty-printed compacted", []string{"{\n  \"uuid\": \"P\"\n}"}, "{\"uuid\":\"P\"}\n"},
		{"invalid multi-line kept on one line", []string{"{\n\"uuid\":"}, "{ \"uuid\":\n"},
		{"empty batch", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := NewWriter("console", &out)
			b := forward.Batch{Source: "demo", Feature: events.AuditEvents}
			for _, r := range tt.in {
				b.Events = append(b.Events, forward.Event{Data: []byte(r)})
			}
			if err := s.Write(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteError(t *testing.T) {
	s := NewWriter("console", failing{})
	sinktest.Temporary(t, s.Write(t.Context(), forward.Batch{Events: []forward.Event{{Data: []byte(`{}`)}}}), "broken pipe")
}

func TestNewRejectsOptions(t *testing.T) {
	harness := sinktest.Harness{New: New, Type: "stdout", Name: "console"}
	harness.Open(t, "") // no options
	harness.Refused(t, "path: x", "path")
}
