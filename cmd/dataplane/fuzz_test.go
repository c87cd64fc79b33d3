package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseFlags feeds arbitrary command lines (the fuzzer's string split
// at newlines) to parseFlags. It must not panic; an error is flag.ErrHelp
// or a *usageError whose printed field tells the truth about stderr (run
// prints the others itself, so a wrong printed prints an error twice or
// not at all); accepted options are within the ranges the flags' usage
// states, name only existing paths, and parse back to themselves from the
// command line that spells them out.
func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{
		"",
		"-amplify\n3\n-top\n0\n-seed\n0x10\n-kernel\noff\n-quiet",
		"-pcap\n.\n-pcap=.",
		"-pcap\n",
		"-pcap",
		"-kernel=maybe",
		"-amplify\n0",
		"-top=-1",
		"-top\n99999999999999999999",
		"-seed=-1",
		"-quiet=false\nstray",
		"--top=5\n--\n-quiet",
		"-h",
		"-nosuchflag",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\n")
		}
		var stderr bytes.Buffer
		o, err := parseFlags(args, &stderr)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if stderr.Len() == 0 {
					t.Fatalf("%q: help without usage on stderr", args)
				}
				return
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: error %v (%T) is neither flag.ErrHelp nor a *usageError", args, err, err)
			}
			if ue.printed != (stderr.Len() > 0) {
				t.Fatalf("%q: error %q says printed=%v, but stderr holds %q", args, err, ue.printed, stderr.String())
			}
			return
		}
		if stderr.Len() > 0 {
			t.Fatalf("%q accepted, yet stderr holds %q", args, stderr.String())
		}
		if o.amplify < 1 || o.top < 0 {
			t.Fatalf("%q accepted with -amplify %d and -top %d", args, o.amplify, o.top)
		}
		if o.kernel != KernelAuto && o.kernel != KernelOn && o.kernel != KernelOff {
			t.Fatalf("%q accepted with -kernel %q", args, o.kernel)
		}
		for _, p := range o.pcaps {
			if _, err := os.Stat(p); p == "" || err != nil {
				t.Fatalf("%q accepted with -pcap %q (%v)", args, p, err)
			}
		}
		again := []string{
			"-amplify", strconv.Itoa(o.amplify),
			"-top", strconv.Itoa(o.top),
			"-seed", strconv.FormatUint(o.seed, 10),
			"-kernel", string(o.kernel),
			"-quiet=" + strconv.FormatBool(o.quiet),
		}
		for _, p := range o.pcaps {
			again = append(again, "-pcap", p)
		}
		back, err := parseFlags(again, &stderr)
		if err != nil {
			t.Fatalf("%q accepted, but its options spelled out as %q: %v", args, again, err)
		}
		if back.amplify != o.amplify || back.top != o.top || back.seed != o.seed || back.kernel != o.kernel ||
			back.quiet != o.quiet || !slices.Equal(back.pcaps, o.pcaps) {
			t.Fatalf("%q gave %+v, but its options spelled out as %q give %+v", args, o, again, back)
		}
	})
}
