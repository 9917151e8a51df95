package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/token"
)

const keysUsage = `
Usage: logbook keys list [--json] [flags]
       logbook keys rotate [flags]
       logbook keys kek-new --to FILE [--force]
       logbook keys tree-public [--to FILE]

Signing keys are the server's ES256 keys that sign Events API tokens,
identified by kid. "rotate" makes a new active key: new tokens are signed
with it, and older keys keep verifying the tokens they signed until those
expire or are revoked. Keys are server-wide: the commands need no
account. With --as EMAIL (and --account) they act as that user, who must
be an owner or administrator of the account.

"kek-new" makes a key-encryption key for --key-encryption-key-file, which
keeps signing keys encrypted at rest (see "logbook keys kek-new -h" and
docs/operations.md).

"tree-public" prints the public keys of the tree keys, which sign tree
heads and archive manifests (see "logbook keys tree-public -h").
`

func keysList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "keys list", keysUsage, eitherScope, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.SigningKey, error) {
		return asUserOr(ctx, c, s, s.svc.SigningKeys, s.svc.ServerSigningKeys)
	}, []string{"KID", "CREATED", "ACTIVE"}, func(k admin.SigningKey) []string {
		active := ""
		if k.Active {
			active = "yes"
		}
		return []string{k.ID, when(k.CreatedAt), active}
	})
}

func keysRotate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "keys rotate", keysUsage, eitherScope, true)
	return act(ctx, c, args, func(s *adminCtx) (admin.SigningKey, error) {
		return asUserOr(ctx, c, s, s.svc.RotateKey, s.svc.ServerRotateKey)
	}, func(_ *adminCtx, k admin.SigningKey) error {
		return c.printDone(k, "New active signing key %s; older keys keep verifying their tokens.\n", k.ID)
	})
}

const keysTreePublicUsage = `
Usage: logbook keys tree-public [--to FILE] [--data DIR | --db URL]

Prints the public keys of the tree keys (those that sign tree heads and
archive manifests, old ones included) as a JSON Web Key Set, or writes it
to FILE: what "logbook archive verify --public-key" and any RFC 9162
verifier need. Keep a copy away from the server.
`

func keysTreePublic(ctx context.Context, env Env, args []string) error {
	var f storeFlags
	var kf kekFlags
	var to string
	fs := newFlagSet(env, "keys tree-public", keysTreePublicUsage)
	f.register(fs)
	kf.register(fs)
	fs.StringVar(&to, "to", "", "write the key set to this `FILE` (default: standard output)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	st, signer, err := openTrees(ctx, env, &f, &kf)
	if err != nil {
		return err
	}
	defer st.Close()
	jwks, err := signer.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("tree keys: %w", kekHint(err))
	}
	if _, err := token.ParseJWKS(jwks); err != nil {
		return errors.New("no tree key yet: serve, \"logbook verify --sign\" or \"logbook archive\" makes one")
	}
	jwks = append(jwks, '\n')
	if to == "" {
		_, err = env.Stdout.Write(jwks)
		return err
	}
	return atomicfile.WriteFile(to, jwks, 0o644)
}
