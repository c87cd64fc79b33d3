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
		{Options{Backends: 1, UDP: -1, TCP: 3}, "-udp must not be negative, got -1"},
		{Options{Backends: 1, UDP: 5, TCP: -1}, "-tcp must not be negative, got -1"},
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
