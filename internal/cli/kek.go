package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/token"
)

// kekEnv holds the key-encryption key itself, as an alternative to
// --key-encryption-key-file (whose own variable, through parseFlags, is
// LOGBOOK_KEY_ENCRYPTION_KEY_FILE).
const kekEnv = "LOGBOOK_KEY_ENCRYPTION_KEY"

// kekFlags is --key-encryption-key-file, on every command that reads or
// writes signing keys.
type kekFlags struct {
	file string
}

func (f *kekFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "key-encryption-key-file", "", "read the key-encryption key (KEK) from this `file`: 32 random bytes in standard base64, as \"logbook keys kek-new\" writes it; "+
		"refused unless only its owner may read it (mode 0600 or 0400). With a KEK, token-signing keys are stored encrypted with it (AES-256-GCM), "+
		"keys still stored in plaintext are encrypted at start (logged), and a start without the KEK the stored keys were encrypted with (none, or another) is refused, changing nothing. "+
		"The variable "+kekEnv+" may hold the key itself instead of a file; give one or the other")
}

// load returns the KEK from --key-encryption-key-file or
// LOGBOOK_KEY_ENCRYPTION_KEY, nil if neither is given.
func (f *kekFlags) load(env Env) (*token.KEK, error) {
	text := env.getenv(kekEnv)
	switch {
	case f.file != "" && text != "":
		return nil, usagef("--key-encryption-key-file and %s are both given; give one", kekEnv)
	case text != "":
		k, err := token.ParseKEK(text)
		if err != nil {
			return nil, usagef("%s: %v", kekEnv, err)
		}
		return k, nil
	case f.file == "":
		return nil, nil
	}
	text, err := readKEKFile(f.file)
	if err != nil {
		return nil, usagef("--key-encryption-key-file: %v", err)
	}
	k, err := token.ParseKEK(text)
	if err != nil {
		return nil, usagef("--key-encryption-key-file: %s: %v", f.file, err)
	}
	return k, nil
}

// readKEKFile reads a KEK file after checking that no one but its owner
// may read or write it.
func readKEKFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s is open to group or others (mode %04o); make it private: chmod 600 %s", path, perm, shellQuote(path))
	}
	b, err := io.ReadAll(io.LimitReader(fh, 1024))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// kekHint adds to a KEK error from the token service what the operator
// is to give; other errors pass unchanged.
func kekHint(err error) error {
	switch {
	case errors.Is(err, token.ErrKEKNeeded):
		return fmt.Errorf("%w; give it with --key-encryption-key-file FILE or %s", err, kekEnv)
	case errors.Is(err, token.ErrKEKWrong):
		return fmt.Errorf("%w; give the key-encryption key the keys were encrypted with", err)
	}
	return err
}

const kekNewUsage = `
Usage: logbook keys kek-new --to FILE [--force]

Makes a key-encryption key (KEK) for --key-encryption-key-file: 32 random
bytes, written in standard base64 (44 characters and a newline) to FILE
with mode 0600, and prints its id (which logs and errors name it by; the
id reveals nothing of the key). An existing FILE is not replaced without
--force.

Give the file to every command that reads or writes signing keys (serve,
token, keys and the other admin commands), or its contents in
LOGBOOK_KEY_ENCRYPTION_KEY. The first start with it encrypts the signing
keys stored in plaintext. Keep the KEK apart from backups of the database:
a backup holds the encrypted keys, and is only as safe as the KEK is
separate. Losing the KEK loses the signing keys (every token must then be
issued anew after deleting them); replacing FILE with --force does that
too once the keys are encrypted with the old one.
`

func keysKEKNew(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "keys kek-new", kekNewUsage)
	var to string
	var force bool
	fs.StringVar(&to, "to", "", "write the key-encryption key to this `file` (mode 0600; required)")
	fs.BoolVar(&force, "force", false, "replace FILE if it exists (signing keys encrypted with the key it held no longer open)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	if to == "" {
		return usagef("--to: a file is required")
	}
	k, err := token.NewKEK()
	if err != nil {
		return err
	}
	text, _ := k.MarshalText()
	text = append(text, '\n')
	if force {
		err = atomicfile.WriteFile(to, text, 0o600)
	} else {
		err = writeNew(to, text)
	}
	if errors.Is(err, os.ErrExist) {
		return usagef("--to: %s exists; give --force to replace it (signing keys encrypted with the key it holds would no longer open)", to)
	}
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Key-encryption key %s written to %s (mode 0600). Keep it apart from backups of the database.\n", k.ID(), to)
	return nil
}

// writeNew creates path with data and mode 0600, failing with
// os.ErrExist if it exists; the data is synced before it returns.
func writeNew(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}
