// Package bpfload holds the steps that every kernel loader of this module
// takes: setting the load-time constants of a collection, loading it,
// running its program on test frames, and reading its array maps and
// per-CPU statistics back.
package bpfload

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"

	"github.com/cilium/ebpf/rlimit"
	"github.com/dataplane-go/dataplane/flow"
)

// SetVars sets the `volatile const` globals of spec named in vars. kernel
// names the kernel in errors ("bloom", "cms", ...). A name the collection
// does not have is an error, not a panic.
func SetVars(spec *ebpf.CollectionSpec, kernel string, vars map[string]any) error {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names) // the first error is the same on every run
	for _, name := range names {
		vs, ok := spec.Variables[name]
		if !ok || vs == nil {
			return fmt.Errorf("%s kernel: no variable %q in the collection spec, which must be the %s kernel's (from its Spec)", kernel, name, kernel)
		}
		if err := vs.Set(vars[name]); err != nil {
			return fmt.Errorf("%s kernel: set %s: %w", kernel, name, err)
		}
	}
	return nil
}

// Load loads spec into objs (a bpf2go objects struct), lifting the memlock
// limit first on kernels that still charge BPF memory to it. The error
// matches [ebpf.ErrNotSupported] where BPF is unavailable, and wraps the
// [ebpf.VerifierError] (print it with %+v for the whole log) when the
// verifier rejects a program.
//
// When the kernel refuses the maps' size (ENOMEM or E2BIG, but not from
// a program's load, whose E2BIG is the verifier's "program too large"),
// the error says how much they asked for, so that the caller can tell
// sizes too large for the machine from other failures. When it refuses
// the caller (the error matches [os.ErrPermission] and is not the
// verifier's), the error says which privileges a load needs: the kernel's
// own answer, and the hint cilium/ebpf adds to it, are about memlock
// limits, which Load has already lifted.
//
// On a kernel built without BTF of its own, Load loads the collection
// with its functions static (see [ForKernel]).
func Load(spec *ebpf.CollectionSpec, kernel string, objs any) error {
	return load(spec, kernel, objs, nil)
}

func load(spec *ebpf.CollectionSpec, kernel string, objs any, opts *ebpf.CollectionOptions) error {
	_ = rlimit.RemoveMemlock()
	if err := ForKernel(spec).LoadAndAssign(objs, opts); err != nil {
		if isMapSizeError(err) {
			return fmt.Errorf("load %s kernel: its maps ask for %s: %w", kernel, mapBytesText(spec), err)
		}
		return fmt.Errorf("load %s kernel: %w", kernel, explainPermission(err))
	}
	return nil
}

// isMapSizeError reports whether err, from loading a collection, is the
// kernel's refusal of its maps' size: ENOMEM or E2BIG, but not from a
// program's load or from BTF's (cilium/ebpf reports both as a
// [ebpf.VerifierError]), where E2BIG is the verifier's "BPF program is
// too large" (its complexity limit) or too many instructions, and has
// nothing to do with the maps.
func isMapSizeError(err error) bool {
	var ve *ebpf.VerifierError
	return (errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.E2BIG)) && !errors.As(err, &ve)
}

// Reprefix returns err, an error of an algorithm package whose message
// starts with pkg ("bloom: "), with prefix ("bloom kernel: ") in place of
// pkg, so that a loader's message reads "bloom kernel: bits must be ..."
// rather than "bloom kernel: bloom: bits must be ...". The result wraps
// err for errors.Is and errors.As.
func Reprefix(err error, pkg, prefix string) error {
	return reprefixed{err: err, msg: prefix + strings.TrimPrefix(err.Error(), pkg)}
}

type reprefixed struct {
	err error
	msg string
}

func (e reprefixed) Error() string { return e.msg }
func (e reprefixed) Unwrap() error { return e.err }

// Privileges names what loading, test-running and attaching a kernel need.
const Privileges = "root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"

// explainPermission names the privileges BPF needs before err if the
// kernel refused the caller: err matches os.ErrPermission (EPERM or
// EACCES) and is not a verifier rejection, which the kernel reports as
// EACCES too.
func explainPermission(err error) error {
	var ve *ebpf.VerifierError
	if errors.Is(err, os.ErrPermission) && !errors.As(err, &ve) {
		return fmt.Errorf("not permitted (BPF needs %s): %w", Privileges, err)
	}
	return err
}

// mapBytesText describes the memory the maps of spec ask for: the values
// of every entry, once per possible CPU for per-CPU maps, and the data
// area of ring buffers, whose MaxEntries is its size in bytes (keys and
// the kernel's own overhead left out).
func mapBytesText(spec *ebpf.CollectionSpec) string {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		cpus = 1
	}
	var total float64
	for _, m := range spec.Maps {
		// In 64 bits: a value size near 2^32, which the kernel refuses
		// with E2BIG, must not round up to 0.
		b := float64(m.MaxEntries) * float64((uint64(m.ValueSize)+7)&^7)
		switch m.Type {
		case ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash:
			b *= float64(cpus)
		case ebpf.RingBuf, ebpf.UserRingbuf:
			b = float64(m.MaxEntries)
		}
		total += b
	}
	const mib = 1 << 20
	switch {
	case total >= 1<<30:
		return fmt.Sprintf("%.1f GiB of values (%d possible CPUs)", total/(1<<30), cpus)
	case total >= mib:
		return fmt.Sprintf("%.1f MiB of values (%d possible CPUs)", total/mib, cpus)
	}
	return fmt.Sprintf("%.0f KiB of values (%d possible CPUs)", total/1024, cpus)
}

// MaxOff is DP_MAX_OFF (parsing.h): the largest frame offset at which a
// kernel reads a field, since the verifier bounds direct packet access
// below 64 KiB. The Go models of the kernels read nothing past it either.
// dp_pull, through which the parser and maglev's ICMP quote read, stops
// lower, at DP_PULL_MASK (2^15 - 1): no frame those reads apply to puts a
// field past about 16.5 KB (see parsing.h), so a model bounded by MaxOff
// there agrees with it all the same.
const MaxOff = 0xff00

// MinFrame is the shortest frame Run and Bench accept: an Ethernet header.
const MinFrame = 14

// MaxFrame returns the longest frame Run and Bench accept: what
// BPF_PROG_TEST_RUN gives an XDP program as one linear buffer, a page less
// the XDP headroom (256 bytes) and struct skb_shared_info (320 bytes on
// 64-bit kernels) rounded up to the kernel's cache line (SKB_DATA_ALIGN),
// so 3520 bytes with 4 KiB pages and 64-byte lines (x86-64, arm64) but
// 3328 on s390x, whose lines are 256 bytes. Newer kernels accept
// longer test frames but put the excess in fragments that the program
// never sees (it would count and hash the first MaxFrame bytes as if they
// were the frame), and refuse longer ones still with a bare "cannot
// allocate memory"; older kernels refuse them all.
func MaxFrame() int {
	const sharedInfo = 320
	line := cacheLine()
	return os.Getpagesize() - 256 - (sharedInfo+line-1)/line*line
}

// cacheLine is the kernel's SMP_CACHE_BYTES (L1_CACHE_BYTES) for the
// architecture this binary runs on, or the largest that architecture's
// kernels are built with where it varies: 256 on s390x, 128 on 64-bit
// POWER and on MIPS (Cavium Octeon's lines: on other MIPS kernels, with
// 32 or 64, MaxFrame is then 64 bytes short of what a test run takes,
// where with 64 it would be 64 bytes over on Octeon, and such frames
// would lose their tail), 64 on the others this module is used on.
func cacheLine() int {
	switch runtime.GOARCH {
	case "s390x":
		return 256
	case "ppc64", "ppc64le", "mips", "mipsle", "mips64", "mips64le":
		return 128
	}
	return 64
}

// Run runs prog once on frame with BPF_PROG_TEST_RUN and returns its
// verdict. kernel names the kernel in errors; a frame shorter than
// MinFrame or longer than [MaxFrame] is an error naming its length and the
// bound (the kernel's bare "invalid argument" otherwise, or a run on the
// frame's first MaxFrame bytes).
func Run(prog *ebpf.Program, kernel string, frame []byte) (uint32, error) {
	if err := checkFrame(kernel, frame); err != nil {
		return 0, err
	}
	v, err := prog.Run(&ebpf.RunOptions{Data: frame, Repeat: 1})
	if err != nil {
		return 0, fmt.Errorf("%s kernel: test run on a %d-byte frame: %w", kernel, len(frame), err)
	}
	return v, nil
}

// Bench runs prog repeat times on frame with BPF_PROG_TEST_RUN and
// returns the kernel's mean time per run. Frames are as for [Run]; a
// repeat below 0 or above 2^32-1 (the kernel's count is 32 bits) is an
// error naming it, and a repeat of 0 runs prog once, as 1 does (the
// kernel's rule).
func Bench(prog *ebpf.Program, kernel string, frame []byte, repeat int) (time.Duration, error) {
	if err := checkFrame(kernel, frame); err != nil {
		return 0, err
	}
	if repeat < 0 {
		return 0, fmt.Errorf("%s kernel: Bench repeat must not be negative, got %d", kernel, repeat)
	}
	if uint64(repeat) > math.MaxUint32 { // the kernel's count is 32 bits
		return 0, fmt.Errorf("%s kernel: Bench repeat must be at most %d, got %d", kernel, uint32(math.MaxUint32), repeat)
	}
	_, d, err := prog.Benchmark(frame, repeat, nil)
	if err != nil {
		return 0, fmt.Errorf("%s kernel: benchmark on a %d-byte frame: %w", kernel, len(frame), err)
	}
	return d, nil
}

func checkFrame(kernel string, frame []byte) error {
	if len(frame) < MinFrame {
		return fmt.Errorf("%s kernel: test run frames must be at least %d bytes (an Ethernet header), got %d", kernel, MinFrame, len(frame))
	}
	if n := MaxFrame(); len(frame) > n {
		return fmt.Errorf("%s kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", kernel, n, len(frame))
	}
	return nil
}

// FlowKey decodes a struct flow_key (flow.h) at the start of b: 40 bytes
// of canonical key, zero padded, then the key length. It refuses a length
// other than 13 or 37 (and a b shorter than 41 bytes) before slicing, and
// padding that is not zero (the kernels' parser zeroes the key first), as
// [flow.KeyFromPadded] does: bytes like that come from no kernel.
func FlowKey(b []byte) (flow.Key, error) {
	if len(b) < 41 {
		return flow.Key{}, fmt.Errorf("struct flow_key of %d bytes, want at least 41", len(b))
	}
	n := int(b[40])
	if n != flow.KeyLen4 && n != flow.KeyLen6 {
		return flow.Key{}, fmt.Errorf("flow key length %d, want %d or %d", n, flow.KeyLen4, flow.KeyLen6)
	}
	for i, c := range b[n:40] {
		if c != 0 {
			return flow.Key{}, fmt.Errorf("flow key of length %d must be zero from byte %d to 39, byte %d is %#02x", n, n, n+i, c)
		}
	}
	return flow.KeyFromBytes(b[:n])
}

// Batch is how many elements the loaders move in one batch system call
// ([ReadRange], [ClearArray]) at most.
const Batch = 4096

// BatchBytes bounds the values one batch read of a loader holds: a
// per-CPU element comes back once for each possible CPU, so that
// Batch elements of a 64-byte filter block take 16 MiB on 64 CPUs. The
// loaders keep their batch buffers from one read to the next (see
// [Grow]); past a few hundred kilobytes, a larger batch saves nothing
// measurable, since a system call costs a microsecond or two and copying
// the batch much more.
const BatchBytes = 1 << 20

// BatchLen returns how many of n elements one batch read moves when each
// comes back as copies values of stride bytes: at most Batch and n, at
// most BatchBytes of values, and at least 1.
func BatchLen(n uint32, copies, stride int) int {
	// n bounded first: as an int of 32 bits, an n of 2^31 or more is
	// negative.
	return max(1, min(int(min(n, Batch)), BatchBytes/max(1, copies*stride)))
}

// Grow returns buf with length n, reusing its array when it has room: a
// loader's batch buffers, kept from one read to the next.
func Grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}
