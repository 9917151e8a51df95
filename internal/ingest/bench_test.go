package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// template is a mix of simulated events (all three kinds) of one kind per
// batch, whose uuids are replaced to make every batch new.
type template struct {
	kind  events.Feature
	evs   []json.RawMessage
	uuids []string
}

func templates(b *testing.B) []template {
	var out []template
	for _, k := range events.AllFeatures {
		evs := simulated(b, k, 1000, 9)
		t := template{kind: k, evs: evs}
		for _, e := range evs {
			var h struct{ UUID string }
			_ = json.Unmarshal(e, &h)
			t.uuids = append(t.uuids, h.UUID)
		}
		out = append(out, t)
	}
	return out
}

// batch renders t as NDJSON with fresh uuids.
func (t template) batch(buf *bytes.Buffer) {
	buf.Reset()
	for i, e := range t.evs {
		buf.Write(bytes.Replace(e, []byte(t.uuids[i]), []byte(events.NewID()), 1))
		buf.WriteByte('\n')
	}
}

// BenchmarkIngestHTTP posts batches of 1,000 or 5,000 new events (NDJSON)
// to a real server on SQLite, de-duplication on, from 1, 2 or 4 clients
// that each post their next batch as soon as the last is answered. b.N is
// the number of batches per client. Batches are rendered before the clock
// starts, 120,000 events in all; past those they repeat (duplicates only),
// so run batch=1000 with -benchtime 30x and batch=5000 with -benchtime 6x.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, size := range []int{1000, 5000} {
		for _, clients := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("batch=%d/clients=%d", size, clients), func(b *testing.B) {
				benchIngestHTTP(b, size, clients)
			})
		}
	}
}

func benchIngestHTTP(b *testing.B, size, clients int) {
	srv := servertest.Start(b, servertest.Options{})
	key := newKey(b, srv)
	tpls := templates(b)
	var bodies [][]byte
	var kinds []events.Feature
	for i := 0; i < 120_000/size; i++ {
		var buf, part bytes.Buffer
		t := tpls[i%len(tpls)]
		for range size / len(t.evs) {
			t.batch(&part)
			buf.Write(part.Bytes())
		}
		bodies = append(bodies, buf.Bytes())
		kinds = append(kinds, t.kind)
	}
	if b.N*clients > len(bodies) {
		b.Logf("%d batches of %d are repeats", b.N*clients-len(bodies), b.N*clients)
	}
	var next atomic.Int64
	post := func() error {
		i := int(next.Add(1)-1) % len(bodies)
		_, err := postBatch(srv, key, kinds[i], bodies[i])
		return err
	}
	meter := benchrate.Start()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range b.N {
				if err := post(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	meter.Report(b, b.N*clients*size)
}

// postBatch posts body to srv's ingestion endpoint of kind and returns the
// reply's body, or an error when the status is not 200.
func postBatch(srv *servertest.Server, key string, kind events.Feature, body []byte) ([]byte, error) {
	req, err := http.NewRequest("POST", srv.URL+ingest.Prefix+string(kind), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, reply)
	}
	return reply, nil
}

// BenchmarkIngestFile loads NDJSON (the simulator's envelope lines) into
// SQLite through ingest.Load, as logbook ingest does.
func BenchmarkIngestFile(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acct := events.NewID()
	if err := st.CreateAccount(ctx, store.Account{UUID: acct, Name: "B", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	tpls := templates(b)
	// Each pass loads a file of 30,000 events never seen before, rendered
	// before the clock starts: run with -benchtime Nx (N <= files).
	const files = 10
	var data [][]byte
	var buf bytes.Buffer
	for range files {
		var file bytes.Buffer
		for i := 0; i < 30; i++ {
			t := tpls[i%len(tpls)]
			t.batch(&buf)
			for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
				if len(line) > 1 {
					file.WriteString(`{"kind":"` + string(t.kind) + `","event":`)
					file.Write(bytes.TrimSuffix(line, []byte("\n")))
					file.WriteString("}\n")
				}
			}
		}
		data = append(data, file.Bytes())
	}
	b.SetBytes(int64(len(data[0])))
	n, pass := 0, 0
	meter := benchrate.Start()
	for b.Loop() {
		res, err := ingest.Load(ctx, st, acct, "", bytes.NewReader(data[pass%files]), nil)
		if err != nil {
			b.Fatal(err)
		}
		if pass < files && res.Duplicates != 0 {
			b.Fatalf("pass %d: %d duplicates in a file of new events", pass, res.Duplicates)
		}
		pass++
		n += res.Accepted + res.Duplicates
	}
	meter.Report(b, n)
}

// BenchmarkDecode measures decoding, validation and re-encoding alone.
func BenchmarkDecode(b *testing.B) {
	for _, t := range templates(b) {
		b.Run(string(t.kind), func(b *testing.B) {
			var buf bytes.Buffer
			t.batch(&buf)
			b.SetBytes(int64(buf.Len()))
			meter := benchrate.Start()
			for b.Loop() {
				wires, errs := ingest.DecodeAll(bytes.NewReader(buf.Bytes()), t.kind)
				if len(errs) > 0 || len(wires) != 1000 {
					b.Fatal(errs)
				}
			}
			meter.Report(b, 1000*b.N)
		})
	}
}
