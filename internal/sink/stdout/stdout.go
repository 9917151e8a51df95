// Package stdout is the forwarder's "stdout" sink: one event a line on the
// process's standard output, exactly as the Events API sent it (compacted
// to one line when needed).
//
// Confirmed means written to the stdout file descriptor. What reads the
// pipe is not asked, so a crash of the reader can lose lines; use the file
// sink for durability. It has no options.
package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/logbookhq/logbook/internal/forward"
)

// Sink writes JSON lines to a writer.
type Sink struct {
	name string
	w    io.Writer
	buf  bytes.Buffer
}

var _ forward.Sink = (*Sink)(nil)

// New is the forward.NewSinkFunc of the "stdout" type.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(struct{}, *forward.OptionErrors) (*Sink, error) { // no options
		return NewWriter(cfg.Name, os.Stdout), nil
	})
}

// NewWriter returns a sink writing to w.
func NewWriter(name string, w io.Writer) *Sink { return &Sink{name: name, w: w} }

// Name implements forward.Sink.
func (s *Sink) Name() string { return s.name }

// Write implements forward.Sink.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	s.buf.Reset()
	for _, ev := range b.Events {
		if bytes.ContainsAny(ev.Data, "\r\n") {
			if err := json.Compact(&s.buf, ev.Data); err != nil {
				s.buf.Write(bytes.ReplaceAll(bytes.ReplaceAll(ev.Data, []byte("\r"), nil), []byte("\n"), []byte(" ")))
			}
		} else {
			s.buf.Write(ev.Data)
		}
		s.buf.WriteByte('\n')
	}
	_, err := s.w.Write(s.buf.Bytes())
	return err
}

// Close implements forward.Sink.
func (s *Sink) Close() error { return nil }
