// Package archtest holds tests that guard the layout: each package imports
// only what its row in the layout table of docs/design.md allows (a new
// package is one new row there), production code never depends on a
// test-only package, the public packages import nothing internal, no
// third-party package and no database driver, and every package has a doc
// comment.
package archtest
