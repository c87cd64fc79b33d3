//go:build linux

package main

import (
	"errors"
	"flag"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseArgs feeds arbitrary command lines (the fuzzer's string split
// at newlines) to parseArgs. It must not panic; every error, help
// included, has been written to stderr with the usage (main prints
// nothing more before exiting); accepted options print nothing and parse
// back to themselves from the command line that spells them out.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"",
		"-backends\n5\n-udp\n7\n-tcp\n2\n-seed\n9\n-tcp-bytes\n3000\n-path-mtu\n1280",
		"-tcp\n5\n10",
		"-backends=x",
		"-seed=0xffffffffffffffff",
		"-udp=-1\n--\nextra",
		"-h",
		"-nosuchflag",
		"-backends\n2\n-drain\n2",
		"-drain\n4",
		"-6\n-path-mtu\n1280",
		"-6\n-path-mtu\n1279",
		"-6=false\n-path-mtu\n68",
		"-conntrack\n-drain\n2\n-udp\n12768",
		"-conntrack\n-drain\n2\n-udp\n12769",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\n")
		}
		var out strings.Builder
		o, err := parseArgs(args, &out)
		if err != nil {
			if !strings.Contains(out.String(), "-backends") {
				t.Fatalf("%q: error %v, but stderr holds no usage: %q", args, err, out.String())
			}
			if !errors.Is(err, flag.ErrHelp) && !strings.Contains(out.String(), err.Error()) {
				t.Fatalf("%q: error %q is not on stderr: %q", args, err, out.String())
			}
			return
		}
		if out.Len() > 0 {
			t.Fatalf("%q accepted, yet stderr holds %q", args, out.String())
		}
		again := []string{
			"-backends", strconv.Itoa(o.Backends),
			"-udp", strconv.Itoa(o.UDP),
			"-tcp", strconv.Itoa(o.TCP),
			"-seed", strconv.FormatUint(o.Seed, 10),
			"-tcp-bytes", strconv.Itoa(o.TCPBytes),
			"-path-mtu", strconv.Itoa(o.PathMTU),
			"-drain", strconv.Itoa(o.Drain),
			"-conntrack=" + strconv.FormatBool(o.ConnTrack),
			"-6=" + strconv.FormatBool(o.IPv6),
		}
		if back, err := parseArgs(again, &out); err != nil || back != o {
			t.Fatalf("%q gave %+v, but its options spelled out as %q give %+v, %v", args, o, again, back, err)
		}
	})
}
