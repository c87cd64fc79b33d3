//go:build linux

package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunOptions: counts out of range are refused with an error naming
// their flag, before any namespace is made, and without the "l4lb:" that
// main puts before every error (it used to print "l4lb: l4lb: ..."). A negative UDP count with TCP
// connections used to divide by zero (a panic after the namespaces were
// built); a negative TCP count silently sent fewer requests than asked.
func TestRunOptions(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Backends: 0}, "-backends must be in [1, 9], got 0"},
		{Options{Backends: 10}, "-backends must be in [1, 9], got 10"},
		// 9 backends and 1 MiB answers are allowed: the next check refuses.
		{Options{Backends: 9, UDP: -1}, "-udp must not be negative, got -1"},
		{Options{Backends: 1, TCPBytes: 1 << 20, PathMTU: 67}, "-path-mtu must be 0 or in [68, 1500], got 67"},
		{Options{Backends: 1, UDP: -1, TCP: 3}, "-udp must not be negative, got -1"},
		{Options{Backends: 1, UDP: 5, TCP: -1}, "-tcp must not be negative, got -1"},
		{Options{Backends: 1, TCPBytes: -1}, "-tcp-bytes must be in [0, 1048576], got -1"},
		{Options{Backends: 1, TCPBytes: 1<<20 + 1}, "-tcp-bytes must be in [0, 1048576], got 1048577"},
		{Options{Backends: 1, PathMTU: 67}, "-path-mtu must be 0 or in [68, 1500], got 67"},
		{Options{Backends: 1, PathMTU: 1501}, "-path-mtu must be 0 or in [68, 1500], got 1501"},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%+v: panic: %v", c.o, r)
				}
			}()
			_, err := run(context.Background(), c.o)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%+v: %v, want an error starting %q", c.o, err, c.want)
			}
		}()
	}
}

// TestParseArgs: flags set the options, and a stray argument is refused
// with an error that names it (the command used to ignore it and run
// with the defaults).
func TestParseArgs(t *testing.T) {
	var out strings.Builder
	o, err := parseArgs([]string{"-backends", "5", "-udp", "7", "-tcp", "2", "-seed", "9", "-tcp-bytes", "3000", "-path-mtu", "1280"}, &out)
	if err != nil {
		t.Fatalf("parseArgs: %v", err)
	}
	if want := (Options{Backends: 5, UDP: 7, TCP: 2, Seed: 9, TCPBytes: 3000, PathMTU: 1280}); o != want {
		t.Errorf("parseArgs = %+v, want %+v", o, want)
	}
	for _, args := range [][]string{{"-tcp", "5", "10"}, {"extra"}} {
		out.Reset()
		_, err := parseArgs(args, &out)
		if err == nil || !strings.Contains(err.Error(), `unexpected argument "`+args[len(args)-1]+`"`) {
			t.Errorf("parseArgs(%q) = %v, want an unexpected-argument error", args, err)
		}
		if !strings.Contains(out.String(), "-backends") {
			t.Errorf("parseArgs(%q) printed %q, want the usage", args, out.String())
		}
	}
	out.Reset()
	if _, err := parseArgs([]string{"-backends", "x"}, &out); err == nil || !strings.Contains(out.String(), "-backends") {
		t.Errorf("bad flag value: %v, printed %q; want an error and the usage", err, out.String())
	}
}
