// Package logbook is the forwarder's "logbook" sink: it mirrors an Events
// API (1Password's or another Logbook's) into a Logbook store, so that the
// mirror serves the same events through the same API for as long as it
// keeps them (docs/mirror.md).
//
// Two destinations, one of data, db or url:
//
//	data: ./mirror                # a local SQLite store (the directory serve --data names)
//	db: postgres://…              # a local PostgreSQL store (serve --db)
//	account: Acme mirror          # the name of the account if the sink creates it
//	                              # (default "Mirror of <source name>")
//
//	url: https://logbook.example.com   # a remote Logbook's ingestion API
//	key_file: ingest.key               # its ingest key (lbi_…), or key_env
//	timeout: 30s                       # and ca_file, insecure_skip_verify
//
// Local: each event is stored byte for byte as the source served it (its
// v2 JSON; the v1 rendering is derived from it), in the order received,
// in the stream of the same feature of the account whose uuid is the
// source's (the account the source's introspection names). The sink
// creates that account when the store lacks it, with no users, no
// integrations and nothing in its streams but what it mirrors.
//
// Remote: the batch goes to POST <url>/api/v2/ingest/<feature> as NDJSON,
// into the account of the ingest key; the remote Logbook stores its own
// rendering of each event, which is byte for byte the source's for a
// Logbook source.
//
// Confirmed means committed: Write returns nil only after the store's
// transaction (or the remote's reply to it) is durable. A page given
// again (after a crash before the forwarder saved its cursor) is absorbed
// by the store's de-duplication on uuid, timestamp and bytes; those events
// count as duplicates in the run summary. An event the store refuses for
// good (not an event of its feature, or a uuid the stream holds as another
// event) goes to the dead letters; the rest of its batch is stored.
package logbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// DBFile is the SQLite database's name inside a data directory, as
// logbook serve --data lays it out.
const DBFile = "logbook.db"

// DefaultTimeout bounds one request to a remote Logbook.
const DefaultTimeout = 30 * time.Second

// Options are the sink's YAML options.
type Options struct {
	Data    string `yaml:"data"`
	DB      string `yaml:"db"`
	Account string `yaml:"account"`

	URL     string `yaml:"url"`
	KeyFile string `yaml:"key_file"`
	KeyEnv  string `yaml:"key_env"`
	// HTTPOptions are timeout (one request, default 30s), ca_file and
	// insecure_skip_verify, for url.
	forward.HTTPOptions `yaml:",inline"`
}

// Sink mirrors batches into a Logbook store. It satisfies forward.Sink.
type Sink struct {
	name string
	opts Options
	key  string
	log  *slog.Logger

	client *http.Client // remote

	mu       sync.Mutex
	st       store.Store // local, opened at the first Write
	accounts map[string]bool

	dups atomic.Int64
}

var (
	_ forward.Sink             = (*Sink)(nil)
	_ forward.DuplicateCounter = (*Sink)(nil)
)

// New is the forward.NewSinkFunc of the "logbook" type.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, errs *forward.OptionErrors) (*Sink, error) {
		var key string
		if o.URL != "" {
			var err error
			key, err = cfg.Secret("key", o.KeyFile, o.KeyEnv)
			errs.Add(err)
		}
		if o.Data != "" {
			o.Data = cfg.Path(o.Data)
		}
		o.CAFile = cfg.Path(o.CAFile)
		return NewSink(cfg.Name, o, key, cfg.Logger)
	})
}

// NewSink builds a sink from decoded options and, for url, the ingest
// key. It checks every option and does no I/O beyond reading CAFile.
func NewSink(name string, o Options, key string, logger *slog.Logger) (*Sink, error) {
	var errs forward.OptionErrors
	set := 0
	for _, v := range []string{o.Data, o.DB, o.URL} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		errs.Addf("data, db, url: exactly one is required (a local SQLite directory, a PostgreSQL URL, or a remote Logbook)")
	}
	if o.DB != "" && !strings.HasPrefix(o.DB, "postgres://") && !strings.HasPrefix(o.DB, "postgresql://") {
		errs.Addf("db: must be a postgres:// URL")
	}
	if o.URL != "" {
		if !forward.IsHTTPURL(o.URL) {
			errs.Addf("url: must be an http or https URL with a host, such as https://logbook.example.com")
		}
		if o.Account != "" {
			errs.Addf("account: only for a local store (data or db); a remote mirror's account is its ingest key's")
		}
	} else if o.KeyFile != "" || o.KeyEnv != "" {
		errs.Addf("key_file, key_env: only with url")
	}
	s := &Sink{name: name, opts: o, key: key, log: logger, accounts: map[string]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.URL != "" {
		s.client = o.Client(&errs, DefaultTimeout)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name implements forward.Sink.
func (s *Sink) Name() string { return s.name }

// Duplicates implements forward.DuplicateCounter: the events given again
// that the store already held.
func (s *Sink) Duplicates() int64 { return s.dups.Load() }

// Close implements forward.Sink.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil
	}
	err := s.st.Close()
	s.st = nil
	return err
}

// Write implements forward.Sink.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	if s.opts.URL != "" {
		return s.writeRemote(ctx, b)
	}
	return s.writeLocal(ctx, b)
}

// open opens the local store, applying its pending migrations.
func (s *Sink) open(ctx context.Context) (store.Store, error) {
	if s.st != nil {
		return s.st, nil
	}
	var (
		st  store.Store
		err error
	)
	if s.opts.Data != "" {
		if err = os.MkdirAll(s.opts.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		st, err = sqlite.Open(ctx, filepath.Join(s.opts.Data, DBFile), sqlite.Options{Logger: s.log})
	} else {
		st, err = postgres.Open(ctx, s.opts.DB, postgres.Options{Logger: s.log})
	}
	if err != nil {
		return nil, fmt.Errorf("open the mirror's store: %w", err)
	}
	s.st = st
	return st, nil
}

// account makes sure the store holds the account uuid, creating it (named
// after the source) when it does not.
func (s *Sink) account(ctx context.Context, st store.Store, uuid, source string) error {
	if s.accounts[uuid] {
		return nil
	}
	_, err := st.Account(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		name := s.opts.Account
		if name == "" {
			name = "Mirror of " + source
		}
		err = st.CreateAccount(ctx, store.Account{UUID: uuid, Name: name, CreatedAt: time.Now().UTC()})
		if errors.Is(err, store.ErrConflict) {
			// Another forwarder made it first, or the name is taken.
			if _, err2 := st.Account(ctx, uuid); err2 == nil {
				err = nil
			} else {
				err = fmt.Errorf("account: an account named %q already exists with another uuid; name the mirror's account with account:", name)
			}
		} else if err == nil {
			s.log.Info("mirror account created", "account", uuid, "name", name)
		}
	}
	if err != nil {
		return fmt.Errorf("account %s: %w", uuid, err)
	}
	s.accounts[uuid] = true
	return nil
}

// writeLocal stores b in the account of the source, in one transaction.
func (s *Sink) writeLocal(ctx context.Context, b forward.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !events.ValidUpperID(b.Account) {
		return rejectAll(b, fmt.Sprintf("the source reported no account uuid (%q) to mirror into", b.Account))
	}
	st, err := s.open(ctx)
	if err != nil {
		return err
	}
	if err := s.account(ctx, st, b.Account, b.Source); err != nil {
		return err
	}
	recs, rejected := records(b)
	idx := make([]int, 0, len(recs)) // the batch index of each record
	for i := range b.Events {
		if _, bad := rejected[i]; !bad {
			idx = append(idx, i)
		}
	}
	for {
		keep := make([]store.Record, 0, len(idx))
		for _, i := range idx {
			keep = append(keep, recs[i])
		}
		n, err := st.AppendEvents(ctx, b.Account, b.Feature, keep)
		var c *store.UUIDConflict
		if errors.As(err, &c) && c.Index < len(idx) {
			// Nothing was stored: set the event aside and store the rest.
			rejected[idx[c.Index]] = c.Error()
			idx = append(idx[:c.Index], idx[c.Index+1:]...)
			continue
		}
		if err != nil {
			return fmt.Errorf("store %d %s: %w", len(keep), b.Feature, err)
		}
		s.dups.Add(int64(len(keep) - n))
		break
	}
	return rejectedError(rejected)
}

// records converts the events of b into the store's records: V2 is each
// event's bytes as the source served them, V1 and the label are derived
// from the event read as ingestion reads it. An event ingestion's checks
// refuse (a value Logbook does not know yet, say) is still mirrored, read
// without the checks: the source is the authority on its events. The map
// holds the indexes of the events that are not events of b's feature at
// all (not a JSON object of its shape, no uuid or timestamp), with why;
// their records are zero.
func records(b forward.Batch) ([]store.Record, map[int]string) {
	recs := make([]store.Record, len(b.Events))
	rejected := map[int]string{}
	var body []byte
	for _, ev := range b.Events {
		body = forward.AppendOneLine(body, ev.Data)
		body = append(body, '\n')
	}
	wires, errs := ingest.DecodeBytes(body, b.Feature)
	if errs != nil {
		// Read each event alone, to tell the good ones from the others.
		wires = make([]events.Wire, len(b.Events))
		for i, ev := range b.Events {
			w, err := decode(ev.Data, b.Feature)
			if err != nil {
				rejected[i] = err.Error()
				continue
			}
			wires[i] = w
		}
	}
	for i, ev := range b.Events {
		if _, bad := rejected[i]; bad {
			continue
		}
		w := wires[i]
		v2 := bytes.Clone(bytes.TrimSpace(ev.Data))
		v1 := w.V1
		if v1 == nil && !bytes.Equal(w.V2, v2) {
			v1 = w.V2 // Logbook's rendering differs from the source's
		}
		recs[i] = store.Record{UUID: w.UUID, Time: w.Time, Label: w.Label, V2: v2, V1: bytes.Clone(v1)}
	}
	return recs, rejected
}

// decode reads one event of feature f: with ingestion's checks, or, when
// they refuse it, as encoding/json reads it into the event's type.
func decode(data []byte, f events.Feature) (events.Wire, error) {
	if w, _ := ingest.DecodeBytes(forward.AppendOneLine(nil, data), f); len(w) == 1 {
		return w[0], nil
	}
	var ev any
	switch f {
	case events.SignInAttempts:
		ev = new(events.SignInAttempt)
	case events.ItemUsages:
		ev = new(events.ItemUsage)
	default:
		ev = new(events.AuditEvent)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return events.Wire{}, fmt.Errorf("not an event of %s: %v", f, err)
	}
	w, err := events.Encode(ev)
	switch {
	case err != nil:
		return events.Wire{}, err
	case w.UUID == "":
		return events.Wire{}, errors.New("uuid: missing")
	case w.Time.IsZero():
		return events.Wire{}, errors.New("timestamp: missing")
	}
	return w, nil
}

func rejectAll(b forward.Batch, reason string) error {
	rejected := map[int]string{}
	for i := range b.Events {
		rejected[i] = reason
	}
	return rejectedError(rejected)
}

// rejectedError is the *forward.RejectedError of rejected, or nil.
func rejectedError(rejected map[int]string) error {
	if len(rejected) == 0 {
		return nil
	}
	e := &forward.RejectedError{}
	for _, i := range slices.Sorted(maps.Keys(rejected)) {
		e.Rejected = append(e.Rejected, forward.Rejection{Index: i, Reason: rejected[i]})
	}
	return e
}

// writeRemote sends b to the remote's ingestion API. A refusal of some
// events (400, 409: nothing of the request was stored) sends the batch
// again without them, and reports them rejected.
func (s *Sink) writeRemote(ctx context.Context, b forward.Batch) error {
	rejected := map[int]string{}
	idx := make([]int, len(b.Events))
	for i := range idx {
		idx[i] = i
	}
	for len(idx) > 0 {
		var body []byte
		for _, i := range idx {
			body = forward.AppendOneLine(body, b.Events[i].Data)
			body = append(body, '\n')
		}
		res, refusal, err := s.post(ctx, b.Feature, body)
		if err != nil {
			return err
		}
		if refusal == nil {
			s.dups.Add(int64(res.Duplicates))
			break
		}
		bad := map[int]bool{}
		for _, fe := range refusal.Errors {
			if fe.Line >= 1 && fe.Line <= len(idx) {
				bad[fe.Line-1] = true
				rejected[idx[fe.Line-1]] = fe.Field + ": " + fe.Reason
			}
		}
		if len(bad) == 0 {
			return fmt.Errorf("the remote Logbook refused the batch: %v", refusal.Errors)
		}
		keep := idx[:0]
		for j, i := range idx {
			if !bad[j] {
				keep = append(keep, i)
			}
		}
		idx = keep
	}
	return rejectedError(rejected)
}

// post sends one NDJSON body; a refusal (400 or 409) is returned as such,
// any other failure as an error (retried).
func (s *Sink) post(ctx context.Context, f events.Feature, body []byte) (ingest.Result, *ingest.Refusal, error) {
	u := strings.TrimSuffix(s.opts.URL, "/") + ingest.Prefix + string(f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return ingest.Result{}, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.client.Do(req)
	if err != nil {
		return ingest.Result{}, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ingest.Result{}, nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var res ingest.Result
		if err := json.Unmarshal(reply, &res); err != nil {
			return ingest.Result{}, nil, fmt.Errorf("the remote Logbook's reply: %w", err)
		}
		return res, nil, nil
	case http.StatusBadRequest, http.StatusConflict:
		var ref ingest.Refusal
		if err := json.Unmarshal(reply, &ref); err != nil {
			return ingest.Result{}, nil, fmt.Errorf("the remote Logbook's reply (%s): %w", resp.Status, err)
		}
		return ingest.Result{}, &ref, nil
	}
	return ingest.Result{}, nil, fmt.Errorf("the remote Logbook replied %s", resp.Status)
}
