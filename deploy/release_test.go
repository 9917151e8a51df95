package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/testenv"
)

// TestRelease: "make release" builds, for linux/amd64 and linux/arm64, an
// archive holding a static binary stamped with the version git describe
// gives, the README, docs/*.md and the files of deploy/; SHA256SUMS
// holds the archives' sums. The binary for this machine's architecture
// says its version in "logbook version --json"; each is an ELF for its
// machine with no interpreter and no shared libraries, and holds no path
// of the checkout (-trimpath).
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: make release builds two binaries")
	}
	for _, prog := range []string{"make", "tar", "sha256sum"} {
		if _, err := exec.LookPath(prog); err != nil {
			testenv.Unavailable(t, "no %s on this machine, which make release needs", prog)
		}
	}
	if out, err := exec.Command("tar", "--version").Output(); err != nil || !strings.Contains(string(out), "GNU tar") {
		testenv.Unavailable(t, "make release needs GNU tar (--sort, --owner); tar --version: %.40q, %v", out, err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The version make release stamps: git describe, as in the Makefile,
	// or "dev" outside a git checkout.
	want := "dev"
	cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		want = strings.TrimSpace(string(out))
	}

	dist := t.TempDir()
	start := time.Now()
	cmd = exec.Command("make", "-s", "release", "DIST="+dist)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	t.Logf("make release took %v", time.Since(start).Round(time.Second))

	// Every file of deploy/ but its Go files goes into the archives.
	var shipped []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(path, ".go") {
			shipped = append(shipped, "deploy/"+filepath.ToSlash(path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(shipped, "deploy/systemd/logbook.service") {
		t.Fatalf("deploy/ files %q lack the systemd unit", shipped)
	}
	// And the documentation, which the README and install.md link to.
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || !slices.Contains(docs, "../docs/install.md") {
		t.Fatalf("docs/*.md = %q, %v; want install.md among them", docs, err)
	}
	for _, d := range docs {
		shipped = append(shipped, strings.TrimPrefix(d, "../"))
	}

	archives := map[string]elf.Machine{
		"logbook-" + want + "-linux-amd64.tar.gz": elf.EM_X86_64,
		"logbook-" + want + "-linux-arm64.tar.gz": elf.EM_AARCH64,
	}
	var names []string
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	wantNames := []string{"SHA256SUMS"}
	for a := range archives {
		wantNames = append(wantNames, a)
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("dist holds %q, want %q", names, wantNames)
	}

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for line := range strings.Lines(string(sums)) {
		sum, name, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not \"SUM  NAME\"", line)
		}
		listed[name] = sum
	}
	if len(listed) != len(archives) {
		t.Errorf("SHA256SUMS lists %d files, want the %d archives:\n%s", len(listed), len(archives), sums)
	}

	for archive, machine := range archives {
		raw, err := os.ReadFile(filepath.Join(dist, archive))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if got := listed[archive]; got != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS says %s for %s, its SHA-256 is %x", got, archive, sum)
		}
		dir := strings.TrimSuffix(archive, ".tar.gz")
		files := untar(t, raw)
		var fileNames []string
		for name := range files {
			fileNames = append(fileNames, name)
		}
		slices.Sort(fileNames)
		for _, f := range append([]string{"logbook", "README.md"}, shipped...) {
			if _, ok := files[dir+"/"+f]; !ok {
				t.Errorf("%s has no %s/%s; it holds %q", archive, dir, f, fileNames)
			}
		}
		for _, name := range fileNames {
			if strings.HasSuffix(name, ".go") || !strings.HasPrefix(name, dir+"/") {
				t.Errorf("%s holds %s: want only files under %s/, and no Go source", archive, name, dir)
			}
		}
		bin := files[dir+"/logbook"]
		if bin == nil {
			continue
		}
		path := filepath.Join(t.TempDir(), "logbook")
		if err := os.WriteFile(path, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		checkStaticELF(t, archive, path, machine)
		if bytes.Contains(bin, []byte(root)) {
			t.Errorf("%s's binary holds the checkout's path %s: not built with -trimpath", archive, root)
		}
		if machine != hostMachine() {
			continue
		}
		out, err := exec.Command(path, "version", "--json").Output()
		if err != nil {
			t.Fatalf("%s: logbook version --json: %v", archive, err)
		}
		var v struct{ Version string }
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: logbook version --json printed %q: %v", archive, out, err)
		}
		if v.Version != want {
			t.Errorf("%s: logbook version --json says version %q, want %q", archive, v.Version, want)
		}
	}
}

// hostMachine is the ELF machine of the architecture running the tests.
func hostMachine() elf.Machine {
	switch runtime.GOARCH {
	case "amd64":
		return elf.EM_X86_64
	case "arm64":
		return elf.EM_AARCH64
	}
	return elf.EM_NONE
}

// untar returns the regular files of a .tar.gz, by name, failing on any
// entry not owned by root.
func untar(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, want 0:0", h.Name, h.Uid, h.Gid)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if strings.HasSuffix(h.Name, "/logbook") && h.Mode&0o111 == 0 {
			t.Errorf("%s has mode %o, want it executable", h.Name, h.Mode)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
}

// checkStaticELF fails unless path is an ELF executable for machine that
// the kernel runs without a dynamic loader or shared libraries.
func checkStaticELF(t *testing.T, archive, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: the binary is not ELF: %v", archive, err)
		return
	}
	defer f.Close()
	if f.Machine != machine || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		t.Errorf("%s: ELF machine %v, class %v, type %v; want %v, ELFCLASS64, ET_EXEC", archive, f.Machine, f.Class, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: the binary has a %v program header: not static", archive, p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s: the binary needs shared libraries %q (%v)", archive, libs, err)
	}
}
