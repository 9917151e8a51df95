package forward

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/atomicfile"
)

// spool is a bounded on-disk FIFO of batches for one sink. Each batch is
// one file, written with temp, fsync, rename; a batch is removed once the
// sink confirmed it.
//
// File format: the line "logbook-spool 1 <source> <feature> <count>", then
// per event the line "<uuid> <RFC 3339 time> <length>" followed by the
// event's bytes and a newline.
type spool struct {
	dir string
	max int64

	mu    sync.Mutex
	files []spoolFile
	size  int64
	seq   uint64
}

type spoolFile struct {
	name string
	size int64
}

func openSpool(dir string, limit int64) (*spool, error) {
	s := &spool{dir: dir, max: limit}
	if limit <= 0 {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			os.Remove(filepath.Join(dir, name)) // a temp file of a crashed write
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, ".batch"), 10, 64)
		if err != nil || !strings.HasSuffix(name, ".batch") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("open spool: %w", err)
		}
		s.files = append(s.files, spoolFile{name, info.Size()})
		s.size += info.Size()
		s.seq = max(s.seq, n)
	}
	sort.Slice(s.files, func(i, j int) bool { return s.files[i].name < s.files[j].name })
	return s, nil
}

func (s *spool) stats() (batches int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.size
}

func (s *spool) empty() bool {
	n, _ := s.stats()
	return n == 0
}

// tryPut stores b durably if it fits, and reports whether it did.
func (s *spool) tryPut(b Batch) (bool, error) {
	if s.max <= 0 {
		return false, nil
	}
	data := encodeSpool(b)
	s.mu.Lock()
	if s.size+int64(len(data)) > s.max {
		s.mu.Unlock()
		return false, nil
	}
	s.seq++
	name := fmt.Sprintf("%020d.batch", s.seq)
	s.size += int64(len(data)) // reserve
	s.mu.Unlock()
	if err := atomicfile.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
		s.mu.Lock()
		s.size -= int64(len(data))
		s.mu.Unlock()
		return false, fmt.Errorf("spool batch: %w", err)
	}
	s.mu.Lock()
	s.files = append(s.files, spoolFile{name, int64(len(data))})
	sort.Slice(s.files, func(i, j int) bool { return s.files[i].name < s.files[j].name })
	s.mu.Unlock()
	return true, nil
}

// head returns the oldest batch.
func (s *spool) head() (Batch, string, error) {
	s.mu.Lock()
	if len(s.files) == 0 {
		s.mu.Unlock()
		return Batch{}, "", errors.New("spool is empty")
	}
	name := s.files[0].name
	s.mu.Unlock()
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return Batch{}, name, fmt.Errorf("read spooled batch: %w", err)
	}
	b, err := decodeSpool(data)
	if err != nil {
		return Batch{}, name, fmt.Errorf("spooled batch %s: %w", name, err)
	}
	return b, name, nil
}

// remove drops a confirmed batch.
func (s *spool) remove(name string) error {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove spooled batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.files {
		if f.name == name {
			s.size -= f.size
			s.files = append(s.files[:i], s.files[i+1:]...)
			break
		}
	}
	return nil
}

func encodeSpool(b Batch) []byte {
	n := 64
	for _, ev := range b.Events {
		n += len(ev.Data) + len(ev.UUID) + 48
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	if b.Account == "" {
		fmt.Fprintf(buf, "logbook-spool 1 %s %s %d\n", b.Source, b.Feature, len(b.Events))
	} else {
		// Version 2 adds the source's account; batches without one stay
		// version 1, which spools of earlier releases hold.
		fmt.Fprintf(buf, "logbook-spool 2 %s %s %d %s\n", b.Source, b.Feature, len(b.Events), b.Account)
	}
	for _, ev := range b.Events {
		uuid := ev.UUID
		if uuid == "" {
			uuid = "-"
		}
		fmt.Fprintf(buf, "%s %s %d\n", uuid, ev.Time.UTC().Format(time.RFC3339Nano), len(ev.Data))
		buf.Write(ev.Data)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// errTruncated is a spool file that ends early.
var errTruncated = errors.New("truncated")

func decodeSpool(data []byte) (Batch, error) {
	r := bufio.NewReader(bytes.NewReader(data))
	var (
		b       Batch
		feature string
		count   int
	)
	format, args := "logbook-spool 1 %s %s %d\n", []any{&b.Source, &feature, &count}
	if bytes.HasPrefix(data, []byte("logbook-spool 2 ")) {
		format, args = "logbook-spool 2 %s %s %d %s\n", append(args, &b.Account)
	}
	if err := scanLine(r, errors.New("no header"), "header", format, args...); err != nil {
		return Batch{}, err
	}
	b.Feature = events.Feature(feature)
	b.Events = make([]Event, 0, count)
	for range count {
		var (
			ev   Event
			ts   string
			size int
			err  error
		)
		if err := scanLine(r, errTruncated, "event header", "%s %s %d\n", &ev.UUID, &ts, &size); err != nil {
			return Batch{}, err
		}
		if ev.UUID == "-" {
			ev.UUID = ""
		}
		if ev.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return Batch{}, fmt.Errorf("event time: %w", err)
		}
		ev.Data = make(json.RawMessage, size+1)
		if _, err := io.ReadFull(r, ev.Data); err != nil {
			return Batch{}, errTruncated
		}
		ev.Data = ev.Data[:size]
		b.Events = append(b.Events, ev)
	}
	return b, nil
}

// deadLetters appends refused events, one JSON object a line, to
// <dir>/<sink>.ndjson, fsynced before the batch counts as handled.
type deadLetters struct {
	dir string
	mu  sync.Mutex
}

type deadLetter struct {
	Time    time.Time       `json:"time"`
	Sink    string          `json:"sink"`
	Source  string          `json:"source"`
	Feature events.Feature  `json:"feature"`
	UUID    string          `json:"uuid"`
	Reason  string          `json:"reason"`
	Event   json.RawMessage `json:"event"`
}

func (d *deadLetters) write(sink string, b Batch, rej []Rejection) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	var buf bytes.Buffer
	now := time.Now().UTC()
	enc := json.NewEncoder(&buf)
	for _, r := range rej {
		if r.Index < 0 || r.Index >= len(b.Events) {
			continue
		}
		ev := b.Events[r.Index]
		data := ev.Data
		if !json.Valid(data) {
			data, _ = json.Marshal(string(data))
		}
		if err := enc.Encode(deadLetter{now, sink, b.Source, b.Feature, ev.UUID, r.Reason, data}); err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
	}
	path := filepath.Join(d.dir, sink+".ndjson")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	if err := cutTornLine(f); err != nil {
		f.Close()
		return fmt.Errorf("dead letters: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("dead letters: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("dead letters: %w", err)
	}
	return f.Close()
}

// cutTornLine truncates f after its last newline when a crash in the
// middle of an append left a partial line (the events of that write were
// not confirmed, so they are written again).
func cutTornLine(f *os.File) error {
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return err
	}
	keep, err := atomicfile.CompleteLines(f, info.Size())
	if err != nil || keep == info.Size() {
		return err
	}
	return f.Truncate(keep)
}

// scanLine reads the next line of r into args by format. No line is the
// error missing; a line that does not scan is "<what>: <why>".
func scanLine(r *bufio.Reader, missing error, what, format string, args ...any) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return missing
	}
	if _, err := fmt.Sscanf(line, format, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
