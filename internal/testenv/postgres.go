package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresSchema creates an empty schema logbook_test_<random> in the
// database of PostgresURL (skipping t, or failing it under CI, when there
// is none or the schema cannot be made), drops it with everything in it
// when t ends, and returns a URL whose search_path selects it. Tests that
// share one database this way do not see each other's tables.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	name := testName()
	if err := pgExec(base, `CREATE SCHEMA `+name); err != nil {
		Unavailable(t, "PostgreSQL: create schema: %v (LOGBOOK_TEST_POSTGRES_URL names the database)", err)
	}
	t.Cleanup(func() {
		if err := pgExec(base, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + name
}

// PostgresDatabase creates an empty database logbook_test_<random> on the
// server of PostgresURL (skipping t, or failing it under CI, when there is
// none or its role lacks CREATEDB), drops it when t ends, even with
// connections still open, and returns its URL: PostgresURL's with the
// database name replaced. For what works on whole databases, such as
// pg_dump and pg_restore.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("LOGBOOK_TEST_POSTGRES_URL: %v", err)
	}
	name := testName()
	if err := pgExec(base, `CREATE DATABASE `+name); err != nil {
		Unavailable(t, "PostgreSQL: create database: %v (the role of LOGBOOK_TEST_POSTGRES_URL needs CREATEDB)", err)
	}
	t.Cleanup(func() {
		if err := pgExec(base, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// testName returns logbook_test_ and 12 random hex digits: a name no other
// test picks, valid unquoted as a schema or database name.
func testName() string {
	var b [6]byte
	rand.Read(b[:])
	return "logbook_test_" + hex.EncodeToString(b[:])
}

// pgExec runs one statement on a connection of its own, so that it works
// in a cleanup, after the test's context is cancelled. The statements it
// runs are quick; a minute bounds a server that stopped answering.
func pgExec(url, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
