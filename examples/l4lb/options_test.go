//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
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
		// IPv6 links carry at least 1280 bytes.
		{Options{Backends: 1, PathMTU: 1279, IPv6: true}, "-path-mtu must be 0 or in [1280, 1500] with -6, got 1279"},
		{Options{Backends: 1, PathMTU: 68, IPv6: true}, "-path-mtu must be 0 or in [1280, 1500] with -6, got 68"},
		{Options{Backends: 1, PathMTU: 1501, IPv6: true}, "-path-mtu must be 0 or in [1280, 1500] with -6, got 1501"},
		{Options{Backends: 3, Drain: 4, IPv6: true}, "-drain must be 0 (none) or a backend, 1 to -backends (3), got 4"},
		// The new flows after a tracked drain take ports 20000 to 32767.
		{Options{Backends: 3, Drain: 2, ConnTrack: true, UDP: 12769}, "-udp must be at most 12768 with -conntrack and -drain (the new flows after the drain take source ports from 20000 up, which must stay below 32768, where the first round's start), got 12769"},
		// The new connections after a drain take ports 10000 to 19999.
		{Options{Backends: 3, Drain: 1, TCP: 10001}, "-tcp must be at most 10000 with -drain (the new connections after the drain take source ports 10000 to 19999, apart from those of the first round and of new UDP flows), got 10001"},
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
// with the defaults). Values out of range are refused as usage errors,
// the error and the usage printed (they used to reach run, which exited
// with status 1 and no usage).
func TestParseArgs(t *testing.T) {
	var out strings.Builder
	o, err := parseArgs([]string{"-backends", "5", "-udp", "7", "-tcp", "2", "-seed", "9", "-tcp-bytes", "3000", "-path-mtu", "1280", "-drain", "5", "-conntrack", "-6"}, &out)
	if err != nil {
		t.Fatalf("parseArgs: %v", err)
	}
	if want := (Options{Backends: 5, UDP: 7, TCP: 2, Seed: 9, TCPBytes: 3000, PathMTU: 1280, Drain: 5, ConnTrack: true, IPv6: true}); o != want {
		t.Errorf("parseArgs = %+v, want %+v", o, want)
	}
	// The bound on -udp holds with -conntrack and -drain together only,
	// and takes 12768 itself; the bound on -tcp holds with -drain only,
	// and takes 10000 itself.
	for _, args := range [][]string{
		{"-conntrack", "-drain", "2", "-udp", "12768"},
		{"-conntrack", "-udp", "20000"},
		{"-drain", "2", "-udp", "20000"},
		{"-drain", "2", "-tcp", "10000"},
		{"-conntrack", "-tcp", "20000"},
	} {
		if _, err := parseArgs(args, &out); err != nil {
			t.Errorf("parseArgs(%q): %v, want it accepted", args, err)
		}
	}
	// IPv4 is the default.
	if o, err := parseArgs(nil, &out); err != nil || o.IPv6 {
		t.Errorf("parseArgs() = %+v, %v; want IPv4", o, err)
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
	// Values out of range are usage errors, with the flag and its range.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-backends", "10"}, "-backends must be in [1, 9], got 10"},
		{[]string{"-backends", "0"}, "-backends must be in [1, 9], got 0"},
		{[]string{"-udp", "-1"}, "-udp must not be negative, got -1"},
		{[]string{"-tcp", "-2"}, "-tcp must not be negative, got -2"},
		{[]string{"-tcp-bytes", "-1"}, "-tcp-bytes must be in [0, 1048576], got -1"},
		{[]string{"-path-mtu", "1501"}, "-path-mtu must be 0 or in [68, 1500], got 1501"},
		{[]string{"-drain", "4"}, "-drain must be 0 (none) or a backend, 1 to -backends (3), got 4"},
		{[]string{"-drain", "-1"}, "-drain must be 0 (none) or a backend, 1 to -backends (3), got -1"},
		{[]string{"-backends", "1", "-drain", "1"}, "-drain needs at least 2 backends (-backends), got 1"},
		{[]string{"-6", "-path-mtu", "1000"}, "-path-mtu must be 0 or in [1280, 1500] with -6, got 1000"},
		{[]string{"-path-mtu", "1000", "-6=true"}, "-path-mtu must be 0 or in [1280, 1500] with -6, got 1000"},
	} {
		out.Reset()
		_, err := parseArgs(c.args, &out)
		if err == nil || err.Error() != c.want {
			t.Errorf("parseArgs(%q) = %v, want %q", c.args, err, c.want)
		}
		if !strings.Contains(out.String(), "l4lb: "+c.want+"\n") || !strings.Contains(out.String(), "-backends") {
			t.Errorf("parseArgs(%q) printed %q, want the error and the usage", c.args, out.String())
		}
	}
	out.Reset()
	for _, args := range [][]string{{"-backends", "x"}, {"-6=x"}} {
		out.Reset()
		if _, err := parseArgs(args, &out); err == nil || !strings.Contains(out.String(), "-backends") {
			t.Errorf("bad flag value %q: %v, printed %q; want an error and the usage", args, err, out.String())
		}
	}
}

// TestNeedsRoot: permission errors, from a system call or in an ip
// command's message, say that the example needs root; others, the
// verifier's refusal of a program among them, pass unchanged.
func TestNeedsRoot(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("load: %w", syscall.EPERM),
		fmt.Errorf("open: %w", os.ErrPermission),
		errors.New("ip netns add l4lb1c: exit status 1: mount --make-shared /run/netns failed: Operation not permitted"),
	} {
		got := needsRoot(err)
		if !strings.HasPrefix(got.Error(), "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN") || !errors.Is(got, err) {
			t.Errorf("needsRoot(%v) = %v, want it to say root is needed and wrap the error", err, got)
		}
	}
	for _, other := range []error{
		errors.New("ip link add: exit status 2: File exists"),
		// A program the verifier refuses: EACCES, but not for lack of
		// privileges.
		fmt.Errorf("load decap program: %w", &ebpf.VerifierError{Cause: syscall.EACCES, Log: []string{"invalid access to packet"}}),
	} {
		if got := needsRoot(other); got != other {
			t.Errorf("needsRoot(%v) = %v, want it unchanged", other, got)
		}
	}
	if needsRoot(nil) != nil {
		t.Errorf("needsRoot(nil) is not nil")
	}
}

// TestUsage: -h describes the example, says what it needs and suggests a
// command line, before the flags.
func TestUsage(t *testing.T) {
	var out strings.Builder
	if _, err := parseArgs([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: l4lb [flags]", "needs root", "iproute2", "sysctl", "l4lb -path-mtu 1280 -tcp-bytes 20000",
		"l4lb -6 -path-mtu 1280 -tcp-bytes 20000", "l4lb -conntrack -drain 2", "-backends", "-6\trun over IPv6", "-conntrack\n", "track connections in the balancer"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h printed no %q:\n%s", want, out.String())
		}
	}
}

// TestWarning: a path MTU below 1500 warns when no TCP answer can exceed
// it: without TCP, or when the longest answer's packet (its bytes, at
// least the name "10.200.19.2" and a newline, with 80 bytes of headers
// at most; over IPv6 the name "fd00:200:19::2" and 100 bytes) fits.
func TestWarning(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{TCP: 1}, ""},
		{Options{TCP: 1, PathMTU: 1500}, ""},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 20000}, ""},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 1201}, ""},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 1200}, "-path-mtu 1280 with -tcp-bytes 1200: no TCP answer exceeds"},
		{Options{TCP: 1, PathMTU: 1280}, "-path-mtu 1280 with -tcp-bytes 0: no TCP answer exceeds"},
		{Options{TCP: 1, PathMTU: 92}, "-path-mtu 92 with -tcp-bytes 0"},
		{Options{TCP: 1, PathMTU: 91}, ""},
		{Options{UDP: 5, PathMTU: 1280, TCPBytes: 20000}, "-path-mtu 1280 with -tcp 0: no TCP answer"},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 20000, IPv6: true}, ""},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 1181, IPv6: true}, ""},
		{Options{TCP: 1, PathMTU: 1280, TCPBytes: 1180, IPv6: true}, "-path-mtu 1280 with -tcp-bytes 1180: no TCP answer exceeds"},
		{Options{TCP: 1, PathMTU: 1500, IPv6: true}, ""},
		{Options{UDP: 5, PathMTU: 1280, IPv6: true}, "-path-mtu 1280 with -tcp 0: no TCP answer"},
	} {
		got := c.o.warning()
		if c.want == "" && got != "" || !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: warning %q, want %q", c.o, got, c.want)
		}
	}
}
