// Package testdeadline bounds a test's waits by the test binary's own
// deadline (go test -timeout) rather than by a guess at the machine's speed.
//
// A wait in a test guards against a hang; it does not measure speed. On a
// loaded two-core machine with a cold build cache, a call that takes 50 ms
// when the machine is idle can take seconds, and a guard of "a few seconds"
// then fails a test that is right. The bounds given here end shortly before
// go test would panic, so a real hang still fails with the test's own
// message and its cleanups run, while slowness alone never fails a test.
//
// Tests that check that something happens promptly (a process killed, an
// answer that does not wait for a sleeping child) compare against what the
// slow path would take, with a wide gap, and use these bounds only for the
// wait itself.
package testdeadline
