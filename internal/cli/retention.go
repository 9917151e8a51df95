package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/metrics"
	"github.com/logbookhq/logbook/internal/store"
)

// Two settings bound how old an event may be, and they are kept apart on
// purpose. The serving window (serve --serve-window, 120 days by default,
// as 1Password's) clamps the start_time the Events API accepts: older
// events stay in the store but are not served. Deletion happens only when
// the operator asks for it (serve --delete-after), since keeping history
// longer than 1Password does is one reason to run Logbook at all.

// spanFlag is a flag holding a duration written as "120d" or as a Go
// duration ("2160h"); "off" or "0" is zero where off is allowed.
type spanFlag struct {
	d     time.Duration
	set   bool
	offOK bool // "off" allowed
}

func (s *spanFlag) String() string {
	if s == nil {
		return ""
	}
	return formatSpan(s.d)
}

func (s *spanFlag) Set(v string) error {
	s.set = true
	if s.offOK && (v == "off" || v == "0") {
		s.d = 0
		return nil
	}
	d, err := parseSpan(v)
	if err != nil {
		return err
	}
	s.d = d
	return nil
}

// formatSpan writes whole days as "120d", anything else as a Go duration,
// and zero as "off".
func formatSpan(d time.Duration) string {
	switch {
	case d == 0:
		return "off"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// retentionFlags are serve's --serve-window, --retention (its deprecated
// alias) and --delete-after.
type retentionFlags struct {
	window      spanFlag
	retention   spanFlag
	deleteAfter spanFlag
}

func (f *retentionFlags) register(fs *flag.FlagSet) {
	f.window.d = api.DefaultRetention
	f.retention.d = api.DefaultRetention
	f.deleteAfter.offOK = true
	fs.Var(&f.window, "serve-window", "how far back the Events API serves events (`span` such as 120d or 2160h): an older start_time is clamped to it; older events stay stored, only not served")
	fs.Var(&f.retention, "retention", "deprecated: the old name of --serve-window, and means only that (the `span` served); it never deletes anything (see --delete-after)")
	fs.Var(&f.deleteAfter, "delete-after", "delete events older than this `span` (such as 400d) at start and then every hour, logging at warn how many per account and stream (default off: nothing is ever deleted)")
}

// resolve checks the flags and returns the serving window and the deletion
// age (zero: never delete). It warns on stderr about --retention.
func (f *retentionFlags) resolve(env Env) (window, deleteAfter time.Duration, err error) {
	window = f.window.d
	if f.retention.set {
		if f.window.set && f.retention.d != f.window.d {
			return 0, 0, usagef("--retention: it is the old name of --serve-window; give only --serve-window")
		}
		window = f.retention.d
		fmt.Fprintf(env.Stderr, "logbook serve: --retention (LOGBOOK_RETENTION) is deprecated; it sets the serving window only (--serve-window %s) and deletes nothing. To delete old events, use --delete-after.\n", formatSpan(window))
	}
	if window < time.Hour {
		return 0, 0, usagef("--serve-window: %s is shorter than an hour", window)
	}
	deleteAfter = f.deleteAfter.d
	if deleteAfter != 0 && deleteAfter < time.Hour {
		return 0, 0, usagef("--delete-after: %s is shorter than an hour (give a span such as 400d, or off)", deleteAfter)
	}
	return window, deleteAfter, nil
}

// unserved counts, per account and stream, the events of st older than
// the account's serving window at now (its own, or window when it has
// none; streams without any are left out).
func unserved(ctx context.Context, st store.Store, now time.Time, window time.Duration) ([]store.StreamCount, error) {
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.StreamCount
	for _, a := range accounts {
		cut := now.Add(-window)
		switch {
		case a.ServeWindow == store.ServeForever:
			continue
		case a.ServeWindow > 0:
			cut = now.Add(-a.ServeWindow)
		}
		for _, f := range events.AllFeatures {
			cs, err := st.CountEvents(ctx, a.UUID, f, time.Time{}, cut)
			if err != nil {
				return nil, err
			}
			var n int64
			for _, c := range cs {
				n += c.N
			}
			if n > 0 {
				out = append(out, store.StreamCount{Account: a.UUID, Feature: f, N: n})
			}
		}
	}
	store.SortStreamCounts(out)
	return out, nil
}

// accountNames maps account UUIDs to names, for messages.
func accountNames(ctx context.Context, st store.AccountStore) map[string]string {
	m := map[string]string{}
	as, err := st.Accounts(ctx)
	if err != nil {
		return m
	}
	for _, a := range as {
		m[a.UUID] = a.Name
	}
	return m
}

// reportServeWindow logs, at start, how many stored events are older than
// their account's serving window: they are kept, but the API does not
// serve them.
func reportServeWindow(ctx context.Context, st store.Store, now time.Time, window time.Duration, log *slog.Logger) {
	old, err := unserved(ctx, st, now, window)
	if err != nil {
		log.Warn("count events older than the serving window", "err", err)
		return
	}
	if n := store.TotalCount(old); n > 0 {
		log.Info("events older than the serving window are kept but not served; widen it with --serve-window, or per account with logbook account serve-window",
			"events", n, "serve_window", formatSpan(window))
	}
}

// deleteOld is one deletion pass: it removes the events older than
// deleteAfter, logs at warn how many went from each stream, and counts
// them in m (nil: nowhere).
func deleteOld(ctx context.Context, st store.Store, now time.Time, deleteAfter time.Duration, log *slog.Logger, m *metrics.Metrics) error {
	cut := now.Add(-deleteAfter)
	gone, err := st.DeleteEventsBefore(ctx, cut)
	names := accountNames(ctx, st)
	for _, c := range gone {
		m.Deleted(c.Feature, c.N)
		log.Warn("deleted events older than --delete-after", "account", names[c.Account], "account_uuid", c.Account,
			"feature", c.Feature, "events", c.N, "before", cut.UTC().Format(time.RFC3339), "delete_after", formatSpan(deleteAfter))
	}
	if err != nil {
		return err
	}
	log.Info("deletion pass done", "deleted", store.TotalCount(gone), "before", cut.UTC().Format(time.RFC3339))
	return nil
}

// deletionLoop runs deleteOld at once and then every hour until ctx ends.
func deletionLoop(ctx context.Context, st store.Store, deleteAfter time.Duration, log *slog.Logger, m *metrics.Metrics) {
	repeat(ctx, time.Hour, log, "delete old events", func() error {
		return deleteOld(ctx, st, time.Now(), deleteAfter, log, m)
	})
}

// treeHeadLoop signs the tree heads that are due (integrity.Signer.SignDue)
// at start and then every minute, or every interval if shorter.
func treeHeadLoop(ctx context.Context, heads *integrity.Signer, every int64, interval time.Duration, log *slog.Logger) {
	repeat(ctx, min(interval, time.Minute), log, "sign tree heads", func() error {
		_, err := heads.SignDue(ctx, every, interval)
		return err
	})
}

// repeat runs run at once and then every period until ctx ends, logging
// its errors under what.
func repeat(ctx context.Context, period time.Duration, log *slog.Logger, what string, run func() error) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		err := run()
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			log.Error(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// warnOutsideWindow tells, on stderr, how many events of an account are
// older than the default serving window, after simulate or ingest stored
// some: logbook serve keeps them but does not serve them unless its window
// is widened, and the message says to what.
func warnOutsideWindow(ctx context.Context, env Env, st store.EventStore, account, name string, now time.Time) {
	ctx = context.WithoutCancel(ctx) // an interrupted run stored events too
	window := api.DefaultRetention
	var n int64
	oldest := now
	for _, f := range events.AllFeatures {
		cs, err := st.CountEvents(ctx, account, f, time.Time{}, now.Add(-window))
		if err != nil {
			return
		}
		for _, c := range cs {
			n += c.N
			if c.Hour.Before(oldest) {
				oldest = c.Hour
			}
		}
	}
	if n == 0 {
		return
	}
	days := int(now.Sub(oldest)/(24*time.Hour)) + 1
	fmt.Fprintf(env.Stderr, "Note: %d events in account %q are older than %s, the default serving window of logbook serve: "+
		"they are stored but not served. To serve them, start the server with --serve-window %dd. "+
		"Nothing is deleted unless the server runs with --delete-after.\n", n, name, formatSpan(window), days)
}
