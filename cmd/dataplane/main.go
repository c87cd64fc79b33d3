// Command dataplane replays captures (or the embedded default trace)
// through every package of the module, Go and kernel, and prints what each
// saw and how fast.
//
// Usage:
//
//	dataplane [-pcap FILE|DIR]... [-amplify N] [-top N] [-seed S] [-kernel auto|on|off] [-quiet]
//
// Without -pcap it replays the embedded default trace (see
// internal/defaulttrace). A directory stands for every capture under it.
// Packets of link types other than Ethernet are converted (raw IP, Linux
// cooked, loopback) or skipped (counted on stderr). -amplify N replays the
// input N times with disjoint addresses (capture.Amplify), N times the
// flows. The command holds every packet in memory and refuses to need
// more than 4 GiB at its peak (about four times the frames and their
// records): reading stops at the packet that would pass that, and a
// larger -amplify is refused.
//
// Exit status: 0 on success; 2 for bad flags or a path that does not
// exist; 1 when a capture is damaged or reading stops at the memory limit
// (the packets before are still replayed), when -amplify would pass it,
// when no packet is left to replay, or when a section fails (the other
// sections still run).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/defaulttrace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// pathList is a repeatable string flag.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }
func (p *pathList) Set(s string) error {
	if s == "" {
		return errors.New("empty path")
	}
	*p = append(*p, s)
	return nil
}

// options are the parsed flags.
type options struct {
	pcaps   []string
	amplify int
	top     int
	seed    uint64
	kernel  KernelMode
	quiet   bool
}

// usageError is a bad command line. printed tells whether the flag
// package has already printed it.
type usageError struct {
	err     error
	printed bool
}

func (e *usageError) Error() string { return e.err.Error() }

// parseFlags parses args; an error is a *usageError, or flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	o, err := parseFlagsInner(args, stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		var ue *usageError
		if !errors.As(err, &ue) {
			err = &usageError{err: err}
		}
	}
	return o, err
}

func parseFlagsInner(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("dataplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pcaps pathList
	var kernel string
	fs.Var(&pcaps, "pcap", "read captures from `file|dir`: pcap or pcapng, gzip or not; a directory means every capture in it; repeatable")
	fs.IntVar(&o.amplify, "amplify", 1, "replay the input `N` times with disjoint addresses (N times the flows)")
	fs.IntVar(&o.top, "top", 10, "rows of the top-`N` tables")
	fs.Uint64Var(&o.seed, "seed", 1, "seed `S` of every hash and random choice")
	fs.StringVar(&kernel, "kernel", "auto", "reference kernels, `mode` auto (load when the system allows), on (required: no BPF is an error) or off (Go only)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress or notes on stderr (warnings and errors still go there)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dataplane [-pcap FILE|DIR]... [-amplify N] [-top N] [-seed S] [-kernel auto|on|off] [-quiet]\n\n")
		fmt.Fprintf(fs.Output(), "Replays captures (default: the embedded generated trace) through every package, Go and\n"+
			"reference kernel, and prints what each saw and how fast. The kernels need Linux and BPF\n"+
			"privileges (root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN); with them a run takes about\n"+
			"half a minute, most of it waiting on the kernels' test runs; -kernel off takes a few seconds.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err: err, printed: true}
	}
	o.pcaps = pcaps
	o.kernel = KernelMode(kernel)
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q (captures are given with -pcap)", fs.Arg(0))
	case o.amplify < 1:
		return o, fmt.Errorf("-amplify must be at least 1, got %d", o.amplify)
	case o.top < 0:
		return o, fmt.Errorf("-top must be at least 0, got %d", o.top)
	case o.kernel != KernelAuto && o.kernel != KernelOn && o.kernel != KernelOff:
		return o, fmt.Errorf("-kernel must be auto, on or off, got %q", kernel)
	}
	for _, p := range o.pcaps {
		if _, err := os.Stat(p); err != nil {
			return o, fmt.Errorf("-pcap %s: %w", p, errors.Unwrap(err))
		}
	}
	return o, nil
}

// convertedLinks are the link types whose packets capture.Packet.Ethernet
// converts, in increasing order.
var convertedLinks = []capture.LinkType{
	capture.LinkNull, capture.LinkEthernet, capture.LinkDLTRaw, capture.LinkRaw,
	capture.LinkLinuxSLL, capture.LinkIPv4, capture.LinkIPv6, capture.LinkLinuxSLL2,
}

// memoryLimit bounds the memory the command lets its packets need at its
// peak, estimated by peakMemory. Reading stops with an error at the packet
// that would pass it, and an -amplify that would is refused, rather than
// the command running out of memory (a var for the tests).
var memoryLimit uint64 = 4 << 30

// peakFactor is the command's peak memory over its packets' frames and
// records, as measured (peak resident size): 2.6 on the default trace at
// -amplify 20 and 100, 3.7 on the shared traces' gnutella capture at
// -amplify 300. The sections' own state and the collector's headroom are
// the rest.
const peakFactor = 4

// perPacket is what every packet costs the command besides its frame,
// whatever its size: its capture.Packet, its Run.Frames slice, its
// Run.Parsed result and its Run.Keys key.
const perPacket = uint64(unsafe.Sizeof(capture.Packet{}) + unsafe.Sizeof([]byte(nil)) + unsafe.Sizeof(Parsed{}) + unsafe.Sizeof(flow.Key{}))

// peakMemory estimates the command's peak memory for copies times n
// packets of the given frame bytes, saturating at math.MaxUint64.
func peakMemory(n, frames, copies uint64) uint64 {
	hi1, held := bits.Mul64(n, perPacket)
	held, carry := bits.Add64(held, frames, 0)
	hi2, total := bits.Mul64(held, copies)
	hi3, total := bits.Mul64(total, peakFactor)
	if hi1|carry|hi2|hi3 != 0 {
		return math.MaxUint64
	}
	return total
}

// errMemory is the error of reading past memoryLimit.
var errMemory = errors.New("the input would need more memory than allowed")

// readCapture appends the packets of the capture at path to pkts, as
// capture.ReadFile reads them, while all of pkts fit memoryLimit (see
// peakMemory); *frames is the bytes of pkts' frames, kept up to date.
func readCapture(path string, pkts []capture.Packet, frames *uint64) ([]capture.Packet, error) {
	r, err := capture.Open(path)
	if err != nil {
		return pkts, err
	}
	defer r.Close()
	for n := 1; ; n++ {
		p, err := r.Next()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		if need := peakMemory(uint64(len(pkts)+1), *frames+uint64(len(p.Data)), 1); need > memoryLimit {
			return pkts, fmt.Errorf("%s: stopped reading at its packet %d: %w: about %d MiB, more than the %d MiB allowed", path, n, errMemory, need>>20, memoryLimit>>20)
		}
		*frames += uint64(len(p.Data))
		pkts = append(pkts, p)
	}
}

// run is the command: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if ue, ok := err.(*usageError); !ok || !ue.printed {
			fmt.Fprintf(stderr, "dataplane: %v\nrun 'dataplane -h' for usage\n", err)
		}
		return 2
	}
	status := 0
	note := func(format string, a ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, "dataplane: "+format+"\n", a...)
		}
	}

	// Input.
	var pkts []capture.Packet
	trace := defaulttrace.Name
	if len(o.pcaps) == 0 {
		pkts, err = defaulttrace.Packets()
		if err != nil {
			fmt.Fprintf(stderr, "dataplane: default trace: %v\n", err)
			return 1
		}
	} else {
		var files []string
		for _, p := range o.pcaps {
			if st, _ := os.Stat(p); st != nil && st.IsDir() {
				fs, err := capture.Files(p)
				if err != nil {
					fmt.Fprintf(stderr, "dataplane: %v\n", err)
					status = 1
				}
				if len(fs) == 0 && err == nil {
					fmt.Fprintf(stderr, "dataplane: no capture (.pcap, .pcapng, .cap, optionally .gz) under %s\n", p)
					status = 1
				}
				files = append(files, fs...)
			} else {
				files = append(files, p)
			}
		}
		began, last := time.Now(), time.Now()
		var frames uint64 // bytes of the frames read
		for i, f := range files {
			if now := time.Now(); now.Sub(began) > time.Second && now.Sub(last) > time.Second {
				note("reading %d/%d: %s", i+1, len(files), f) // progress, once a second
				last = now
			}
			before := len(pkts)
			pkts, err = readCapture(f, pkts, &frames)
			if err != nil {
				if got := len(pkts) - before; got > 0 {
					fmt.Fprintf(stderr, "dataplane: %v (the %d packets before it are replayed)\n", err, got)
				} else {
					fmt.Fprintf(stderr, "dataplane: %v\n", err)
				}
				status = 1
				if errors.Is(err, errMemory) {
					break // and no other file
				}
			}
		}
		trace = strings.Join(files, ", ")
		if len(files) > 3 {
			trace = fmt.Sprintf("%d captures from %s", len(files), strings.Join(o.pcaps, ", "))
		}
	}

	// Ethernet frames.
	eth := pkts[:0]
	skipped := map[capture.LinkType]int{}
	for _, p := range pkts {
		f, ok := p.Ethernet(nil)
		if !ok {
			skipped[p.Link]++
			continue
		}
		p.Data, p.Link = f, capture.LinkEthernet
		eth = append(eth, p)
	}
	for _, l := range slices.Sorted(maps.Keys(skipped)) { // one order on every run
		why := "too short for their link-layer header, or not IPv4 or IPv6"
		if !slices.Contains(convertedLinks, l) {
			names := make([]string, len(convertedLinks))
			for i, c := range convertedLinks {
				names[i] = c.String()
			}
			why = "that link type is not converted to Ethernet (converted: " + strings.Join(names, ", ") + ")"
		}
		fmt.Fprintf(stderr, "dataplane: %d packets of link type %v skipped: %s\n", skipped[l], l, why)
	}
	pkts = eth
	if len(pkts) == 0 {
		fmt.Fprintf(stderr, "dataplane: no packet to replay\n")
		return 1
	}
	if o.amplify > 1 {
		var frames uint64
		for _, p := range pkts {
			frames += uint64(len(p.Data))
		}
		if need := peakMemory(uint64(len(pkts)), frames, uint64(o.amplify)); need > memoryLimit {
			fmt.Fprintf(stderr, "dataplane: -amplify %d would need about %d MiB of memory, more than the %d MiB allowed\n", o.amplify, need>>20, memoryLimit>>20)
			return 1
		}
		amp, err := capture.Amplify(pkts, o.amplify)
		if err != nil {
			fmt.Fprintf(stderr, "dataplane: %v\n", err)
			return 1
		}
		pkts = amp
		trace = fmt.Sprintf("%s, amplified %d times", trace, o.amplify)
	}

	r := &Run{
		Trace:   trace,
		Packets: pkts,
		Frames:  make([][]byte, len(pkts)),
		Parsed:  make([]Parsed, len(pkts)),
		Top:     o.top,
		Seed:    o.seed,
		Kernel:  o.kernel,
		Quiet:   o.quiet,
		out:     stdout,
		errOut:  stderr,
	}
	var bytes int
	for i := range pkts {
		r.Frames[i] = pkts[i].Data
		r.Parsed[i].Info, r.Parsed[i].Err = flow.Parse(pkts[i].Data)
		bytes += len(pkts[i].Data)
		if i%65536 == 0 {
			r.Progress("parsing", i, len(pkts))
		}
	}
	fmt.Fprintf(stdout, "dataplane: %d packets, %d bytes as Ethernet frames: %s\n", len(pkts), bytes, trace)
	for _, s := range sorted() {
		fmt.Fprintf(stdout, "\n== %s ==\n", s.Name)
		start := time.Now()
		if err := s.Run(r); err != nil {
			fmt.Fprintf(stderr, "dataplane: section %s: %v\n", s.Name, err)
			fmt.Fprintf(stdout, "(section %s failed: %v)\n", s.Name, err)
			status = 1
		}
		note("section %s took %v", s.Name, time.Since(start).Round(time.Millisecond))
	}
	return status
}
