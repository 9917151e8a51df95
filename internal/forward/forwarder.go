package forward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/prometheus/client_golang/prometheus"
)

// Source is one Events API as the forwarder sees it. The cli package plugs
// in the public client.
type Source interface {
	// Introspect returns the token's features and account.
	Introspect(ctx context.Context) (events.Introspection, error)
	// Page fetches one page of feature. Errors from the API are
	// *SourceError; anything else counts as a network error.
	Page(ctx context.Context, feature events.Feature, req Request) (events.RawPage, error)
}

// BufferedSource is a Source that can read a page into a buffer the
// forwarder hands back once the page was delivered (events.RawPage items
// alias it), so that a stream reuses a few buffers instead of allocating
// and zeroing one per page. PageInto returns the buffer it used (buf, or a
// larger one).
type BufferedSource interface {
	PageInto(ctx context.Context, feature events.Feature, req Request, buf []byte) (events.RawPage, []byte, error)
}

// Refresher is implemented by a Source whose credential can change while
// the forwarder runs, such as a token file an operator replaces after a
// revocation. After a 401 the forwarder calls Refresh; when it reports a
// new credential, the request is retried at once instead of after the
// paused stream's retry interval. Refresh must be safe for concurrent use
// (the streams of a source share it) and must never put the credential in
// its error.
type Refresher interface {
	Refresh() (changed bool, err error)
}

// refresh asks src for a new credential after a 401 and reports whether
// it got one.
func refresh(src Source, log *slog.Logger) bool {
	r, ok := src.(Refresher)
	if !ok {
		return false
	}
	changed, err := r.Refresh()
	if err != nil {
		log.Error("reload credential", "err", err)
		return false
	}
	if changed {
		log.Info("credential changed; retrying")
	}
	return changed
}

// Request asks a Source for one page: a continuation when Cursor is set,
// else a reset from Start (and to End when set).
type Request struct {
	Cursor string
	Limit  int
	Start  *time.Time
	End    *time.Time
}

// SourceError is an Events API reply other than 2xx.
type SourceError struct {
	StatusCode int
	RetryAfter time.Duration
	// Message is the server's message, if it sent one ("Unauthorized").
	Message string
	Err     error
}

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// SourceOptions configures the streams of one source.
type SourceOptions struct {
	// Name is the configured name, used in state files, logs and metrics.
	Name   string
	Source Source
	// Features restricts the streams; empty means every feature the
	// token has.
	Features []events.Feature
	// StartTime is where a stream without saved state begins.
	StartTime time.Time
	// EndTime bounds the streams (backfill); zero means none.
	EndTime time.Time
	// Limit is the page size (default 1000).
	Limit int
	// PollInterval is the wait after a drained page (default 10s).
	PollInterval time.Duration
	// Account groups sources that share a rate budget: sources with the
	// same Account and the same introspected account UUID share one.
	// Empty means the source's Name.
	Account string
	// Limits is the account's rate budget.
	Limits Limits
	// Verify, when set, checks each page against the source's signed
	// tree heads before any sink gets it (verify.go); nil delivers pages
	// unchecked.
	Verify Verifier
}

// Options configures a Forwarder. Zero values are documented defaults.
type Options struct {
	Sources []SourceOptions
	Sinks   []Sink
	// Checkpoint keeps the cursors. Default: a DirCheckpoint in
	// StateDir/cursors.
	Checkpoint Checkpoint
	// StateDir holds cursors, spools and dead letters.
	StateDir string
	// SpoolMaxBytes bounds each sink's spool; 0 disables spooling (a
	// stream then waits for every sink to confirm).
	SpoolMaxBytes int64
	// DeadLetterDir receives refused events. Default StateDir/dead-letters.
	DeadLetterDir string
	// Once stops each stream when it is drained and waits for the spools
	// to empty (at most OnceDrainTimeout, default 30s).
	Once             bool
	OnceDrainTimeout time.Duration
	// Backoff bounds for retries (default 1s … 5m).
	BackoffInitial, BackoffMax time.Duration
	// PausedRetry is the wait before retrying a stream paused by a 401 or
	// 400 (default 1m).
	PausedRetry time.Duration
	Logger      *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// ProgressInterval is how often Run logs what each stream delivered
	// since the last report (DefaultProgressInterval when zero; negative
	// turns the reports off). Run always logs a summary when it ends.
	ProgressInterval time.Duration
	// BudgetDir, when set, keeps each account's request budget in a file
	// there, shared with every other forwarder process using the same
	// directory (a backfill beside the live forwarder). Empty: budgets
	// are kept in memory, per process.
	BudgetDir string
}

// Forwarder runs every stream of every source into every sink.
type Forwarder struct {
	opts    Options
	log     *slog.Logger
	m       *metrics
	workers []*sinkWorker
	cp      Checkpoint

	mu      sync.Mutex
	started time.Time
	budgets map[string]*Budget
	streams map[string]*streamStatus
}

type streamStatus struct {
	source  string
	feature events.Feature
	polled  bool
	paused  string
	current time.Time // cursor last known current
	newest  time.Time

	pages, events, duplicates int64 // since Run started
	drained                   bool  // the last page delivered had has_more false
}

// New prepares a forwarder; Run starts it.
func New(opts Options) (*Forwarder, error) {
	if len(opts.Sources) == 0 {
		return nil, errors.New("forward: no source")
	}
	if len(opts.Sinks) == 0 {
		return nil, errors.New("forward: no sink")
	}
	if opts.StateDir == "" {
		return nil, errors.New("forward: no state directory")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DeadLetterDir == "" {
		opts.DeadLetterDir = filepath.Join(opts.StateDir, "dead-letters")
	}
	if opts.PausedRetry <= 0 {
		opts.PausedRetry = time.Minute
	}
	if opts.OnceDrainTimeout <= 0 {
		opts.OnceDrainTimeout = 30 * time.Second
	}
	for i := range opts.Sources {
		s := &opts.Sources[i]
		if s.Limit <= 0 {
			s.Limit = 1000
		}
		if s.PollInterval <= 0 {
			s.PollInterval = 10 * time.Second
		}
		if s.Account == "" {
			s.Account = s.Name
		}
		if v, ok := s.Verify.(*witnessVerifier); ok {
			if err := v.open(filepath.Join(opts.StateDir, "heads", s.Name+".json")); err != nil {
				return nil, fmt.Errorf("source %s: tree heads: %w", s.Name, err)
			}
		}
	}
	f := &Forwarder{opts: opts, log: opts.Logger, m: newMetrics(opts.Registerer),
		budgets: map[string]*Budget{}, streams: map[string]*streamStatus{}, cp: opts.Checkpoint}
	if f.cp == nil {
		f.cp = Cursors(opts.StateDir)
	}
	dl := &deadLetters{dir: opts.DeadLetterDir}
	for _, s := range opts.Sinks {
		sp, err := openSpool(filepath.Join(opts.StateDir, "spool", s.Name()), opts.SpoolMaxBytes)
		if err != nil {
			return nil, err
		}
		f.workers = append(f.workers, &sinkWorker{sink: s, spool: sp, dead: dl, m: f.m,
			log: opts.Logger.With("sink", s.Name()), jobs: make(chan *job),
			backoff: Backoff{Initial: opts.BackoffInitial, Max: opts.BackoffMax}, idle: make(chan struct{}, 1)})
	}
	return f, nil
}

// Ready reports nil once every stream has polled successfully at least
// once, and describes what is missing otherwise.
func (f *Forwarder) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.streams) == 0 {
		return errors.New("no stream started yet")
	}
	for _, st := range f.streams {
		if !st.polled {
			return fmt.Errorf("stream %s/%s has not polled yet", st.source, st.feature)
		}
	}
	return nil
}

// Run forwards until ctx ends (or, with Once, until every stream is
// drained). It closes the sinks before returning.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	f.started = time.Now()
	f.mu.Unlock()
	defer f.logSummary()
	defer f.closeBudgets()
	defer func() {
		for _, w := range f.workers {
			if err := w.sink.Close(); err != nil {
				f.log.Error("close sink", "sink", w.sink.Name(), "err", err)
			}
		}
	}()
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, w := range f.workers {
		wg.Go(func() { w.run(wctx) })
	}
	go func() {
		// Workers outlive the streams so that a page being delivered is
		// finished, but not ctx.
		<-ctx.Done()
		stopWorkers()
	}()

	if every := f.opts.ProgressInterval; every >= 0 {
		if every == 0 {
			every = DefaultProgressInterval
		}
		pctx, stopProgress := context.WithCancel(ctx)
		defer stopProgress()
		go f.reportProgress(pctx, every)
	}
	var sg sync.WaitGroup
	errs := make(chan error, len(f.opts.Sources))
	for _, so := range f.opts.Sources {
		sg.Go(func() {
			if err := f.runSource(ctx, so); err != nil {
				errs <- err
			}
		})
	}
	sg.Wait()
	close(errs)
	err := joinDistinct(errs)
	if f.opts.Once && ctx.Err() == nil {
		f.drain(ctx)
	}
	stopWorkers()
	wg.Wait()
	if err == nil && !f.opts.Once {
		err = ctx.Err()
	}
	return err
}

// drain waits until every worker has nothing left, or the timeout.
func (f *Forwarder) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.OnceDrainTimeout)
	defer cancel()
	for _, w := range f.workers {
		for !w.isIdle() {
			select {
			case <-ctx.Done():
				n, _ := w.spool.stats()
				f.log.Warn("spool not drained; the next run continues it", "sink", w.sink.Name(), "batches", n)
				return
			case <-w.idle:
			}
		}
	}
}

func (f *Forwarder) budget(key string, l Limits) (*Budget, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.budgets[key]
	if ok {
		return b, nil
	}
	if f.opts.BudgetDir == "" {
		b = NewBudget(l)
	} else {
		if err := os.MkdirAll(f.opts.BudgetDir, 0o700); err != nil {
			return nil, fmt.Errorf("budget directory: %w", err)
		}
		sum := sha256.Sum256([]byte(key))
		var err error
		if b, err = OpenSharedBudget(filepath.Join(f.opts.BudgetDir, hex.EncodeToString(sum[:8])+".budget"), l); err != nil {
			return nil, err
		}
	}
	f.budgets[key] = b
	return b, nil
}

func (f *Forwarder) closeBudgets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.budgets {
		b.Close()
	}
}

func (f *Forwarder) status(source string, feature events.Feature) *streamStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := source + "/" + string(feature)
	st, ok := f.streams[k]
	if !ok {
		st = &streamStatus{source: source, feature: feature}
		f.streams[k] = st
	}
	return st
}

func (f *Forwarder) update(st *streamStatus, fn func(*streamStatus)) {
	f.mu.Lock()
	fn(st)
	f.mu.Unlock()
}

// runSource introspects the source (retrying), then runs its streams.
func (f *Forwarder) runSource(ctx context.Context, so SourceOptions) error {
	log := f.log.With("source", so.Name)
	bo := Backoff{Initial: f.opts.BackoffInitial, Max: f.opts.BackoffMax}
	pre, err := f.budget("introspect/"+so.Account, so.Limits)
	if err != nil {
		return fmt.Errorf("source %s: %w", so.Name, err)
	}
	var in events.Introspection
	paused := false
	for {
		if err := pre.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("source %s: request budget: %w", so.Name, err)
		}
		var err error
		in, err = so.Source.Introspect(ctx)
		if err == nil {
			if paused {
				log.Info("source resumed")
			}
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		var se *SourceError
		refreshed := errors.As(err, &se) && se.StatusCode == 401 && refresh(so.Source, log)
		pe := Diagnose(so.Name, err)
		if f.opts.Once && pe != nil && !refreshed {
			return pe
		}
		wait := bo.Next(0)
		if se != nil {
			wait = bo.Next(se.RetryAfter)
			if se.StatusCode == 401 {
				wait = f.opts.PausedRetry
				if refreshed {
					wait = 0
				} else if !paused {
					log.Error("source paused: the API refused the token; other sources go on", "status", 401, "err", err,
						"retry_every", f.opts.PausedRetry)
				}
				paused = true
				if sleep(ctx, wait) != nil {
					return nil
				}
				continue
			}
		}
		if pe != nil {
			log.Error("introspect", "err", err, "fix", pe.Fix, "retry_in", wait.Round(time.Millisecond))
		} else {
			log.Error("introspect", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		if sleep(ctx, wait) != nil {
			return nil
		}
	}
	features := in.Features
	if len(so.Features) > 0 {
		have := map[events.Feature]bool{}
		for _, ft := range in.Features {
			have[ft] = true
		}
		features = nil
		for _, ft := range so.Features {
			if have[ft] {
				features = append(features, ft)
			} else {
				log.Warn("token lacks a configured feature; stream skipped", "feature", ft)
			}
		}
	}
	if len(features) == 0 {
		if f.opts.Once {
			return &PermanentError{Source: so.Name, Problem: "the token grants none of the features to forward",
				Fix: "issue a token with them, or change the source's features"}
		}
		log.Error("token grants no feature to forward")
		return nil
	}
	key := so.Account
	if in.AccountUUID != "" {
		key += "/" + in.AccountUUID
	}
	b, err := f.budget(key, so.Limits)
	if err != nil {
		return fmt.Errorf("source %s: %w", so.Name, err)
	}
	log.Info("source ready", "features", events.JoinFeatures(features), "budget", key)
	// A failed integrity check stops every stream of the source.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(features))
	for _, ft := range features {
		st := f.status(so.Name, ft)
		wg.Go(func() {
			s := &stream{f: f, so: so, account: in.AccountUUID, feature: ft, budget: b, status: st,
				log: log.With("feature", ft), backoff: Backoff{Initial: f.opts.BackoffInitial, Max: f.opts.BackoffMax}}
			if err := s.run(ctx); err != nil {
				var pe *PermanentError
				if !errors.As(err, &pe) {
					err = fmt.Errorf("%s/%s: %w", so.Name, ft, err)
				}
				if errors.Is(err, client.ErrMismatch) {
					stop()
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return joinDistinct(errs)
}

// joinDistinct joins the errors received, each message once: the streams
// of a source often fail alike (a revoked token).
func joinDistinct(errs <-chan error) error {
	var err error
	seen := map[string]bool{}
	for e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			err = errors.Join(err, e)
		}
	}
	return err
}

// stream is one (source, feature): a fetcher that stays one page ahead and
// a deliverer that hands pages to the sinks and saves the cursor after
// every sink confirmed.
type stream struct {
	f       *Forwarder
	so      SourceOptions
	account string // the introspected account uuid
	feature events.Feature
	budget  *Budget
	status  *streamStatus
	log     *slog.Logger
	backoff Backoff
}

type fetched struct {
	req  Request
	page events.RawPage
	evs  []Event
	buf  []byte // the reply, which page and evs alias
}

// recycled is the storage of a delivered page, for a later one: a stream
// has at most three pages in hand (fetching, queued, delivering).
type recycled struct {
	buf []byte
	evs []Event
}

func (s *stream) run(ctx context.Context) error {
	st, ok, err := s.f.cp.Load(s.so.Name, s.feature)
	if err != nil {
		return err
	}
	if !ok {
		start := s.so.StartTime.UTC()
		st = State{Source: s.so.Name, Feature: s.feature, StartTime: &start}
		if !s.so.EndTime.IsZero() {
			end := s.so.EndTime.UTC()
			st.EndTime = &end
		}
	}
	s.f.update(s.status, func(ss *streamStatus) { ss.newest = st.Newest; ss.current = st.Saved })
	pages := make(chan fetched, 1)
	free := make(chan recycled, 3)
	prev, seen := map[string]struct{}{}, map[string]struct{}{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetchErr := make(chan error, 1)
	go func() { fetchErr <- s.fetchLoop(ctx, st, pages, free) }()
	// stop ends the fetcher before the stream returns.
	stop := func() {
		cancel()
		for range pages {
		}
		<-fetchErr
	}
	for p := range pages {
		var dups int
		p.evs, dups = dedup(p.evs, prev, seen)
		prev, seen = seen, prev
		if err := s.verify(ctx, p); err != nil {
			stop()
			var pe *PermanentError
			if errors.As(err, &pe) {
				return err
			}
			return nil // ctx ended
		}
		if err := s.deliver(ctx, p); err != nil {
			stop()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if p.page.Cursor != "" {
			st.Cursor = p.page.Cursor
		}
		st.Events += int64(len(p.evs))
		for _, ev := range p.evs {
			if ev.Time.After(st.Newest) {
				st.Newest = ev.Time
			}
		}
		if len(p.evs) > 0 || p.page.Cursor != p.req.Cursor {
			st.Saved = time.Now().UTC()
			if err := s.f.cp.Save(st); err != nil {
				stop()
				return err
			}
		}
		now := time.Now()
		s.f.update(s.status, func(ss *streamStatus) {
			ss.current = now
			ss.newest = st.Newest
			ss.pages++
			ss.events += int64(len(p.evs))
			ss.duplicates += int64(dups)
			ss.drained = !p.page.HasMore
		})
		// Every sink confirmed or spooled (copied) the page: its storage
		// can take another one.
		select {
		case free <- recycled{p.buf, p.evs}:
		default:
		}
	}
	err = <-fetchErr
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// fetchLoop fetches pages in order, one ahead of delivery, and closes
// pages when the stream ends (ctx, or drained with Once or an end time).
func (s *stream) fetchLoop(ctx context.Context, st State, pages chan<- fetched, free <-chan recycled) error {
	defer close(pages)
	req := Request{Cursor: st.Cursor, Limit: s.so.Limit, Start: st.StartTime, End: st.EndTime}
	bounded := s.f.opts.Once || st.EndTime != nil
	for {
		var r recycled
		select {
		case r = <-free:
		default:
		}
		page, buf, err := s.fetch(ctx, req, r.buf)
		if err != nil {
			return err
		}
		evs := r.evs[:0]
		if cap(evs) < len(page.Items) {
			evs = make([]Event, len(page.Items))
		}
		evs = evs[:len(page.Items)]
		for i, raw := range page.Items {
			ev, err := ScanEvent(raw)
			if err != nil {
				s.log.Warn("event without readable uuid/timestamp; forwarded as is", "index", i, "err", err)
			}
			evs[i] = ev
		}
		s.f.m.eventsIn.WithLabelValues(s.so.Name, string(s.feature)).Add(float64(len(evs)))
		select {
		case pages <- fetched{req: req, page: page, evs: evs, buf: buf}:
		case <-ctx.Done():
			return nil
		}
		if page.Cursor != "" {
			req = Request{Cursor: page.Cursor}
		}
		if !page.HasMore {
			if bounded {
				return nil
			}
			if sleep(ctx, s.so.PollInterval) != nil {
				return nil
			}
		}
	}
}

// fetch gets one page, waiting for the budget and retrying temporary
// failures forever; a 401 or 400 pauses the stream and retries slowly.
func (s *stream) fetch(ctx context.Context, req Request, buf []byte) (events.RawPage, []byte, error) {
	name, ft := s.so.Name, string(s.feature)
	bs, buffered := s.so.Source.(BufferedSource)
	for {
		if err := s.budget.Wait(ctx); err != nil {
			return events.RawPage{}, buf, err
		}
		var (
			page events.RawPage
			err  error
		)
		if buffered {
			page, buf, err = bs.PageInto(ctx, s.feature, req, buf)
		} else {
			page, err = s.so.Source.Page(ctx, s.feature, req)
		}
		if err == nil {
			s.f.m.requests.WithLabelValues(name, ft, "200").Inc()
			s.backoff.Reset()
			s.setPaused("")
			s.f.update(s.status, func(ss *streamStatus) { ss.polled = true })
			return page, buf, nil
		}
		if ctx.Err() != nil {
			return events.RawPage{}, buf, ctx.Err()
		}
		var se *SourceError
		code := 0
		if errors.As(err, &se) {
			code = se.StatusCode
		}
		s.f.m.requests.WithLabelValues(name, ft, strconv.Itoa(code)).Inc()
		refreshed := code == 401 && refresh(s.so.Source, s.log)
		if s.f.opts.Once && !refreshed {
			if pe := Diagnose(name, err); pe != nil {
				if code != 401 && code != 0 {
					// A refused token or an unreachable server is the
					// source's problem, not this stream's: every stream
					// then reports the same line, which Run says once.
					pe.Feature = s.feature
				}
				return events.RawPage{}, buf, pe
			}
		}
		var wait time.Duration
		switch {
		case code == 401 || code == 400:
			reason := "unauthorized"
			if code == 400 {
				reason = "bad_request"
			}
			if s.setPaused(reason) {
				s.log.Error("stream paused: the API refused the request; other streams go on", "status", code, "err", err,
					"retry_every", s.f.opts.PausedRetry)
			}
			wait = s.f.opts.PausedRetry
			if refreshed {
				wait = 0
			}
		case code == 429:
			s.f.m.rateLimited.WithLabelValues(name).Inc()
			wait = s.backoff.Next(se.RetryAfter)
			s.budget.Block(time.Now().Add(wait))
			s.log.Warn("rate limited", "retry_in", wait.Round(time.Millisecond))
		default:
			ra := time.Duration(0)
			if se != nil {
				ra = se.RetryAfter
			}
			wait = s.backoff.Next(ra)
			s.log.Warn("fetch page", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		if err := sleep(ctx, wait); err != nil {
			return events.RawPage{}, buf, err
		}
	}
}

// setPaused records the pause reason ("" to resume) and reports whether
// it changed.
func (s *stream) setPaused(reason string) bool {
	changed := false
	s.f.update(s.status, func(ss *streamStatus) {
		changed = ss.paused != reason
		if changed && ss.paused != "" {
			s.f.m.paused.WithLabelValues(s.so.Name, string(s.feature), ss.paused).Set(0)
		}
		ss.paused = reason
	})
	if changed && reason != "" {
		s.f.m.paused.WithLabelValues(s.so.Name, string(s.feature), reason).Set(1)
	}
	if changed && reason == "" {
		s.log.Info("stream resumed")
	}
	return changed
}

// deliver hands a page to every sink and waits until each confirmed or
// spooled it.
func (s *stream) deliver(ctx context.Context, p fetched) error {
	if len(p.evs) == 0 {
		return nil
	}
	b := Batch{Source: s.so.Name, Account: s.account, Feature: s.feature, Events: p.evs}
	jobs := make([]*job, len(s.f.workers))
	for i, w := range s.f.workers {
		jobs[i] = &job{b: b, done: make(chan error, 1)}
		select {
		case w.jobs <- jobs[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	for _, j := range jobs {
		select {
		case e := <-j.done:
			err = errors.Join(err, e)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// Observe refreshes the gauges that depend on the current time (cursor
// age, lag); call it before serving the metrics.
func (f *Forwarder) Observe() {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, st := range f.streams {
		if !st.current.IsZero() {
			f.m.cursorAge.WithLabelValues(st.source, string(st.feature)).Set(now.Sub(st.current).Seconds())
		}
		if !st.newest.IsZero() {
			f.m.lag.WithLabelValues(st.source, string(st.feature)).Set(now.Sub(st.newest).Seconds())
		}
	}
}
