// Package deploy holds what installing Logbook on a server uses besides the
// binary: the systemd unit and sysusers.d file in systemd/. It has no code;
// its tests check those files with systemd-analyze, check that the unit
// keeps its hardening, run the server under the unit's
// MemoryDenyWriteExecute restriction, and check that "make release" builds
// what docs/install.md says it does.
package deploy
