package integrity

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// An archive is a directory that holds, per account, one directory per
// UTC day (DIR/ACCOUNT/YYYY-MM-DD/): a gzipped NDJSON segment per stream
// (STREAM.ndjson.gz, the events' v2 bytes, one a line, in stream order)
// and manifest.jws, a compact JWS (ES256, a tree key, typ ManifestType)
// over a Manifest. Each manifest names the hash of the day before's, so
// the days of an account form a chain that VerifyArchive checks with
// nothing but the files and the tree keys' public keys.
//
// A day's segment holds the leaves that follow the day before's: the
// leaves of a stream are cut into days in stream order, each leaf going
// to the day of the latest event timestamp seen so far in the stream (and
// never to a day already archived), so that each day ends on a tree head.
// An event that arrives late with an old timestamp is in the first day
// still open.

// ManifestType is the typ header of an archive manifest's JWS.
const ManifestType = "logbook-archive-manifest"

// ManifestFile is the name of a day's manifest in its directory.
const ManifestFile = "manifest.jws"

// dayFormat names the days.
const dayFormat = time.DateOnly

// Manifest is what an archive day's manifest signs.
type Manifest struct {
	Account string `json:"account_uuid"`
	Day     string `json:"day"`
	// PreviousDay is the day of the manifest before in the chain, and
	// Previous the SHA-256 (standard base64) of its file; both empty for
	// the first day archived.
	PreviousDay string    `json:"previous_day"`
	Previous    string    `json:"previous"`
	Streams     []Segment `json:"streams"`
	// Timestamp is when the manifest was signed, in Unix milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// Segment is one stream's part of an archive day.
type Segment struct {
	Stream events.Feature `json:"stream"`
	// File is the segment's name in the day's directory, and SHA256 the
	// hash of its bytes (standard base64); empty when the day added no
	// event to the stream.
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Count is the number of events (lines) in the segment.
	Count int64 `json:"count"`
	// FirstLeaf is the leaf index of the day's first leaf, and
	// StartFrontier the frontier of the tree of the FirstLeaf leaves
	// before it (merkle.Frontier's bytes, standard base64).
	FirstLeaf     int64  `json:"first_leaf"`
	StartFrontier string `json:"start_frontier"`
	// Pruned are the day's leaves whose event retention removed: only
	// their hash is kept, and they have no line in the segment.
	Pruned []PrunedLeaf `json:"pruned,omitempty"`
	// TreeSize and Root are the stream's tree head at the day's end.
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root_hash"`
}

// PrunedLeaf is a leaf kept without its event.
type PrunedLeaf struct {
	Leaf int64  `json:"leaf"`
	Hash string `json:"hash"`
}

// ArchiveOptions says what Archive writes.
type ArchiveOptions struct {
	// Account, when set, archives that account only.
	Account string
	// From and Until are the first and last days to archive (UTC, any
	// time of the day). From zero: the first day of the stream, or the
	// day after the archive's last. Until zero: yesterday. Days not over
	// are never archived.
	From, Until time.Time
	// Now returns the time; time.Now when nil.
	Now func() time.Time
}

// ArchivedDay is a day Archive wrote.
type ArchivedDay struct {
	Account string
	Day     string
	Events  int64
}

// Archive writes into dir the days of each account's streams from the
// first not yet archived (or opts.From) to opts.Until, each segment then
// its manifest, every file crash-safely (atomicfile) with mode 0600. A day
// whose manifest exists is never rewritten: Archive continues the chain
// after the last one, and fails if the store's tree no longer gives the
// head the last manifest signed.
func Archive(ctx context.Context, st store.Store, s *Signer, dir string, opts ArchiveOptions) ([]ArchivedDay, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	today := dayOf(opts.Now())
	until := today.AddDate(0, 0, -1)
	if !opts.Until.IsZero() {
		if u := dayOf(opts.Until); u.Before(today) {
			until = u
		} else {
			return nil, fmt.Errorf("day %s is not over", u.Format(dayFormat))
		}
	}
	streams, err := st.Streams(ctx)
	if err != nil {
		return nil, err
	}
	var accounts []string
	for _, sc := range streams {
		if (opts.Account == "" || sc.Account == opts.Account) && !slices.Contains(accounts, sc.Account) {
			accounts = append(accounts, sc.Account)
		}
	}
	var out []ArchivedDay
	for _, account := range accounts {
		var features []events.Feature
		for _, sc := range streams {
			if sc.Account == account {
				features = append(features, sc.Feature)
			}
		}
		days, err := s.archiveAccount(ctx, st, filepath.Join(dir, account), account, features, dayOf(opts.From), until, opts.Now)
		out = append(out, days...)
		if err != nil {
			return out, fmt.Errorf("archive %s: %w", account, err)
		}
	}
	return out, nil
}

// dayOf is the start of t's UTC day; zero for zero.
func dayOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// b64 is standard base64, as the archive writes every hash.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// rootOf is the root of f in standard base64.
func rootOf(f merkle.Frontier) string {
	r := f.Root()
	return b64(r[:])
}

// clone copies f, whose nodes Append would otherwise share.
func clone(f merkle.Frontier) merkle.Frontier {
	c, _ := merkle.NewFrontier(f.Size(), f.Bytes())
	return c
}

// hashOf is the SHA-256 of b in standard base64.
func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return b64(h[:])
}

func (s *Signer) archiveAccount(ctx context.Context, st store.Store, dir, account string, features []events.Feature, from, until time.Time, now func() time.Time) ([]ArchivedDay, error) {
	lastDay, lastFile, err := lastManifest(dir)
	if err != nil {
		return nil, err
	}
	start := from // the first day to write; zero: the first day of events
	var prevDay, prevHash string
	var last *Manifest
	if lastFile != nil {
		payload, _, err := s.keys.VerifyJWS(ctx, string(bytes.TrimSpace(lastFile)))
		if err != nil {
			return nil, fmt.Errorf("manifest of %s: %w", lastDay, err)
		}
		last = new(Manifest)
		if err := json.Unmarshal(payload, last); err != nil || last.Day != lastDay || last.Account != filepath.Base(dir) {
			return nil, fmt.Errorf("manifest of %s: not this day's (%v): run logbook archive verify", lastDay, err)
		}
		d, _ := time.Parse(dayFormat, last.Day)
		next := d.AddDate(0, 0, 1)
		if !from.IsZero() && from.After(next) {
			return nil, fmt.Errorf("the archive ends on %s: --from %s would leave a gap", last.Day, from.Format(dayFormat))
		}
		start, prevDay, prevHash = next, last.Day, hashOf(lastFile)
	}
	// Scan each stream: the leaves the chain holds (or before start) give
	// its starting tree; the others go to their day's segment.
	trees := map[events.Feature]*merkle.Frontier{} // at the end of the day written last; nil: not in the chain
	byDay := map[string]map[events.Feature]daySegment{}
	var first time.Time // the first day with leaves, for a start of zero
	for _, f := range features {
		var lastSeg *Segment
		if last != nil {
			if i := slices.IndexFunc(last.Streams, func(g Segment) bool { return g.Stream == f }); i >= 0 {
				lastSeg = &last.Streams[i]
			}
		}
		tree, segs, err := scanStream(ctx, st, dir, account, f, last != nil, lastSeg, start, until)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if tree.Size() > 0 || lastSeg != nil {
			trees[f] = &tree
		}
		for _, g := range segs {
			if byDay[g.day] == nil {
				byDay[g.day] = map[events.Feature]daySegment{}
			}
			byDay[g.day][f] = g
			if d, _ := time.Parse(dayFormat, g.day); first.IsZero() || d.Before(first) {
				first = d
			}
		}
	}
	if start.IsZero() {
		start = first
	}
	var out []ArchivedDay
	if start.IsZero() {
		return out, nil // nothing to archive
	}
	for d := start; !d.After(until); d = d.AddDate(0, 0, 1) {
		day := d.Format(dayFormat)
		m := Manifest{Account: account, Day: day, PreviousDay: prevDay, Previous: prevHash}
		var n int64
		for _, f := range features {
			if g, ok := byDay[day][f]; ok {
				m.Streams = append(m.Streams, g.seg)
				trees[f] = &g.end
				n += g.seg.Count
			} else if t := trees[f]; t != nil {
				m.Streams = append(m.Streams, Segment{Stream: f, FirstLeaf: int64(t.Size()), StartFrontier: b64(t.Bytes()),
					TreeSize: int64(t.Size()), Root: rootOf(*t)})
			}
		}
		m.Timestamp = now().UnixMilli()
		payload, err := json.Marshal(m)
		if err != nil {
			return out, err
		}
		jws, _, err := s.keys.SignJWS(ctx, ManifestType, payload)
		if err != nil {
			return out, fmt.Errorf("sign manifest: %w", err)
		}
		file := []byte(jws + "\n")
		if err := atomicfile.WriteFile(filepath.Join(dir, day, ManifestFile), file, 0o600); err != nil {
			return out, err
		}
		prevDay, prevHash = day, hashOf(file)
		out = append(out, ArchivedDay{Account: account, Day: day, Events: n})
	}
	return out, nil
}

// daySegment is a segment written, its day and the tree at its end.
type daySegment struct {
	day string
	seg Segment
	end merkle.Frontier
}

// scanStream reads a stream's leaves: those the chain holds (lastSeg's
// tree size; none for a stream new to a chain), or with no chain those of
// days before start, give the tree it returns; the others, up to until,
// are written to their day's segment file under dir.
func scanStream(ctx context.Context, st store.Store, dir, account string, f events.Feature, chained bool, lastSeg *Segment, start, until time.Time) (merkle.Frontier, []daySegment, error) {
	prefix := int64(-1) // the leaves the chain holds; -1: no chain, cut by day
	switch {
	case lastSeg != nil:
		prefix = lastSeg.TreeSize
	case chained:
		prefix = 0
	}
	var (
		out       []daySegment
		cur       *daySegment
		gz        bytes.Buffer
		w         *gzip.Writer
		running   time.Time // the day of the latest event timestamp seen
		tree      merkle.Frontier
		startTree merkle.Frontier
	)
	checkLast := func() error {
		if lastSeg != nil && rootOf(tree) != lastSeg.Root {
			return fmt.Errorf("the store's tree of %d leaves does not give the root the archive's manifest of its last day signed: run logbook verify", tree.Size())
		}
		return nil
	}
	flush := func() error {
		if cur == nil {
			return nil
		}
		if err := w.Close(); err != nil {
			return err
		}
		cur.end = clone(tree)
		cur.seg.TreeSize, cur.seg.Root = int64(tree.Size()), rootOf(tree)
		if cur.seg.Count > 0 {
			cur.seg.File, cur.seg.SHA256 = string(f)+".ndjson.gz", hashOf(gz.Bytes())
			if err := atomicfile.WriteFile(filepath.Join(dir, cur.day, cur.seg.File), gz.Bytes(), 0o600); err != nil {
				return err
			}
		}
		out = append(out, *cur)
		cur = nil
		return nil
	}
	head, err := st.ReadTree(ctx, account, f, func(r store.TreeRow) error {
		n := int64(tree.Size())
		if r.Index != n || len(r.Leaf) != merkle.HashSize || (!r.Pruned && merkle.LeafHash(r.Data) != merkle.Hash(r.Leaf)) {
			return fmt.Errorf("position %d (leaf %d) does not match the tree: run logbook verify", r.Seq, n)
		}
		if !r.Pruned {
			t, err := eventTime(r.Data)
			if err != nil {
				return fmt.Errorf("position %d: %w", r.Seq, err)
			}
			if d := dayOf(t); d.After(running) {
				running = d
			}
		}
		if n < prefix || (prefix < 0 && (running.IsZero() || running.Before(start))) {
			tree.Append(merkle.Hash(r.Leaf))
			return nil
		}
		day := running
		if day.Before(start) {
			day = start
		}
		if day.After(until) {
			return errStop
		}
		if n == prefix {
			if err := checkLast(); err != nil {
				return err
			}
		}
		if cur == nil && len(out) == 0 {
			startTree = clone(tree)
		}
		if name := day.Format(dayFormat); cur == nil || cur.day != name {
			if err := flush(); err != nil {
				return err
			}
			cur = &daySegment{day: name, seg: Segment{Stream: f, FirstLeaf: n, StartFrontier: b64(tree.Bytes())}}
			gz.Reset()
			w = gzip.NewWriter(&gz)
		}
		tree.Append(merkle.Hash(r.Leaf))
		if r.Pruned {
			cur.seg.Pruned = append(cur.seg.Pruned, PrunedLeaf{Leaf: n, Hash: b64(r.Leaf)})
			return nil
		}
		cur.seg.Count++
		if _, err := w.Write(r.Data); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'})
		return err
	})
	if err != nil && !errors.Is(err, errStop) {
		return tree, nil, err
	}
	if err == nil && head.Size != int64(tree.Size()) {
		return tree, nil, fmt.Errorf("the stream holds %d leaves, its head %d: run logbook verify", tree.Size(), head.Size)
	}
	if len(out) == 0 && cur == nil {
		// Nothing new: the tree is what the chain (or the days before
		// start) holds.
		if prefix >= 0 && int64(tree.Size()) > prefix {
			return tree, nil, fmt.Errorf("internal: %d leaves past the archive's %d", tree.Size(), prefix)
		}
		if int64(tree.Size()) < prefix {
			return tree, nil, fmt.Errorf("the store holds %d leaves, the archive's last day %d: run logbook verify", tree.Size(), prefix)
		}
		return tree, nil, checkLast()
	}
	if err := flush(); err != nil {
		return startTree, nil, err
	}
	return startTree, out, nil
}

// eventTime reads the timestamp of an event's v2 bytes.
func eventTime(v2 []byte) (time.Time, error) {
	var e struct {
		Timestamp time.Time `json:"timestamp"`
	}
	if err := json.Unmarshal(v2, &e); err != nil {
		return time.Time{}, fmt.Errorf("event timestamp: %w", err)
	}
	return e.Timestamp, nil
}

// lastManifest reads the manifest file of the last day archived in dir
// (an account's directory); nil when there is none.
func lastManifest(dir string) (day string, file []byte, err error) {
	days, err := archiveDays(dir)
	if err != nil {
		return "", nil, err
	}
	for _, day := range slices.Backward(days) {
		file, err := os.ReadFile(filepath.Join(dir, day, ManifestFile))
		if errors.Is(err, os.ErrNotExist) {
			continue // a day whose writing a crash cut short
		}
		if err != nil {
			return "", nil, err
		}
		return day, file, nil
	}
	return "", nil, nil
}

// archiveDays lists the day directories in an account's directory, in
// order; none when it does not exist.
func archiveDays(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var days []string
	for _, e := range ents {
		if _, err := time.Parse(dayFormat, e.Name()); err == nil && e.IsDir() {
			days = append(days, e.Name())
		}
	}
	return days, nil
}
