package integrity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/token"
)

// ArchiveKind is what VerifyArchive found wrong.
type ArchiveKind string

// The kinds of archive problem.
const (
	// BadSignature: a manifest is not signed by any of the keys given.
	BadSignature ArchiveKind = "bad signature"
	// ManifestMissing: a day's directory has no manifest.
	ManifestMissing ArchiveKind = "manifest missing"
	// DayMissing: a manifest follows a day the archive does not hold.
	DayMissing ArchiveKind = "day missing"
	// DayMoved: a day's directory holds the manifest of another day (or
	// account): days were reordered or renamed.
	DayMoved ArchiveKind = "day moved"
	// ChainBroken: a manifest does not name the hash of the one before.
	ChainBroken ArchiveKind = "chain broken"
	// SegmentMissing, SegmentModified: a segment file is gone, or is not
	// the one its manifest hashed.
	SegmentMissing  ArchiveKind = "segment missing"
	SegmentModified ArchiveKind = "segment modified"
	// TreeMismatch: a day's leaves do not give the tree head its
	// manifest signed, or do not continue the day before's tree.
	TreeMismatch ArchiveKind = "tree mismatch"
	// UnexpectedFile: a file no manifest names.
	UnexpectedFile ArchiveKind = "unexpected file"
	// Malformed: a manifest that does not parse.
	Malformed ArchiveKind = "malformed"
)

// ArchiveProblem is one thing wrong in an archive.
type ArchiveProblem struct {
	Day    string
	Stream events.Feature // empty for the whole day
	Kind   ArchiveKind
	Detail string
}

func (p ArchiveProblem) String() string {
	if p.Stream == "" {
		return fmt.Sprintf("%s: %s: %s", p.Day, p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s %s: %s: %s", p.Day, p.Stream, p.Kind, p.Detail)
}

// ArchiveChain is the check of one account's days in an archive.
type ArchiveChain struct {
	Account string
	// Days is how many days the archive holds, First and Last the first
	// and the last.
	Days        int
	First, Last string
	// Heads are the streams' tree heads at the end of the last day.
	Heads []Segment
	// Problems is empty when the chain checks out.
	Problems []ArchiveProblem
}

// VerifyArchive checks an archive that Archive wrote in dir, with nothing
// but its files and the tree keys' public keys (by kid, token.ParseJWKS):
// every manifest's signature, the chain of manifests, each segment's hash
// and count, and that each day's leaves continue the day before's tree
// and give the head its manifest signed. It names every problem found.
// What it cannot see: days removed from the end of a chain, and a chain
// re-signed with a key among keys (docs/integrity.md).
func VerifyArchive(dir string, keys map[string]*ecdsa.PublicKey) ([]ArchiveChain, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []ArchiveChain
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := verifyChain(filepath.Join(dir, e.Name()), e.Name(), keys)
		if err != nil {
			return out, fmt.Errorf("%s: %w", e.Name(), err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no archive in %s", dir)
	}
	return out, nil
}

// verifyChain checks the days of one account.
func verifyChain(dir, account string, keys map[string]*ecdsa.PublicKey) (ArchiveChain, error) {
	c := ArchiveChain{Account: account}
	days, err := archiveDays(dir)
	if err != nil {
		return c, err
	}
	var (
		prevDay, prevHash string
		prev              map[events.Feature]*merkle.Frontier // the trees at the end of the day before; nil: unknown (a nil tree: that stream's)
	)
	for _, day := range days {
		c.Days++
		if c.First == "" {
			c.First = day
		}
		c.Last = day
		add := func(s events.Feature, k ArchiveKind, format string, args ...any) {
			c.Problems = append(c.Problems, ArchiveProblem{Day: day, Stream: s, Kind: k, Detail: fmt.Sprintf(format, args...)})
		}
		file, err := os.ReadFile(filepath.Join(dir, day, ManifestFile))
		if errors.Is(err, os.ErrNotExist) {
			add("", ManifestMissing, "no %s", ManifestFile)
			prevDay, prevHash, prev = day, "", nil
			continue
		}
		if err != nil {
			return c, err
		}
		hash := hashOf(file)
		payload, kid, err := token.VerifyJWSWith(keys, string(bytes.TrimSpace(file)))
		if err != nil {
			add("", BadSignature, "the manifest (kid %q) does not verify with the keys given: %v", kid, err)
			prevDay, prevHash, prev = day, hash, nil
			continue
		}
		var m Manifest
		if err := json.Unmarshal(payload, &m); err != nil {
			add("", Malformed, "%v", err)
			prevDay, prevHash, prev = day, hash, nil
			continue
		}
		if m.Day != day || m.Account != account {
			add("", DayMoved, "the directory holds the manifest of %s of account %s", m.Day, m.Account)
		}
		switch {
		case prevDay == "" && m.PreviousDay != "":
			add("", DayMissing, "the archive starts here, but the manifest follows %s", m.PreviousDay)
			prev = nil
		case prevDay != "" && m.PreviousDay != prevDay:
			add("", DayMissing, "the manifest follows %q, the archive holds %s before it", m.PreviousDay, prevDay)
			prev = nil
		case prevDay != "" && prevHash == "":
			prev = nil // the day before has no manifest: named there
		case m.Previous != prevHash:
			add("", ChainBroken, "the manifest of %s is not the one this day's names (hash %s, want %s)", prevDay, prevHash, m.Previous)
			prev = nil
		}
		ends := map[events.Feature]*merkle.Frontier{}
		names := map[string]bool{ManifestFile: true}
		for _, g := range m.Streams {
			if g.File != "" {
				names[g.File] = true
			}
			ends[g.Stream] = verifySegment(filepath.Join(dir, day), g, prev, func(k ArchiveKind, format string, args ...any) {
				add(g.Stream, k, format, args...)
			})
		}
		for s := range prev {
			if _, ok := ends[s]; !ok {
				add(s, TreeMismatch, "the stream is in the day before's manifest, not in this one's")
			}
		}
		files, err := os.ReadDir(filepath.Join(dir, day))
		if err != nil {
			return c, err
		}
		for _, f := range files {
			if !names[f.Name()] && !strings.HasPrefix(f.Name(), ".") {
				add("", UnexpectedFile, "%s is in no manifest", f.Name())
			}
		}
		c.Heads = m.Streams
		prevDay, prevHash, prev = day, hash, ends
	}
	return c, nil
}

// verifySegment checks one stream's day: that it starts where the day
// before ended (prev, when known), that its file is the one hashed, and
// that its leaves give its head. It returns the tree at the day's end, nil
// when the day does not check out.
func verifySegment(dir string, g Segment, prev map[events.Feature]*merkle.Frontier, add func(ArchiveKind, string, ...any)) *merkle.Frontier {
	start, err := base64.StdEncoding.DecodeString(g.StartFrontier)
	if err != nil {
		add(Malformed, "start frontier: %v", err)
		return nil
	}
	tree, err := merkle.NewFrontier(uint64(g.FirstLeaf), start)
	if err != nil {
		add(Malformed, "start frontier: %v", err)
		return nil
	}
	if prev != nil {
		before, ok := prev[g.Stream]
		switch {
		case !ok && g.FirstLeaf != 0:
			add(TreeMismatch, "the stream is new, yet starts at leaf %d", g.FirstLeaf)
		case ok && before != nil && (before.Size() != tree.Size() || !bytes.Equal(before.Bytes(), start)):
			add(TreeMismatch, "the day starts at leaf %d, not where the day before ended (leaf %d), or on another tree", g.FirstLeaf, before.Size())
		}
	}
	var lines [][]byte
	if g.File != "" && (filepath.Base(g.File) != g.File || strings.HasPrefix(g.File, ".")) {
		add(Malformed, "segment file name %q", g.File)
		return nil
	}
	if g.File != "" {
		data, err := os.ReadFile(filepath.Join(dir, g.File))
		if errors.Is(err, os.ErrNotExist) {
			add(SegmentMissing, "%s is gone", g.File)
			return nil
		}
		if err != nil {
			add(SegmentMissing, "%v", err)
			return nil
		}
		if h := hashOf(data); h != g.SHA256 {
			add(SegmentModified, "%s hashes to %s, the manifest says %s", g.File, h, g.SHA256)
			return nil
		}
		if lines, err = readLines(data); err != nil {
			add(SegmentModified, "%s: %v", g.File, err)
			return nil
		}
	}
	if int64(len(lines)) != g.Count {
		add(SegmentModified, "%d events, the manifest says %d", len(lines), g.Count)
		return nil
	}
	pruned := g.Pruned
	for i := g.FirstLeaf; i < g.TreeSize; i++ {
		switch {
		case len(pruned) > 0 && pruned[0].Leaf == i:
			h, err := base64.StdEncoding.DecodeString(pruned[0].Hash)
			if err != nil || len(h) != merkle.HashSize {
				add(Malformed, "pruned leaf %d: bad hash", i)
				return nil
			}
			tree.Append(merkle.Hash(h))
			pruned = pruned[1:]
		case len(lines) > 0:
			tree.Append(merkle.LeafHash(lines[0]))
			lines = lines[1:]
		default:
			add(TreeMismatch, "leaves %d to %d: the day holds %d", g.FirstLeaf, g.TreeSize-1, i-g.FirstLeaf)
			return nil
		}
	}
	if len(lines) > 0 || len(pruned) > 0 {
		add(TreeMismatch, "the day holds more leaves than %d to %d", g.FirstLeaf, g.TreeSize-1)
		return nil
	}
	if root := rootOf(tree); root != g.Root {
		add(TreeMismatch, "leaves %d to %d give root %s, the manifest signed %s", g.FirstLeaf, g.TreeSize-1, root, g.Root)
		return nil
	}
	return &tree
}

// readLines reads a gzipped segment's lines.
func readLines(data []byte) ([][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	r := bufio.NewReader(zr)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				return nil, errors.New("the last line has no newline")
			}
			lines = append(lines, line[:len(line)-1])
		}
		if err == io.EOF {
			return lines, zr.Close()
		}
		if err != nil {
			return nil, err
		}
	}
}
