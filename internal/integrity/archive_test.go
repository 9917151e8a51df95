package integrity_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

// dayRecord is an event i*6 hours after t0: four a day.
func dayRecord(i int, at time.Time) store.Record {
	id := fmt.Sprintf("DAY%03d", i)
	return store.Record{UUID: id, Time: at, Label: "x",
		V2: fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q,"n":%d}`, id, at.Format(time.RFC3339Nano), i)}
}

// archiveBundle is a store with two streams over several days, its
// signer and an archive of it.
type archiveBundle struct {
	st      store.Store
	signer  *integrity.Signer
	clock   *testenv.Clock
	account string
	dir     string
	keys    []byte // the JWKS of the tree keys
}

func appendDays(t *testing.T, b *archiveBundle, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		at := t0.Add(time.Duration(i) * 6 * time.Hour)
		if _, err := b.st.AppendEvents(t.Context(), b.account, feature, []store.Record{dayRecord(i, at)}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := b.st.AppendEvents(t.Context(), b.account, events.ItemUsages, []store.Record{dayRecord(1000+i, at)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func setupArchive(t *testing.T, open func(t *testing.T) (store.Store, tamperer)) *archiveBundle {
	t.Helper()
	st, _ := open(t)
	b := &archiveBundle{st: st, clock: testenv.NewClock(t0.AddDate(0, 0, 6)), account: events.NewID(), dir: t.TempDir()}
	b.signer = integrity.NewSigner(st, integrity.SignerConfig{Now: b.clock.Now})
	if err := b.signer.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendDays(t, b, 0, 20) // 2026-03-01 12:00 to 2026-03-06 06:00
	b.archive(t, integrity.ArchiveOptions{})
	var err error
	if b.keys, err = b.signer.PublicKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *archiveBundle) archive(t *testing.T, opts integrity.ArchiveOptions) []integrity.ArchivedDay {
	t.Helper()
	opts.Now = b.clock.Now
	days, err := integrity.Archive(t.Context(), b.st, b.signer, b.dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return days
}

// verifyArchive checks dir with the JWKS keys and returns its one chain.
func verifyArchive(t *testing.T, dir string, jwks []byte) integrity.ArchiveChain {
	t.Helper()
	keys, err := token.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	chains, err := integrity.VerifyArchive(dir, keys)
	if err != nil || len(chains) != 1 {
		t.Fatalf("VerifyArchive: %d chains, %v", len(chains), err)
	}
	return chains[0]
}

// rootOf is the root of a stream's stored head, as the archive writes it.
func storedRoot(t *testing.T, st store.Store, account string, f events.Feature) (int64, merkle.Hash) {
	t.Helper()
	h, err := st.TreeHead(t.Context(), account, f)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := merkle.NewFrontier(uint64(h.Size), h.Frontier)
	if err != nil {
		t.Fatal(err)
	}
	return h.Size, fr.Root()
}

func TestArchive(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testArchive(t, setupArchive(t, be.open)) })
	}
}

func testArchive(t *testing.T, b *archiveBundle) {
	c := verifyArchive(t, b.dir, b.keys)
	if len(c.Problems) > 0 || c.Days != 6 || c.First != "2026-03-01" || c.Last != "2026-03-06" {
		t.Fatalf("chain %+v: want 2026-03-01 to 2026-03-06 without problems", c)
	}
	for _, f := range []events.Feature{feature, events.ItemUsages} {
		size, root := storedRoot(t, b.st, b.account, f)
		i := slices.IndexFunc(c.Heads, func(g integrity.Segment) bool { return g.Stream == f })
		if i < 0 || c.Heads[i].TreeSize != size || c.Heads[i].Root != b64(root[:]) {
			t.Errorf("%s: last head %+v, want size %d root %s", f, c.Heads, size, b64(root[:]))
		}
	}
	// Every file holds events: mode 0600, as the spool's.
	err := filepath.WalkDir(b.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := d.Info(); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", path, info.Mode(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Running again over the same days writes nothing, and rewrites no
	// signed day.
	before := manifests(t, b)
	if days := b.archive(t, integrity.ArchiveOptions{}); len(days) != 0 {
		t.Errorf("second run wrote %+v, want nothing", days)
	}
	// Two days later, with an event of an archived day arriving late: the
	// chain goes on, and the late event is in the first day still open.
	appendDays(t, b, 20, 24)
	late := dayRecord(500, t0.Add(time.Hour))
	if _, err := b.st.AppendEvents(t.Context(), b.account, feature, []store.Record{late}); err != nil {
		t.Fatal(err)
	}
	// A stream new to the chain, with an old event: all of it is archived.
	signin := dayRecord(600, t0)
	if _, err := b.st.AppendEvents(t.Context(), b.account, events.SignInAttempts, []store.Record{signin}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(48 * time.Hour)
	days := b.archive(t, integrity.ArchiveOptions{})
	// 2026-03-07 holds the audit events of the 6th after noon (the 6th
	// is archived), of the 7th, the late one, an item usage and the
	// sign-in attempt.
	if len(days) != 2 || days[0].Day != "2026-03-07" || days[0].Events != 2+2+1+1+1 || days[1].Day != "2026-03-08" || days[1].Events != 0 {
		t.Errorf("days written %+v, want 2026-03-07 with 7 events (the late ones) and 2026-03-08 with none", days)
	}
	if seg := gunzip(t, filepath.Join(b.dir, b.account, "2026-03-07", "signinattempts.ndjson.gz")); !bytes.Equal(seg, append(signin.V2, '\n')) {
		t.Errorf("2026-03-07's sign-in attempts %s, want the one event", seg)
	}
	if seg := gunzip(t, filepath.Join(b.dir, b.account, "2026-03-07", "auditevents.ndjson.gz")); !bytes.Contains(seg, late.V2) {
		t.Errorf("2026-03-07's segment %s does not hold the late event", seg)
	}
	after := manifests(t, b)
	for day, m := range before {
		if !bytes.Equal(after[day], m) {
			t.Errorf("%s: manifest rewritten", day)
		}
	}
	c = verifyArchive(t, b.dir, b.keys)
	if len(c.Problems) > 0 || c.Days != 8 {
		t.Fatalf("chain after the second run %+v: want 8 days without problems", c)
	}
	size, root := storedRoot(t, b.st, b.account, feature)
	if i := slices.IndexFunc(c.Heads, func(g integrity.Segment) bool { return g.Stream == feature }); c.Heads[i].TreeSize != size || c.Heads[i].Root != b64(root[:]) {
		t.Errorf("last head %+v, want size %d", c.Heads[i], size)
	}
	// A day not over is not archived.
	if _, err := integrity.Archive(t.Context(), b.st, b.signer, b.dir, integrity.ArchiveOptions{Until: b.clock.Now(), Now: b.clock.Now}); err == nil {
		t.Error("archiving today: no error")
	}
}

func TestArchiveFromUntil(t *testing.T) {
	b := setupArchive(t, openSQLite)
	// A second archive of days 3 to 4 only: it starts on the tree of the
	// days before, and checks out on its own.
	b.dir = t.TempDir()
	days := b.archive(t, integrity.ArchiveOptions{From: t0.AddDate(0, 0, 2), Until: t0.AddDate(0, 0, 3)})
	if len(days) != 2 || days[0].Day != "2026-03-03" || days[1].Day != "2026-03-04" {
		t.Fatalf("days %+v, want 2026-03-03 and 2026-03-04", days)
	}
	if c := verifyArchive(t, b.dir, b.keys); len(c.Problems) > 0 || c.Heads[0].FirstLeaf == 0 {
		t.Fatalf("chain %+v: want no problems, starting past leaf 0", c)
	}
	// Continuing leaves no gap.
	if _, err := integrity.Archive(t.Context(), b.st, b.signer, b.dir, integrity.ArchiveOptions{From: t0.AddDate(0, 0, 5), Now: b.clock.Now}); err == nil {
		t.Error("--from past the day after the archive's last: no error")
	}
	if days := b.archive(t, integrity.ArchiveOptions{}); len(days) != 2 {
		t.Errorf("continuing: %+v, want 2 days", days)
	}
	if c := verifyArchive(t, b.dir, b.keys); len(c.Problems) > 0 || c.Days != 4 {
		t.Fatalf("chain %+v: want 4 days, no problems", c)
	}
}

// TestArchiveTampered changes a copy of an archive and checks that
// VerifyArchive names what was done.
func TestArchiveTampered(t *testing.T) {
	b := setupArchive(t, openSQLite)
	acct := func(dir string) string { return filepath.Join(dir, b.account) }
	// The same archive signed with another server's key.
	other := &archiveBundle{st: b.st, clock: b.clock, account: b.account, dir: t.TempDir()}
	st2, _ := openSQLite(t)
	other.signer = integrity.NewSigner(st2, integrity.SignerConfig{Now: b.clock.Now})
	if err := other.signer.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	other.archive(t, integrity.ArchiveOptions{})
	otherKeys, err := other.signer.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		keys   []byte
		want   []integrity.ArchiveProblem // Day, Stream and Kind
	}{{
		name: "segment edited",
		tamper: func(t *testing.T, dir string) {
			path := filepath.Join(acct(dir), "2026-03-03", "auditevents.ndjson.gz")
			data := gunzip(t, path)
			writeGzip(t, path, bytes.Replace(data, []byte(`"n":9}`), []byte(`"n":8}`), 1))
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-03", Stream: feature, Kind: integrity.SegmentModified}},
	}, {
		name: "segment removed",
		tamper: func(t *testing.T, dir string) {
			remove(t, filepath.Join(acct(dir), "2026-03-02", "itemusages.ndjson.gz"))
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-02", Stream: events.ItemUsages, Kind: integrity.SegmentMissing}},
	}, {
		name:   "day dropped",
		tamper: func(t *testing.T, dir string) { remove(t, filepath.Join(acct(dir), "2026-03-04")) },
		want:   []integrity.ArchiveProblem{{Day: "2026-03-05", Kind: integrity.DayMissing}},
	}, {
		name:   "first day dropped",
		tamper: func(t *testing.T, dir string) { remove(t, filepath.Join(acct(dir), "2026-03-01")) },
		want:   []integrity.ArchiveProblem{{Day: "2026-03-02", Kind: integrity.DayMissing}},
	}, {
		name: "manifest removed",
		tamper: func(t *testing.T, dir string) {
			remove(t, filepath.Join(acct(dir), "2026-03-04", integrity.ManifestFile))
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-04", Kind: integrity.ManifestMissing}},
	}, {
		name: "day re-signed with another key",
		tamper: func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(acct(other.dir), "2026-03-03", integrity.ManifestFile), filepath.Join(acct(dir), "2026-03-03", integrity.ManifestFile))
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-03", Kind: integrity.BadSignature}, {Day: "2026-03-04", Kind: integrity.ChainBroken}},
	}, {
		name:   "whole archive signed with another key",
		tamper: func(t *testing.T, dir string) {},
		keys:   otherKeys,
		want: []integrity.ArchiveProblem{{Day: "2026-03-01", Kind: integrity.BadSignature}, {Day: "2026-03-02", Kind: integrity.BadSignature},
			{Day: "2026-03-03", Kind: integrity.BadSignature}, {Day: "2026-03-04", Kind: integrity.BadSignature},
			{Day: "2026-03-05", Kind: integrity.BadSignature}, {Day: "2026-03-06", Kind: integrity.BadSignature}},
	}, {
		name: "days reordered",
		tamper: func(t *testing.T, dir string) {
			a, c := filepath.Join(acct(dir), "2026-03-02"), filepath.Join(acct(dir), "2026-03-03")
			for _, mv := range [][2]string{{a, a + ".x"}, {c, a}, {a + ".x", c}} {
				if err := os.Rename(mv[0], mv[1]); err != nil {
					t.Fatal(err)
				}
			}
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-02", Kind: integrity.DayMoved}, {Day: "2026-03-02", Kind: integrity.DayMissing},
			{Day: "2026-03-03", Kind: integrity.DayMoved}, {Day: "2026-03-03", Kind: integrity.DayMissing},
			{Day: "2026-03-04", Kind: integrity.ChainBroken}},
	}, {
		name: "segment added",
		tamper: func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(acct(dir), "2026-03-02", "auditevents.ndjson.gz"), filepath.Join(acct(dir), "2026-03-02", "signinattempts.ndjson.gz"))
		},
		want: []integrity.ArchiveProblem{{Day: "2026-03-02", Kind: integrity.UnexpectedFile}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(b.dir)); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, dir)
			keys := b.keys
			if tc.keys != nil {
				keys = tc.keys
			}
			c := verifyArchive(t, dir, keys)
			var got []integrity.ArchiveProblem
			for _, p := range c.Problems {
				got = append(got, integrity.ArchiveProblem{Day: p.Day, Stream: p.Stream, Kind: p.Kind})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n%v\nwant (day, stream, kind):\n%v", c.Problems, tc.want)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func manifests(t *testing.T, b *archiveBundle) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	paths, err := filepath.Glob(filepath.Join(b.dir, b.account, "*", integrity.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))] = data
	}
	return out
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// TestArchivePruned archives a stream whose oldest events retention
// removed, one of them (a late arrival) among events it kept: the
// manifest carries that leaf's hash, and the archive checks out.
func TestArchivePruned(t *testing.T) {
	b := setupArchive(t, openSQLite)
	late := dayRecord(500, t0.Add(time.Hour))
	if _, err := b.st.AppendEvents(t.Context(), b.account, feature, []store.Record{late}); err != nil {
		t.Fatal(err)
	}
	appendDays(t, b, 20, 22)
	if _, err := b.st.DeleteEventsBefore(t.Context(), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(24 * time.Hour)
	b.dir = t.TempDir()
	b.archive(t, integrity.ArchiveOptions{})
	c := verifyArchive(t, b.dir, b.keys)
	if len(c.Problems) > 0 || c.First != "2026-03-02" || c.Last != "2026-03-07" {
		t.Fatalf("chain %+v: want 2026-03-02 to 2026-03-07 without problems", c)
	}
	var pruned []integrity.PrunedLeaf
	for _, m := range manifests(t, b) {
		for _, g := range payloadManifest(t, m).Streams {
			pruned = append(pruned, g.Pruned...)
		}
	}
	if want := merkle.LeafHash(late.V2); len(pruned) != 1 || pruned[0].Leaf != 20 || pruned[0].Hash != b64(want[:]) {
		t.Errorf("pruned leaves %+v, want leaf 20, the late event's", pruned)
	}
	size, root := storedRoot(t, b.st, b.account, feature)
	if i := slices.IndexFunc(c.Heads, func(g integrity.Segment) bool { return g.Stream == feature }); c.Heads[i].TreeSize != size || c.Heads[i].Root != b64(root[:]) {
		t.Errorf("last head %+v, want size %d", c.Heads[i], size)
	}
}

func payloadManifest(t *testing.T, file []byte) integrity.Manifest {
	t.Helper()
	var m integrity.Manifest
	if err := json.Unmarshal(payloadOf(t, string(bytes.TrimSpace(file))), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
