package forward

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// job is one batch a stream waits on: done receives nil once the sink
// confirmed it or it sits in the spool.
type job struct {
	b    Batch
	done chan error
}

// sinkWorker owns one sink: it alone calls Write, so a sink never sees
// concurrent calls. Batches go to the sink directly while it works; when
// a write fails they go to the spool (in order) and the head of the spool
// is retried with backoff. When the spool is full, jobs wait in memory and
// their streams stop polling.
type sinkWorker struct {
	sink    Sink
	spool   *spool
	dead    *deadLetters
	m       *metrics
	log     *slog.Logger
	jobs    chan *job
	backoff Backoff

	mu      sync.Mutex
	pending []*job // refused by a full spool, oldest first
	idle    chan struct{}

	confirmed, refused atomic.Int64 // events, for Stats
}

func (w *sinkWorker) isIdle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) == 0 && w.spool.empty()
}

func (w *sinkWorker) signalIdle() {
	if w.isIdle() {
		select {
		case w.idle <- struct{}{}:
		default:
		}
	}
}

func (w *sinkWorker) publish() {
	n, size := w.spool.stats()
	w.m.spoolBatch.WithLabelValues(w.sink.Name()).Set(float64(n))
	w.m.spoolBytes.WithLabelValues(w.sink.Name()).Set(float64(size))
}

func (w *sinkWorker) run(ctx context.Context) {
	defer func() {
		w.mu.Lock()
		for _, j := range w.pending {
			j.done <- ctx.Err()
		}
		w.pending = nil
		w.mu.Unlock()
	}()
	w.publish()
	for {
		w.signalIdle()
		var err error
		switch {
		case !w.spool.empty():
			select { // keep streams moving while the spool drains
			case j := <-w.jobs:
				w.enqueue(j)
			default:
			}
			err = w.retrySpoolHead(ctx)
		case w.hasPending():
			err = w.retryPending(ctx)
		default:
			select {
			case <-ctx.Done():
				return
			case j := <-w.jobs:
				err = w.write(ctx, j.b)
				if err == nil {
					j.done <- nil
					continue
				}
				w.enqueue(j)
			}
		}
		if err == nil {
			w.backoff.Reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		w.m.sinkErrors.WithLabelValues(w.sink.Name()).Inc()
		wait := w.backoff.Next(0)
		w.log.Warn("sink write", "err", err, "retry_in", wait.Round(time.Millisecond))
		if !w.waitAccepting(ctx, wait) {
			return
		}
	}
}

func (w *sinkWorker) hasPending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) > 0
}

// enqueue puts a job that could not be written now into the spool if it
// fits (and nothing waits before it), else in pending.
func (w *sinkWorker) enqueue(j *job) {
	if !w.hasPending() {
		ok, err := w.spool.tryPut(j.b)
		if err != nil {
			w.log.Error("spool", "err", err)
		}
		if ok {
			w.publish()
			j.done <- nil
			return
		}
	}
	w.mu.Lock()
	w.pending = append(w.pending, j)
	w.mu.Unlock()
}

// movePending spools waiting jobs while they fit.
func (w *sinkWorker) movePending() {
	for {
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.mu.Unlock()
			return
		}
		j := w.pending[0]
		w.mu.Unlock()
		ok, err := w.spool.tryPut(j.b)
		if err != nil {
			w.log.Error("spool", "err", err)
		}
		if !ok {
			return
		}
		w.publish()
		w.mu.Lock()
		w.pending = w.pending[1:]
		w.mu.Unlock()
		j.done <- nil
	}
}

func (w *sinkWorker) retrySpoolHead(ctx context.Context) error {
	b, name, err := w.spool.head()
	if err != nil {
		return err
	}
	if err := w.write(ctx, b); err != nil {
		return err
	}
	if err := w.spool.remove(name); err != nil {
		return err
	}
	w.publish()
	w.movePending()
	return nil
}

func (w *sinkWorker) retryPending(ctx context.Context) error {
	w.mu.Lock()
	j := w.pending[0]
	w.mu.Unlock()
	if err := w.write(ctx, j.b); err != nil {
		return err
	}
	w.mu.Lock()
	w.pending = w.pending[1:]
	w.mu.Unlock()
	j.done <- nil
	return nil
}

// waitAccepting waits d while taking new jobs into the queue, so streams
// keep polling during an outage until the spool is full.
func (w *sinkWorker) waitAccepting(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case j := <-w.jobs:
			w.enqueue(j)
		}
	}
}

// write calls the sink once; refused events go to the dead letters and
// the rest of the batch counts as confirmed.
func (w *sinkWorker) write(ctx context.Context, b Batch) error {
	err := w.sink.Write(ctx, b)
	var rej *RejectedError
	if errors.As(err, &rej) {
		if err := w.dead.write(w.sink.Name(), b, rej.Rejected); err != nil {
			return err
		}
		w.m.deadLetters.WithLabelValues(w.sink.Name()).Add(float64(len(rej.Rejected)))
		if len(rej.Rejected) > 0 {
			w.log.Warn("events refused by the sink, written to the dead letters", "count", len(rej.Rejected), "first_reason", rej.Rejected[0].Reason)
		}
		w.m.eventsOut.WithLabelValues(w.sink.Name(), b.Source, string(b.Feature)).Add(float64(len(b.Events) - len(rej.Rejected)))
		w.confirmed.Add(int64(len(b.Events) - len(rej.Rejected)))
		w.refused.Add(int64(len(rej.Rejected)))
		return nil
	}
	if err != nil {
		return err
	}
	w.m.eventsOut.WithLabelValues(w.sink.Name(), b.Source, string(b.Feature)).Add(float64(len(b.Events)))
	w.confirmed.Add(int64(len(b.Events)))
	return nil
}
