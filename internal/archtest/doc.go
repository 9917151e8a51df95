// Package archtest holds tests that guard the layout: the public packages
// import nothing internal and no database driver, and every package has a
// doc comment.
package archtest
