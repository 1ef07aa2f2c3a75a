// Package e2e holds the end-to-end suite: the whole web process, as cmd/web
// wires it, driven from outside over real sockets, with real Pushpin where
// GRIP is tested, and the benchmarks of the whole realtime path.
package e2e
