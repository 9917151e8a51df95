// Package file is the forwarder's "file" sink: one event a line (JSON
// lines), exactly the bytes the Events API sent (compacted to one line if
// the server pretty-printed them), with rotation by size and optional gzip.
//
// Confirmed means written and fsynced: Write returns nil only after the
// batch's lines are on disk (for gzip, after the batch's gzip member was
// completed and the file fsynced). A crash after the fsync but before the
// forwarder saved its cursor repeats that batch.
//
// Options:
//
//	path: ./events.ndjson     # required; relative to the configuration file
//	max_size: 100MiB          # rotate when the file would grow past this (default 0: never)
//	max_files: 10             # rotated files kept (default 0: keep all)
//	gzip: false               # compress; the path gets ".gz" appended if missing
//
// A rotated file is renamed to <path>.<UTC time>[.gz] and a new file is
// started.
//
// A crash (even SIGKILL) in the middle of a write can leave a torn last
// line, or with gzip a torn last member. That batch was never confirmed,
// so the forwarder sends it again; when the sink opens the file it first
// cuts the torn tail off, so the file holds only whole lines. With gzip
// every batch is one complete gzip member (concatenated members are one
// valid gzip stream) and opening the file reads it through once to find
// the end of the last complete member; use max_size to bound that work.
package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/forward"
)

// Sink writes JSON lines to a file.
type Sink struct {
	name     string
	path     string
	maxSize  int64
	maxFiles int
	gzip     bool

	f    *os.File
	gz   *gzip.Writer // reused for each batch's member
	size int64        // bytes written to the current file (uncompressed with gzip)
	buf  bytes.Buffer
	now  func() time.Time
}

var _ forward.Sink = (*Sink)(nil)

// Options configures a Sink.
type Options struct {
	Path     string       `yaml:"path"`
	MaxSize  forward.Size `yaml:"max_size"`
	MaxFiles int          `yaml:"max_files"`
	Gzip     bool         `yaml:"gzip"`
}

// New is the forward.NewSinkFunc of the "file" type.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, _ *forward.OptionErrors) (*Sink, error) {
		o.Path = cfg.Path(o.Path)
		return Open(cfg.Name, o)
	})
}

// Open returns a file sink; the file is opened at the first Write.
func Open(name string, o Options) (*Sink, error) {
	var errs forward.OptionErrors
	if o.Path == "" {
		errs.Addf("path: required")
	}
	forward.NonNegative(&errs, "max_size", &o.MaxSize, 0)
	forward.NonNegative(&errs, "max_files", &o.MaxFiles, 0)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if o.Gzip && !strings.HasSuffix(o.Path, ".gz") {
		o.Path += ".gz"
	}
	return &Sink{name: name, path: o.Path, maxSize: int64(o.MaxSize), maxFiles: o.MaxFiles, gzip: o.Gzip, now: time.Now}, nil
}

// Name implements forward.Sink.
func (s *Sink) Name() string { return s.name }

// Path returns the file being written.
func (s *Sink) Path() string { return s.path }

func (s *Sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	size, err := s.repair(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("repair %s: %w", s.path, err)
	}
	s.f, s.size = f, size
	return nil
}

// repair cuts a torn tail left by a crash during a write: everything after
// the last newline (plain) or after the last complete gzip member. It
// returns the size the sink counts for the file (uncompressed with gzip).
func (s *Sink) repair(f *os.File) (int64, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := info.Size()
	if end == 0 {
		return 0, nil
	}
	var keep, size int64
	if s.gzip {
		keep, size, err = completeMembers(f)
	} else {
		keep, err = atomicfile.CompleteLines(f, end)
		size = keep
	}
	if err != nil {
		return 0, err
	}
	if keep < end {
		if err := f.Truncate(keep); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return size, nil
}

// counter counts the bytes read through it and keeps the first read
// error other than EOF, so that a failing disk is not taken for a torn
// member.
type counter struct {
	r   io.Reader
	n   int64
	err error
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// completeMembers reads the gzip members of f in turn and returns the
// offset after the last one that decompressed completely, and the
// uncompressed size up to there.
func completeMembers(f *os.File) (keep, size int64, err error) {
	c := &counter{r: io.NewSectionReader(f, 0, 1<<62)}
	br := bufio.NewReaderSize(c, 64<<10)
	zr := new(gzip.Reader)
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return keep, size, nil
		}
		if err := zr.Reset(br); err != nil {
			return keep, size, c.err // a torn header, unless reading failed
		}
		zr.Multistream(false)
		n, err := io.Copy(io.Discard, zr)
		if err != nil {
			return keep, size, c.err // a torn member, unless reading failed
		}
		keep = c.n - int64(br.Buffered())
		size += n
	}
}

// Write implements forward.Sink.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.buf.Reset()
	var rejected []forward.Rejection
	for i, ev := range b.Events {
		data := []byte(ev.Data)
		if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
			var c bytes.Buffer
			if err := json.Compact(&c, data); err != nil {
				rejected = append(rejected, forward.Rejection{Index: i, Reason: "event is not valid JSON: " + err.Error()})
				continue
			}
			data = c.Bytes()
		}
		s.buf.Write(data)
		s.buf.WriteByte('\n')
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return fmt.Errorf("file sink %s: %w", s.name, err)
		}
	}
	if s.maxSize > 0 && s.size > 0 && s.size+int64(s.buf.Len()) > s.maxSize {
		if err := s.rotate(); err != nil {
			return fmt.Errorf("file sink %s: rotate: %w", s.name, err)
		}
	}
	if err := s.writeSync(s.buf.Bytes()); err != nil {
		// The file may hold part of the batch; reopen on the next try so
		// a half-written gzip member does not continue.
		s.closeFile()
		return fmt.Errorf("file sink %s: %w", s.name, err)
	}
	s.size += int64(s.buf.Len())
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}

func (s *Sink) writeSync(p []byte) error {
	if s.gzip {
		// One complete member per batch, so that a torn write is found
		// and cut off at the next open.
		if s.gz == nil {
			s.gz = gzip.NewWriter(s.f)
		} else {
			s.gz.Reset(s.f)
		}
		if _, err := s.gz.Write(p); err != nil {
			return err
		}
		if err := s.gz.Close(); err != nil {
			return err
		}
	} else if _, err := s.f.Write(p); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *Sink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if e := s.f.Close(); err == nil {
		err = e
	}
	s.f = nil
	return err
}

func (s *Sink) rotate() error {
	if err := s.closeFile(); err != nil {
		return err
	}
	base := strings.TrimSuffix(s.path, ".gz")
	stamp := s.now().UTC().Format("20060102T150405.000000000Z")
	dst := base + "." + stamp
	if s.gzip {
		dst += ".gz"
	}
	if err := os.Rename(s.path, dst); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(filepath.Dir(s.path)); err != nil {
		return err
	}
	if s.maxFiles > 0 {
		old, _ := filepath.Glob(base + ".*")
		var rotated []string
		for _, o := range old {
			if o != s.path {
				rotated = append(rotated, o)
			}
		}
		sort.Strings(rotated)
		for len(rotated) > s.maxFiles {
			os.Remove(rotated[0])
			rotated = rotated[1:]
		}
	}
	return s.open()
}

// Close implements forward.Sink.
func (s *Sink) Close() error { return s.closeFile() }
